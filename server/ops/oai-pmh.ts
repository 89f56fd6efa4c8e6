/**
 * OAI-PMH 2.0 (http://www.openarchives.org/OAI/openarchivesprotocol.html) over the published,
 * public catalogue: Identify, ListMetadataFormats, ListSets, ListIdentifiers, ListRecords, GetRecord,
 * with `oai_dc` metadata. Sets: `type`, `type:<product type>`, `agency`, `agency:<agency code>`.
 *
 * Resumption tokens are stateless: the arguments, the last id delivered and the cursor, signed with
 * an HMAC key kept in the `meta` table (so tokens survive restarts and cannot be forged or edited).
 * Paging is by id (keyset), so records added during a harvest are neither skipped nor repeated.
 * Datestamps are the record's `updated_at`, to the second (granularity YYYY-MM-DDThh:mm:ssZ).
 */
import type Database from 'better-sqlite3';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readProduct } from '../catalogue/product-read.ts';
import { visibilitySql } from '../catalogue/visibility.ts';
import { PRODUCT_TYPES } from '../db/schema.ts';
import { dublinCoreXml, OAI_DC_NS, OAI_DC_SCHEMA } from './dublin-core.ts';
import { el, xmlEscape } from './xml.ts';

export const OAI_NS = 'http://www.openarchives.org/OAI/2.0/';
export const OAI_SCHEMA = 'http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd';
export const OAI_ID_PREFIX = 'oai:kho-tu-lieu:product:';
const TOKEN_TTL_MS = 24 * 3600 * 1000;

export interface OaiContext {
  sqlite: Database.Database;
  /** The endpoint's absolute URL, e.g. `https://kho.example.vn/oai`. */
  baseUrl: string;
  /** Absolute base of the site for record links, e.g. `https://kho.example.vn`. */
  siteUrl: string;
  repositoryName: string;
  adminEmail: string;
  pageSize?: number;
  now?: () => Date;
}

type Args = Record<string, string | string[] | undefined>;

class OaiError extends Error {
  constructor(
    public readonly code: 'badArgument' | 'badVerb' | 'badResumptionToken' | 'cannotDisseminateFormat' | 'idDoesNotExist' | 'noRecordsMatch' | 'noMetadataFormats' | 'noSetHierarchy',
    message: string,
  ) {
    super(message);
  }
}

const VERBS: Record<string, { required: string[]; optional: string[]; exclusive?: string }> = {
  Identify: { required: [], optional: [] },
  ListMetadataFormats: { required: [], optional: ['identifier'] },
  ListSets: { required: [], optional: [], exclusive: 'resumptionToken' },
  GetRecord: { required: ['identifier', 'metadataPrefix'], optional: [] },
  ListIdentifiers: { required: ['metadataPrefix'], optional: ['from', 'until', 'set'], exclusive: 'resumptionToken' },
  ListRecords: { required: ['metadataPrefix'], optional: ['from', 'until', 'set'], exclusive: 'resumptionToken' },
};

const TYPE_NAMES: Record<string, string> = {
  book: 'Sách', leaflet: 'Tờ rơi', flyer: 'Tờ gấp', map: 'Bản đồ', video: 'Phim, video clip', audio: 'Âm thanh (phát thanh)', photo: 'Ảnh', document: 'Tài liệu', other: 'Khác',
};

const SET_RE = /^([A-Za-z0-9\-_.!~*'()])+(:[A-Za-z0-9\-_.!~*'()]+)*$/;

/** `YYYY-MM-DDThh:mm:ssZ` from a stored ISO timestamp or a Date. */
export function oaiDatestamp(d: string | Date): string {
  const iso = typeof d === 'string' ? d : d.toISOString();
  return `${iso.slice(0, 19)}Z`;
}

interface ListArgs {
  metadataPrefix: string;
  from?: string;
  until?: string;
  set?: string;
}

interface TokenState extends ListArgs {
  verb: 'ListIdentifiers' | 'ListRecords';
  /** Last id delivered. */
  after: number;
  /** Records delivered before the next page. */
  cursor: number;
  /** Expiry, ms since epoch. */
  exp: number;
}

function tokenSecret(sqlite: Database.Database): Buffer {
  sqlite.prepare(`INSERT OR IGNORE INTO meta (key, value) VALUES ('oai.tokenSecret', ?)`).run(randomBytes(32).toString('hex'));
  return Buffer.from((sqlite.prepare(`SELECT value FROM meta WHERE key = 'oai.tokenSecret'`).get() as { value: string }).value, 'hex');
}

const sign = (secret: Buffer, payload: string) => createHmac('sha256', secret).update(payload).digest('base64url').slice(0, 27);

export function encodeToken(secret: Buffer, st: TokenState): string {
  const payload = Buffer.from(JSON.stringify([1, st.verb === 'ListRecords' ? 'R' : 'I', st.metadataPrefix, st.from ?? '', st.until ?? '', st.set ?? '', st.after, st.cursor, st.exp])).toString('base64url');
  return `${payload}.${sign(secret, payload)}`;
}

export function decodeToken(secret: Buffer, token: string, verb: string, nowMs: number): TokenState {
  const bad = (why: string) => new OaiError('badResumptionToken', `The resumption token is invalid${why ? `: ${why}` : ''}`);
  const m = /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/.exec(token);
  if (!m) throw bad('malformed');
  const expected = Buffer.from(sign(secret, m[1]));
  const given = Buffer.from(m[2]);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw bad('signature does not match');
  let arr: unknown;
  try {
    arr = JSON.parse(Buffer.from(m[1], 'base64url').toString('utf8'));
  } catch {
    throw bad('malformed');
  }
  if (!Array.isArray(arr) || arr.length !== 9 || arr[0] !== 1) throw bad('unknown version');
  const [, v, metadataPrefix, from, until, set, after, cursor, exp] = arr as [number, string, string, string, string, string, number, number, number];
  const tokenVerb = v === 'R' ? 'ListRecords' : 'ListIdentifiers';
  if (tokenVerb !== verb) throw bad(`it belongs to ${tokenVerb}`);
  if (typeof exp !== 'number' || exp < nowMs) throw bad('it has expired');
  return { verb: tokenVerb, metadataPrefix, from: from || undefined, until: until || undefined, set: set || undefined, after, cursor, exp };
}

/** Parse from/until: a day or a second (UTC); returns the comparable `YYYY-MM-DDThh:mm:ss` bound and the granularity. */
function parseBound(value: string, name: 'from' | 'until'): { bound: string; granularity: 'day' | 'second' } {
  let m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (m) {
    if (Number.isNaN(Date.parse(`${value}T00:00:00Z`)) || new Date(`${value}T00:00:00Z`).toISOString().slice(0, 10) !== value) throw new OaiError('badArgument', `${name} is not a valid date: ${value}`);
    return { bound: `${value}T${name === 'from' ? '00:00:00' : '23:59:59'}`, granularity: 'day' };
  }
  m = /^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/.exec(value);
  if (m) {
    const d = new Date(value);
    if (Number.isNaN(d.getTime()) || d.toISOString().slice(0, 19) !== value.slice(0, 19)) throw new OaiError('badArgument', `${name} is not a valid UTC datetime: ${value}`);
    return { bound: value.slice(0, 19), granularity: 'second' };
  }
  throw new OaiError('badArgument', `${name} must be YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ, got "${value}"`);
}

interface Filter {
  where: string;
  params: Record<string, unknown>;
}

function listFilter(a: ListArgs): Filter {
  const vis = visibilitySql(null, 'p');
  const where = [vis.where];
  const params: Record<string, unknown> = { ...vis.params };
  let fromG: string | null = null;
  if (a.from !== undefined) {
    const f = parseBound(a.from, 'from');
    fromG = f.granularity;
    where.push('substr(p.updated_at, 1, 19) >= @from');
    params.from = f.bound;
  }
  if (a.until !== undefined) {
    const u = parseBound(a.until, 'until');
    if (fromG !== null && fromG !== u.granularity) throw new OaiError('badArgument', 'from and until must have the same granularity');
    where.push('substr(p.updated_at, 1, 19) <= @until');
    params.until = u.bound;
    if (params.from !== undefined && (params.from as string) > u.bound) throw new OaiError('badArgument', 'from must not be later than until');
  }
  if (a.set !== undefined) {
    if (!SET_RE.test(a.set)) throw new OaiError('badArgument', `"${a.set}" is not a setSpec`);
    const [kind, value, extra] = a.set.split(':');
    if (extra !== undefined || (kind !== 'type' && kind !== 'agency')) throw new OaiError('noRecordsMatch', `There is no set "${a.set}"`);
    if (kind === 'type') {
      if (value !== undefined) {
        where.push('p.type = @setType');
        params.setType = value;
      }
    } else if (value !== undefined) {
      where.push('a.code = @setAgency');
      params.setAgency = value;
    } else {
      where.push('p.agency_id IS NOT NULL');
    }
  }
  return { where: where.join(' AND '), params };
}

interface HeaderRow {
  id: number;
  type: string;
  updated_at: string;
  agency_code: string | null;
}

function headerXml(r: HeaderRow): string {
  const sets = [el('setSpec', `type:${r.type}`)];
  if (r.agency_code && SET_RE.test(`agency:${r.agency_code}`)) sets.push(el('setSpec', `agency:${r.agency_code}`));
  return `<header>${el('identifier', `${OAI_ID_PREFIX}${r.id}`)}${el('datestamp', oaiDatestamp(r.updated_at))}${sets.join('')}</header>`;
}

const HEADER_SELECT = 'SELECT p.id, p.type, p.updated_at, a.code AS agency_code FROM products p LEFT JOIN agencies a ON a.id = p.agency_id';

function parseIdentifier(id: string): number | null {
  if (!id.startsWith(OAI_ID_PREFIX)) return null;
  const rest = id.slice(OAI_ID_PREFIX.length);
  return /^[1-9]\d{0,15}$/.test(rest) ? Number(rest) : null;
}

function visibleHeader(sqlite: Database.Database, identifier: string): HeaderRow {
  const id = parseIdentifier(identifier);
  const vis = visibilitySql(null, 'p');
  const row = id === null ? undefined : (sqlite.prepare(`${HEADER_SELECT} WHERE p.id = @id AND ${vis.where}`).get({ id, ...vis.params }) as HeaderRow | undefined);
  if (!row) throw new OaiError('idDoesNotExist', `No record has the identifier "${identifier}"`);
  return row;
}

function recordXml(ctx: OaiContext, r: HeaderRow): string {
  const rec = readProduct(ctx.sqlite, r.id);
  const metadata = rec ? `<metadata>${dublinCoreXml(rec, ctx.siteUrl, false)}</metadata>` : '';
  return `<record>${headerXml(r)}${metadata}</record>`;
}

/** Handle one OAI-PMH request (GET query or POST form arguments); returns the XML document. */
export function handleOaiRequest(rawArgs: Args, ctx: OaiContext): string {
  const now = ctx.now?.() ?? new Date();
  let echo: Record<string, string> | null = null;
  let body: string;
  try {
    // Arguments: no repeats, a legal verb, only the verb's arguments.
    for (const [k, v] of Object.entries(rawArgs)) {
      if (Array.isArray(v)) throw new OaiError(k === 'verb' ? 'badVerb' : 'badArgument', `The argument "${k}" is repeated`);
      // A form or query gives text; a JSON body may give anything else.
      if (v !== undefined && typeof v !== 'string') throw new OaiError(k === 'verb' ? 'badVerb' : 'badArgument', `The argument "${k}" must be text`);
    }
    const args = rawArgs as Record<string, string | undefined>;
    const verb = args.verb;
    if (verb === undefined) throw new OaiError('badVerb', 'The verb argument is missing');
    const spec = VERBS[verb];
    if (!spec) throw new OaiError('badVerb', `"${verb}" is not an OAI-PMH verb`);
    const names = Object.keys(args).filter((k) => k !== 'verb');
    for (const k of names) {
      if (![...spec.required, ...spec.optional, spec.exclusive].includes(k)) throw new OaiError('badArgument', `The argument "${k}" is not allowed with ${verb}`);
    }
    if (spec.exclusive && args[spec.exclusive] !== undefined) {
      if (names.length > 1) throw new OaiError('badArgument', `${spec.exclusive} is an exclusive argument`);
    } else {
      for (const k of spec.required) if (args[k] === undefined || args[k] === '') throw new OaiError('badArgument', `The argument "${k}" is required with ${verb}`);
    }
    echo = Object.fromEntries(Object.entries(args).filter(([, v]) => v !== undefined)) as Record<string, string>;
    body = dispatch(verb, args, ctx, now);
  } catch (e) {
    if (!(e instanceof OaiError)) throw e;
    if (e.code === 'badVerb' || e.code === 'badArgument') echo = null;
    body = el('error', e.message, { code: e.code });
  }
  const requestAttrs = echo ? Object.entries(echo).map(([k, v]) => ` ${k}="${xmlEscape(v)}"`).join('') : '';
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<OAI-PMH xmlns="${OAI_NS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="${OAI_NS} ${OAI_SCHEMA}">\n` +
    `  ${el('responseDate', oaiDatestamp(now))}\n` +
    `  <request${requestAttrs}>${xmlEscape(ctx.baseUrl)}</request>\n` +
    `  ${body}\n` +
    `</OAI-PMH>\n`
  );
}

function dispatch(verb: string, args: Record<string, string | undefined>, ctx: OaiContext, now: Date): string {
  const { sqlite } = ctx;
  const vis = visibilitySql(null, 'p');
  switch (verb) {
    case 'Identify': {
      const r = sqlite.prepare(`SELECT min(p.updated_at) AS t FROM products p WHERE ${vis.where}`).get(vis.params) as { t: string | null };
      return (
        `<Identify>${el('repositoryName', ctx.repositoryName)}${el('baseURL', ctx.baseUrl)}${el('protocolVersion', '2.0')}` +
        `${el('adminEmail', ctx.adminEmail)}${el('earliestDatestamp', r.t ? oaiDatestamp(r.t) : '1970-01-01T00:00:00Z')}` +
        `${el('deletedRecord', 'no')}${el('granularity', 'YYYY-MM-DDThh:mm:ssZ')}</Identify>`
      );
    }
    case 'ListMetadataFormats': {
      if (args.identifier !== undefined) visibleHeader(sqlite, args.identifier);
      return `<ListMetadataFormats><metadataFormat>${el('metadataPrefix', 'oai_dc')}${el('schema', OAI_DC_SCHEMA)}${el('metadataNamespace', OAI_DC_NS)}</metadataFormat></ListMetadataFormats>`;
    }
    case 'ListSets': {
      if (args.resumptionToken !== undefined) throw new OaiError('badResumptionToken', 'ListSets is answered in one response; there is no resumption token to resume');
      const sets: string[] = [`<set>${el('setSpec', 'type')}${el('setName', 'Theo loại sản phẩm (by product type)')}</set>`];
      for (const t of PRODUCT_TYPES) sets.push(`<set>${el('setSpec', `type:${t}`)}${el('setName', `Loại: ${TYPE_NAMES[t] ?? t}`)}</set>`);
      sets.push(`<set>${el('setSpec', 'agency')}${el('setName', 'Theo cơ quan ban hành (by issuing agency)')}</set>`);
      for (const a of sqlite.prepare('SELECT code, name FROM agencies ORDER BY code').all() as Array<{ code: string; name: string }>) {
        if (SET_RE.test(`agency:${a.code}`)) sets.push(`<set>${el('setSpec', `agency:${a.code}`)}${el('setName', `Cơ quan: ${a.name}`)}</set>`);
      }
      return `<ListSets>${sets.join('')}</ListSets>`;
    }
    case 'GetRecord': {
      if (args.metadataPrefix !== 'oai_dc') throw new OaiError('cannotDisseminateFormat', `The metadata format "${args.metadataPrefix}" is not supported (only oai_dc)`);
      const row = visibleHeader(sqlite, args.identifier!);
      return `<GetRecord>${recordXml(ctx, row)}</GetRecord>`;
    }
    case 'ListIdentifiers':
    case 'ListRecords':
      return listVerb(verb, args, ctx, now);
    default:
      throw new OaiError('badVerb', `"${verb}" is not an OAI-PMH verb`);
  }
}

function listVerb(verb: 'ListIdentifiers' | 'ListRecords', args: Record<string, string | undefined>, ctx: OaiContext, now: Date): string {
  const { sqlite } = ctx;
  const secret = tokenSecret(sqlite);
  let state: TokenState;
  if (args.resumptionToken !== undefined) {
    state = decodeToken(secret, args.resumptionToken, verb, now.getTime());
  } else {
    state = { verb, metadataPrefix: args.metadataPrefix!, from: args.from, until: args.until, set: args.set, after: 0, cursor: 0, exp: 0 };
  }
  if (state.metadataPrefix !== 'oai_dc') throw new OaiError('cannotDisseminateFormat', `The metadata format "${state.metadataPrefix}" is not supported (only oai_dc)`);
  const filter = listFilter(state);
  const pageSize = ctx.pageSize ?? 100;
  const total = (sqlite.prepare(`SELECT count(*) AS n FROM products p LEFT JOIN agencies a ON a.id = p.agency_id WHERE ${filter.where}`).get(filter.params) as { n: number }).n;
  const rows = sqlite
    .prepare(`${HEADER_SELECT} WHERE ${filter.where} AND p.id > @after ORDER BY p.id LIMIT @limit`)
    .all({ ...filter.params, after: state.after, limit: pageSize + 1 }) as HeaderRow[];
  if (rows.length === 0) {
    if (args.resumptionToken !== undefined) throw new OaiError('badResumptionToken', 'The resumption token points past the end of the list');
    throw new OaiError('noRecordsMatch', 'No record matches these arguments');
  }
  const more = rows.length > pageSize;
  const page = more ? rows.slice(0, pageSize) : rows;
  const items = verb === 'ListRecords' ? page.map((r) => recordXml(ctx, r)) : page.map(headerXml);
  let token = '';
  if (more) {
    const exp = now.getTime() + TOKEN_TTL_MS;
    const next = encodeToken(secret, { ...state, after: page[page.length - 1].id, cursor: state.cursor + page.length, exp });
    token = el('resumptionToken', next, { expirationDate: oaiDatestamp(new Date(exp)), completeListSize: Math.max(total, 1), cursor: state.cursor });
  } else if (args.resumptionToken !== undefined) {
    // The last page of a list that was split: an empty token closes it.
    token = el('resumptionToken', '', { completeListSize: Math.max(total, 1), cursor: state.cursor });
  }
  return `<${verb}>${items.join('')}${token}</${verb}>`;
}
