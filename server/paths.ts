/**
 * Where the project's files are, whether this code runs from its TypeScript sources (tests, dev,
 * scripts under tsx) or from the bundle `npm start` builds into `dist/` (scripts/build.mjs).
 * Paths are resolved from the project root (the nearest folder above this module holding
 * package.json), never relative to the module's own file, which moves when bundled.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

const HERE = fileURLToPath(import.meta.url);

export const PROJECT_ROOT = findRoot(dirname(HERE));

/** True when running from the `dist/` bundle (plain JavaScript, no TypeScript loader). */
export const RUNNING_BUNDLED = HERE.endsWith('.js');

export const MIGRATIONS_DIR = join(PROJECT_ROOT, 'migrations');
export const DATA_FILES_DIR = join(PROJECT_ROOT, 'data');
export const WEB_STATIC_DIR = join(PROJECT_ROOT, 'server/web/static');

/** The job worker's entry: the bundled file, or the TypeScript source (then run under tsx). */
export const WORKER_ENTRY = RUNNING_BUNDLED ? join(PROJECT_ROOT, 'dist/worker-process.js') : join(PROJECT_ROOT, 'server/ingest/jobs/worker-process.ts');
