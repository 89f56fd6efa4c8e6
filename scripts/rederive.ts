/**
 * npm run rederive -- [--kind pdf] [--failed-only | --resniff] [--sha <sha256>] [--process | --wait] [--data-dir storage]
 * Re-queue extraction and thumbnail jobs. By default the running server's job runner picks them up
 * within a few seconds; --process runs them here (server stopped); --wait just watches the queue.
 * --resniff sniffs the stored files again and corrects those whose type changed (then re-queues only their jobs).
 */
import { MEDIA_KINDS } from '../server/db/schema.ts';
import { EXIT, UsageError, existingDbFile, lockOutServer, onInterrupt, runCli, scriptArgs, scriptConfig } from '../server/ops/cli.ts';
import { createProgress } from '../server/ops/progress.ts';
import { checkFilter, queueMissingJobs, requeueDerivatives, resniffBlobs, RederiveUsageError, waitForJobs, type ResniffReport } from '../server/ops/rederive.ts';
import { openStore, startRunner } from '../server/ops/store.ts';

const USAGE = `usage: npm run rederive -- [--kind ${MEDIA_KINDS.join('|')}] [--failed-only | --resniff] [--sha <sha256>] [--process | --wait] [--data-dir <dir>]
  --kind <kind>     only blobs of this media kind (e.g. after upgrading the PDF extractor)
  --failed-only     only jobs that failed (e.g. after fixing the cause)
  --resniff         sniff the stored files again (after a sniffing fix), correct the type of those
                    that changed and re-queue their jobs only; safe while the server runs
  --sha <sha256>    only this blob
  --process         run the jobs in this process and wait (server stopped: refused while one runs)
  --wait            wait (with progress) until a running server has worked through the queue
exit codes: 0 ok (no job failed), 1 some jobs failed (--resniff: or a file was busy, missing or refused;
  --process: or a server runs on the data dir), 2 bad usage`;

async function main(): Promise<number> {
  const args = scriptArgs(
    {
      kind: { type: 'string' },
      'failed-only': { type: 'boolean', default: false },
      resniff: { type: 'boolean', default: false },
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
  if (values.resniff && values['failed-only']) throw new UsageError('--resniff and --failed-only do not go together');
  if (values.process && values.wait) throw new UsageError('--process and --wait do not go together');
  try {
    checkFilter({ kind: values.kind, sha256: values.sha });
  } catch (e) {
    if (e instanceof RederiveUsageError) throw new UsageError(e.message);
    throw e;
  }
  const config = scriptConfig(values['data-dir']);
  existingDbFile(config);
  // --process runs the queue here, as a server does: not both at once (the server would take the
  // same jobs, and at its next start re-queue the ones running here).
  const lock = values.process
    ? lockOutServer(config.dataDir, 'it runs the queued jobs itself: run rederive without --process (or with --wait to watch them), or stop the server first.')
    : null;
  if (values.process && lock === null) return EXIT.problems;
  const store = await openStore(config);
  let resniff: ResniffReport | null = null;
  // Ctrl-C / SIGTERM: every correction and the re-queueing are one transaction each, so what is
  // committed is whole and kept; jobs this script runs (--process) are put back in the queue and
  // its workers stopped; the same command goes on from there.
  let stop = false;
  let corrected = 0;
  let runner: ReturnType<typeof startRunner> | null = null;
  onInterrupt({
    cleanup: async () => {
      stop = true;
      await runner?.stop(2_000);
    },
    note: () =>
      [
        values.resniff ? `the ${corrected} type(s) corrected so far are kept (each in its own transaction)` : null,
        runner ? 'jobs running here are put back in the queue' : values.wait ? 'the queued jobs stay queued for the server' : null,
        'run the same command again to go on',
      ]
        .filter((x) => x !== null)
        .join('; '),
  });
  try {
    let n: number;
    try {
      if (values.resniff) {
        const progress = createProgress({ label: 'resniff', total: 0, silent: values.quiet });
        resniff = await resniffBlobs(
          { sqlite: store.db.sqlite, blobStore: store.blobStore, maxAttempts: config.jobs.maxAttempts },
          { kind: values.kind, sha256: values.sha },
          progress,
          () => stop,
          () => corrected++,
        );
        progress.done();
        printResniff(resniff);
        n = resniff.changed.length * 2;
      } else n = requeueDerivatives(store.queue, { kind: values.kind, failedOnly: values['failed-only'], sha256: values.sha });
    } catch (e) {
      if (e instanceof RederiveUsageError) throw new UsageError(e.message);
      throw e;
    }
    if (!values['failed-only'] && !values.sha && !values.resniff) n += queueMissingJobs(store.db.sqlite, config.jobs.maxAttempts, values.kind);
    const resniffProblems = resniff !== null && resniff.busy.length + resniff.missing.length + resniff.refused.length > 0;
    console.log(`re-queued ${n} job(s)`);
    // --process / --wait work through the whole queue: jobs queued before this run (by an import or
    // a --resniff without --process, or left by a stopped run) too, not only the ones re-queued now.
    const before = store.queue.counts();
    const pending = (before.queued ?? 0) + (before.running ?? 0);
    if (pending === 0 || (!values.process && !values.wait)) {
      if (n > 0) console.log('a running server picks them up within a few seconds (or re-run with --process when it is stopped)');
      return resniffProblems ? EXIT.problems : EXIT.ok;
    }
    if (pending > n) console.log(`${pending - n} job(s) already in the queue ${values.process ? 'are run' : 'are waited for'} too`);
    const failedBefore = before.failed ?? 0;
    runner = values.process ? startRunner(store, config) : null;
    const progress = createProgress({ label: 'rederive', total: pending, silent: values.quiet });
    try {
      const counts = await waitForJobs(store.queue, pending, progress);
      progress.done(`jobs: ${JSON.stringify(counts)}`);
      const failed = (counts.failed ?? 0) - failedBefore;
      if (failed > 0) console.log(`${failed} job(s) failed: see GET /api/products/:id (derivatives) for the reasons`);
      return failed > 0 || resniffProblems ? EXIT.problems : EXIT.ok;
    } finally {
      await runner?.stop(10_000);
    }
  } finally {
    store.close();
    lock?.release();
  }
}

/** What --resniff found, one line per corrected or troubled file. */
function printResniff(r: ResniffReport): void {
  console.log(`re-sniffed ${r.checked} file(s): ${r.changed.length} type(s) corrected`);
  for (const c of r.changed) {
    const held = c.products.map((p) => `#${p.id} (${p.type})`).join(', ');
    console.log(`  ${c.sha256}  ${c.from.mediaType} → ${c.to.mediaType}${held ? `  products ${held}` : ''}`);
    for (const p of c.products) {
      if ((p.type === 'video' && c.to.kind === 'audio') || (p.type === 'audio' && c.to.kind === 'video')) {
        console.log(`    note: product #${p.id} is typed "${p.type}" by the person who filed it (not changed here): check it`);
      }
    }
  }
  for (const sha of r.busy) console.log(`BUSY ${sha}  a job of this file is running: run the same command again later`);
  for (const sha of r.missing) console.log(`MISSING ${sha}  its bytes are not in the store: run npm run verify`);
  for (const x of r.refused) console.log(`REFUSED ${x.sha256}  stored as ${x.mediaType}, now sniffed as ${x.detected ?? 'unknown'}, which the store does not accept: kept as it is`);
}

runCli(main, USAGE);
