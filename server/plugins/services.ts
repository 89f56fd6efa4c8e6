/**
 * The app's own services, created from config (no module-level singletons) and decorated on the
 * instance: `config`, `db`, `blobStore`, `jobQueue`, `jobRunner`, `ingest`. Closed in `onClose`.
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../config.ts';
import { openDatabase, type Database_ } from '../db/client.ts';
import { defaultFfmpegPath, defaultFfprobePath } from '../ingest/adapters/ffmpeg.ts';
import { createIngestService, type IngestService } from '../ingest/ingest-service.ts';
import { createJobQueue, type JobQueue } from '../ingest/jobs/queue.ts';
import { createJobRunner, type JobRunner } from '../ingest/jobs/runner.ts';
import { createLocalBlobStore, type BlobStore } from '../storage/blob-store.ts';
import { makeDirs } from '../storage/make-dirs.ts';

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
    db: Database_;
    blobStore: BlobStore;
    jobQueue: JobQueue;
    jobRunner: JobRunner;
    ingest: IngestService;
    paths: DataPaths;
  }
}

export interface DataPaths {
  dataDir: string;
  dbFile: string;
  blobsDir: string;
  tmpDir: string;
}

export function dataPaths(dataDir: string): DataPaths {
  return { dataDir, dbFile: join(dataDir, 'kho.sqlite'), blobsDir: join(dataDir, 'blobs'), tmpDir: join(dataDir, 'tmp') };
}

/** Remove temp files left by uploads and jobs that a crash interrupted. */
export async function sweepTmp(tmpDir: string): Promise<number> {
  let n = 0;
  for (const name of await readdir(tmpDir).catch(() => [] as string[])) {
    await rm(join(tmpDir, name), { recursive: true, force: true });
    n++;
  }
  return n;
}

export default fp(
  async function servicesPlugin(app: FastifyInstance, opts: { config: Config }) {
    const config = opts.config;
    const paths = dataPaths(config.dataDir);
    await makeDirs(paths.blobsDir);
    await makeDirs(paths.tmpDir);
    const swept = await sweepTmp(paths.tmpDir);
    if (swept > 0) app.log.info({ swept }, 'removed stray temp files');

    const db = openDatabase(paths.dbFile);
    const blobStore = createLocalBlobStore(paths.blobsDir);
    const jobQueue = createJobQueue(db.sqlite);
    const jobRunner = createJobRunner({
      sqlite: db.sqlite,
      blobStore,
      queue: jobQueue,
      tmpDir: paths.tmpDir,
      logger: app.log,
      options: {
        workers: config.jobs.workers,
        timeoutMs: config.jobs.timeoutMs,
        memoryLimitMb: config.jobs.memoryLimitMb,
        maxImagePixels: config.media.maxImagePixels,
        ffmpegPath: config.media.ffmpegPath ?? defaultFfmpegPath(),
        ffprobePath: config.media.ffprobePath ?? defaultFfprobePath(),
      },
      onBlobExtracted: (sha) => app.events.emit('blob-extracted', sha),
    });
    const ingest = createIngestService({
      sqlite: db.sqlite,
      blobStore,
      maxAttempts: config.jobs.maxAttempts,
      onCommitted: () => jobRunner.notify(),
    });

    app.decorate('config', config);
    app.decorate('paths', paths);
    app.decorate('db', db);
    app.decorate('blobStore', blobStore);
    app.decorate('jobQueue', jobQueue);
    app.decorate('jobRunner', jobRunner);
    app.decorate('ingest', ingest);

    // A successful write is acknowledged only once it is durable on disk (group-committed WAL fsync).
    app.addHook('onSend', async (req, reply) => {
      if (req.method !== 'GET' && req.method !== 'HEAD' && req.method !== 'OPTIONS' && reply.statusCode < 400) await db.syncWal();
    });

    // Jobs queued by another process (`npm run import`, `npm run rederive`) are committed on another
    // connection, so no in-process commit wakes the runner: SQLite's data_version changes when
    // another connection commits, and a change wakes it (checked every 2 s, a cheap pragma).
    let seenDataVersion = 0;
    let foreignCommits: NodeJS.Timeout | null = null;
    app.addHook('onReady', async () => {
      jobRunner.start();
      if (config.jobs.workers > 0) {
        seenDataVersion = Number(db.sqlite.pragma('data_version', { simple: true }));
        foreignCommits = setInterval(() => {
          const v = Number(db.sqlite.pragma('data_version', { simple: true }));
          if (v === seenDataVersion) return;
          seenDataVersion = v;
          jobRunner.notify();
        }, 2000);
        foreignCommits.unref();
      }
    });
    app.addHook('onClose', async () => {
      if (foreignCommits) clearInterval(foreignCommits);
      await jobRunner.stop(10_000);
      db.close();
    });
  },
  { name: 'services', dependencies: ['events'] },
);
