/**
 * Re-running extraction and thumbnails: after an extractor upgrade (everything, or one media kind)
 * or for failed jobs only. Jobs are re-queued in the durable queue; a running server's job runner
 * picks them up (it polls when idle), or the script runs them itself with `--process`.
 */
import type Database from 'better-sqlite3';
import { writeAudit } from '../catalogue/audit.ts';
import { JOB_KINDS, MEDIA_KINDS } from '../db/schema.ts';
import type { JobQueue } from '../ingest/jobs/queue.ts';
import { sniffStoredFile } from '../ingest/sniff.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import type { Progress } from './progress.ts';
import { systemPrincipal } from './store.ts';

export interface RederiveFilter {
  kind?: string;
  failedOnly?: boolean;
  sha256?: string;
}

export class RederiveUsageError extends Error {}

/** The --kind and --sha filters, checked before any work (the script checks them before it opens the store). */
export function checkFilter(filter: { kind?: string; sha256?: string }): void {
  if (filter.kind !== undefined && !(MEDIA_KINDS as readonly string[]).includes(filter.kind)) {
    throw new RederiveUsageError(`--kind must be one of ${MEDIA_KINDS.join(', ')}`);
  }
  if (filter.sha256 !== undefined && !/^[0-9a-f]{64}$/.test(filter.sha256)) throw new RederiveUsageError('--sha must be a SHA-256 in hex');
}

/** Re-queue the matching jobs; returns how many. */
export function requeueDerivatives(queue: JobQueue, filter: RederiveFilter): number {
  checkFilter(filter);
  return queue.requeue({ blobKind: filter.kind, failedOnly: filter.failedOnly, sha256: filter.sha256 });
}

/** Blobs without any job row (e.g. imported by an old version): queue their jobs too. */
export function queueMissingJobs(sqlite: Database.Database, maxAttempts: number, kind?: string): number {
  const where = kind ? 'AND b.kind = ?' : '';
  const args = kind ? [maxAttempts, kind] : [maxAttempts];
  return sqlite
    .prepare(
      `INSERT INTO jobs (sha256, kind, max_attempts)
       SELECT b.sha256, k.kind, ? FROM blobs b CROSS JOIN (SELECT 'extract' AS kind UNION ALL SELECT 'thumbnail') k
       WHERE NOT EXISTS (SELECT 1 FROM jobs j WHERE j.sha256 = b.sha256 AND j.kind = k.kind) ${where}
       ON CONFLICT(sha256, kind) DO NOTHING`,
    )
    .run(...args).changes;
}

/** Wait until no job is queued or running, showing progress; resolves with the final counts. */
export async function waitForJobs(queue: JobQueue, total: number, progress: Progress | null, pollMs = 500): Promise<Record<string, number>> {
  let shown = 0;
  for (;;) {
    const c = queue.counts();
    const pending = (c.queued ?? 0) + (c.running ?? 0);
    const done = Math.max(0, total - pending);
    if (done > shown) {
      progress?.tick(done - shown);
      shown = done;
    }
    if (pending === 0) return c;
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

export interface ResniffChange {
  sha256: string;
  from: { mediaType: string; kind: string };
  to: { mediaType: string; kind: string };
  /** Products holding the blob, with the type a person gave each (never changed here). */
  products: Array<{ id: number; type: string }>;
}

export interface ResniffReport {
  /** Blobs whose bytes were sniffed again. */
  checked: number;
  /** Blobs whose stored type was corrected (their jobs re-queued). */
  changed: ResniffChange[];
  /** Blobs left as they were because a job of theirs was running (a live server): run again later. */
  busy: string[];
  /** Blobs whose bytes are missing from the store (npm run verify tells more). */
  missing: string[];
  /** Blobs the sniffer no longer accepts (`detected`: what it sees now); kept as they are. */
  refused: Array<{ sha256: string; mediaType: string; detected: string | null }>;
}

/**
 * Sniff stored blobs again with the current sniffer (after a sniffing fix: an audio-only MP4 stored
 * as video) and correct the ones whose type changed. Each correction is one transaction: the blob's
 * media type and kind, its extracted facts cleared (they were the old kind's), its thumbnails'
 * rows dropped (made for the old kind; the files are replaced when the thumbnail job runs again),
 * both its jobs queued afresh, the holding products' `updated_at` (OAI-PMH datestamps: dc:format
 * changed) and an audit entry on the blob and on each holding product. The products' own type is
 * never changed: a person always chooses it (required in an upload, an import row and an edit).
 *
 * Safe beside a running server: a blob with a job `running` is skipped (reported as busy; a
 * job's claim and this correction both take the database's write lock, so a job claimed afterwards
 * reads the new kind). Idempotent and resumable: a corrected blob sniffs the same next time, so a
 * re-run (after an interruption, or for the busy ones) changes only what is still wrong.
 */
export async function resniffBlobs(
  deps: { sqlite: Database.Database; blobStore: BlobStore; maxAttempts: number },
  filter: { kind?: string; sha256?: string },
  progress: Progress | null = null,
  shouldStop: () => boolean = () => false,
  /** Told of each correction as soon as it is committed (an interrupted script says how many). */
  onCorrected: (c: ResniffChange) => void = () => {},
): Promise<ResniffReport> {
  const { sqlite, blobStore } = deps;
  checkFilter(filter);
  const where: string[] = [];
  const args: string[] = [];
  if (filter.kind) {
    where.push('kind = ?');
    args.push(filter.kind);
  }
  if (filter.sha256) {
    where.push('sha256 = ?');
    args.push(filter.sha256);
  }
  const blobs = sqlite
    .prepare(`SELECT sha256, media_type AS mediaType, kind, size FROM blobs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY sha256`)
    .all(...args) as Array<{ sha256: string; mediaType: string; kind: string; size: number }>;
  progress?.setTotal(blobs.length, blobs.reduce((a, b) => a + b.size, 0));
  const report: ResniffReport = { checked: 0, changed: [], busy: [], missing: [], refused: [] };
  const principal = systemPrincipal('rederive');
  const current = sqlite.prepare('SELECT media_type AS mediaType, kind FROM blobs WHERE sha256 = ?');
  const running = sqlite.prepare(`SELECT 1 FROM jobs WHERE sha256 = ? AND state = 'running' LIMIT 1`);
  const holders = sqlite.prepare('SELECT DISTINCT p.id, p.type, f.original_name AS name FROM product_files f JOIN products p ON p.id = f.product_id WHERE f.sha256 = ? ORDER BY p.id');
  const setBlob = sqlite.prepare('UPDATE blobs SET media_type = ?, kind = ?, metadata = NULL WHERE sha256 = ?');
  const dropDerivatives = sqlite.prepare('DELETE FROM derivatives WHERE sha256 = ?');
  const queueJob = sqlite.prepare(
    `INSERT INTO jobs (sha256, kind, max_attempts) VALUES (@sha, @kind, @max)
     ON CONFLICT(sha256, kind) DO UPDATE SET state = 'queued', attempts = 0, max_attempts = @max, run_after = @now,
       started_at = NULL, finished_at = NULL, error_code = NULL, error_message = NULL, updated_at = @now`,
  );
  const touchProduct = sqlite.prepare('UPDATE products SET updated_at = ? WHERE id = ?');
  const correct = sqlite.transaction((sha: string, was: { mediaType: string; kind: string }, now: { mediaType: string; kind: string }): ResniffChange | 'busy' | 'moved' => {
    const row = current.get(sha) as { mediaType: string; kind: string } | undefined;
    // Changed or removed by someone else since it was read: leave it to the next run.
    if (row === undefined || row.mediaType !== was.mediaType) return 'moved';
    if (running.get(sha) !== undefined) return 'busy';
    const at = new Date().toISOString();
    setBlob.run(now.mediaType, now.kind, sha);
    dropDerivatives.run(sha);
    for (const kind of JOB_KINDS) queueJob.run({ sha, kind, max: deps.maxAttempts, now: at });
    const held = holders.all(sha) as Array<{ id: number; type: string; name: string }>;
    const changes = { mediaType: [was.mediaType, now.mediaType], kind: [was.kind, now.kind] };
    writeAudit(sqlite, principal, { action: 'resniff', entity: 'blob', entityId: sha, changes, note: held.length ? `products ${held.map((p) => `#${p.id}`).join(', ')}` : null });
    for (const p of held) {
      touchProduct.run(at, p.id);
      writeAudit(sqlite, principal, { action: 'file_type_corrected', entity: 'product', entityId: p.id, changes: { mediaType: [was.mediaType, now.mediaType] }, note: p.name });
    }
    const products = [...new Map(held.map((p) => [p.id, { id: p.id, type: p.type }])).values()];
    return { sha256: sha, from: was, to: now, products };
  });
  for (const b of blobs) {
    if (shouldStop()) break;
    report.checked++;
    let path: string;
    try {
      path = await blobStore.localPath(b.sha256);
      const sniffed = await sniffStoredFile(path);
      if (!sniffed.ok) report.refused.push({ sha256: b.sha256, mediaType: b.mediaType, detected: sniffed.detected });
      else if (sniffed.info.mediaType !== b.mediaType) {
        const r = correct.immediate(b.sha256, { mediaType: b.mediaType, kind: b.kind }, { mediaType: sniffed.info.mediaType, kind: sniffed.info.kind });
        if (r === 'busy') report.busy.push(b.sha256);
        else if (r !== 'moved') {
          report.changed.push(r);
          onCorrected(r);
        }
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      report.missing.push(b.sha256);
    }
    progress?.tick(1, b.size);
  }
  return report;
}
