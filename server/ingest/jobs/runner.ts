/**
 * The job runner: a pool of worker processes (one per core by default) fed from the durable queue.
 * Each job gets a wall-clock timeout and a resident-memory cap; a worker past either is killed
 * (SIGKILL) and replaced, and the job fails with `TIMEOUT` / `MEMORY_LIMIT`. A worker that dies on
 * its own fails the job transiently (retried with back-off). The server process never runs
 * extraction code itself, so a hostile file cannot take it down.
 */
import type Database from 'better-sqlite3';
import { fork, type ChildProcess } from 'node:child_process';
import { readFile, rm, stat } from 'node:fs/promises';
import { makeDirs } from '../../storage/make-dirs.ts';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { storageFault } from '../../errors.ts';
import { RUNNING_BUNDLED, WORKER_ENTRY } from '../../paths.ts';
import type { BlobStore } from '../../storage/blob-store.ts';
import type { ExtractInput, ExtractResult, ThumbnailResult } from '../extractors/types.ts';
import { newTempPath } from '../receive-file.ts';
import type { JobDoneMessage, JobOutcome, RunJobMessage } from './protocol.ts';
import type { JobQueue, JobRow } from './queue.ts';

export interface RunnerOptions {
  workers: number;
  timeoutMs: number;
  memoryLimitMb: number;
  maxImagePixels: number;
  ffmpegPath: string;
  ffprobePath: string;
}

export interface RunnerLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface JobRunnerDeps {
  sqlite: Database.Database;
  blobStore: BlobStore;
  queue: JobQueue;
  tmpDir: string;
  options: RunnerOptions;
  logger: RunnerLogger;
  /** After a blob's text and facts were committed (search reindexes it). */
  onBlobExtracted?: (sha256: string) => void;
  /** After any job settled (metrics). */
  onJobSettled?: (job: JobRow, state: 'done' | 'queued' | 'failed', ms: number) => void;
}

export interface JobRunner {
  start(): void;
  /** New jobs were queued: look for work now. */
  notify(): void;
  /** Stop taking jobs, let running ones finish for up to `graceMs`, then kill the workers. */
  stop(graceMs?: number): Promise<void>;
  /**
   * Resolves once no job is queued or running and the work their results started (see `track`) has
   * settled (tests, scripts). Rejects after `timeoutMs`.
   */
  drain(timeoutMs?: number): Promise<void>;
  /** Work that applies a job's result after it is saved (the search index of an extracted text): `drain` waits for it. */
  track(work: Promise<unknown>): void;
  /** Live view for /metrics and /readyz. */
  stats(): { workers: number; busy: number; completed: number; failed: number; killed: number };
  /** Process ids of the live workers (metrics, tests). */
  workerPids(): number[];
}

interface Slot {
  id: number;
  child: ChildProcess | null;
  ready: boolean;
  job: JobRow | null;
  /** True while a finished job's results are being saved: the slot takes no new job yet. */
  settling: boolean;
  workDir: string | null;
  startedAt: number;
  timer: NodeJS.Timeout | null;
  memTimer: NodeJS.Timeout | null;
  /** Why the runner killed this worker, if it did. */
  killedFor: { code: string; message: string } | null;
}

/** From the sources, workers run the TypeScript entry under the tsx loader; from the bundle, plain JS. */
const LOADER_ARGS = RUNNING_BUNDLED ? [] : ['--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href];

/** How long to wait before writing to a database that refused a write (full or read-only) again. */
const STORAGE_RETRY_MS = 5000;

async function rssMb(pid: number): Promise<number> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const m = /VmRSS:\s+(\d+) kB/.exec(status);
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

export function createJobRunner(deps: JobRunnerDeps): JobRunner {
  const { sqlite, blobStore, queue, options, logger } = deps;
  const slots: Slot[] = [];
  let stopping = false;
  let started = false;
  let wakeTimer: NodeJS.Timeout | null = null;
  const counters = { completed: 0, failed: 0, killed: 0 };
  const tracked = new Set<Promise<unknown>>();

  const saveExtract = sqlite.transaction((job: JobRow, result: ExtractResult) => {
    const pages = result.pages.filter((p) => p.text.trim() !== '');
    sqlite.prepare('UPDATE blobs SET metadata = ?, page_count = ? WHERE sha256 = ?').run(JSON.stringify(result.metadata ?? {}), pages.length, job.sha256);
    sqlite.prepare('DELETE FROM blob_texts WHERE sha256 = ?').run(job.sha256);
    const ins = sqlite.prepare('INSERT INTO blob_texts (sha256, page, text) VALUES (?, ?, ?)');
    for (const p of pages) ins.run(job.sha256, p.page, p.text.normalize('NFC'));
    queue.markDone(job.id);
  });
  const saveDerivatives = sqlite.transaction((job: JobRow, rows: Array<{ name: string; mediaType: string; size: number; width?: number; height?: number }>, warning?: ThumbnailResult['warning']) => {
    const ins = sqlite.prepare(
      `INSERT INTO derivatives (sha256, name, media_type, size, width, height) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT(sha256, name) DO UPDATE SET media_type = excluded.media_type, size = excluded.size, width = excluded.width, height = excluded.height, created_at = strftime('%Y-%m-%dT%H:%M:%fZ','now')`,
    );
    for (const r of rows) ins.run(job.sha256, r.name, r.mediaType, r.size, r.width ?? null, r.height ?? null);
    queue.markDone(job.id, warning);
  });

  function spawn(slot: Slot): void {
    const child = fork(WORKER_ENTRY, [], {
      // The V8 heap limit only guards the JS heap; the RSS poll below is the real cap (native memory counts too).
      execArgv: [...LOADER_ARGS, `--max-old-space-size=${Math.max(256, options.memoryLimitMb)}`],
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    slot.child = child;
    slot.ready = false;
    slot.killedFor = null;
    child.on('message', (msg: JobDoneMessage | { type: 'ready' }) => {
      if (msg.type === 'ready') {
        slot.ready = true;
        pump();
      } else if (msg.type === 'done' && slot.job && msg.jobId === slot.job.id) {
        void settle(slot, msg.outcome);
      }
    });
    child.on('exit', (code, signal) => {
      const job = slot.job;
      slot.child = null;
      slot.ready = false;
      if (job) {
        const why = slot.killedFor ?? {
          code: 'WORKER_CRASHED',
          message: `The extraction process ended unexpectedly (${signal ?? `exit code ${code}`})`,
        };
        void settle(slot, { ok: false, code: why.code, message: why.message, permanent: slot.killedFor !== null });
      }
      if (!stopping) setTimeout(() => !stopping && slot.child === null && spawn(slot), job ? 0 : 500);
    });
    child.on('error', (e) => logger.error({ err: e, worker: slot.id }, 'worker process error'));
  }

  function clearTimers(slot: Slot) {
    if (slot.timer) clearTimeout(slot.timer);
    if (slot.memTimer) clearInterval(slot.memTimer);
    slot.timer = slot.memTimer = null;
  }

  function kill(slot: Slot, code: string, message: string) {
    if (!slot.child || slot.killedFor) return;
    slot.killedFor = { code, message };
    counters.killed++;
    slot.child.kill('SIGKILL');
  }

  async function dispatch(slot: Slot, job: JobRow) {
    slot.job = job;
    slot.startedAt = Date.now();
    try {
      const workDir = newTempPath(deps.tmpDir, `job-${job.id}`);
      await makeDirs(workDir);
      slot.workDir = workDir;
      const input: ExtractInput = {
        path: await blobStore.localPath(job.sha256),
        sha256: job.sha256,
        size: job.size,
        mediaType: job.mediaType,
        kind: job.blobKind as ExtractInput['kind'],
        workDir,
        limits: {
          maxImagePixels: options.maxImagePixels,
          ffmpegPath: options.ffmpegPath,
          ffprobePath: options.ffprobePath,
          deadline: Date.now() + options.timeoutMs,
        },
      };
      slot.timer = setTimeout(() => kill(slot, 'TIMEOUT', `Processing took longer than ${Math.round(options.timeoutMs / 1000)} s`), options.timeoutMs);
      slot.memTimer = setInterval(() => {
        const pid = slot.child?.pid;
        if (!pid) return;
        void rssMb(pid).then((mb) => {
          if (mb > options.memoryLimitMb) kill(slot, 'MEMORY_LIMIT', `Processing used more than ${options.memoryLimitMb} MB of memory`);
        });
      }, 200);
      const msg: RunJobMessage = { type: 'run', jobId: job.id, jobKind: job.kind, input };
      slot.child!.send(msg);
    } catch (e) {
      await settle(slot, { ok: false, code: 'DISPATCH_FAILED', message: (e as Error).message, permanent: false });
    }
  }

  async function settle(slot: Slot, outcome: JobOutcome) {
    const job = slot.job;
    if (!job) return;
    slot.job = null;
    slot.settling = true;
    const workDir = slot.workDir;
    slot.workDir = null;
    clearTimers(slot);
    const ms = Date.now() - slot.startedAt;
    let state: 'done' | 'queued' | 'failed';
    try {
      if (outcome.ok && outcome.jobKind === 'extract') {
        saveExtract(job, outcome.result);
        state = 'done';
        try {
          deps.onBlobExtracted?.(job.sha256);
        } catch (e) {
          logger.error({ err: e, sha256: job.sha256 }, 'indexing extracted text failed');
        }
      } else if (outcome.ok && outcome.jobKind === 'thumbnail') {
        const rows = await storeDerivatives(job, outcome.result);
        saveDerivatives(job, rows, outcome.result.warning);
        state = 'done';
      } else if (!outcome.ok) {
        state = recordFailure(job, outcome.code, outcome.message, outcome.permanent);
      } else {
        state = queue.markFailed(job, 'BAD_RESULT', 'The worker returned an unexpected result', true);
      }
    } catch (e) {
      logger.error({ err: e, jobId: job.id }, 'saving job result failed');
      state = recordFailure(job, storageFault(e)?.code ?? 'SAVE_FAILED', (e as Error).message);
    }
    if (state === 'done') counters.completed++;
    else if (state === 'failed') counters.failed++;
    (state === 'done' ? logger.info : logger.warn).call(logger, { jobId: job.id, kind: job.kind, sha256: job.sha256, state, ms, ...(outcome.ok ? {} : { code: outcome.code, reason: outcome.message }) }, 'job settled');
    deps.onJobSettled?.(job, state, ms);
    if (workDir) await rm(workDir, { recursive: true, force: true }).catch(() => {});
    slot.settling = false;
    pump();
  }

  /**
   * Settle a failure. When even that cannot be written (the database's disk is full or read-only),
   * the job stays `running` in the table: it is written again every few seconds until it can be
   * (or re-queued at the next start), instead of an unhandled rejection that ends the server.
   */
  function recordFailure(job: JobRow, code: string, message: string, permanent = false): 'queued' | 'failed' {
    try {
      return queue.markFailed(job, code, message, permanent);
    } catch (e) {
      logger.error({ err: e, jobId: job.id }, 'recording a job failure failed; trying again later');
      const retry = setTimeout(() => {
        if (stopping) return;
        recordFailure(job, code, message, permanent);
        pump();
      }, STORAGE_RETRY_MS);
      retry.unref();
      return 'queued';
    }
  }

  async function storeDerivatives(job: JobRow, result: ThumbnailResult) {
    const rows = [];
    for (const d of result.derivatives) {
      const s = await stat(d.path);
      await blobStore.putDerivative(job.sha256, d.name, d.path);
      rows.push({ name: d.name, mediaType: d.mediaType, size: s.size, width: d.width, height: d.height });
    }
    return rows;
  }

  /**
   * Hand queued jobs to idle workers. Called from timers, worker messages and request handlers
   * (after an upload's commit), so it never throws: a database that cannot be written (disk full,
   * read-only) leaves the jobs queued and is tried again after `STORAGE_RETRY_MS`.
   */
  function pump() {
    if (stopping || !started) return;
    try {
      for (const slot of slots) {
        if (!slot.ready || slot.job || slot.settling || !slot.child) continue;
        const job = queue.claim();
        if (!job) break;
        void dispatch(slot, job);
      }
      scheduleWake();
    } catch (e) {
      logger.error({ err: e }, 'claiming a job failed; trying again later');
      if (wakeTimer) clearTimeout(wakeTimer);
      wakeTimer = setTimeout(pump, STORAGE_RETRY_MS);
      wakeTimer.unref();
    }
  }

  function scheduleWake() {
    if (wakeTimer) clearTimeout(wakeTimer);
    wakeTimer = null;
    if (stopping) return;
    const due = queue.nextDueInMs();
    if (due === null) return;
    wakeTimer = setTimeout(pump, Math.min(Math.max(due, 50), 5000));
    wakeTimer.unref();
  }

  return {
    start() {
      if (started || options.workers === 0) return;
      started = true;
      const resumed = queue.resumeInterrupted();
      if (resumed > 0) logger.info({ resumed }, 'resumed jobs interrupted by a previous stop');
      for (let i = 0; i < options.workers; i++) {
        const slot: Slot = { id: i, child: null, ready: false, job: null, settling: false, workDir: null, startedAt: 0, timer: null, memTimer: null, killedFor: null };
        slots.push(slot);
        spawn(slot);
      }
    },
    notify() {
      pump();
    },
    async stop(graceMs = 10_000) {
      stopping = true;
      if (wakeTimer) clearTimeout(wakeTimer);
      const until = Date.now() + graceMs;
      while (slots.some((s) => s.job) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      for (const s of slots) {
        if (s.job) {
          // Still running at the end of the grace period: give the attempt back and re-queue.
          sqlite.prepare(`UPDATE jobs SET state = 'queued', attempts = max(0, attempts - 1) WHERE id = ? AND state = 'running'`).run(s.job.id);
          s.job = null;
        }
        clearTimers(s);
        if (s.child) {
          const child = s.child;
          const exited = new Promise<void>((r) => child.once('exit', () => r()));
          child.kill('SIGKILL');
          await exited;
        }
      }
    },
    track(work: Promise<unknown>) {
      tracked.add(work);
      const done = () => tracked.delete(work);
      work.then(done, done);
    },
    async drain(timeoutMs = 60_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const c = queue.counts();
        if (c.queued === 0 && c.running === 0 && tracked.size === 0) return;
        if (Date.now() > until) throw new Error(`jobs still pending after ${timeoutMs} ms: ${JSON.stringify(c)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    workerPids() {
      return slots.map((s) => s.child?.pid).filter((p): p is number => typeof p === 'number');
    },
    stats() {
      return { workers: slots.filter((s) => s.child).length, busy: slots.filter((s) => s.job).length, ...counters };
    },
  };
}

