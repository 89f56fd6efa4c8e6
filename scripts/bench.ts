/**
 * `npm run bench` — every benchmark part in one run, each side by side with its baseline measured
 * in the same run (medians and ratios; the machine is shared and noisy). Results are printed and
 * written to `bench-results/bench-<time>.json`.
 *
 *   npm run bench                              all parts, full sizes
 *   npm run bench -- --only ingest,search      some parts
 *   npm run bench -- --quick                   smaller sizes (a few minutes)
 *
 * Peers (`vipsthumbnail`, `pdftotext`, `pdftoppm`) are installed by the derivatives part with apt
 * when missing.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT } from './bench/util.ts';

const PARTS = ['ingest', 'derivatives', 'search', 'operations'] as const;
type Part = (typeof PARTS)[number];

const USAGE = `usage: npm run bench -- [--only ${PARTS.join(',')}] [--quick]
  --only <parts>   some parts, separated by commas (default: all)
  --quick          smaller sizes (a few minutes)
exit codes: 0 done, 1 a part failed, 2 bad usage`;

/** The options, or the exit after printing the usage (asked for: 0; an unknown option or part: 2, as the operator scripts). */
function benchArgs(): { only: Part[]; quick: boolean } {
  let values;
  try {
    ({ values } = parseArgs({ options: { only: { type: 'string' }, quick: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } } }));
  } catch (e) {
    console.error(`error: ${(e as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const only = (values.only?.split(',').map((s) => s.trim()) ?? [...PARTS]) as Part[];
  const unknown = only.find((p) => !PARTS.includes(p));
  if (unknown !== undefined) {
    console.error(`error: unknown part "${unknown}" (one of ${PARTS.join(', ')})\n\n${USAGE}`);
    process.exit(2);
  }
  return { only, quick: values.quick };
}
const { only, quick } = benchArgs();

const results: Record<string, unknown> = { startedAt: new Date().toISOString(), quick, machine: { cpus: (await import('node:os')).availableParallelism(), node: process.version } };
const summaries: string[] = [];

for (const part of only) {
  process.stderr.write(`\n=== ${part} ===\n`);
  const t0 = Date.now();
  if (part === 'ingest') {
    const { runIngestBench, printIngestReport } = await import('./bench/ingest.ts');
    const r = await runIngestBench(quick ? { largeMiB: 256, smallCount: 300 } : {});
    results.ingest = r;
    summaries.push(printIngestReport(r));
  } else if (part === 'derivatives') {
    const { runDerivativesBench, printDerivativesReport } = await import('./bench/derivatives.ts');
    const r = await runDerivativesBench(quick ? { images: 20, rounds: 2 } : {});
    results.derivatives = r;
    summaries.push(printDerivativesReport(r));
  } else if (part === 'search') {
    const { runSearchBench, formatSearchBench } = await import('./bench/search.ts');
    const r = await runSearchBench(quick ? { records: 20_000 } : {});
    results.search = r;
    summaries.push(formatSearchBench(r));
  } else if (part === 'operations') {
    const { runOperationsBench } = await import('./bench/operations.ts');
    const r = await runOperationsBench(quick ? { files: 200, gb: 0.5 } : {});
    results.operations = r;
    summaries.push(
      [
        `Operations — import of ${r.import.files} mixed files (${r.import.totalMiB.toFixed(0)} MiB): ${r.import.filesPerSec.toFixed(1)} files/s, ${r.import.mibPerSec.toFixed(1)} MiB/s; cp -r ${r.import.cpMibPerSec.toFixed(0)} MiB/s; ratio vs cp -r ${r.import.ratioVsCp.toFixed(2)}, vs cp -r + sync ${r.import.ratioVsCpSync.toFixed(2)}`,
        `Operations — backup of a ${r.backup.storeGiB.toFixed(2)} GiB store (${r.backup.blobs} blobs): full ${Math.min(...r.backup.fullSec).toFixed(2)}–${Math.max(...r.backup.fullSec).toFixed(2)} s (${r.backup.fullMibPerSec.toFixed(0)} MiB/s, ×${r.backup.ratioFullVsCp.toFixed(2)} of cp -r), incremental with nothing new ${median(r.backup.incrementalNoChangeSec).toFixed(3)} s, after +1 % ${median(r.backup.incrementalOnePercentSec).toFixed(2)} s`,
      ].join('\n'),
    );
  }
  process.stderr.write(`=== ${part} done in ${((Date.now() - t0) / 1000).toFixed(0)} s ===\n`);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

console.log(`\nKho tư liệu — benchmark (${quick ? 'quick' : 'full'}), ${new Date().toISOString()}\n`);
console.log(summaries.join('\n\n'));
const dir = join(ROOT, 'bench-results');
mkdirSync(dir, { recursive: true });
const file = join(dir, `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(file, JSON.stringify(results, null, 2));
console.log(`\nDetails: ${file}`);
