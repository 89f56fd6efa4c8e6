/**
 * npm run rederive -- [--kind pdf] [--failed-only] [--sha <sha256>] [--process | --wait] [--data-dir storage]
 * Re-queue extraction and thumbnail jobs. By default the running server's job runner picks them up
 * within a few seconds; --process runs them here (server stopped); --wait just watches the queue.
 */
import { MEDIA_KINDS } from '../server/db/schema.ts';
import { EXIT, UsageError, existingDbFile, runCli, scriptArgs, scriptConfig } from '../server/ops/cli.ts';
import { createProgress } from '../server/ops/progress.ts';
import { queueMissingJobs, requeueDerivatives, RederiveUsageError, waitForJobs } from '../server/ops/rederive.ts';
import { openStore, startRunner } from '../server/ops/store.ts';

const USAGE = `usage: npm run rederive -- [--kind ${MEDIA_KINDS.join('|')}] [--failed-only] [--sha <sha256>] [--process | --wait] [--data-dir <dir>]
  --kind <kind>     only blobs of this media kind (e.g. after upgrading the PDF extractor)
  --failed-only     only jobs that failed (e.g. after fixing the cause)
  --sha <sha256>    only this blob
  --process         run the jobs in this process and wait (use when the server is stopped)
  --wait            wait (with progress) until a running server has worked through the queue
exit codes: 0 ok (no job failed), 1 some jobs failed, 2 bad usage`;

async function main(): Promise<number> {
  const args = scriptArgs(
    {
      kind: { type: 'string' },
      'failed-only': { type: 'boolean', default: false },
      sha: { type: 'string' },
      process: { type: 'boolean', default: false },
      wait: { type: 'boolean', default: false },
      'data-dir': { type: 'string' },
      quiet: { type: 'boolean', default: false },
    },
    USAGE,
  );
  if (args === null) return EXIT.ok;
  const { values } = args;
  const config = scriptConfig(values['data-dir']);
  existingDbFile(config);
  const store = await openStore(config);
  try {
    let n: number;
    try {
      n = requeueDerivatives(store.queue, { kind: values.kind, failedOnly: values['failed-only'], sha256: values.sha });
    } catch (e) {
      if (e instanceof RederiveUsageError) throw new UsageError(e.message);
      throw e;
    }
    if (!values['failed-only'] && !values.sha) n += queueMissingJobs(store.db.sqlite, config.jobs.maxAttempts, values.kind);
    console.log(`re-queued ${n} job(s)`);
    if (n === 0 || (!values.process && !values.wait)) {
      if (n > 0) console.log('a running server picks them up within a few seconds (or re-run with --process when it is stopped)');
      return EXIT.ok;
    }
    const failedBefore = store.queue.counts().failed ?? 0;
    const runner = values.process ? startRunner(store, config) : null;
    const progress = createProgress({ label: 'rederive', total: n, silent: values.quiet });
    try {
      const counts = await waitForJobs(store.queue, n, progress);
      progress.done(`jobs: ${JSON.stringify(counts)}`);
      const failed = (counts.failed ?? 0) - failedBefore;
      if (failed > 0) console.log(`${failed} job(s) failed: see GET /api/products/:id (derivatives) for the reasons`);
      return failed > 0 ? EXIT.problems : EXIT.ok;
    } finally {
      await runner?.stop(10_000);
    }
  } finally {
    store.close();
  }
}

runCli(main, USAGE);
