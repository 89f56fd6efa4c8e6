/**
 * npm run verify [-- --data-dir storage] [--json] [--quiet]
 * Re-hash every blob against its recorded SHA-256; report missing, corrupt and orphan files.
 * The run is recorded in fixity_runs (visible to admins at GET /api/admin/fixity).
 */
import { openDatabase } from '../server/db/client.ts';
import { EXIT, concurrencyArg, existingDbFile, runCli, scriptArgs, scriptConfig } from '../server/ops/cli.ts';
import { formatFixityReport, runFixity } from '../server/ops/fixity.ts';
import { createProgress } from '../server/ops/progress.ts';
import { dataPaths } from '../server/plugins/services.ts';
import { createLocalBlobStore } from '../server/storage/blob-store.ts';

const USAGE = `usage: npm run verify -- [--data-dir <dir>] [--concurrency <n>] [--json] [--quiet]
exit codes: 0 every blob present and intact, no orphans; 1 problems found; 2 bad usage`;

async function main(): Promise<number> {
  const args = scriptArgs(
    {
      'data-dir': { type: 'string' },
      concurrency: { type: 'string', default: '2' },
      json: { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
    },
    USAGE,
  );
  if (args === null) return EXIT.ok;
  const { values } = args;
  const config = scriptConfig(values['data-dir']);
  const paths = dataPaths(config.dataDir);
  existingDbFile(config);
  const db = openDatabase(paths.dbFile, { migrate: false, busyTimeoutMs: 15_000 });
  try {
    const progress = createProgress({ label: 'verify', total: 0, silent: values.quiet || values.json });
    const report = await runFixity(
      { sqlite: db.sqlite, blobStore: createLocalBlobStore(paths.blobsDir) },
      { concurrency: concurrencyArg(values.concurrency), progress, trigger: 'verify-script' },
    );
    progress.done();
    console.log(values.json ? JSON.stringify(report, null, 2) : formatFixityReport(report));
    return report.ok ? EXIT.ok : EXIT.problems;
  } finally {
    db.close();
  }
}

runCli(main, USAGE);
