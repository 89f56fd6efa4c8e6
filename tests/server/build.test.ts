/**
 * The server as `npm start` runs it: scripts/build.mjs bundles the sources into dist/, and plain
 * Node (no TypeScript loader) runs dist/server.js with SERVER_NODE_ARGS. This checks that the
 * bundle finds everything the sources find by path (migrations, plan seed, static files), that its
 * job workers (dist/worker-process.js and the pdf.js worker thread beside it) extract a PDF, and
 * that the chunk loaded on demand (sharp, for placeholders) is there.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build, SERVER_ENTRY, SERVER_NODE_ARGS } from '../../scripts/build.mjs';
import { ADMIN_TOKEN, makeDataDir } from '../helpers/app.ts';
import { makePdf } from '../helpers/samples.ts';

const ROOT = join(import.meta.dirname, '../..');
const headers = { authorization: `Bearer ${ADMIN_TOKEN}` };

function startBuilt(dataDir: string): Promise<{ proc: ChildProcess; base: string }> {
  const proc = spawn(process.execPath, [...SERVER_NODE_ARGS, SERVER_ENTRY], {
    cwd: ROOT,
    env: { ...process.env, DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', ADMIN_TOKEN, JOB_WORKERS: '1', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), 30_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ proc, base: m[1] });
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    proc.on('exit', (code) => reject(new Error(`server exited early (${code}):\n${out}`)));
  });
}

describe('the built server (npm start)', () => {
  let dataDir: string;
  let server: { proc: ChildProcess; base: string };

  beforeAll(async () => {
    build();
    dataDir = await makeDataDir();
    server = await startBuilt(dataDir);
  }, 60_000);
  afterAll(async () => {
    server?.proc.kill('SIGKILL');
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('is what package.json starts, with the same Node flags', () => {
    const start = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts.start as string;
    expect(start).toContain('node scripts/build.mjs');
    expect(start).toContain(`node ${SERVER_NODE_ARGS.join(' ')} dist/server.js`);
  });

  it('runs without a TypeScript loader: migrations applied, plan seeded, static files and pages served', async () => {
    const health = await fetch(`${server.base}/readyz`);
    expect(health.status).toBe(200);
    const agencies = (await (await fetch(`${server.base}/api/agencies`, { headers })).json()) as unknown[] | { items: unknown[] };
    expect(Array.isArray(agencies) ? agencies.length : agencies.items.length).toBeGreaterThanOrEqual(20);
    const page = await fetch(`${server.base}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Kho tư liệu');
    const css = /href="(\/static\/[^"]+\.css\?v=[0-9a-f]+)"/.exec(await (await fetch(`${server.base}/`)).text());
    expect(css).not.toBeNull();
    expect((await fetch(`${server.base}${css![1]}`)).status).toBe(200);
  });

  it('extracts an uploaded PDF in its bundled job worker and serves a lazily loaded placeholder', async () => {
    const form = new FormData();
    form.append('title', 'Tài liệu tuyên truyền Cao Bằng');
    form.append('type', 'document');
    form.append('file', new Blob([new Uint8Array(await makePdf(3, 'Giao duc truyen thong'))]), 'tai-lieu.pdf');
    form.append('file', new Blob([Buffer.from('Ghi chú: đề án giáo dục truyền thống.\n', 'utf8')]), 'ghi-chu.txt');
    const res = await fetch(`${server.base}/api/products`, { method: 'POST', body: form, headers });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: number };

    type Rec = { files: Array<{ sha256: string; mediaType: string; pageCount: number | null; processing: string; thumbnails: { size256: string | null } }> };
    let rec: Rec | null = null;
    for (let i = 0; i < 300; i++) {
      rec = (await (await fetch(`${server.base}/api/products/${id}`, { headers })).json()) as Rec;
      if (rec.files.every((f) => f.processing === 'done' || f.processing === 'failed')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const pdf = rec!.files.find((f) => f.mediaType === 'application/pdf')!;
    const txt = rec!.files.find((f) => f.mediaType.startsWith('text/'))!;
    expect(pdf.processing).toBe('done');
    expect(pdf.pageCount).toBe(3);
    expect(pdf.thumbnails.size256).not.toBeNull();
    const thumb = await fetch(`${server.base}${pdf.thumbnails.size256}`, { headers });
    expect(thumb.status).toBe(200);
    expect(thumb.headers.get('content-type')).toBe('image/webp');
    // A text file has no picture: the placeholder is drawn by sharp, loaded on first use.
    const ph = await fetch(`${server.base}/api/files/${txt.sha256}/thumbnail?size=256`, { headers });
    expect(ph.status).toBe(200);
    expect(ph.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await ph.arrayBuffer()).subarray(1, 4).toString()).toBe('PNG');
  }, 60_000);
});
