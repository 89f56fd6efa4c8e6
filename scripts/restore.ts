/**
 * npm run restore -- <src> [--snapshot <stamp>] [--data-dir <empty dir>] [--list]
 * Restores a snapshot into an EMPTY data dir, verifying every checksum, then checks the result.
 */
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { listSnapshots, restore, RestoreRefused } from '../server/ops/backup.ts';
import { EXIT, UsageError, concurrencyArg, onInterrupt, runCli, scriptArgs, scriptConfig } from '../server/ops/cli.ts';
import { stopCopying } from '../server/ops/hash.ts';
import { createProgress } from '../server/ops/progress.ts';
import { formatBytes } from '../server/ingest/receive-file.ts';

const USAGE = `usage: npm run restore -- <src> [--snapshot <stamp>] [--data-dir <dir>] [--list] [--concurrency <n>] [--quiet]
  <src>               backup folder written by npm run backup
  --snapshot <stamp>  which snapshot (default: the one in <src>/LATEST); --list shows them
  --data-dir <dir>    where to restore (default: DATA_DIR or ./storage); must be empty or absent
exit codes: 0 restored and verified, 1 problems (checksum mismatch, missing blob, a damaged snapshot), 2 bad usage (no backup folder or snapshot there, a data dir that is not empty or not a folder)`;

async function main(): Promise<number> {
  const args = scriptArgs(
    {
      snapshot: { type: 'string' },
      'data-dir': { type: 'string' },
      list: { type: 'boolean', default: false },
      concurrency: { type: 'string', default: '4' },
      quiet: { type: 'boolean', default: false },
    },
    USAGE, '<src> backup folder',
  );
  if (args === null) return EXIT.ok;
  const { values, positional: src } = args;
  if (!(await stat(src).catch(() => null))?.isDirectory()) throw new UsageError(`no backup folder at ${src}`);
  if (values.list && values.snapshot !== undefined) throw new UsageError('--list and --snapshot do not go together');
  if (values.list) {
    for (const s of await listSnapshots(src)) console.log(s);
    return EXIT.ok;
  }
  const concurrency = concurrencyArg(values.concurrency);
  if (values.snapshot !== undefined && !(await listSnapshots(src)).includes(values.snapshot)) {
    throw new UsageError(`no snapshot "${values.snapshot}" in ${src} (npm run restore -- ${src} --list shows them)`);
  }
  if (values.snapshot === undefined && !(await stat(join(src, 'LATEST')).catch(() => null))?.isFile()) {
    throw new UsageError(`${src} holds no LATEST snapshot: is it a folder written by npm run backup? (npm run restore -- ${src} --list shows its snapshots; name one with --snapshot)`);
  }
  const config = scriptConfig(values['data-dir']);
  // The target must be a new or empty folder: anything else is the wrong folder, said before any work.
  const target = await stat(config.dataDir).catch(() => null);
  if (target !== null && !target.isDirectory()) throw new UsageError(`the data dir ${config.dataDir} is not a folder`);
  if (target !== null && (await readdir(config.dataDir)).length > 0) {
    throw new UsageError(`the data dir ${config.dataDir} is not empty: restore only into an empty (or new) folder, then point DATA_DIR at it`);
  }
  const progress = createProgress({ label: 'restore', total: 0, silent: values.quiet });
  // Ctrl-C: a half-restored data dir must not be mistaken for a store (nor block a re-run, which
  // wants an empty folder): everything the restore wrote is removed. Only when the folder was empty
  // or absent before, as restore() requires; it refuses any other before writing.
  const before = await readdir(config.dataDir).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? null : ['?']));
  if (before === null || before.length === 0) {
    onInterrupt({
      note: () => `the partial restore in ${config.dataDir} is removed; run the same command again`,
      cleanup: async () => {
        await stopCopying();
        if (before === null) await rm(config.dataDir, { recursive: true, force: true });
        else for (const n of await readdir(config.dataDir).catch(() => [] as string[])) await rm(join(config.dataDir, n), { recursive: true, force: true });
      },
    });
  }
  try {
    const r = await restore({ src: src, dataDir: config.dataDir, snapshot: values.snapshot, concurrency, progress });
    progress.done();
    console.log(`restored snapshot ${r.snapshot} into ${r.dataDir}: ${r.restored.blobs} blobs (${formatBytes(r.restored.bytes)}), ${r.restored.derivatives} derivatives`);
    console.log(`verified: integrity ${r.verified.integrity}, ${r.verified.products} products, ${r.verified.blobs} blobs; took ${r.seconds.toFixed(1)} s`);
    for (const p of r.problems) console.log(`PROBLEM [${p.code}] ${p.message}`);
    return r.problems.length > 0 ? EXIT.problems : EXIT.ok;
  } catch (e) {
    if (e instanceof RestoreRefused) {
      progress.done();
      console.error(`restore refused: ${e.message}`);
      return EXIT.problems;
    }
    throw e;
  }
}

runCli(main, USAGE);
