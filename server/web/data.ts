/**
 * Read-only queries the pages need beyond the record reader and the search service: agency names,
 * plan tasks, the lists on "my submissions" and the review desk, and the counts behind the charts.
 */
import type Database from 'better-sqlite3';

export interface AgencyRow {
  id: number;
  code: string;
  name: string;
  shortName: string | null;
  active: boolean;
}

export function listAgencies(sqlite: Database.Database): AgencyRow[] {
  return (sqlite.prepare('SELECT id, code, name, short_name, active FROM agencies ORDER BY name').all() as Array<Record<string, unknown>>).map((r) => ({
    id: r.id as number,
    code: r.code as string,
    name: r.name as string,
    shortName: (r.short_name as string) ?? null,
    active: r.active === 1,
  }));
}

export interface TaskRow {
  id: number;
  code: string;
  title: string;
  year: number;
  agencyId: number;
  deadline: string;
  productType: string | null;
  planRef: string;
}

export function listPlanTasks(sqlite: Database.Database, agencyId?: number | null): TaskRow[] {
  const rows = (agencyId == null
    ? sqlite.prepare('SELECT * FROM plan_tasks ORDER BY year DESC, deadline, id').all()
    : sqlite.prepare('SELECT * FROM plan_tasks WHERE agency_id = ? ORDER BY year DESC, deadline, id').all(agencyId)) as Array<Record<string, unknown>>;
  return rows.map((r) => ({
    id: r.id as number,
    code: r.code as string,
    title: r.title as string,
    year: r.year as number,
    agencyId: r.agency_id as number,
    deadline: r.deadline as string,
    productType: (r.product_type as string) ?? null,
    planRef: r.plan_ref as string,
  }));
}

export interface ListedProduct {
  id: number;
  title: string;
  type: string;
  state: string;
  agencyName: string | null;
  year: number | null;
  returnReason: string | null;
  submittedAt: string;
  updatedAt: string;
  duplicateFlags: number;
  version: number;
  files: number;
}

const LIST_SELECT = `SELECT p.id, p.title, p.type, p.state, a.name AS agency_name, p.year, p.return_reason, p.submitted_at, p.updated_at,
  json_array_length(p.duplicate_flags) AS dup, p.version, (SELECT count(*) FROM product_files f WHERE f.product_id = p.id) AS files
  FROM products p LEFT JOIN agencies a ON a.id = p.agency_id`;

const toListed = (r: Record<string, unknown>): ListedProduct => ({
  id: r.id as number,
  title: r.title as string,
  type: r.type as string,
  state: r.state as string,
  agencyName: (r.agency_name as string) ?? null,
  year: (r.year as number) ?? null,
  returnReason: (r.return_reason as string) ?? null,
  submittedAt: r.submitted_at as string,
  updatedAt: r.updated_at as string,
  duplicateFlags: (r.dup as number) ?? 0,
  version: r.version as number,
  files: r.files as number,
});

/** An agency's own records, newest change first. */
export function agencyProducts(sqlite: Database.Database, agencyId: number, limit = 200): ListedProduct[] {
  return (sqlite.prepare(`${LIST_SELECT} WHERE p.agency_id = ? ORDER BY p.updated_at DESC, p.id DESC LIMIT ?`).all(agencyId, limit) as Array<Record<string, unknown>>).map(toListed);
}

/** Records created by one user (staff without an agency). */
export function userProducts(sqlite: Database.Database, userId: number, limit = 200): ListedProduct[] {
  return (sqlite.prepare(`${LIST_SELECT} WHERE p.created_by = ? ORDER BY p.updated_at DESC, p.id DESC LIMIT ?`).all(userId, limit) as Array<Record<string, unknown>>).map(toListed);
}

export const DESK_STATES = ['submitted', 'in_review', 'accepted'] as const;

/** The review queue: oldest submission first. */
export function reviewQueue(sqlite: Database.Database, states: readonly string[], limit = 200): ListedProduct[] {
  const marks = states.map(() => '?').join(',');
  return (sqlite.prepare(`${LIST_SELECT} WHERE p.state IN (${marks}) ORDER BY p.submitted_at ASC, p.id ASC LIMIT ?`).all(...states, limit) as Array<Record<string, unknown>>).map(toListed);
}

/** Extracted text of a blob (all pages), for DOCX/ODT/text previews; capped. */
export function blobText(sqlite: Database.Database, sha256: string, maxChars = 20_000): string {
  const rows = sqlite.prepare('SELECT text FROM blob_texts WHERE sha256 = ? ORDER BY page').all(sha256) as Array<{ text: string }>;
  let out = '';
  for (const r of rows) {
    out += (out ? '\n\n' : '') + r.text;
    if (out.length >= maxChars) return `${out.slice(0, maxChars)}…`;
  }
  return out;
}

/** A file's text pages (a deck's slides) in order, up to `maxChars` in all (`truncated` when more were left out). */
export function blobPages(sqlite: Database.Database, sha256: string, maxChars = 60_000): { pages: Array<{ page: number; text: string }>; truncated: boolean } {
  const pages: Array<{ page: number; text: string }> = [];
  let used = 0;
  for (const r of sqlite.prepare('SELECT page, text FROM blob_texts WHERE sha256 = ? ORDER BY page').iterate(sha256) as IterableIterator<{ page: number; text: string }>) {
    if (used >= maxChars) return { pages, truncated: true };
    const text = r.text.length > maxChars - used ? `${r.text.slice(0, maxChars - used)}…` : r.text;
    used += text.length;
    pages.push({ page: r.page, text });
  }
  return { pages, truncated: false };
}

/** The text of one page of a file (a PDF's physical page `page`), null when none was stored. */
export function blobPageText(sqlite: Database.Database, sha256: string, page: number): string | null {
  const r = sqlite.prepare('SELECT text FROM blob_texts WHERE sha256 = ? AND page = ?').get(sha256, page) as { text: string } | undefined;
  return r ? r.text : null;
}

/** Submissions of a year per month (1..12) and per agency id, withdrawn ones excluded. */
export function submissionCounts(sqlite: Database.Database, year: number): { byMonth: number[]; byAgency: Map<number, number> } {
  const byMonth = new Array<number>(12).fill(0);
  for (const r of sqlite
    .prepare(`SELECT CAST(substr(submitted_at, 6, 2) AS INTEGER) AS m, count(*) AS n FROM products WHERE substr(submitted_at, 1, 4) = ? AND state != 'withdrawn' GROUP BY m`)
    .all(String(year)) as Array<{ m: number; n: number }>) {
    if (r.m >= 1 && r.m <= 12) byMonth[r.m - 1] = r.n;
  }
  const byAgency = new Map<number, number>();
  for (const r of sqlite
    .prepare(`SELECT agency_id AS a, count(*) AS n FROM products WHERE substr(submitted_at, 1, 4) = ? AND state != 'withdrawn' AND agency_id IS NOT NULL GROUP BY agency_id`)
    .all(String(year)) as Array<{ a: number; n: number }>) {
    byAgency.set(r.a, r.n);
  }
  return { byMonth, byAgency };
}
