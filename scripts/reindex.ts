/**
 * `npm run reindex`: drop and rebuild the search index of DATA_DIR/kho.sqlite from the catalogue.
 * The index is derived state. Run it with the server stopped: a running server keeps its in-memory
 * part (and its ids of text rows) until restarted. Not needed for routine start-ups, which rebuild
 * by themselves when the index format or the catalogue fingerprint changed.
 */
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../server/config.ts';
import { openDatabase } from '../server/db/client.ts';
import { createSearchService } from '../server/search/index.ts';

function main(): number {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.message);
      return 2;
    }
    throw e;
  }
  const file = join(config.dataDir, 'kho.sqlite');
  const db = openDatabase(file);
  try {
    const search = createSearchService({ sqlite: db.sqlite });
    let last = 0;
    const r = search.rebuild((done, total) => {
      const now = Date.now();
      if (now - last > 1000 || done === total) {
        process.stderr.write(`\rproducts ${done}/${total}`);
        last = now;
      }
    });
    process.stderr.write('\n');
    search.close();
    console.log(`search index rebuilt: ${r.products} products, ${r.pages} text pages, ${(r.ms / 1000).toFixed(1)} s (${file})`);
    return 0;
  } finally {
    db.close();
  }
}

process.exitCode = main();
