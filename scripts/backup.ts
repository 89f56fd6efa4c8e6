/**
 * npm run backup -- <dest> [--data-dir storage] [--concurrency 4] [--quiet] [--json]
 * A consistent snapshot of a running (or stopped) store: SQLite online backup + incremental blobs
 * + manifest of checksums. See docs/operations.md ("Backup and restore").
 */
import { realpath, rm, stat } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import { backup } from '../server/ops/backup.ts';
import { EXIT, UsageError, concurrencyArg, existingDbFile, onInterrupt, runCli, scriptArgs, scriptConfig } from '../server/ops/cli.ts';
import { stopCopying } from '../server/ops/hash.ts';
import { createProgress } from '../server/ops/progress.ts';
import { formatBytes } from '../server/ingest/receive-file.ts';

const USAGE = `usage: npm run backup -- <dest> [--data-dir <dir>] [--concurrency <n>] [--quiet] [--json]
  <dest>             backup folder (created if needed); snapshots share its content-addressed blobs/
  --data-dir <dir>   data directory to back up (default: DATA_DIR or ./storage)
exit codes: 0 ok, 1 problems (missing or corrupt blobs in the store: the snapshot is kept but not marked LATEST), 2 bad usage`;

async function main(): Promise<number> {
  const args = scriptArgs(
    {
      'data-dir': { type: 'string' },
      concurrency: { type: 'string', default: '4' },
      quiet: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
    USAGE, '<dest> folder',
  );
  if (args === null) return EXIT.ok;
  const { values, positional: dest } = args;
  const destStat = await stat(dest).catch(() => null);
  if (destStat && !destStat.isDirectory()) throw new UsageError(`${dest} is not a folder`);
  const config = scriptConfig(values['data-dir']);
  const dbFile = existingDbFile(config);
  const concurrency = concurrencyArg(values.concurrency);
  // A backup inside the data dir is no backup (same disk, same folder the restore would replace), and
  // one into the store's own blobs/ would mix with it (fixity then lists its files as stray).
  const within = async (p: string) => realpath(p).catch(() => resolve(p));
  const [destReal, dataReal] = await Promise.all([within(dest), within(config.dataDir)]);
  if (destReal === dataReal || destReal.startsWith(dataReal + sep)) {
    throw new UsageError(`the backup folder ${dest} is inside the data dir ${config.dataDir}: back up to a folder outside it, on another disk if you can`);
  }
  const progress = createProgress({ label: 'backup', total: 0, silent: values.quiet });
  // Ctrl-C: the snapshot being made is dropped (its .partial folder, the copies in progress); blobs
  // already copied are whole (each written under a temp name, then renamed) and a next backup reuses them.
  let partial: string | null = null;
  onInterrupt({
    note: () => `no snapshot was made (LATEST is unchanged); blobs already copied are kept and the next backup reuses them`,
    cleanup: async () => {
      await stopCopying();
      if (partial) await rm(partial, { recursive: true, force: true });
    },
  });
  const r = await backup({ dataDir: config.dataDir, dest: dest, concurrency, progress, onPartial: (dir) => (partial = dir) });
  progress.done();
  if (values.json) {
    console.log(JSON.stringify({ ...r, manifest: { ...r.manifest, blobs: undefined, derivatives: undefined } }, null, 2));
  } else {
    const m = r.manifest;
    console.log(`snapshot ${r.stamp} → ${r.snapshotDir}`);
    console.log(`database: ${formatBytes(m.database.size)} sha256 ${m.database.sha256}; ${m.counts.products} products, ${m.counts.blobs} blobs (${formatBytes(m.counts.bytes)}), ${m.counts.derivatives} derivatives`);
    console.log(`copied: ${r.copied.blobs} blobs, ${r.copied.derivatives} derivatives, ${formatBytes(r.copied.bytes)}; already in the backup: ${r.reused.blobs} blobs, ${r.reused.derivatives} derivatives`);
    console.log(`took ${r.seconds.toFixed(1)} s`);
    for (const p of r.problems) console.log(`PROBLEM [${p.code}] ${p.message}`);
  }
  return r.problems.length > 0 ? EXIT.problems : EXIT.ok;
}

runCli(main, USAGE);
