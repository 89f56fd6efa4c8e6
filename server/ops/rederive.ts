/**
 * Re-running extraction and thumbnails: after an extractor upgrade (everything, or one media kind)
 * or for failed jobs only. Jobs are re-queued in the durable queue; a running server's job runner
 * picks them up (it polls when idle), or the script runs them itself with `--process`.
 */
import type Database from 'better-sqlite3';
import { MEDIA_KINDS } from '../db/schema.ts';
import type { JobQueue } from '../ingest/jobs/queue.ts';
import type { Progress } from './progress.ts';

export interface RederiveFilter {
  kind?: string;
  failedOnly?: boolean;
  sha256?: string;
}

export class RederiveUsageError extends Error {}

/** Re-queue the matching jobs; returns how many. */
export function requeueDerivatives(queue: JobQueue, filter: RederiveFilter): number {
  if (filter.kind !== undefined && !(MEDIA_KINDS as readonly string[]).includes(filter.kind)) {
    throw new RederiveUsageError(`--kind must be one of ${MEDIA_KINDS.join(', ')}`);
  }
  if (filter.sha256 !== undefined && !/^[0-9a-f]{64}$/.test(filter.sha256)) throw new RederiveUsageError('--sha must be a SHA-256 in hex');
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
