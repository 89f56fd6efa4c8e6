/**
 * Build the server for `npm start`: bundle our TypeScript sources (not node_modules) into plain
 * JavaScript in dist/ with esbuild, so the running server needs no TypeScript loader. Tests, dev
 * mode and the operator scripts run the sources directly under tsx; only the server and its job
 * workers run from the bundle. Takes well under a second; `npm start` runs it every time, so
 * dist/ can never be older than the sources.
 *
 *   dist/server.js            the listening entry (server/server.ts)
 *   dist/worker-process.js    the job worker (server/ingest/jobs/worker-process.ts)
 *   dist/search-worker.js     the search query worker thread (server/search/worker.ts)
 *   dist/*.mjs                plain-JS worker-thread files from server/ (loaded by URL, next to the bundle)
 */
import { buildSync } from 'esbuild';
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'dist');

/**
 * Node flags the server runs with (package.json's `start` passes the same; a test checks).
 * A 4 MiB young-generation semi-space (V8's default grows to 16 MiB) makes scavenges frequent, so the parser's garbage buffers
 * are freed early: it keeps the server's RSS low while large uploads stream through.
 */
export const SERVER_NODE_ARGS = ['--max-semi-space-size=4'];
export const SERVER_ENTRY = join(OUT, 'server.js');

export function build() {
  // Not emptied first: a server already running from dist/ may still load its chunks.
  mkdirSync(join(OUT, 'chunks'), { recursive: true });
  buildSync({
    absWorkingDir: ROOT,
    entryPoints: { server: 'server/server.ts', 'worker-process': 'server/ingest/jobs/worker-process.ts', 'search-worker': 'server/search/worker.ts' },
    outdir: OUT,
    bundle: true,
    // Dynamic imports become chunks loaded on first use (e.g. sharp for placeholder pictures).
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: 'linked',
    logLevel: 'warning',
  });

  // Worker-thread scripts are plain .mjs files loaded with new URL('./x.mjs', import.meta.url):
  // put them beside the bundle and its chunks so that URL still resolves wherever the code
  // that loads them ended up. Names must be unique across server/.
  const seen = new Map();
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.mjs')) {
        if (seen.has(e.name)) throw new Error(`two worker files named ${e.name}: ${seen.get(e.name)} and ${p}`);
        seen.set(e.name, p);
        copyFileSync(p, join(OUT, basename(p)));
        copyFileSync(p, join(OUT, 'chunks', basename(p)));
      }
    }
  };
  walk(join(ROOT, 'server'));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) build();
