/**
 * npm run import -- <folder> --manifest items.csv [--dry-run] [--report out.json] [--concurrency 4]
 *                   [--process] [--data-dir storage] [--quiet]
 * See docs/operations.md ("Bulk import").
 */
import { constants } from 'node:fs';
import { access, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { isOwnTempName, stopTempFiles } from '../server/ingest/receive-file.ts';
import { EXIT, UsageError, concurrencyArg, onInterrupt, runCli, scriptArgs, scriptConfig } from '../server/ops/cli.ts';
import { formatImportReport, importExitCode, runImport } from '../server/ops/import.ts';
import { createProgress } from '../server/ops/progress.ts';
import { openStore, startRunner, systemPrincipal } from '../server/ops/store.ts';

const USAGE = `usage: npm run import -- <folder> --manifest <items.csv> [options]
  --manifest <file>    CSV manifest (UTF-8 best; a Windows-1258, TCVN3 or VISCII file is read when clearly Vietnamese; Vietnamese or English headers; see docs/import-template.csv), or an XLSX/XLS/ODS workbook (its first sheet)
  --dry-run            check every row and file, report all problems, write nothing
  --report <file>      where to write the JSON report (default: import-report-<time>.json); a .txt summary is written beside it
  --concurrency <n>    rows read at the same time (default 4)
  --process            also run extraction/thumbnail jobs here and wait for them (use when the server is stopped);
                       otherwise the running server's job runner picks the queued jobs up
  --durable            fsync the database at every row (default: at checkpoints; files are always fsynced;
                       a power cut may lose the last rows, which a re-run imports again)
  --data-dir <dir>     data directory (default: DATA_DIR or ./storage)
  --quiet              no progress bar
exit codes: 0 all rows imported or already in, 1 some rows failed or the manifest is bad, 2 bad usage`;

async function main(): Promise<number> {
  const args = scriptArgs(
    {
      manifest: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      report: { type: 'string' },
      concurrency: { type: 'string', default: '4' },
      process: { type: 'boolean', default: false },
      durable: { type: 'boolean', default: false },
      'data-dir': { type: 'string' },
      quiet: { type: 'boolean', default: false },
    },
    USAGE, '<folder>',
  );
  if (args === null) return EXIT.ok;
  const { values, positional: folder } = args;
  if (!values.manifest) throw new UsageError('--manifest is required');
  const concurrency = concurrencyArg(values.concurrency);
  if (!(await stat(folder).catch(() => null))?.isDirectory()) throw new UsageError(`the folder "${folder}" does not exist or is not a folder`);
  if (!(await stat(values.manifest).catch(() => null))?.isFile()) throw new UsageError(`the manifest "${values.manifest}" does not exist or is not a file`);
  // Checked before the work: a report that cannot be written would otherwise be lost at the end.
  if (values.report && !(await stat(dirname(resolve(values.report))).catch(() => null))?.isDirectory()) throw new UsageError(`the folder of --report ${values.report} does not exist`);
  // …and one that cannot be written to (a read-only disk, another user's folder; without --report: the current folder).
  const reportDir = dirname(resolve(values.report ?? 'import-report.json'));
  try {
    await access(reportDir, constants.W_OK);
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'EROFS' ? 'it is on a read-only file system' : 'this user may not write in it';
    throw new UsageError(`the report cannot be written in ${reportDir}: ${why}; choose another place with --report <file>`);
  }
  const config = scriptConfig(values['data-dir']);

  let notify = () => {};
  let committed = 0;
  // Resumable by design, so commits need not each wait for the disk (see OpenStoreOptions); --durable restores it.
  // A dry run creates nothing: on a fresh data dir it checks against an empty catalogue in memory.
  const store = await openStore(config, {
    onCommitted: () => {
      committed++;
      notify();
    },
    synchronous: values.durable ? 'FULL' : 'NORMAL',
    readOnly: values['dry-run'],
  });
  // Ctrl-C: each row is one transaction, so the rows committed stay and the others left no record;
  // the temp files of rows being read are removed; a re-run skips what is in (ALREADY_IMPORTED).
  onInterrupt({
    note: () =>
      values['dry-run']
        ? 'the dry run was stopped before the end; nothing was written and no report'
        : `the rows imported so far (${committed} when the signal came) are kept, no report was written; run the same command again to import the rest (rows already in are skipped as ALREADY_IMPORTED)`,
    cleanup: async () => {
      // No new temp file from here; one whose open was already under way appears a moment later, so
      // the folder is swept until two looks 50 ms apart find none of ours (at most ~2 s).
      stopTempFiles();
      for (let clean = 0, round = 0; clean < 2 && round < 40; round++) {
        const names = (await readdir(store.paths.tmpDir).catch(() => [] as string[])).filter(isOwnTempName);
        clean = names.length === 0 ? clean + 1 : 0;
        await Promise.all(names.map((n) => rm(join(store.paths.tmpDir, n), { force: true, recursive: true })));
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  });
  const runner = values.process && !values['dry-run'] ? startRunner(store, config) : null;
  if (runner) notify = () => runner.notify();
  const progress = createProgress({ label: values['dry-run'] ? 'checking' : 'importing', total: 0, silent: values.quiet });
  try {
    const report = await runImport(
      {
        folder: folder,
        manifestPath: values.manifest,
        dryRun: values['dry-run'],
        concurrency,
        maxFileBytes: config.upload.maxFileBytes,
        principal: systemPrincipal('import'),
        progress,
      },
      { sqlite: store.db.sqlite, ingest: store.ingest, tmpDir: store.paths.tmpDir },
    );
    progress.done();
    if (runner) {
      console.error('waiting for extraction jobs to finish…');
      await runner.drain(24 * 3600 * 1000);
    }
    const stamp = report.startedAt.replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
    const reportPath = resolve(values.report ?? `import-report-${stamp}.json`);
    const text = formatImportReport(report);
    // The summary first: if the report cannot be written after all, the operator still sees the outcome.
    console.log(text);
    await writeFile(reportPath, `${JSON.stringify(report, null, 2)}\n`);
    await writeFile(reportPath.replace(/\.json$/i, '') + '.txt', `${text}\n`);
    console.log(`report: ${reportPath}`);
    return importExitCode(report);
  } finally {
    await runner?.stop(10_000);
    store.close();
  }
}

runCli(main, USAGE);
