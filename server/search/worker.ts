/**
 * A search query worker (see query-workers.ts): a replica of the in-memory index over its own
 * read-only connection. Answers searches; applies the main index's changes in the order they come,
 * before any search sent after them (messages are handled in order).
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { Principal } from '../auth/principal.ts';
import { CTL_APPLIED, CTL_DONE, CTL_STATE, STATE_FAILED, STATE_READY, type WorkerData } from './query-workers.ts';
import { createSearchService, type IndexChange } from './service.ts';
import type { SearchParams } from './types.ts';

const data = workerData as WorkerData;
const ctl = new Int32Array(data.ctl);
type Msg = { t: 'search'; id: number; params: SearchParams; viewer: Principal | null } | { t: 'apply'; seq: number; change: IndexChange };

try {
  const sqlite = new Database(data.file, { readonly: true, fileMustExist: true });
  sqlite.pragma('busy_timeout = 5000');
  const service = createSearchService({ sqlite, cacheSize: 0, replica: { snapshot: data.snapshot } }) as ReturnType<typeof createSearchService> & {
    searchUncached: ReturnType<typeof createSearchService>['search'];
    applyChange(change: IndexChange): void;
  };
  service.ensureReady();
  let stale = false;
  parentPort!.on('message', (m: Msg) => {
    if (m.t === 'search') {
      // After a change this replica could not apply, its answers may be out of date: refuse
      // (the main thread answers instead and stops this worker).
      // CTL_DONE counts finished searches before the answer is posted: the main thread routes by
      // it without waiting for its event loop to read the answers.
      if (stale) {
        Atomics.add(ctl, CTL_DONE, 1);
        parentPort!.postMessage({ id: m.id, error: 'query worker is out of date' });
        return;
      }
      let msg: { id: number; r?: unknown; error?: string };
      try {
        msg = { id: m.id, r: service.searchUncached(m.params, m.viewer) };
      } catch (e) {
        msg = { id: m.id, error: e instanceof Error ? e.message : String(e) };
      }
      Atomics.add(ctl, CTL_DONE, 1);
      parentPort!.postMessage(msg);
    } else if (m.t === 'apply') {
      try {
        service.applyChange(m.change);
        Atomics.store(ctl, CTL_APPLIED, m.seq);
      } catch {
        // The main thread sees the state and stops this worker.
        stale = true;
        Atomics.store(ctl, CTL_STATE, STATE_FAILED);
      }
      Atomics.notify(ctl, CTL_APPLIED);
      Atomics.notify(ctl, CTL_STATE);
    }
  });
  Atomics.store(ctl, CTL_STATE, STATE_READY);
} catch (e) {
  process.stderr.write(`search query worker could not start: ${e instanceof Error ? e.stack : String(e)}\n`);
  Atomics.store(ctl, CTL_STATE, STATE_FAILED);
}
Atomics.notify(ctl, CTL_STATE);
