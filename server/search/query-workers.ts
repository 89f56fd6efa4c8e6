/**
 * Query workers: worker threads that each hold a replica of the in-memory search index and answer
 * searches with their own read-only SQLite connection, so searches use more than one core (one Node
 * thread tops out at a few hundred uncached searches a second).
 *
 * - The field index postings (the bulk of the memory) are shared: the main index moves them into
 *   SharedArrayBuffers (FieldIndex.shareArrays) and each replica reads the same bytes. Everything
 *   else a replica needs (attributes, facets, vocabulary, blob map) it loads from the database.
 * - Replicas start loading as soon as the main index has its postings (the rest of both loads runs
 *   in parallel), and start-up waits (Atomics.wait) until every replica is loaded, so no write can
 *   slip in between.
 * - Writes stay on the main thread. After each change (indexProduct, removeProduct, indexBlob) the
 *   main index sends it to every replica, which applies it (reading the committed rows) before any
 *   search sent after it: a worker handles its messages in order, so a change is searchable on every
 *   thread once the write's API call returns, without the main thread waiting. A replica that fails
 *   to apply a change refuses the searches after it and is stopped; they go back to the main thread.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Principal } from '../auth/principal.ts';
import { PROJECT_ROOT, RUNNING_BUNDLED } from '../paths.ts';
import type { FieldSnapshot } from './field-index.ts';
import type { IndexChange } from './service.ts';
import type { SearchParams, SearchResponse } from './types.ts';

/** Control words shared with a worker (Int32): its state, the last change it applied, the searches it has finished. */
export const CTL_STATE = 0;
export const CTL_APPLIED = 1;
export const CTL_DONE = 2;
export const STATE_LOADING = 0;
export const STATE_READY = 1;
export const STATE_FAILED = 2;

/** Worker entry: the bundled file, or the TypeScript source behind a small loader (tests, scripts under tsx). */
const WORKER_FILE = RUNNING_BUNDLED ? join(PROJECT_ROOT, 'dist/search-worker.js') : join(PROJECT_ROOT, 'server/search/worker-boot.mjs');
const WORKER_SOURCE = pathToFileURL(join(PROJECT_ROOT, 'server/search/worker.ts')).href;

const START_TIMEOUT_MS = 60_000;

/**
 * How many query workers the server starts: SEARCH_WORKERS when set (0 = none), else one per CPU
 * beyond the first, at most 3 (the main thread answers searches too when the workers are busy).
 * Under vitest none unless SEARCH_WORKERS asks: each test app would otherwise load a replica (the
 * worker tests start them explicitly).
 */
export function defaultSearchWorkers(env: Record<string, string | undefined> = process.env): number {
  const raw = env.SEARCH_WORKERS?.trim();
  if (raw !== undefined && raw !== '') {
    const n = Number(raw);
    return Number.isInteger(n) && n >= 0 ? Math.min(n, 16) : 0;
  }
  if (env.VITEST !== undefined) return 0;
  return Math.max(0, Math.min(availableParallelism() - 1, 3));
}

export interface WorkerData {
  file: string;
  snapshot: FieldSnapshot;
  ctl: SharedArrayBuffer;
  entry?: string;
}

interface Replica {
  worker: Worker;
  ctl: Int32Array;
  /** Searches whose answer this thread has not received yet. */
  inflight: number;
  /** Searches sent; minus the worker's CTL_DONE, the ones it has not finished (see `queued`). */
  sent: number;
  pending: Map<number, { resolve: (r: SearchResponse) => void; reject: (e: Error) => void }>;
  dead: boolean;
}

export class QueryWorkers {
  private replicas: Replica[] = [];
  private nextId = 1;
  private seq = 0;
  private readonly inflight: number;
  private readonly log: { info: Function; warn: Function };

  constructor(opts: { file: string; snapshot: FieldSnapshot; count: number; inflight: number; log: { info: Function; warn: Function } }) {
    this.inflight = Math.max(1, opts.inflight);
    this.log = opts.log;
    for (let i = 0; i < opts.count; i++) {
      const ctl = new Int32Array(new SharedArrayBuffer(12));
      const data: WorkerData = { file: opts.file, snapshot: opts.snapshot, ctl: ctl.buffer as SharedArrayBuffer, entry: RUNNING_BUNDLED ? undefined : WORKER_SOURCE };
      const worker = new Worker(WORKER_FILE, { workerData: data });
      const r: Replica = { worker, ctl, inflight: 0, sent: 0, pending: new Map(), dead: false };
      worker.on('message', (m: { id: number; r?: SearchResponse; error?: string }) => {
        const p = r.pending.get(m.id);
        if (p === undefined) return;
        r.pending.delete(m.id);
        r.inflight--;
        if (m.r !== undefined) p.resolve(m.r);
        else p.reject(new Error(m.error ?? 'query worker error'));
      });
      worker.on('error', (e) => {
        this.log.warn({ err: e }, 'search: query worker error');
        this.kill(r);
      });
      worker.on('exit', () => this.kill(r));
      this.replicas.push(r);
    }
  }

  /**
   * Wait until every replica has loaded (started by the constructor, which returns at once so the
   * main index can load meanwhile); returns how many did. The caller must not write in between: it
   * is all one synchronous start-up, so no write can slip in.
   */
  waitReady(): number {
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (const r of this.replicas) {
      for (;;) {
        const st = Atomics.load(r.ctl, CTL_STATE);
        if (st !== STATE_LOADING) break;
        const left = deadline - Date.now();
        if (left <= 0) break;
        Atomics.wait(r.ctl, CTL_STATE, STATE_LOADING, Math.min(left, 1000));
      }
      if (Atomics.load(r.ctl, CTL_STATE) !== STATE_READY) {
        this.log.warn('search: a query worker did not start');
        this.kill(r);
      }
    }
    return this.live;
  }

  /** Workers still in use. */
  get live(): number {
    let n = 0;
    for (const r of this.replicas) if (!r.dead) n++;
    return n;
  }

  /**
   * Searches sent to a worker that it has not finished, read from the counter it bumps as it
   * finishes each one. Not `inflight`: an answer waits in this thread's message queue until the event
   * loop gets to it, and while this thread is busy (searching itself, under load) a worker that has
   * finished everything would still look full, get nothing new, and sit idle.
   */
  private queued(r: Replica): number {
    return r.sent - Atomics.load(r.ctl, CTL_DONE);
  }

  /** Searches queued on the live workers and not yet finished (for tests and metrics). */
  get queuedTotal(): number {
    let n = 0;
    for (const r of this.replicas) if (!r.dead) n += this.queued(r);
    return n;
  }

  /** True when some worker has fewer than `inflight` searches queued. */
  hasRoom(): boolean {
    for (const r of this.replicas) if (!r.dead && this.queued(r) < this.inflight) return true;
    return false;
  }

  search(params: SearchParams, viewer: Principal | null): Promise<SearchResponse> {
    let best: Replica | null = null;
    for (const r of this.replicas) {
      if (!r.dead && Atomics.load(r.ctl, CTL_STATE) !== STATE_READY) this.kill(r); // failed to apply a change
      if (!r.dead && (best === null || this.queued(r) < this.queued(best))) best = r;
    }
    if (best === null) return Promise.reject(new Error('no query worker'));
    const r = best;
    const id = this.nextId++;
    r.inflight++;
    r.sent++;
    return new Promise((resolve, reject) => {
      r.pending.set(id, { resolve, reject });
      r.worker.postMessage({ t: 'search', id, params, viewer });
    });
  }

  /**
   * Send a change to every worker, without waiting. A worker handles its messages in order, so any
   * search sent after this call (every search after the write's API call returns) is answered with
   * the change applied. A worker that fails to apply a change marks itself failed and refuses the
   * searches after it (they run on the main thread), and is stopped here at its next use.
   * (The first version waited for each worker's acknowledgement with Atomics.wait: that blocked
   * the event loop for about 0.4 ms per write, 13 % of the upload rate with one worker.)
   */
  apply(change: IndexChange): void {
    const seq = ++this.seq;
    for (const r of this.replicas) {
      if (r.dead) continue;
      if (Atomics.load(r.ctl, CTL_STATE) !== STATE_READY) {
        this.log.warn({ change }, 'search: a query worker failed to apply a change; stopped');
        this.kill(r);
        continue;
      }
      r.worker.postMessage({ t: 'apply', seq, change });
    }
  }

  private kill(r: Replica): void {
    if (r.dead) return;
    r.dead = true;
    for (const p of r.pending.values()) p.reject(new Error('query worker stopped'));
    r.pending.clear();
    r.inflight = 0;
    void r.worker.terminate();
  }

  close(): void {
    for (const r of this.replicas) this.kill(r);
  }
}
