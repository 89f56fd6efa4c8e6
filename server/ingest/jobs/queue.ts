/**
 * The durable job queue: rows of the `jobs` table, claimed and settled with single SQL statements
 * so a crash at any point leaves each job either queued, running (re-queued at start-up) or settled.
 */
import type Database from 'better-sqlite3';

export interface JobRow {
  id: number;
  sha256: string;
  kind: 'extract' | 'thumbnail';
  state: string;
  attempts: number;
  maxAttempts: number;
  mediaType: string;
  blobKind: string;
  size: number;
}

const iso = (ms: number) => new Date(ms).toISOString();

export interface JobQueue {
  /** Jobs left `running` by a crash go back to `queued`. Returns how many. */
  resumeInterrupted(): number;
  /** Claim the next due job (oldest first), marking it running. */
  claim(nowMs?: number): JobRow | null;
  /** Milliseconds until the next queued job is due, or null when none is queued. */
  nextDueInMs(nowMs?: number): number | null;
  /** Done; `warning`: what was made came from a damaged file (kept in error_code / error_message). */
  markDone(id: number, warning?: { code: string; message: string }): void;
  /** Settle a failure: retried with back-off unless permanent or out of attempts. Returns the new state. */
  markFailed(job: JobRow, code: string, message: string, permanent: boolean, nowMs?: number): 'queued' | 'failed';
  /** Re-queue jobs (for rederive): by kind of blob and/or only failed ones. Returns how many. */
  requeue(filter: { blobKind?: string; failedOnly?: boolean; sha256?: string }): number;
  counts(): Record<string, number>;
}

/** Back-off before attempt n+1: 2 s, 8 s, 32 s … capped at 10 min. */
export const backoffMs = (attempts: number) => Math.min(2000 * 4 ** Math.max(0, attempts - 1), 600_000);
/** Failures of the store itself (disk full, read-only, failing): space takes minutes to free, not seconds. */
export const STORAGE_FAULT_CODES = new Set(['STORAGE_FULL', 'STORAGE_READ_ONLY', 'STORAGE_IO_ERROR']);
export const storageBackoffMs = (attempts: number) => Math.min(60_000 * 4 ** Math.max(0, attempts - 1), 1_800_000);

export function createJobQueue(sqlite: Database.Database): JobQueue {
  const claimStmt = sqlite.prepare(`
    UPDATE jobs SET state = 'running', attempts = attempts + 1, started_at = @now, updated_at = @now
    WHERE id = (SELECT id FROM jobs WHERE state = 'queued' AND run_after <= @now ORDER BY id LIMIT 1)
    RETURNING id, sha256, kind, state, attempts, max_attempts AS maxAttempts`);
  const blobStmt = sqlite.prepare('SELECT media_type AS mediaType, kind AS blobKind, size FROM blobs WHERE sha256 = ?');
  const nextStmt = sqlite.prepare(`SELECT min(run_after) AS t FROM jobs WHERE state = 'queued'`);
  const doneStmt = sqlite.prepare(
    `UPDATE jobs SET state = 'done', finished_at = @now, updated_at = @now, error_code = @code, error_message = @message WHERE id = @id`,
  );
  const failStmt = sqlite.prepare(
    `UPDATE jobs SET state = @state, run_after = @runAfter, finished_at = @finished, updated_at = @now, error_code = @code, error_message = @message WHERE id = @id`,
  );

  return {
    resumeInterrupted() {
      return sqlite.prepare(`UPDATE jobs SET state = 'queued', updated_at = ? WHERE state = 'running'`).run(iso(Date.now())).changes;
    },
    claim(nowMs = Date.now()) {
      const row = claimStmt.get({ now: iso(nowMs) }) as Omit<JobRow, 'mediaType' | 'blobKind' | 'size'> | undefined;
      if (!row) return null;
      const blob = blobStmt.get(row.sha256) as { mediaType: string; blobKind: string; size: number };
      return { ...row, ...blob };
    },
    nextDueInMs(nowMs = Date.now()) {
      const r = nextStmt.get() as { t: string | null };
      if (r.t === null) return null;
      return Math.max(0, Date.parse(r.t) - nowMs);
    },
    markDone(id, warning) {
      doneStmt.run({ id, now: iso(Date.now()), code: warning?.code ?? null, message: warning?.message ?? null });
    },
    markFailed(job, code, message, permanent, nowMs = Date.now()) {
      const retry = !permanent && job.attempts < job.maxAttempts;
      failStmt.run({
        id: job.id,
        state: retry ? 'queued' : 'failed',
        runAfter: iso(nowMs + (retry ? (STORAGE_FAULT_CODES.has(code) ? storageBackoffMs : backoffMs)(job.attempts) : 0)),
        finished: retry ? null : iso(nowMs),
        now: iso(nowMs),
        code,
        message: message.slice(0, 2000),
      });
      return retry ? 'queued' : 'failed';
    },
    requeue(filter) {
      const where: string[] = [];
      const params: unknown[] = [];
      if (filter.failedOnly) where.push(`j.state = 'failed'`);
      else where.push(`j.state IN ('done', 'failed')`);
      if (filter.blobKind) {
        where.push('b.kind = ?');
        params.push(filter.blobKind);
      }
      if (filter.sha256) {
        where.push('j.sha256 = ?');
        params.push(filter.sha256);
      }
      return sqlite
        .prepare(
          `UPDATE jobs SET state = 'queued', attempts = 0, run_after = ?, error_code = NULL, error_message = NULL, finished_at = NULL, updated_at = ?
           WHERE id IN (SELECT j.id FROM jobs j JOIN blobs b ON b.sha256 = j.sha256 WHERE ${where.join(' AND ')})`,
        )
        .run(iso(Date.now()), iso(Date.now()), ...params).changes;
    },
    counts() {
      const rows = sqlite.prepare('SELECT state, count(*) AS n FROM jobs GROUP BY state').all() as { state: string; n: number }[];
      const out: Record<string, number> = { queued: 0, running: 0, done: 0, failed: 0 };
      for (const r of rows) out[r.state] = r.n;
      return out;
    },
  };
}
