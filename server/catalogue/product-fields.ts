/**
 * Parsing and validating the catalogue fields of a product, from multipart form fields (upload)
 * or JSON (edits). Each problem is a 400 naming the field.
 */
import type Database from 'better-sqlite3';
import type { Principal } from '../auth/principal.ts';
import { PRODUCT_TYPES, type products } from '../db/schema.ts';
import { err } from '../errors.ts';

export type ProductInsert = typeof products.$inferInsert;

/** Raw form fields: every name may repeat. */
export type RawFields = Record<string, string[]>;

export interface FieldContext {
  sqlite: Database.Database;
  principal: Principal | null;
}

const MAX_TITLE = 500;
const MAX_TEXT = 20_000;

const one = (raw: RawFields, name: string): string | undefined => {
  const v = raw[name];
  if (v === undefined || v.length === 0) return undefined;
  const t = v[v.length - 1].normalize('NFC').trim();
  return t === '' ? undefined : t;
};

/** A list field: repeated names and/or comma-separated values. */
export const list = (raw: RawFields, ...names: string[]): string[] | undefined => {
  const vals = names.flatMap((n) => raw[n] ?? []);
  if (vals.length === 0) return undefined;
  return [...new Set(vals.flatMap((v) => v.normalize('NFC').split(',')).map((s) => s.trim()).filter(Boolean))];
};

/** Parse the fields of a new product sent with an upload. */
export function parseNewProductFields(raw: RawFields, ctx: FieldContext): ProductInsert {
  const title = one(raw, 'title');
  if (!title) throw err.validation('title', 'title is required');
  if (title.length > MAX_TITLE) throw err.validation('title', `title must be at most ${MAX_TITLE} characters`);
  const type = one(raw, 'type');
  if (!type) throw err.validation('type', `type is required (one of ${PRODUCT_TYPES.join(', ')})`);
  if (!(PRODUCT_TYPES as readonly string[]).includes(type)) {
    throw err.validation('type', `type must be one of ${PRODUCT_TYPES.join(', ')}`);
  }
  const description = one(raw, 'description');
  if (description && description.length > MAX_TEXT) throw err.validation('description', `description must be at most ${MAX_TEXT} characters`);
  const yearRaw = one(raw, 'year');
  let year: number | undefined;
  if (yearRaw !== undefined) {
    if (!/^\d{4}$/.test(yearRaw)) throw err.validation('year', 'year must be a four-digit year');
    year = Number(yearRaw);
    const thisYear = new Date().getUTCFullYear();
    if (year < 1800 || year > thisYear) throw err.validation('year', `year must be between 1800 and ${thisYear}`);
  }
  const languages = list(raw, 'language', 'languages') ?? ['vi'];
  for (const l of languages) {
    if (!/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$/.test(l)) throw err.validation('language', `language "${l}" is not a language code (e.g. vi, tay, nut, hmn, dao)`);
  }
  let agencyId: number | null = ctx.principal?.role === 'agency' ? ctx.principal.agencyId : null;
  const agency = one(raw, 'agency');
  if (agency !== undefined && ctx.principal?.role !== 'agency') {
    const row = ctx.sqlite
      .prepare('SELECT id FROM agencies WHERE code = ? OR CAST(id AS TEXT) = ?')
      .get(agency, agency) as { id: number } | undefined;
    if (!row) throw err.validation('agency', `unknown agency "${agency}"`);
    agencyId = row.id;
  }
  return {
    title,
    type,
    description: description ?? null,
    year: year ?? null,
    languages: JSON.stringify(languages),
    agencyId,
  };
}
