/**
 * Derivative benchmark (issue 3): medians and ratios measured in one run.
 *
 * - images: 256 + 1024 px WebP thumbnails of 2–5 MP JPEGs, 2 worker processes, through the whole
 *   extractor pipeline (`getExtractor('image').thumbnail`) vs raw sharp doing the same two resizes
 *   in the same 2 processes, and vs `vipsthumbnail` in 2 processes. Also how many cores the pool used.
 * - PDF: per-page text of a 350-page book through the pipeline vs `pdftotext` (and pdf-parse getText);
 *   first-page thumbnail vs `pdftoppm -scale-to 1024`.
 * - peak RSS of the worker processes.
 *
 * Peers come from Debian (libvips-tools, poppler-utils), installed here with apt-get when missing
 * and allowed. Runnable alone: `node --import tsx scripts/bench/derivatives.ts`.
 * The same file is the pool's child process when started with `--child`.
 */
import { execFile, fork, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SELF = fileURLToPath(import.meta.url);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface DerivativesReport {
  images: {
    count: number;
    megapixels: number[];
    pipelineMsPerImage: number;
    rawSharpMsPerImage: number;
    vipsthumbnailMsPerImage: number | null;
    /** raw sharp time / pipeline time (target >= 0.9). */
    pipelineVsRawSharp: number;
    /** vipsthumbnail time / pipeline time (>1: pipeline faster). */
    pipelineVsVips: number | null;
    /** CPU seconds of the pool per wall second while thumbnailing (2 = both cores busy). */
    coresUsed: number;
  };
  pdf: {
    pages: number;
    pipelineTextMs: number;
    pipelineTextColdMs: number;
    pdftotextMs: number | null;
    pdfParseGetTextMs: number;
    /** CPU ms (all threads) of the pipeline's text job, and of pdftotext: independent of other load. */
    pipelineTextCpuMs: number;
    pdftotextCpuMs: number | null;
    /** pipeline / pdftotext (target <= 2). */
    textRatio: number | null;
    pipelineThumbMs: number;
    pdftoppmMs: number | null;
    /** pipeline / pdftoppm (target <= 1.2). */
    thumbRatio: number | null;
  };
  peakRssMb: number;
  notes: string[];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d;

async function which(bin: string): Promise<boolean> {
  return run('sh', ['-c', `command -v ${bin}`]).then(() => true, () => false);
}

/** Installs the Debian peers when missing (root only); returns notes about what is unavailable. */
async function ensurePeers(): Promise<string[]> {
  const notes: string[] = [];
  const missing = [] as string[];
  if (!(await which('vipsthumbnail'))) missing.push('libvips-tools');
  if (!(await which('pdftotext')) || !(await which('pdftoppm'))) missing.push('poppler-utils');
  if (missing.length && process.getuid?.() === 0) {
    try {
      await run('apt-get', ['update', '-qq'], { maxBuffer: 64 * 1024 * 1024 });
      await run('apt-get', ['install', '-y', '-qq', ...missing], { maxBuffer: 64 * 1024 * 1024, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    } catch (err) {
      notes.push(`apt-get install ${missing.join(' ')} failed: ${(err as Error).message.split('\n')[0]}`);
    }
  } else if (missing.length) notes.push(`not root: cannot install ${missing.join(' ')}`);
  return notes;
}

// ---------- the pool's child ----------

type ChildJob =
  | { op: 'pipeline-thumb'; kind: 'image' | 'pdf'; path: string; mediaType: string }
  | { op: 'raw-sharp'; path: string }
  | { op: 'pdf-extract'; path: string }
  | { op: 'stats' };

async function child(): Promise<void> {
  const { getExtractor } = await import('../../server/ingest/extractors/index.ts');
  const { defaultFfmpegPath, defaultFfprobePath } = await import('../../server/ingest/adapters/ffmpeg.ts');
  const { configureSharp } = await import('../../server/ingest/adapters/sharp.ts');
  const sharp = (await import('sharp')).default;
  const threads = process.argv.find((a) => a.startsWith('--sharp-threads='));
  if (threads) configureSharp({ threads: Number(threads.split('=')[1]) });
  const scratch = await mkdtemp(join(tmpdir(), 'kho-bench-child-'));
  process.once('SIGTERM', () => {
    rmSync(scratch, { recursive: true, force: true });
    process.exit(0);
  });
  let n = 0;
  const input = (path: string, kind: 'image' | 'pdf', mediaType: string) => ({
    path, sha256: '', size: 0, mediaType, kind, workDir: scratch,
    limits: { maxImagePixels: 268_402_689, ffmpegPath: defaultFfmpegPath(), ffprobePath: defaultFfprobePath(), deadline: Date.now() + 120_000 },
  });
  process.on('message', async (job: ChildJob & { id: number }) => {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    let extra: Record<string, unknown> = {};
    try {
      if (job.op === 'pipeline-thumb') {
        await getExtractor(job.kind).thumbnail(input(job.path, job.kind, job.mediaType));
      } else if (job.op === 'raw-sharp') {
        // The baseline: the two resizes written the plain way, straight from the file.
        const k = n++;
        await Promise.all([1024, 256].map((s) => sharp(job.path).rotate().resize(s, s, { fit: 'inside', withoutEnlargement: true }).webp({ quality: s <= 256 ? 75 : 80, effort: 2 }).toFile(join(scratch, `raw-${k}-${s}.webp`))));
      } else if (job.op === 'pdf-extract') {
        const r = await getExtractor('pdf').extract(input(job.path, 'pdf', 'application/pdf'));
        extra = { pages: r.pages.length };
      }
      const cpu = process.cpuUsage();
      const jobCpu = process.cpuUsage(c0);
      process.send!({ id: job.id, ms: performance.now() - t0, cpuMs: (cpu.user + cpu.system) / 1000, jobCpuMs: (jobCpu.user + jobCpu.system) / 1000, maxRssMb: process.resourceUsage().maxRSS / 1024, ...extra });
    } catch (err) {
      process.send!({ id: job.id, error: String((err as Error).message ?? err) });
    }
  });
  process.send!({ ready: true });
}

interface Reply { id: number; ms: number; cpuMs: number; jobCpuMs: number; maxRssMb: number; error?: string; pages?: number }

class Pool {
  private procs: ChildProcess[] = [];
  private waiters = new Map<number, (r: Reply) => void>();
  private id = 1;
  peakRssMb = 0;

  async start(size: number, sharpThreads?: number): Promise<void> {
    for (let i = 0; i < size; i++) {
      const p = fork(SELF, ['--child', ...(sharpThreads ? [`--sharp-threads=${sharpThreads}`] : [])], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      await new Promise<void>((res, rej) => {
        p.once('message', () => res());
        p.once('exit', (c) => rej(new Error(`bench child exited ${c}`)));
      });
      p.on('message', (m: Reply) => {
        if (m.maxRssMb) this.peakRssMb = Math.max(this.peakRssMb, m.maxRssMb);
        this.waiters.get(m.id)?.(m);
        this.waiters.delete(m.id);
      });
      this.procs.push(p);
    }
  }

  send(i: number, job: ChildJob): Promise<Reply> {
    const id = this.id++;
    return new Promise((res, rej) => {
      this.waiters.set(id, (r) => (r.error ? rej(new Error(r.error)) : res(r)));
      this.procs[i].send({ ...job, id });
    });
  }

  /** Runs jobs over all processes, one at a time per process; returns wall ms and CPU ms used. */
  async runAll(jobs: ChildJob[]): Promise<{ wallMs: number; cpuMs: number }> {
    const cpuBefore = await Promise.all(this.procs.map((_, i) => this.send(i, { op: 'stats' })));
    const queue = [...jobs];
    const t0 = performance.now();
    await Promise.all(this.procs.map(async (_, i) => {
      for (let job = queue.shift(); job; job = queue.shift()) await this.send(i, job);
    }));
    const wallMs = performance.now() - t0;
    const cpuAfter = await Promise.all(this.procs.map((_, i) => this.send(i, { op: 'stats' })));
    const cpuMs = cpuAfter.reduce((s, r, i) => s + r.cpuMs - cpuBefore[i].cpuMs, 0);
    return { wallMs, cpuMs };
  }

  async stop(): Promise<void> {
    await Promise.all(this.procs.map((p) => new Promise<void>((res) => {
      if (p.exitCode !== null) return res();
      p.once('exit', () => res());
      p.kill('SIGTERM');
    })));
  }
}

// ---------- fixtures ----------

async function makeJpegs(dir: string, count: number): Promise<{ paths: string[]; mp: number[] }> {
  const sharp = (await import('sharp')).default;
  const sizes: Array<[number, number]> = [[1920, 1080], [2048, 1536], [2592, 1944], [2400, 1600], [2560, 1920]];
  const paths: string[] = [];
  const mp: number[] = [];
  for (let i = 0; i < count; i++) {
    const [w, h] = sizes[i % sizes.length];
    const path = join(dir, `photo-${i}.jpg`);
    // Smooth gradients plus noise compress like photographs (2–5 MP → 0.5–2 MB).
    const noise = await sharp({ create: { width: w, height: h, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 120, sigma: 35 } } }).blur(1.2).toBuffer({ resolveWithObject: true });
    await sharp(noise.data, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 88 }).withMetadata({ orientation: i % 4 === 0 ? 6 : 1 }).toFile(path);
    paths.push(path);
    mp.push(round((w * h) / 1e6, 1));
  }
  return { paths, mp };
}

async function makeBook(path: string, pages: number): Promise<void> {
  const { PDFDocument, StandardFonts } = await import('pdf-lib');
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.TimesRoman);
  const words = 'the plan asks every agency that releases a propaganda or traditional education product books leaflets folded flyers tourist maps films audio photos documents to hand one copy to the provincial department to form the common documentation store'.split(' ');
  let k = 0;
  for (let p = 0; p < pages; p++) {
    const page = doc.addPage([420, 595]);
    page.drawText(`Chapter ${Math.floor(p / 20) + 1} - page ${p + 1}`, { x: 40, y: 550, size: 13, font });
    for (let l = 0; l < 34; l++) {
      const line: string[] = [];
      while (line.join(' ').length < 62) line.push(words[k++ % words.length]);
      page.drawText(line.join(' '), { x: 40, y: 525 - l * 14, size: 10.5, font });
    }
  }
  doc.setTitle('A 350-page book');
  await writeFile(path, await doc.save());
}

/** pdf-parse getText (the library's own path) in a separate plain Node process: median ms of `runs` warm runs. */
async function pdfParseGetText(path: string, runs: number): Promise<number> {
  const script = `
    import { PDFParse } from 'pdf-parse';
    import { readFileSync } from 'node:fs';
    const data = readFileSync(${JSON.stringify(path)});
    const times = [];
    for (let i = 0; i <= ${runs}; i++) {
      const t0 = performance.now();
      const p = new PDFParse({ data: new Uint8Array(data) });
      try { await p.getText(); } finally { await p.destroy(); }
      if (i > 0) times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    console.log(times[Math.floor(times.length / 2)]);
  `;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, maxBuffer: 1024 * 1024 });
  return Number(stdout.trim().split('\n').pop());
}

async function timeCmd(cmd: string, args: string[]): Promise<number> {
  const t0 = performance.now();
  await run(cmd, args, { maxBuffer: 256 * 1024 * 1024 });
  return performance.now() - t0;
}

/** CPU ms (user + system) a command used, from the shell's `times` builtin. */
async function cpuOfCmd(cmd: string, args: string[]): Promise<number> {
  const quoted = [cmd, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const { stdout } = await run('bash', ['-c', `${quoted} >/dev/null; times`]);
  const m = [...stdout.trim().split('\n').pop()!.matchAll(/(\d+)m([\d.]+)s/g)].map((x) => Number(x[1]) * 60_000 + Number(x[2]) * 1000);
  return (m[0] ?? 0) + (m[1] ?? 0);
}

// ---------- the bench ----------

export async function runDerivativesBench(opts: { images?: number; rounds?: number; bookPages?: number; sharpThreads?: number } = {}): Promise<DerivativesReport> {
  const { images = 24, rounds = 3, bookPages = 350, sharpThreads } = opts;
  const notes = await ensurePeers();
  const hasVips = await which('vipsthumbnail');
  const hasPoppler = (await which('pdftotext')) && (await which('pdftoppm'));
  const dir = await mkdtemp(join(tmpdir(), 'kho-bench-deriv-'));
  const pool = new Pool();
  try {
    const { paths, mp } = await makeJpegs(dir, images);
    const book = join(dir, 'book.pdf');
    await makeBook(book, bookPages);
    await pool.start(2, sharpThreads);

    // Images: warm up once, then alternate the three contenders round by round.
    const pipeJobs: ChildJob[] = paths.map((path) => ({ op: 'pipeline-thumb', kind: 'image', path, mediaType: 'image/jpeg' }));
    const rawJobs: ChildJob[] = paths.map((path) => ({ op: 'raw-sharp', path }));
    await pool.runAll(pipeJobs.slice(0, 2));
    await pool.runAll(rawJobs.slice(0, 2));
    const pipe: number[] = [], raw: number[] = [], vips: number[] = [], cores: number[] = [];
    const halves = [paths.filter((_, i) => i % 2 === 0), paths.filter((_, i) => i % 2 === 1)];
    for (let r = 0; r < rounds; r++) {
      const p = await pool.runAll(pipeJobs);
      pipe.push(p.wallMs / images);
      cores.push(p.cpuMs / p.wallMs);
      raw.push((await pool.runAll(rawJobs)).wallMs / images);
      if (hasVips) {
        const out = join(dir, `vips-${r}`);
        await run('mkdir', ['-p', out]);
        const t0 = performance.now();
        await Promise.all(halves.map(async (files) => {
          await run('vipsthumbnail', ['-s', '1024', '-o', `${out}/%s-1024.webp[Q=80]`, ...files]);
          await run('vipsthumbnail', ['-s', '256', '-o', `${out}/%s-256.webp[Q=75]`, ...files]);
        }));
        vips.push((performance.now() - t0) / images);
      }
    }

    // PDF text: the steady state of a pool worker that has already run a few jobs (V8 has
    // optimised pdf.js by then); the first, cold run is reported on its own.
    const cold = await pool.send(0, { op: 'pdf-extract', path: book });
    for (let w = 0; w < 2; w++) await pool.send(0, { op: 'pdf-extract', path: book });
    const text: number[] = [], textCpu: number[] = [], ptt: number[] = [], pttCpu: number[] = [], thumb: number[] = [], ppm: number[] = [];
    for (let r = 0; r < Math.max(5, rounds); r++) {
      const t = await pool.send(0, { op: 'pdf-extract', path: book });
      if (t.pages !== bookPages) throw new Error(`pipeline returned ${t.pages} pages`);
      text.push(t.ms);
      textCpu.push(t.jobCpuMs);
      if (hasPoppler) {
        ptt.push(await timeCmd('pdftotext', [book, join(dir, 'book.txt')]));
        pttCpu.push(await cpuOfCmd('pdftotext', [book, join(dir, 'book.txt')]));
      }
      thumb.push((await pool.send(0, { op: 'pipeline-thumb', kind: 'pdf', path: book, mediaType: 'application/pdf' })).ms);
      if (hasPoppler) ppm.push(await timeCmd('pdftoppm', ['-f', '1', '-l', '1', '-scale-to', '1024', '-png', book, join(dir, 'page')]));
    }
    const pdfParseMs = await pdfParseGetText(book, Math.max(3, rounds));
    const m = (xs: number[]) => round(median(xs), 1);
    return {
      images: {
        count: images,
        megapixels: [...new Set(mp)],
        pipelineMsPerImage: m(pipe),
        rawSharpMsPerImage: m(raw),
        vipsthumbnailMsPerImage: hasVips ? m(vips) : null,
        pipelineVsRawSharp: round(median(raw) / median(pipe)),
        pipelineVsVips: hasVips ? round(median(vips) / median(pipe)) : null,
        coresUsed: round(median(cores)),
      },
      pdf: {
        pages: bookPages,
        pipelineTextMs: m(text),
        pipelineTextColdMs: round(cold.ms, 1),
        pdftotextMs: hasPoppler ? m(ptt) : null,
        pdfParseGetTextMs: round(pdfParseMs, 1),
        pipelineTextCpuMs: m(textCpu),
        pdftotextCpuMs: hasPoppler ? m(pttCpu) : null,
        textRatio: hasPoppler ? round(median(text) / median(ptt)) : null,
        pipelineThumbMs: m(thumb),
        pdftoppmMs: hasPoppler ? m(ppm) : null,
        thumbRatio: hasPoppler ? round(median(thumb) / median(ppm)) : null,
      },
      peakRssMb: round(pool.peakRssMb, 0),
      notes,
    };
  } finally {
    await pool.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

export function printDerivativesReport(r: DerivativesReport): string {
  const i = r.images;
  const p = r.pdf;
  return [
    `Derivatives — images (${i.count} JPEGs of ${i.megapixels.join('/')} MP, 256+1024 WebP, 2 processes):`,
    `  pipeline ${i.pipelineMsPerImage} ms/image, raw sharp ${i.rawSharpMsPerImage} ms/image → ${i.pipelineVsRawSharp}x of raw sharp (target ≥ 0.9); cores used ${i.coresUsed}`,
    `  vipsthumbnail ${i.vipsthumbnailMsPerImage ?? 'n/a'} ms/image → pipeline at ${i.pipelineVsVips ?? 'n/a'}x of vipsthumbnail speed`,
    `Derivatives — PDF (${p.pages} pages):`,
    `  text: pipeline ${p.pipelineTextMs} ms (cold ${p.pipelineTextColdMs} ms), pdftotext ${p.pdftotextMs ?? 'n/a'} ms → ${p.textRatio ?? 'n/a'}x (target ≤ 2); pdf-parse getText ${p.pdfParseGetTextMs} ms`,
    `  text CPU time (all threads): pipeline ${p.pipelineTextCpuMs} ms, pdftotext ${p.pdftotextCpuMs ?? 'n/a'} ms`,
    `  first-page thumbnail: pipeline ${p.pipelineThumbMs} ms, pdftoppm ${p.pdftoppmMs ?? 'n/a'} ms → ${p.thumbRatio ?? 'n/a'}x (target ≤ 1.2)`,
    `Peak RSS of a pool worker process (pipeline jobs only): ${r.peakRssMb} MB`,
    ...r.notes.map((n) => `  note: ${n}`),
  ].join('\n');
}

if (process.argv.includes('--child')) {
  void child();
} else if (process.argv[1] === SELF) {
  const threads = process.argv.find((a) => a.startsWith('--sharp-threads='));
  runDerivativesBench({ sharpThreads: threads ? Number(threads.split('=')[1]) : undefined }).then((r) => {
    console.log(printDerivativesReport(r));
    console.log(JSON.stringify(r, null, 2));
  }, (err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
