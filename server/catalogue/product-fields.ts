/**
 * Parsing and validating the catalogue fields of a product, from multipart form fields (upload)
 * or JSON (PATCH). Each problem is a 400 naming the field (`field` in the error body); a field
 * the caller's role may not set is a 403 FIELD_NOT_ALLOWED naming it.
 */
import type Database from 'better-sqlite3';
import { isStaff, type Principal } from '../auth/principal.ts';
import { ACCESS_LEVELS, PRODUCT_TYPES, type products } from '../db/schema.ts';
import { AppError, err } from '../errors.ts';
import { normaliseIsbn } from './isbn.ts';

export { normaliseIsbn };

export type ProductInsert = typeof products.$inferInsert;

/** Raw form fields: every name may repeat. */
export type RawFields = Record<string, string[]>;

export interface FieldContext {
  sqlite: Database.Database;
  principal: Principal | null;
}

const MAX_TITLE = 500;
const MAX_TEXT = 20_000;
const MAX_SHORT = 500;
const MAX_LIST = 50;

/** The editable catalogue fields, as the API names them. */
export const EDITABLE_FIELDS = [
  'title', 'altTitle', 'type', 'description', 'agency', 'coIssuers', 'releaseDate', 'year', 'publisher', 'identifier',
  'isbn', 'printRun', 'languages', 'subjects', 'planTask', 'copyReceivedOn', 'copyCondition', 'copyShelf', 'access',
] as const;
export type EditableField = (typeof EDITABLE_FIELDS)[number];

/** Fields only archivists and admins may set. */
export const STAFF_ONLY_FIELDS: readonly EditableField[] = ['copyReceivedOn', 'copyCondition', 'copyShelf'];

/** Multipart names accepted for list fields (repeated and/or comma separated). */
const LIST_ALIASES: Partial<Record<EditableField, string[]>> = {
  languages: ['language', 'languages'],
  subjects: ['subject', 'subjects'],
  coIssuers: ['coIssuer', 'coIssuers'],
};

/**
 * Whether an upload may send a form field of this name: 'list' for the list fields (their names
 * may repeat), 'one' for the other catalogue fields (sent at most once), null for an unknown name.
 */
export function uploadFieldKind(name: string): 'one' | 'list' | null {
  if (Object.values(LIST_ALIASES).some((names) => names.includes(name))) return 'list';
  return (EDITABLE_FIELDS as readonly string[]).includes(name) && !(name in LIST_ALIASES) ? 'one' : null;
}

/**
 * Text as stored: NFC, without the characters that have no place in a catalogue field and would
 * reach every export as they are — C0/C1 control characters (a tab or line break becomes a space,
 * except in the description, which keeps its lines), lone UTF-16 surrogates, the noncharacters
 * U+FFFE/U+FFFF, and bidirectional embedding/override/isolate controls (text shown backwards).
 */
export function cleanText(s: string, multiline = false): string {
  const t = s.normalize('NFC').replace(/\r\n?/g, '\n');
  const spaced = multiline ? t.replace(/\t/g, ' ') : t.replace(/[\t\n]/g, ' ');
  const out = spaced.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\ufffe\uffff\u202a-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '');
  return multiline ? out.replace(/[^\S\n]*\n[^\S\n]*/g, '\n') : out;
}

const one = (raw: RawFields, name: string): string | undefined => {
  const v = raw[name];
  if (v === undefined || v.length === 0) return undefined;
  const t = cleanText(v[v.length - 1], name === 'description').trim();
  return t === '' ? undefined : t;
};

/** A list field: repeated names and/or comma-separated values. */
export const list = (raw: RawFields, ...names: string[]): string[] | undefined => {
  const vals = names.flatMap((n) => raw[n] ?? []);
  if (vals.length === 0) return undefined;
  return [...new Set(vals.flatMap((v) => cleanText(v).split(',')).map((s) => s.trim()).filter(Boolean))];
};

/** Today's date in Cao Bằng (Asia/Ho_Chi_Minh, UTC+7, no DST), YYYY-MM-DD. */
export const todayVn = (now = Date.now()): string => new Date(now + 7 * 3600_000).toISOString().slice(0, 10);

export function isValidDate(s: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

const str = (field: string, v: unknown): string | null => {
  // (undefined: a required field not sent at all, which is "required", not "not a string")
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return String(v);
  if (typeof v !== 'string') throw err.validation(field, `${field} must be a string`);
  const t = cleanText(v, field === 'description').trim();
  return t === '' ? null : t;
};

const strList = (field: string, v: unknown): string[] => {
  if (v === null) return [];
  const arr = Array.isArray(v) ? v : typeof v === 'string' ? v.split(',') : [v];
  const out: string[] = [];
  for (const x of arr) {
    if (typeof x !== 'string' && typeof x !== 'number') throw err.validation(field, `${field} must be a list of strings`);
    const t = cleanText(String(x)).trim();
    if (t !== '' && !out.includes(t)) out.push(t);
  }
  if (out.length > MAX_LIST) throw err.validation(field, `${field} may hold at most ${MAX_LIST} values`);
  return out;
};

const requiredText = (field: string, v: unknown, max: number): string => {
  const s = str(field, v);
  if (s === null) throw err.validation(field, `${field} is required`);
  if (s.length > max) throw err.validation(field, `${field} must be at most ${max} characters`);
  return s;
};
const optText = (field: string, v: unknown, max: number): string | null => {
  const s = str(field, v);
  if (s !== null && s.length > max) throw err.validation(field, `${field} must be at most ${max} characters`);
  return s;
};

/**
 * A date as the forms take it: `DD/MM/YYYY` (day first, as Vietnamese write it; `D/M/YYYY` and dots
 * too) or `YYYY-MM-DD` → `YYYY-MM-DD` (not checked for validity); the text as it was otherwise.
 */
export function dayFirstToIso(s: string): string {
  const m = /^(\d{1,2})[/.](\d{1,2})[/.](\d{4})$/.exec(s);
  return m ? `${m[3]}-${m[2].padStart(2, '0')}-${m[1].padStart(2, '0')}` : s;
}

/** `YYYY-MM-DD` → `DD/MM/YYYY` (what the forms show); anything else unchanged. */
export function isoToDayFirst(s: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  return m ? `${m[3]}/${m[2]}/${m[1]}` : s;
}

function pastDate(field: string, v: unknown): string | null {
  const given = str(field, v);
  if (given === null) return null;
  const s = dayFirstToIso(given);
  if (!isValidDate(s)) {
    throw err.validation(field, /^\d{4}-\d{2}-\d{2}$/.test(s) ? `${field} ${given} does not exist in the calendar (check the day and the month)` : `${field} must be a date written DD/MM/YYYY or YYYY-MM-DD`);
  }
  if (s > todayVn()) throw err.validation(field, `${field} ${s} is in the future`);
  return s;
}

function agencyId(ctx: FieldContext, field: string, v: string | number): number {
  const row = ctx.sqlite.prepare('SELECT id FROM agencies WHERE code = ? OR CAST(id AS TEXT) = ?').get(String(v), String(v)) as { id: number } | undefined;
  if (!row) throw err.validation(field, `${field}: unknown agency "${v}"`);
  return row.id;
}

/**
 * Validate a set of catalogue fields given as JSON-like values (strings from forms are accepted
 * for numbers and lists). Returns the columns to write (camelCase drizzle names).
 * `currentAgencyId`: the record's agency (for checking its plan task on a PATCH).
 */
export function validateFields(
  input: Partial<Record<EditableField, unknown>>,
  ctx: FieldContext,
  mode: 'create' | 'patch',
  currentAgencyId: number | null = null,
  currentReleaseDate: string | null = null,
): Partial<ProductInsert> {
  const p = ctx.principal;
  const staff = isStaff(p);
  const out: Partial<ProductInsert> = {};
  const has = (f: EditableField) => input[f] !== undefined;
  // Every field is checked, so that a form shows all its problems at once: the first one is thrown
  // with the whole list in `errors` ([{ field, message }]).
  const problems: AppError[] = [];
  const check = (fn: () => void) => {
    try {
      fn();
    } catch (e) {
      if (e instanceof AppError && e.statusCode === 400 && e.code === 'VALIDATION_FAILED' && typeof e.details.field === 'string') problems.push(e);
      else throw e;
    }
  };

  for (const f of STAFF_ONLY_FIELDS) {
    if (has(f) && !staff && input[f] !== null && input[f] !== '') {
      throw new AppError(403, 'FIELD_NOT_ALLOWED', `${f} is recorded by the archivists`, { field: f });
    }
  }

  check(() => {
    if (mode === 'create' || has('title')) out.title = requiredText('title', input.title, MAX_TITLE);
  });
  check(() => {
    if (mode === 'create' || has('type')) {
      const t = str('type', input.type);
      if (t === null) throw err.validation('type', `type is required (one of ${PRODUCT_TYPES.join(', ')})`);
      if (!(PRODUCT_TYPES as readonly string[]).includes(t)) throw err.validation('type', `type must be one of ${PRODUCT_TYPES.join(', ')}`);
      out.type = t;
    }
  });
  check(() => {
    if (has('altTitle')) out.altTitle = optText('altTitle', input.altTitle, MAX_TITLE);
  });
  check(() => {
    if (has('description')) out.description = optText('description', input.description, MAX_TEXT);
  });
  check(() => {
    if (has('publisher')) out.publisher = optText('publisher', input.publisher, MAX_SHORT);
  });
  check(() => {
    if (has('identifier')) out.identifier = optText('identifier', input.identifier, 200);
  });
  check(() => {
    if (has('copyCondition')) out.copyCondition = optText('copyCondition', input.copyCondition, MAX_SHORT);
  });
  check(() => {
    if (has('copyShelf')) out.copyShelf = optText('copyShelf', input.copyShelf, 100);
  });
  check(() => {
    if (has('copyReceivedOn')) out.copyReceivedOn = pastDate('copyReceivedOn', input.copyReceivedOn);
  });

  check(() => {
    if (has('isbn')) {
      const s = str('isbn', input.isbn);
      if (s === null) out.isbn = null;
      else {
        const n = normaliseIsbn(s);
        if (n === null) throw err.validation('isbn', `isbn "${s}" is not a valid ISBN-10 or ISBN-13 (bad length or checksum)`);
        out.isbn = n;
      }
    }
  });
  check(() => {
    if (has('printRun')) {
      const v = input.printRun;
      if (v === null || v === '') out.printRun = null;
      else {
        const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : NaN;
        if (!Number.isInteger(n) || n < 1 || n > 100_000_000) throw err.validation('printRun', 'printRun must be a whole number of copies (1–100000000)');
        out.printRun = n;
      }
    }
  });
  check(() => {
    if (has('year')) {
      const v = input.year;
      if (v === null || v === '') out.year = null;
      else {
        const s = String(v).trim();
        if (!/^\d{4}$/.test(s)) throw err.validation('year', 'year must be a four-digit year');
        const y = Number(s);
        const thisYear = Number(todayVn().slice(0, 4));
        if (y < 1800 || y > thisYear) throw err.validation('year', `year must be between 1800 and ${thisYear}`);
        out.year = y;
      }
    }
  });
  check(() => {
    if (has('releaseDate')) {
      out.releaseDate = pastDate('releaseDate', input.releaseDate);
      if (out.releaseDate) {
        const y = Number(out.releaseDate.slice(0, 4));
        if (out.year != null && out.year !== y) throw err.validation('year', `year ${out.year} does not match releaseDate ${out.releaseDate}`);
        if (!has('year') || out.year == null) out.year = y;
      }
    } else if (has('year') && out.year != null && currentReleaseDate && Number(currentReleaseDate.slice(0, 4)) !== out.year) {
      throw err.validation('year', `year ${out.year} does not match the record's releaseDate ${currentReleaseDate}`);
    }
  });
  check(() => {
    if (mode === 'create' || has('languages')) {
      const langs = has('languages') ? strList('languages', input.languages) : [];
      const final = langs.length ? langs : mode === 'create' ? ['vi'] : [];
      for (const l of final) {
        if (!/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$/.test(l)) throw err.validation('languages', `languages: "${l}" is not a language code (e.g. vi, tay, nut, hmn, dao)`);
      }
      out.languages = JSON.stringify(final);
    }
  });
  check(() => {
    if (has('subjects')) {
      const subjects = strList('subjects', input.subjects);
      if (subjects.some((s) => s.length > 200)) throw err.validation('subjects', 'each subject must be at most 200 characters');
      out.subjects = JSON.stringify(subjects);
    }
  });
  check(() => {
    if (has('access')) {
      const a = str('access', input.access);
      if (a === null || !(ACCESS_LEVELS as readonly string[]).includes(a)) throw err.validation('access', `access must be one of ${ACCESS_LEVELS.join(', ')}`);
      out.access = a;
    }
  });

  // Agency: agency submitters always submit for their own agency.
  let effectiveAgency = currentAgencyId;
  check(() => {
    if (p?.role === 'agency') {
      if (has('agency') && input.agency !== null && agencyId(ctx, 'agency', input.agency as string) !== p.agencyId) {
        throw err.validation('agency', 'agency submitters submit for their own agency only');
      }
      if (mode === 'create') out.agencyId = p.agencyId;
      effectiveAgency = p.agencyId;
    } else if (has('agency')) {
      const v = input.agency;
      out.agencyId = v === null || v === '' ? null : agencyId(ctx, 'agency', v as string);
      effectiveAgency = out.agencyId;
    } else if (mode === 'create') {
      out.agencyId = null;
    }
  });
  check(() => {
    if (has('coIssuers')) {
      const ids = strList('coIssuers', input.coIssuers).map((c) => agencyId(ctx, 'coIssuers', c));
      out.coIssuers = JSON.stringify([...new Set(ids)].filter((id) => id !== effectiveAgency));
    }
  });
  check(() => {
    if (has('planTask')) {
      const v = input.planTask;
      if (v === null || v === '') out.planTaskId = null;
      else {
        const row = ctx.sqlite.prepare('SELECT id, agency_id FROM plan_tasks WHERE code = ? OR CAST(id AS TEXT) = ?').get(String(v), String(v)) as
          | { id: number; agency_id: number }
          | undefined;
        if (!row) throw err.validation('planTask', `planTask: unknown plan task "${v}"`);
        if (p?.role === 'agency' && row.agency_id !== p.agencyId) throw err.validation('planTask', `planTask: plan task "${v}" belongs to another agency`);
        out.planTaskId = row.id;
      }
    }
  });
  if (problems.length > 0) {
    const first = problems[0];
    const errors = problems.filter((e, i) => problems.findIndex((o) => o.details.field === e.details.field) === i).map((e) => ({ field: e.details.field as string, message: e.message }));
    throw new AppError(400, first.code, first.message, { ...first.details, errors });
  }
  return out;
}

/** Parse the fields of a new product sent with an upload (multipart form fields). */
export function parseNewProductFields(raw: RawFields, ctx: FieldContext): ProductInsert {
  const input: Partial<Record<EditableField, unknown>> = {};
  for (const f of EDITABLE_FIELDS) {
    const aliases = LIST_ALIASES[f];
    if (aliases) {
      const v = list(raw, ...aliases);
      if (v !== undefined) input[f] = v;
    } else {
      const v = one(raw, f);
      if (v !== undefined) input[f] = v;
    }
  }
  return validateFields(input, ctx, 'create') as ProductInsert;
}

/** Parse a JSON PATCH body (a partial record using the API's field names). Unknown names are a 400. */
export function parsePatch(body: unknown, ctx: FieldContext, current: { agencyId: number | null; releaseDate: string | null }): Partial<ProductInsert> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw err.badRequest('INVALID_BODY', 'The body must be a JSON object of fields to change');
  const input: Partial<Record<EditableField, unknown>> = {};
  for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
    if (k === '_csrf') continue;
    if (!(EDITABLE_FIELDS as readonly string[]).includes(k)) throw err.validation(k, `unknown or read-only field "${k}"`);
    input[k as EditableField] = v;
  }
  if (Object.keys(input).length === 0) throw err.badRequest('EMPTY_PATCH', 'Nothing to change');
  return validateFields(input, ctx, 'patch', current.agencyId, current.releaseDate);
}
