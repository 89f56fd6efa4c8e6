/**
 * Opening the store from an operator script (outside the server): its own SQLite connection
 * (WAL, busy timeout, so it can run beside a live server), the blob store, the job queue and the
 * ingest service. `startRunner` adds a job runner for scripts given `--process`.
 */
import { existsSync } from 'node:fs';
import type { Principal } from '../auth/principal.ts';
import type { Config } from '../config.ts';
import { DEFAULT_PLAN_FILE, loadPlanSeed, readPlanSeed } from '../catalogue/seed.ts';
import { openDatabase, type Database_ } from '../db/client.ts';
import { defaultFfmpegPath, defaultFfprobePath } from '../ingest/adapters/ffmpeg.ts';
import { createIngestService, type IngestService } from '../ingest/ingest-service.ts';
import { createJobQueue, type JobQueue } from '../ingest/jobs/queue.ts';
import { createJobRunner, type JobRunner } from '../ingest/jobs/runner.ts';
import { dataPaths, type DataPaths } from '../plugins/services.ts';
import { createLocalBlobStore, type BlobStore } from '../storage/blob-store.ts';
import { makeDirs } from '../storage/make-dirs.ts';

export interface OpsStore {
  paths: DataPaths;
  db: Database_;
  blobStore: BlobStore;
  queue: JobQueue;
  ingest: IngestService;
  close(): void;
}

/** The principal recorded in the audit log for work done by operator scripts. */
export function systemPrincipal(username = 'import'): Principal {
  return { userId: null, username, role: 'admin', agencyId: null, canSeeInternal: true, via: 'admin-token' };
}

export interface OpenStoreOptions {
  onCommitted?: () => void;
  /**
   * `NORMAL` skips the WAL fsync at each commit (still durable across a crash of the process, not
   * across power loss). Bulk import uses it: its rows are re-imported by a re-run if a power cut
   * loses the last commits, and blob files are still fsynced before their rows are written.
   */
  synchronous?: 'FULL' | 'NORMAL';
  /**
   * Create nothing in the data dir (a dry run): no folders; when it has no database yet, an empty
   * catalogue in memory (migrated, with the plan seed) stands in for the one the real run would create.
   */
  readOnly?: boolean;
  /** Load the plan seed (agencies, plan tasks) if this data dir never had it, as the server's first start does (default true). */
  seed?: boolean;
}

export async function openStore(config: Config, opts: OpenStoreOptions = {}): Promise<OpsStore> {
  const paths = dataPaths(config.dataDir);
  if (!opts.readOnly) {
    await makeDirs(paths.blobsDir);
    await makeDirs(paths.tmpDir);
  }
  const db = openDatabase(opts.readOnly && !existsSync(paths.dbFile) ? ':memory:' : paths.dbFile, { busyTimeoutMs: 15_000 });
  if (opts.synchronous === 'NORMAL') db.sqlite.pragma('synchronous = NORMAL');
  // An import into a new data dir must know the agencies and plan tasks codes (idempotent).
  if (opts.seed ?? true) loadPlanSeed(db.sqlite, readPlanSeed(DEFAULT_PLAN_FILE));
  const blobStore = createLocalBlobStore(paths.blobsDir);
  const queue = createJobQueue(db.sqlite);
  const ingest = createIngestService({ sqlite: db.sqlite, blobStore, maxAttempts: config.jobs.maxAttempts, onCommitted: opts.onCommitted });
  return { paths, db, blobStore, queue, ingest, close: () => db.close() };
}

const quietLogger = {
  info: () => {},
  warn: (obj: object, msg?: string) => console.error(msg ?? '', JSON.stringify(obj)),
  error: (obj: object, msg?: string) => console.error(msg ?? '', JSON.stringify(obj)),
};

/**
 * A job runner inside the script (for `--process`). Use it when the server is stopped: at start it
 * re-queues jobs marked running, which would include jobs a live server is working on.
 */
export function startRunner(store: OpsStore, config: Config): JobRunner {
  const runner = createJobRunner({
    sqlite: store.db.sqlite,
    blobStore: store.blobStore,
    queue: store.queue,
    tmpDir: store.paths.tmpDir,
    logger: quietLogger,
    options: {
      workers: Math.max(1, config.jobs.workers),
      timeoutMs: config.jobs.timeoutMs,
      memoryLimitMb: config.jobs.memoryLimitMb,
      maxImagePixels: config.media.maxImagePixels,
      ffmpegPath: config.media.ffmpegPath ?? defaultFfmpegPath(),
      ffprobePath: config.media.ffprobePath ?? defaultFfprobePath(),
    },
  });
  runner.start();
  return runner;
}
