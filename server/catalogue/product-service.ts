/**
 * Editing, listing and deleting product records (the logic behind routes/products.ts).
 */
import type Database from 'better-sqlite3';
import { isStaff, type Principal } from '../auth/principal.ts';
import { PRODUCT_STATES } from '../db/schema.ts';
import { err } from '../errors.ts';
import { toSnake } from '../ingest/ingest-service.ts';
import { writeAudit } from './audit.ts';
import { checkIfMatch } from './concurrency.ts';
import { refreshFlags, type DuplicateFlag } from './duplicates.ts';
import { parsePatch, type ProductInsert } from './product-fields.ts';
import { visibilitySql } from './visibility.ts';
import { assertCanAct, loadVisible } from './workflow.ts';

/** States in which the submitting agency may still edit its record. */
export const AGENCY_EDITABLE_STATES = ['submitted', 'returned'] as const;

/** API name of a column in audit entries. */
const API_NAME: Record<string, string> = { agencyId: 'agency', planTaskId: 'planTask' };
const JSON_COLS = new Set(['coIssuers', 'languages', 'subjects']);

export interface UpdateResult {
  id: number;
  version: number;
  changed: string[];
}

/**
 * Apply a PATCH: 404 unseen, 403 not staff/owner, 409 RECORD_LOCKED for an agency after acceptance,
 * 428 without If-Match, 412 on a stale version, 400 on a bad field. Field-level changes go to the audit log.
 */
export function updateProduct(sqlite: Database.Database, p: Principal, id: number, body: unknown, ifMatch: string | string[] | undefined): UpdateResult {
  return sqlite.transaction((): UpdateResult => {
    const row = loadVisible(sqlite, p, id);
    assertCanAct(p, row);
    if (!isStaff(p) && !(AGENCY_EDITABLE_STATES as readonly string[]).includes(row.state)) {
      throw err.conflict('RECORD_LOCKED', `The record is ${row.state}: the agency may edit it only while submitted or returned`, { state: row.state });
    }
    checkIfMatch(ifMatch, row.version, true);
    const fields = parsePatch(body, { sqlite, principal: p }, { agencyId: row.agency_id, releaseDate: (row.release_date as string | null) ?? null });
    const changes: Record<string, [unknown, unknown]> = {};
    const sets: string[] = [];
    const values: unknown[] = [];
    for (const [k, v] of Object.entries(fields) as Array<[keyof ProductInsert, unknown]>) {
      const col = toSnake(k);
      const old = row[col] ?? null;
      if (old === (v ?? null)) continue;
      const name = API_NAME[k] ?? k;
      changes[name] = JSON_COLS.has(k) ? [JSON.parse((old as string) ?? '[]'), JSON.parse(v as string)] : [old, v ?? null];
      sets.push(`${col} = ?`);
      values.push(v ?? null);
    }
    if (sets.length === 0) return { id, version: row.version, changed: [] };
    if (changes.title || changes.planTask) {
      const flags = refreshFlags(sqlite, id, JSON.parse(row.duplicate_flags) as DuplicateFlag[], {
        title: (fields.title ?? row.title) as string,
        planTaskId: fields.planTaskId !== undefined ? (fields.planTaskId ?? null) : row.plan_task_id,
      });
      sets.push('duplicate_flags = ?');
      values.push(JSON.stringify(flags));
    }
    const now = new Date().toISOString();
    const info = sqlite
      .prepare(`UPDATE products SET ${sets.join(', ')}, version = version + 1, updated_at = ? WHERE id = ? AND version = ?`)
      .run(...values, now, id, row.version);
    if (info.changes !== 1) throw err.preconditionFailed('The record changed while your edit was applied; reload it');
    writeAudit(sqlite, p, { action: 'update', entity: 'product', entityId: id, changes });
    return { id, version: row.version + 1, changed: Object.keys(changes) };
  })();
}

/** Admin only: remove a record and its file links (blobs stay; fixity reports orphans). */
export function deleteProduct(sqlite: Database.Database, p: Principal, id: number): void {
  sqlite.transaction(() => {
    const row = sqlite.prepare('SELECT id, title, state, agency_id FROM products WHERE id = ?').get(id) as Record<string, unknown> | undefined;
    if (!row) throw err.notFound('Product', 'PRODUCT_NOT_FOUND');
    const files = sqlite.prepare('SELECT sha256, original_name FROM product_files WHERE product_id = ?').all(id);
    sqlite.prepare('DELETE FROM product_files WHERE product_id = ?').run(id);
    sqlite.prepare('DELETE FROM products WHERE id = ?').run(id);
    dropFlagsNaming(sqlite, id);
    writeAudit(sqlite, p, { action: 'delete', entity: 'product', entityId: id, changes: { title: [row.title, null], state: [row.state, null], files } });
  })();
}

/**
 * Other records' duplicate flags that name a deleted record are removed with it (flags are
 * advisory and not an edit: their version stays, so nobody's open edit goes stale).
 */
function dropFlagsNaming(sqlite: Database.Database, id: number): void {
  const rows = sqlite
    .prepare(`SELECT DISTINCT p.id, p.duplicate_flags FROM products p, json_each(p.duplicate_flags) f WHERE json_extract(f.value, '$.productId') = ?`)
    .all(id) as Array<{ id: number; duplicate_flags: string }>;
  const update = sqlite.prepare('UPDATE products SET duplicate_flags = ? WHERE id = ?');
  for (const r of rows) {
    update.run(JSON.stringify((JSON.parse(r.duplicate_flags) as DuplicateFlag[]).filter((f) => f.productId !== id)), r.id);
  }
}

export interface ListQuery {
  state?: string;
  agency?: string;
  type?: string;
  year?: number;
  planTask?: string;
  access?: string;
  flagged?: boolean;
  q?: string;
  page?: number;
  pageSize?: number;
  sort?: string;
}

export interface ProductSummary {
  id: number;
  title: string;
  type: string;
  state: string;
  access: string;
  year: number | null;
  agency: { id: number; code: string; name: string } | null;
  planTask: { id: number; code: string } | null;
  returnReason: string | null;
  duplicateFlagCount: number;
  version: number;
  submittedAt: string;
  updatedAt: string;
  publishedAt: string | null;
}

const SORTS: Record<string, string> = {
  submitted: 'p.submitted_at ASC, p.id ASC',
  '-submitted': 'p.submitted_at DESC, p.id DESC',
  updated: 'p.updated_at ASC, p.id ASC',
  '-updated': 'p.updated_at DESC, p.id DESC',
  title: 'p.title COLLATE NOCASE ASC, p.id ASC',
  id: 'p.id ASC',
  '-id': 'p.id DESC',
};
export const SORT_KEYS = Object.keys(SORTS);

/** A page of records the principal may see, filtered; oldest submission first by default (queues). */
export function listProducts(sqlite: Database.Database, p: Principal | null, q: ListQuery): { items: ProductSummary[]; total: number; page: number; pageSize: number } {
  const vis = visibilitySql(p, 'p');
  const where = [vis.where];
  const params: Record<string, unknown> = { ...vis.params };
  if (q.state) {
    const states = q.state.split(',').map((s) => s.trim()).filter(Boolean);
    for (const s of states) if (!(PRODUCT_STATES as readonly string[]).includes(s)) throw err.validation('state', `state must be among ${PRODUCT_STATES.join(', ')}`);
    where.push(`p.state IN (${states.map((_, i) => `@st${i}`).join(', ')})`);
    states.forEach((s, i) => (params[`st${i}`] = s));
  }
  if (q.agency) {
    where.push('p.agency_id = (SELECT id FROM agencies WHERE code = @agency OR CAST(id AS TEXT) = @agency)');
    params.agency = q.agency;
  }
  if (q.planTask) {
    where.push('p.plan_task_id = (SELECT id FROM plan_tasks WHERE code = @task OR CAST(id AS TEXT) = @task)');
    params.task = q.planTask;
  }
  if (q.type) {
    where.push('p.type = @type');
    params.type = q.type;
  }
  if (q.access) {
    where.push('p.access = @access');
    params.access = q.access;
  }
  if (q.year !== undefined) {
    where.push('p.year = @year');
    params.year = q.year;
  }
  // Flags naming records the caller may not see are not theirs to know of (see recordForViewer):
  // for anyone but staff, a record counts as flagged by the flags naming records they may see.
  const staff = isStaff(p);
  const flagTargets = `FROM json_each(p.duplicate_flags) f JOIN products q2 ON q2.id = json_extract(f.value, '$.productId') WHERE ${visibilitySql(p, 'q2').where}`;
  const flagCount = staff ? `json_array_length(p.duplicate_flags)` : `(SELECT count(*) ${flagTargets})`;
  if (q.flagged !== undefined) {
    if (staff) where.push(q.flagged ? `p.duplicate_flags <> '[]'` : `p.duplicate_flags = '[]'`);
    else where.push(`${q.flagged ? '' : 'NOT '}EXISTS (SELECT 1 ${flagTargets})`);
  }
  if (q.q) {
    where.push(`p.title LIKE @q ESCAPE '\\'`);
    params.q = `%${q.q.normalize('NFC').replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  }
  const sort = SORTS[q.sort ?? 'submitted'];
  if (!sort) throw err.validation('sort', `sort must be one of ${SORT_KEYS.join(', ')}`);
  const page = q.page ?? 1;
  const pageSize = q.pageSize ?? 20;
  const w = where.join(' AND ');
  const total = (sqlite.prepare(`SELECT count(*) AS n FROM products p WHERE ${w}`).get(params) as { n: number }).n;
  const rows = sqlite
    .prepare(
      `SELECT p.*, ${flagCount} AS flag_count, a.code AS agency_code, a.name AS agency_name, t.code AS task_code
       FROM products p LEFT JOIN agencies a ON a.id = p.agency_id LEFT JOIN plan_tasks t ON t.id = p.plan_task_id
       WHERE ${w} ORDER BY ${sort} LIMIT @limit OFFSET @offset`,
    )
    .all({ ...params, limit: pageSize, offset: (page - 1) * pageSize }) as Array<Record<string, unknown>>;
  return {
    items: rows.map((r) => ({
      id: r.id as number,
      title: r.title as string,
      type: r.type as string,
      state: r.state as string,
      access: r.access as string,
      year: (r.year as number) ?? null,
      agency: r.agency_id == null ? null : { id: r.agency_id as number, code: r.agency_code as string, name: r.agency_name as string },
      planTask: r.plan_task_id == null ? null : { id: r.plan_task_id as number, code: r.task_code as string },
      returnReason: (r.return_reason as string) ?? null,
      duplicateFlagCount: (r.flag_count as number) ?? 0,
      version: r.version as number,
      submittedAt: r.submitted_at as string,
      updatedAt: r.updated_at as string,
      publishedAt: (r.published_at as string) ?? null,
    })),
    total,
    page,
    pageSize,
  };
}
