/**
 * Operations benchmark (issue 7, "operating the store"):
 * 1. Bulk import rate — files/s and MB/s for a folder of mixed files (PDF, PNG, JPEG, text) through
 *    the real import pipeline (hash + sniff + write + fsync + one transaction per row), against a
 *    plain `cp -r` of the same folder in the same run (and `cp -r` + `sync`, the durable floor).
 * 2. Backup of a store of N GB (default 2, `--gb 10` or BENCH_OPS_GB=10 for the full case): a full
 *    snapshot into an empty folder vs `cp -r` of the data dir; an incremental snapshot with nothing
 *    new; and an incremental one after 1 % new content.
 * Medians over repetitions; everything is created under a temp dir and removed at the end.
 *
 * Run alone: `node --import tsx scripts/bench/operations.ts [--files 1000] [--gb 2] [--reps 3]`
 */
import { execFileSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { defaultConfig } from '../../server/config.ts';
import { backup } from '../../server/ops/backup.ts';
import { runImport } from '../../server/ops/import.ts';
import { openStore, systemPrincipal } from '../../server/ops/store.ts';
import { fmt, median } from './util.ts';

export interface OperationsReport {
  import: {
    files: number;
    totalMiB: number;
    reps: number;
    importSec: number[];
    cpSec: number[];
    cpSyncSec: number[];
    filesPerSec: number;
    mibPerSec: number;
    cpMibPerSec: number;
    ratioVsCp: number;
    ratioVsCpSync: number;
  };
  backup: {
    storeGiB: number;
    blobs: number;
    fullSec: number[];
    cpSec: number[];
    cpSyncSec: number[];
    incrementalNoChangeSec: number[];
    incrementalOnePercentSec: number[];
    fullMibPerSec: number;
    ratioFullVsCp: number;
    ratioFullVsCpSync: number;
  };
}

export interface OperationsOptions {
  files?: number;
  gb?: number;
  reps?: number;
  log?: (s: string) => void;
}

const MiB = 1024 * 1024;

/** Deterministic pseudo-random size between lo and hi, log-uniform (many small files, some large). */
function sizeFor(i: number, lo: number, hi: number): number {
  const x = ((i * 2654435761) % 4294967296) / 4294967296;
  return Math.round(Math.exp(Math.log(lo) + x * (Math.log(hi) - Math.log(lo))));
}

function writeRandom(path: string, header: Buffer, bytes: number) {
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(Math.min(8 * MiB, Math.max(bytes, 1)));
  writeSync(fd, header);
  let written = header.length;
  while (written < bytes) {
    const n = Math.min(chunk.length, bytes - written);
    randomFillSync(chunk, 0, n);
    writeSync(fd, chunk, 0, n);
    written += n;
  }
  closeSync(fd);
}

const TEXT = 'Cao Bằng là tỉnh miền núi biên giới phía Bắc. Kế hoạch 199-KH/TU về công tác tuyên truyền giáo dục truyền thống. ';

/** A folder of `n` mixed files plus its manifest; returns total bytes. */
async function makeFolder(dir: string, n: number): Promise<number> {
  mkdirSync(dir, { recursive: true });
  const png = await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 10, g: 120, b: 200 } } }).png().toBuffer();
  const jpg = await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 200, g: 20, b: 30 } } }).jpeg().toBuffer();
  const lines = ['Tệp,Tiêu đề,Loại,Năm,Ngôn ngữ'];
  let total = 0;
  for (let i = 0; i < n; i++) {
    const kind = i % 4;
    const size = sizeFor(i, 20 * 1024, 4 * MiB);
    let name: string;
    let type: string;
    if (kind === 0) {
      name = `tài liệu ${i}.pdf`;
      type = 'document';
      writeRandom(join(dir, name), Buffer.from(`%PDF-1.4\n%bench ${i}\n`), size);
    } else if (kind === 1) {
      // A real PNG followed by random bytes: sniffed as PNG, unique content.
      name = `ảnh ${i}.png`;
      type = 'photo';
      writeRandom(join(dir, name), png, Math.max(size, png.length + 16));
    } else if (kind === 2) {
      name = `ảnh ${i}.jpg`;
      type = 'photo';
      writeRandom(join(dir, name), jpg, Math.max(size, jpg.length + 16));
    } else {
      name = `văn bản ${i}.txt`;
      type = 'document';
      const body = `${i}\n${TEXT.repeat(Math.ceil(Math.min(size, 256 * 1024) / TEXT.length))}`;
      writeFileSync(join(dir, name), body);
    }
    total += (await import('node:fs')).statSync(join(dir, name)).size;
    lines.push(`${name},Tư liệu số ${i},${type},2023,vi`);
  }
  writeFileSync(join(dir, '..', `${dir.split('/').pop()}.csv`), lines.join('\n'));
  return total;
}

async function timeImport(folder: string, manifest: string, dataDir: string, concurrency = 4): Promise<{ sec: number; imported: number }> {
  const config = defaultConfig({ dataDir });
  const store = await openStore(config, { synchronous: 'NORMAL' }); // as `npm run import` does
  try {
    const t0 = process.hrtime.bigint();
    const r = await runImport(
      { folder, manifestPath: manifest, concurrency, maxFileBytes: config.upload.maxFileBytes, principal: systemPrincipal('bench') },
      { sqlite: store.db.sqlite, ingest: store.ingest, tmpDir: store.paths.tmpDir },
    );
    const sec = Number(process.hrtime.bigint() - t0) / 1e9;
    if (r.totals.failed > 0) throw new Error(`bench import had failures: ${JSON.stringify(r.rows.find((x) => x.status === 'failed'))}`);
    return { sec, imported: r.totals.imported };
  } finally {
    store.close();
  }
}

function timeCmd(cmd: string, args: string[]): number {
  const t0 = process.hrtime.bigint();
  execFileSync(cmd, args, { stdio: 'ignore' });
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

export async function runOperationsBench(opts: OperationsOptions = {}): Promise<OperationsReport> {
  const log = opts.log ?? ((s: string) => console.log(s));
  const files = opts.files ?? Number(process.env.BENCH_OPS_FILES ?? 1000);
  const gb = opts.gb ?? Number(process.env.BENCH_OPS_GB ?? 2);
  const reps = opts.reps ?? 3;
  const root = mkdtempSync(join(tmpdir(), 'kho-bench-ops-'));
  try {
    // ---- 1. Import vs cp -r -------------------------------------------------------------------
    log(`operations: making ${files} mixed files…`);
    const folder = join(root, 'backlog');
    const bytes = await makeFolder(folder, files);
    const manifest = join(root, 'backlog.csv');
    // Warm the page cache once so both sides read from memory.
    timeCmd('cp', ['-r', folder, join(root, 'warm')]);
    rmSync(join(root, 'warm'), { recursive: true, force: true });
    const importSec: number[] = [];
    const cpSec: number[] = [];
    const cpSyncSec: number[] = [];
    for (let r = 0; r < reps; r++) {
      const dest = join(root, `cp-${r}`);
      cpSec.push(timeCmd('cp', ['-r', folder, dest]));
      rmSync(dest, { recursive: true, force: true });
      execFileSync('sync');
      const t0 = process.hrtime.bigint();
      execFileSync('cp', ['-r', folder, dest]);
      execFileSync('sync');
      cpSyncSec.push(Number(process.hrtime.bigint() - t0) / 1e9);
      rmSync(dest, { recursive: true, force: true });
      const dataDir = join(root, `import-${r}`);
      const res = await timeImport(folder, manifest, dataDir);
      if (res.imported !== files) throw new Error(`imported ${res.imported} of ${files}`);
      importSec.push(res.sec);
      rmSync(dataDir, { recursive: true, force: true });
      log(`  rep ${r + 1}: import ${fmt(res.sec)} s, cp -r ${fmt(cpSec[r], 3)} s, cp -r + sync ${fmt(cpSyncSec[r], 3)} s`);
    }
    const mImport = median(importSec);
    const totalMiB = bytes / MiB;
    const importReport: OperationsReport['import'] = {
      files,
      totalMiB: Math.round(totalMiB),
      reps,
      importSec,
      cpSec,
      cpSyncSec,
      filesPerSec: files / mImport,
      mibPerSec: totalMiB / mImport,
      cpMibPerSec: totalMiB / median(cpSec),
      ratioVsCp: mImport / median(cpSec),
      ratioVsCpSync: mImport / median(cpSyncSec),
    };
    log(
      `import: ${files} files, ${fmt(totalMiB, 0)} MiB — median ${fmt(mImport)} s = ${fmt(importReport.filesPerSec, 0)} files/s, ${fmt(importReport.mibPerSec, 0)} MiB/s; ` +
        `cp -r ${fmt(median(cpSec), 3)} s (×${fmt(importReport.ratioVsCp, 1)}), cp -r + sync ${fmt(median(cpSyncSec), 3)} s (×${fmt(importReport.ratioVsCpSync, 1)})`,
    );
    rmSync(folder, { recursive: true, force: true });

    // ---- 2. Backup of an N GB store ------------------------------------------------------------
    log(`operations: building a ${gb} GB store…`);
    const storeDir = join(root, 'store');
    const bigFolder = join(root, 'big');
    mkdirSync(bigFolder);
    const fileSize = 16 * MiB;
    const nBig = Math.max(10, Math.round((gb * 1024 * MiB) / fileSize));
    const bigLines = ['file,title,type'];
    for (let i = 0; i < nBig; i++) {
      writeRandom(join(bigFolder, `phim ${i}.pdf`), Buffer.from(`%PDF-1.4\n%big ${i}\n`), fileSize);
      bigLines.push(`phim ${i}.pdf,Tư liệu lớn ${i},document`);
    }
    writeFileSync(join(root, 'big.csv'), bigLines.join('\n'));
    await timeImport(bigFolder, join(root, 'big.csv'), storeDir, 2);
    rmSync(bigFolder, { recursive: true, force: true });
    const fullSec: number[] = [];
    const cpStoreSec: number[] = [];
    const cpSyncStoreSec: number[] = [];
    const incNoChange: number[] = [];
    const incOnePct: number[] = [];
    const dest = join(root, 'backup');
    for (let r = 0; r < Math.min(reps, 2); r++) {
      rmSync(dest, { recursive: true, force: true });
      execFileSync('sync');
      const b = await backup({ dataDir: storeDir, dest, stamp: `full-${r}` });
      if (b.problems.length) throw new Error(`backup problems: ${JSON.stringify(b.problems[0])}`);
      fullSec.push(b.seconds);
      const cpDest = join(root, 'cp-store');
      execFileSync('sync');
      cpStoreSec.push(timeCmd('cp', ['-r', storeDir, cpDest]));
      rmSync(cpDest, { recursive: true, force: true });
      execFileSync('sync');
      const t0 = process.hrtime.bigint();
      execFileSync('cp', ['-r', storeDir, cpDest]);
      execFileSync('sync');
      cpSyncStoreSec.push(Number(process.hrtime.bigint() - t0) / 1e9);
      rmSync(cpDest, { recursive: true, force: true });
      log(`  rep ${r + 1}: full backup ${fmt(b.seconds)} s (${b.copied.blobs} blobs), cp -r of the data dir ${fmt(cpStoreSec[r])} s, cp -r + sync ${fmt(cpSyncStoreSec[r])} s`);
    }
    for (let r = 0; r < reps; r++) {
      const b = await backup({ dataDir: storeDir, dest, stamp: `inc0-${r}` });
      if (b.copied.blobs !== 0) throw new Error('incremental backup copied blobs with no change');
      incNoChange.push(b.seconds);
      // 1 % new content.
      const add = join(root, `add-${r}`);
      mkdirSync(add);
      const nAdd = Math.max(1, Math.round(nBig / 100));
      const lines = ['file,title,type'];
      for (let i = 0; i < nAdd; i++) {
        writeRandom(join(add, `mới ${r}-${i}.pdf`), Buffer.from(`%PDF-1.4\n%add ${r} ${i}\n`), fileSize);
        lines.push(`mới ${r}-${i}.pdf,Tư liệu mới ${r}-${i},document`);
      }
      writeFileSync(join(root, `add-${r}.csv`), lines.join('\n'));
      await timeImport(add, join(root, `add-${r}.csv`), storeDir, 2);
      rmSync(add, { recursive: true, force: true });
      const b2 = await backup({ dataDir: storeDir, dest, stamp: `inc1-${r}` });
      if (b2.copied.blobs !== nAdd) throw new Error(`incremental backup copied ${b2.copied.blobs} blobs, expected ${nAdd}`);
      incOnePct.push(b2.seconds);
      log(`  rep ${r + 1}: incremental, nothing new ${fmt(b.seconds, 3)} s; after +1 % (${nAdd} × 16 MiB) ${fmt(b2.seconds)} s`);
    }
    const storeGiB = (nBig * fileSize) / 1024 ** 3;
    const backupReport: OperationsReport['backup'] = {
      storeGiB: Math.round(storeGiB * 100) / 100,
      blobs: nBig,
      fullSec,
      cpSec: cpStoreSec,
      cpSyncSec: cpSyncStoreSec,
      incrementalNoChangeSec: incNoChange,
      incrementalOnePercentSec: incOnePct,
      fullMibPerSec: (storeGiB * 1024) / median(fullSec),
      ratioFullVsCp: median(fullSec) / median(cpStoreSec),
      ratioFullVsCpSync: median(fullSec) / median(cpSyncStoreSec),
    };
    log(
      `backup of ${fmt(storeGiB)} GiB (${nBig} blobs): full median ${fmt(median(fullSec))} s (${fmt(backupReport.fullMibPerSec, 0)} MiB/s; ×${fmt(backupReport.ratioFullVsCp, 2)} of cp -r, ×${fmt(backupReport.ratioFullVsCpSync, 2)} of cp -r + sync); ` +
        `incremental with nothing new ${fmt(median(incNoChange), 3)} s; after +1 % ${fmt(median(incOnePct))} s`,
    );
    return { import: importReport, backup: backupReport };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { files: { type: 'string' }, gb: { type: 'string' }, reps: { type: 'string' }, json: { type: 'boolean', default: false } } });
  runOperationsBench({ files: values.files ? Number(values.files) : undefined, gb: values.gb ? Number(values.gb) : undefined, reps: values.reps ? Number(values.reps) : undefined })
    .then((r) => {
      if (values.json) console.log(JSON.stringify(r, null, 2));
    })
    .catch((e) => {
      console.error(e);
      process.exit(1);
    });
}
