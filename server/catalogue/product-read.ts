/**
 * The JSON shape of a product record as the API returns it, read from the database:
 * catalogue fields, agency, plan task, and each file with its blob facts and derivative states.
 */
import type Database from 'better-sqlite3';
import { isStaff, type Principal } from '../auth/principal.ts';
import { cached } from '../db/statements.ts';
import { canSee } from './visibility.ts';

export interface DerivativeState {
  kind: string;
  state: 'queued' | 'running' | 'done' | 'failed';
  attempts: number;
  errorCode: string | null;
  reason: string | null;
  /** A done job whose result came from a damaged file: `{ code, message }` (e.g. IMAGE_DAMAGED). */
  warning: { code: string; message: string } | null;
  finishedAt: string | null;
}

export interface ProductFile {
  id: number;
  sha256: string;
  originalName: string;
  size: number;
  mediaType: string;
  kind: string;
  metadata: Record<string, unknown> | null;
  pageCount: number | null;
  url: string;
  thumbnails: { size256: string | null; size1024: string | null };
  derivatives: DerivativeState[];
  /** queued | running | done | failed — the worst of the derivative states. */
  processing: string;
}

export interface ProductRecord {
  id: number;
  title: string;
  altTitle: string | null;
  type: string;
  description: string | null;
  agency: { id: number; code: string; name: string } | null;
  coIssuers: Array<{ id: number; code: string; name: string }>;
  releaseDate: string | null;
  year: number | null;
  publisher: string | null;
  identifier: string | null;
  isbn: string | null;
  printRun: number | null;
  languages: string[];
  subjects: string[];
  planTask: { id: number; code: string; title: string; deadline: string } | null;
  physicalCopy: { receivedOn: string | null; condition: string | null; shelf: string | null };
  access: string;
  state: string;
  returnReason: string | null;
  duplicateFlags: Array<{ kind: string; productId: number; sha256?: string; detail?: string }>;
  version: number;
  createdBy: number | null;
  createdAt: string;
  updatedAt: string;
  submittedAt: string;
  publishedAt: string | null;
  files: ProductFile[];
  /** The worst processing state over all files. */
  processing: string;
}

const RANK: Record<string, number> = { done: 0, failed: 1, queued: 2, running: 3 };
export const worstState = (states: string[]): string =>
  states.length === 0 ? 'done' : states.reduce((a, b) => ((RANK[b] ?? 0) > (RANK[a] ?? 0) ? b : a));

const parseJson = <T>(s: string | null, fallback: T): T => {
  if (s === null || s === undefined) return fallback;
  try {
    return JSON.parse(s) as T;
  } catch {
    return fallback;
  }
};

type Row = Record<string, unknown>;

/** Read one product as the API shows it, or null. Visibility is the caller's business. */
export function readProduct(sqlite: Database.Database, id: number): ProductRecord | null {
  const p = cached(sqlite, 'SELECT * FROM products WHERE id = ?').get(id) as Row | undefined;
  if (!p) return null;
  const agency = p.agency_id == null ? null : (cached(sqlite, 'SELECT id, code, name FROM agencies WHERE id = ?').get(p.agency_id) as ProductRecord['agency']) ?? null;
  const coIds = parseJson<number[]>(p.co_issuers as string, []);
  const coIssuers = coIds.length
    ? (cached(sqlite, `SELECT id, code, name FROM agencies WHERE id IN (${coIds.map(() => '?').join(',')})`).all(...coIds) as ProductRecord['coIssuers'])
    : [];
  const planTask = p.plan_task_id == null
    ? null
    : ((cached(sqlite, 'SELECT id, code, title, deadline FROM plan_tasks WHERE id = ?').get(p.plan_task_id) as ProductRecord['planTask']) ?? null);
  const fileRows = cached(
    sqlite, 
      `SELECT f.id, f.sha256, f.original_name, b.size, b.media_type, b.kind, b.metadata, b.page_count
       FROM product_files f JOIN blobs b ON b.sha256 = f.sha256 WHERE f.product_id = ? ORDER BY f.position, f.id`,
    )
    .all(id) as Row[];
  const jobStmt = cached(sqlite, 'SELECT kind, state, attempts, error_code, error_message, finished_at FROM jobs WHERE sha256 = ? ORDER BY kind');
  const derivStmt = cached(sqlite, 'SELECT name FROM derivatives WHERE sha256 = ?');
  const files: ProductFile[] = fileRows.map((f) => {
    const sha = f.sha256 as string;
    const derivatives = (jobStmt.all(sha) as Row[]).map((j) => {
      const done = j.state === 'done';
      const code = (j.error_code as string) ?? null;
      const message = (j.error_message as string) ?? null;
      return {
        kind: j.kind as string,
        state: j.state as DerivativeState['state'],
        attempts: j.attempts as number,
        errorCode: done ? null : code,
        reason: done ? null : message,
        warning: done && code ? { code, message: message ?? '' } : null,
        finishedAt: (j.finished_at as string) ?? null,
      };
    });
    const names = new Set((derivStmt.all(sha) as Row[]).map((d) => d.name as string));
    return {
      id: f.id as number,
      sha256: sha,
      originalName: f.original_name as string,
      size: f.size as number,
      mediaType: f.media_type as string,
      kind: f.kind as string,
      metadata: parseJson<Record<string, unknown> | null>(f.metadata as string | null, null),
      pageCount: (f.page_count as number) ?? null,
      url: `/api/files/${sha}`,
      thumbnails: {
        size256: names.has('thumb-256.webp') ? `/api/files/${sha}/thumbnail?size=256` : null,
        size1024: names.has('thumb-1024.webp') ? `/api/files/${sha}/thumbnail?size=1024` : null,
      },
      derivatives,
      processing: worstState(derivatives.map((d) => d.state)),
    };
  });
  return {
    id: p.id as number,
    title: p.title as string,
    altTitle: (p.alt_title as string) ?? null,
    type: p.type as string,
    description: (p.description as string) ?? null,
    agency,
    coIssuers,
    releaseDate: (p.release_date as string) ?? null,
    year: (p.year as number) ?? null,
    publisher: (p.publisher as string) ?? null,
    identifier: (p.identifier as string) ?? null,
    isbn: (p.isbn as string) ?? null,
    printRun: (p.print_run as number) ?? null,
    languages: parseJson<string[]>(p.languages as string, []),
    subjects: parseJson<string[]>(p.subjects as string, []),
    planTask,
    physicalCopy: {
      receivedOn: (p.copy_received_on as string) ?? null,
      condition: (p.copy_condition as string) ?? null,
      shelf: (p.copy_shelf as string) ?? null,
    },
    access: p.access as string,
    state: p.state as string,
    returnReason: (p.return_reason as string) ?? null,
    duplicateFlags: parseJson(p.duplicate_flags as string, []),
    version: p.version as number,
    createdBy: (p.created_by as number) ?? null,
    createdAt: p.created_at as string,
    updatedAt: p.updated_at as string,
    submittedAt: p.submitted_at as string,
    publishedAt: (p.published_at as string) ?? null,
    files,
    processing: worstState(files.map((f) => f.processing)),
  };
}

/**
 * The record as `viewer` may read it. Duplicate flags name other records and carry their title
 * (`detail` of a similar-title or same-plan-task flag): staff see every flag; anyone else only the
 * flags naming records they may see themselves, so a public record flagged as resembling another
 * agency's draft does not reveal that draft's title or id.
 */
export function recordForViewer(sqlite: Database.Database, viewer: Principal | null, rec: ProductRecord): ProductRecord {
  if (isStaff(viewer) || rec.duplicateFlags.length === 0) return rec;
  const stmt = cached(sqlite, 'SELECT state, access, agency_id AS agencyId FROM products WHERE id = ?');
  const duplicateFlags = rec.duplicateFlags.filter((f) => {
    const other = stmt.get(f.productId) as { state: string; access: string; agencyId: number | null } | undefined;
    return other !== undefined && canSee(viewer, other);
  });
  return duplicateFlags.length === rec.duplicateFlags.length ? rec : { ...rec, duplicateFlags };
}
