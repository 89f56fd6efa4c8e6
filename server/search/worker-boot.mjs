// Loader for the search query worker when the server runs from its TypeScript sources (tests, scripts
// under tsx): registers tsx in this thread, then loads server/search/worker.ts. The bundled server
// starts dist/search-worker.js directly (see query-workers.ts and scripts/build.mjs).
import { workerData } from 'node:worker_threads';

const { register } = await import('tsx/esm/api');
register();
await import(workerData.entry);
