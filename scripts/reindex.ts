/**
 * `npm run reindex [-- --data-dir storage] [--quiet]`: drop and rebuild the search index of
 * DATA_DIR/kho.sqlite from the catalogue. The index is derived state. Run it with the server
 * stopped: a running server keeps its in-memory part (and its ids of text rows) until restarted,
 * so the script refuses while a server holds the data dir's lock (see server/data-dir-lock.ts), and
 * holds that lock itself while it rebuilds, so no server starts on a half-built index.
 * Not needed for routine start-ups, which rebuild by themselves when the index format or the
 * catalogue fingerprint changed.
 */
import { openDatabase } from '../server/db/client.ts';
import { EXIT, existingDbFile, lockOutServer, runCli, scriptArgs, scriptConfig } from '../server/ops/cli.ts';
import { createProgress } from '../server/ops/progress.ts';
import { createSearchService } from '../server/search/index.ts';

const USAGE = `usage: npm run reindex -- [--data-dir <dir>] [--quiet]
  rebuild the search index from the database (run it with the server stopped: it refuses
  while a server holds the data dir)
  --data-dir <dir>   data directory (default: DATA_DIR or ./storage)
exit codes: 0 rebuilt, 1 failed or a server runs on the data dir, 2 bad usage`;

async function main(): Promise<number> {
  const args = scriptArgs(
    {
      'data-dir': { type: 'string' },
      quiet: { type: 'boolean', default: false },
    },
    USAGE,
  );
  if (args === null) return EXIT.ok;
  const { values } = args;
  const config = scriptConfig(values['data-dir']);
  const file = existingDbFile(config);
  const lock = lockOutServer(config.dataDir, 'stop it first, then run reindex (a running server keeps its own copy of the index in memory).');
  if (lock === null) return EXIT.problems;
  const db = openDatabase(file);
  try {
    const search = createSearchService({ sqlite: db.sqlite });
    const progress = createProgress({ label: 'reindex', total: 0, silent: values.quiet });
    let seen = 0;
    const r = search.rebuild((done, total) => {
      if (seen === 0) progress.setTotal(total);
      progress.tick(done - seen);
      seen = done;
    });
    progress.done();
    search.close();
    console.log(`search index rebuilt: ${r.products} products, ${r.pages} text pages, ${(r.ms / 1000).toFixed(1)} s (${file})`);
    return EXIT.ok;
  } finally {
    db.close();
    lock.release();
  }
}

runCli(main, USAGE);
