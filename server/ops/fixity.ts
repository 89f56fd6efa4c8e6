/**
 * Fixity (integrity) checks: re-hash every blob the database records and compare with its SHA-256
 * (its name); report blobs that are missing or corrupt, and orphans (files in the store that no
 * database row records). Each run is recorded in `fixity_runs` with a JSON report, so admins can
 * see results in the API; the `verify` script and the server's schedule both call `runFixity`.
 */
import type Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import type { BlobStore } from '../storage/blob-store.ts';
import type { Progress } from './progress.ts';

export interface FixityProblemBlob {
  sha256: string;
  size: number;
  /** Products holding the blob. */
  productIds: number[];
  /** The files that are this blob: which record (id, title) holds it under which name. */
  files: Array<{ productId: number; title: string; name: string }>;
  /** For corrupt blobs: the hash the bytes now have. */
  actualSha256?: string;
  actualSize?: number;
}

export interface FixityReport {
  runId: number;
  startedAt: string;
  finishedAt: string;
  seconds: number;
  checked: number;
  bytes: number;
  missing: FixityProblemBlob[];
  corrupt: FixityProblemBlob[];
  orphans: Array<{ sha256: string; size: number | null }>;
  /** Files and folders in the blob store that are no blob at all (a name that is not a SHA-256, a blob in the wrong folder): paths relative to `blobs/`. Counted with the orphans in the run's summary. */
  strays: Array<{ path: string; size: number | null }>;
  /** True when the run was stopped before the end (server shutdown). */
  aborted: boolean;
  ok: boolean;
}

export interface FixityDeps {
  sqlite: Database.Database;
  blobStore: BlobStore;
}

export interface FixityOptions {
  concurrency?: number;
  progress?: Progress | null;
  signal?: AbortSignal;
  /** Recorded in the report (who or what started it: `schedule`, `verify-script`, a username). */
  trigger?: string;
}

async function hashBlob(store: BlobStore, sha: string, signal?: AbortSignal): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  const stream = store.read(sha);
  try {
    for await (const chunk of stream) {
      if (signal?.aborted) break;
      hash.update(chunk as Buffer);
      size += (chunk as Buffer).length;
    }
  } finally {
    stream.destroy();
  }
  return { sha256: hash.digest('hex'), size };
}

/** Is a fixity run in progress (recorded, not finished)? Runs older than a day are considered dead. */
export function runningFixity(sqlite: Database.Database): { id: number; startedAt: string } | null {
  const since = new Date(Date.now() - 24 * 3600 * 1000).toISOString();
  const r = sqlite.prepare('SELECT id, started_at AS startedAt FROM fixity_runs WHERE finished_at IS NULL AND started_at > ? ORDER BY id DESC LIMIT 1').get(since) as
    | { id: number; startedAt: string }
    | undefined;
  return r ?? null;
}

/** Start a run: insert its row (so the API shows it as running). */
export function beginFixityRun(sqlite: Database.Database): { id: number; startedAt: string } {
  const startedAt = new Date().toISOString();
  const id = Number(sqlite.prepare('INSERT INTO fixity_runs (started_at) VALUES (?)').run(startedAt).lastInsertRowid);
  return { id, startedAt };
}

/** Check every blob; record the run. Never throws for problems in the store: they are reported. */
export async function runFixity(deps: FixityDeps, opts: FixityOptions = {}, run = beginFixityRun(deps.sqlite)): Promise<FixityReport> {
  const { sqlite, blobStore } = deps;
  const started = Date.now();
  const report: FixityReport = {
    runId: run.id,
    startedAt: run.startedAt,
    finishedAt: '',
    seconds: 0,
    checked: 0,
    bytes: 0,
    missing: [],
    corrupt: [],
    orphans: [],
    strays: [],
    aborted: false,
    ok: false,
  };
  const rows = sqlite.prepare('SELECT sha256, size FROM blobs ORDER BY sha256').all() as Array<{ sha256: string; size: number }>;
  const holders = sqlite.prepare(
    'SELECT f.product_id AS productId, p.title, f.original_name AS name FROM product_files f JOIN products p ON p.id = f.product_id WHERE f.sha256 = ? ORDER BY f.product_id, f.position, f.id',
  );
  const held = (sha: string) => {
    const files = holders.all(sha) as Array<{ productId: number; title: string; name: string }>;
    return { productIds: [...new Set(files.map((f) => f.productId))], files };
  };
  const progress = opts.progress ?? null;
  progress?.setTotal(rows.length, rows.reduce((a, r) => a + r.size, 0));

  let next = 0;
  const worker = async () => {
    while (next < rows.length && !opts.signal?.aborted) {
      const row = rows[next++];
      const st = await blobStore.stat(row.sha256);
      if (st === null) {
        report.missing.push({ sha256: row.sha256, size: row.size, ...held(row.sha256) });
      } else {
        const h = await hashBlob(blobStore, row.sha256, opts.signal);
        if (opts.signal?.aborted) break;
        report.bytes += h.size;
        if (h.sha256 !== row.sha256 || h.size !== row.size) {
          report.corrupt.push({ sha256: row.sha256, size: row.size, ...held(row.sha256), actualSha256: h.sha256, actualSize: h.size });
        }
      }
      report.checked++;
      progress?.tick(1, st?.size ?? 0);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 2) }, worker));

  // Orphans: stored files without a row. An upload between its blob write and its commit looks
  // like one for a moment, so candidates are checked against the database again at the end.
  if (!opts.signal?.aborted) {
    const known = new Set(rows.map((r) => r.sha256));
    const candidates: string[] = [];
    for await (const sha of blobStore.list()) if (!known.has(sha)) candidates.push(sha);
    const exists = sqlite.prepare('SELECT 1 FROM blobs WHERE sha256 = ?');
    for (const sha of candidates) {
      if (exists.get(sha)) continue;
      report.orphans.push({ sha256: sha, size: (await blobStore.stat(sha))?.size ?? null });
    }
    for await (const s of blobStore.strays()) report.strays.push(s);
  }
  report.aborted = Boolean(opts.signal?.aborted);
  report.finishedAt = new Date().toISOString();
  report.seconds = (Date.now() - started) / 1000;
  report.ok = !report.aborted && report.missing.length === 0 && report.corrupt.length === 0 && report.orphans.length === 0 && report.strays.length === 0;
  sqlite
    .prepare('UPDATE fixity_runs SET finished_at = ?, checked = ?, missing = ?, corrupt = ?, orphans = ?, report = ? WHERE id = ?')
    .run(report.finishedAt, report.checked, report.missing.length, report.corrupt.length, report.orphans.length + report.strays.length, JSON.stringify({ ...report, trigger: opts.trigger ?? null }), run.id);
  return report;
}

export interface FixityRunSummary {
  id: number;
  startedAt: string;
  finishedAt: string | null;
  running: boolean;
  checked: number;
  missing: number;
  corrupt: number;
  orphans: number;
  ok: boolean | null;
  aborted: boolean;
  trigger: string | null;
}

type RunRow = { id: number; started_at: string; finished_at: string | null; checked: number; missing: number; corrupt: number; orphans: number; report: string | null };

function summary(r: RunRow): FixityRunSummary {
  const rep = r.report ? (JSON.parse(r.report) as { aborted?: boolean; trigger?: string | null }) : null;
  const aborted = rep?.aborted ?? false;
  return {
    id: r.id,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    running: r.finished_at === null,
    checked: r.checked,
    missing: r.missing,
    corrupt: r.corrupt,
    orphans: r.orphans,
    ok: r.finished_at === null ? null : !aborted && r.missing + r.corrupt + r.orphans === 0,
    aborted,
    trigger: rep?.trigger ?? null,
  };
}

export function listFixityRuns(sqlite: Database.Database, limit = 20): FixityRunSummary[] {
  return (sqlite.prepare('SELECT * FROM fixity_runs ORDER BY id DESC LIMIT ?').all(limit) as RunRow[]).map(summary);
}

export function getFixityRun(sqlite: Database.Database, id: number): (FixityRunSummary & { report: FixityReport | null }) | null {
  const r = sqlite.prepare('SELECT * FROM fixity_runs WHERE id = ?').get(id) as RunRow | undefined;
  if (!r) return null;
  return { ...summary(r), report: r.report ? (JSON.parse(r.report) as FixityReport) : null };
}

/** Human summary for the verify script. */
export function formatFixityReport(r: FixityReport): string {
  const lines = [
    `fixity run #${r.runId}: ${r.checked} blobs checked (${(r.bytes / 1024 / 1024).toFixed(1)} MiB) in ${r.seconds.toFixed(1)} s`,
    `missing: ${r.missing.length}, corrupt: ${r.corrupt.length}, orphans: ${r.orphans.length}, stray files: ${r.strays.length}${r.aborted ? ' (ABORTED)' : ''}`,
  ];
  // Which records are hurt, by id, title and file name (reports stored before `files` existed: ids only).
  const holders = (b: FixityProblemBlob) =>
    b.files?.length ? b.files.map((f) => `\n      product #${f.productId} "${f.title}", file "${f.name}"`).join('') : ` held by products ${b.productIds.join(', ') || '-'}`;
  for (const m of r.missing) lines.push(`  MISSING ${m.sha256} (${m.size} bytes)${holders(m)}`);
  for (const c of r.corrupt) lines.push(`  CORRUPT ${c.sha256}: bytes now hash to ${c.actualSha256} (${c.actualSize} bytes)${holders(c)}`);
  for (const o of r.orphans) lines.push(`  ORPHAN  ${o.sha256} (${o.size ?? '?'} bytes): in the store, not in the database`);
  for (const s of r.strays) lines.push(`  STRAY   blobs/${s.path}${s.size === null ? '' : ` (${s.size} bytes)`}: not a blob of the store (its name is not the SHA-256 of a blob in its folder)`);
  if (r.missing.length + r.corrupt.length > 0) {
    lines.push(
      'A missing or corrupt blob is put back by copying it from a backup folder, where it has the same path:',
      '  <backup>/blobs/ab/cd/<sha256> → DATA_DIR/blobs/ab/cd/<sha256> (then npm run verify again); else upload the file again.',
    );
  }
  lines.push(r.ok ? 'OK: every blob matches its recorded SHA-256' : 'PROBLEMS FOUND');
  return lines.join('\n');
}
