/**
 * The job runner with real worker processes: results land in the record, thumbnails are served,
 * and a job that hangs, eats memory or kills its worker fails with a reason while the server stays up.
 */
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { auth, makeTestApp, multipartBody, type TestApp } from '../helpers/app.ts';
import { makePdf, makePng } from '../helpers/samples.ts';
import iconv from 'iconv-lite';
import { toCp1258Form } from '../helpers/fixtures.ts';

let t: TestApp | null = null;
afterEach(async () => {
  await t?.close();
  t = null;
});

async function upload(app: TestApp['app'], title: string, files: Parameters<typeof multipartBody>[1]) {
  const { body, headers } = multipartBody({ title, type: 'document' }, files);
  const res = await app.inject({ method: 'POST', url: '/api/products', payload: body, headers: { ...headers, ...auth() } });
  expect(res.statusCode).toBe(201);
  return res.json();
}

describe('job runner', () => {
  it('extracts facts and text, makes thumbnails, and serves them', async () => {
    t = await makeTestApp({ jobs: { workers: 2 } });
    const rec = await upload(t.app, 'Kế hoạch 199-KH/TU', [
      { filename: 'ke-hoach.pdf', data: await makePdf(3, 'Ke hoach tuyen truyen') },
      { filename: 'anh.png', data: await makePng(600, 400) },
    ]);
    await t.app.jobRunner.drain(60_000);
    const res = await t.app.inject({ url: `/api/products/${rec.id}`, headers: auth() });
    const after = res.json();
    expect(after.processing).toBe('done');
    const [pdf, png] = after.files;
    expect(pdf.metadata.pages).toBe(3);
    expect(pdf.pageCount).toBe(3);
    expect(png.metadata).toMatchObject({ width: 600, height: 400 });
    const text = t.app.db.sqlite.prepare('SELECT page, text FROM blob_texts WHERE sha256 = ? ORDER BY page').all(pdf.sha256) as { page: number; text: string }[];
    expect(text.map((r) => r.page)).toEqual([1, 2, 3]);
    expect(text[1].text).toContain('page 2');

    for (const size of [256, 1024] as const) {
      const thumb = await t.app.inject({ url: `/api/files/${png.sha256}/thumbnail?size=${size}`, headers: auth() });
      expect(thumb.statusCode).toBe(200);
      expect(thumb.headers['content-type']).toBe('image/webp');
      const meta = await sharp(thumb.rawPayload).metadata();
      expect(Math.max(meta.width!, meta.height!)).toBe(Math.min(size, 600));
      const again = await t.app.inject({ url: `/api/files/${png.sha256}/thumbnail?size=${size}`, headers: { ...auth(), 'if-none-match': thumb.headers.etag as string } });
      expect(again.statusCode).toBe(304);
      expect(thumb.headers['cache-control']).not.toContain('immutable');
      // Made again (npm run rederive): the old ETag no longer matches.
      t.app.db.sqlite.prepare(`UPDATE derivatives SET created_at = '2099-01-01T00:00:00.000Z' WHERE sha256 = ? AND name = ?`).run(png.sha256, `thumb-${size}.webp`);
      const remade = await t.app.inject({ url: `/api/files/${png.sha256}/thumbnail?size=${size}`, headers: { ...auth(), 'if-none-match': thumb.headers.etag as string } });
      expect(remade.statusCode).toBe(200);
      expect(remade.headers.etag).not.toBe(thumb.headers.etag);
    }
  });

  it('a thumbnail made from a truncated image is done with a warning, which the record page shows', async () => {
    t = await makeTestApp({ jobs: { workers: 1 } });
    const whole = await sharp({ create: { width: 800, height: 600, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 40 } } }).jpeg().toBuffer();
    const rec = await upload(t.app, 'Ảnh chụp hội nghị bị cắt dở', [{ filename: 'hoi-nghi.jpg', data: whole.subarray(0, Math.floor(whole.length / 3)) }]);
    await t.app.jobRunner.drain(60_000);
    const after = (await t.app.inject({ url: `/api/products/${rec.id}`, headers: auth() })).json();
    expect(after.processing).toBe('done');
    const thumb = after.files[0].derivatives.find((d: { kind: string }) => d.kind === 'thumbnail');
    expect(thumb).toMatchObject({ state: 'done', errorCode: null, reason: null, warning: { code: 'IMAGE_DAMAGED', message: expect.stringMatching(/truncated/) } });
    expect(after.files[0].derivatives.find((d: { kind: string }) => d.kind === 'extract').warning).toBeNull();
    const page = await t.app.inject({ url: `/san-pham/${rec.id}`, headers: auth() });
    expect(page.body).toContain('Tệp ảnh hoi-nghi.jpg bị hỏng hoặc không đầy đủ: ảnh thu nhỏ chỉ có phần đọc được.');
  });

  it('a failure reason names no path of the store (ffprobe quotes the file it read)', async () => {
    t = await makeTestApp({ jobs: { workers: 1 } });
    const junk = Buffer.concat([Buffer.from('\0\0\0\x18ftypisom\0\0\x02\0isomiso2', 'latin1'), Buffer.alloc(4000, 0x55)]);
    const rec = await upload(t.app, 'Video hỏng', [{ filename: 'hong.mp4', data: junk }]);
    await t.app.jobRunner.drain(60_000);
    const after = (await t.app.inject({ url: `/api/products/${rec.id}`, headers: auth() })).json();
    const jobs = after.files[0].derivatives as Array<{ state: string; errorCode: string; reason: string }>;
    expect(jobs).toHaveLength(2);
    for (const j of jobs) {
      expect(j).toMatchObject({ state: 'failed', errorCode: 'MEDIA_MALFORMED' });
      expect(j.reason).toMatch(/could not be read/);
      expect(j.reason).not.toContain(t.dataDir);
      expect(j.reason).not.toContain(rec.files[0].sha256);
    }
  });

  it('answers 404 THUMBNAIL_NOT_READY while the thumbnail job is queued', async () => {
    t = await makeTestApp({ jobs: { workers: 0 } });
    const rec = await upload(t.app, 'Ảnh chờ xử lý', [{ filename: 'a.png', data: await makePng(30, 30, 9) }]);
    const res = await t.app.inject({ url: `/api/files/${rec.files[0].sha256}/thumbnail?size=256`, headers: auth() });
    expect(res.statusCode).toBe(404);
    expect(res.json().code).toBe('THUMBNAIL_NOT_READY');
  });

  it('fails a job that runs past the time limit with TIMEOUT, and keeps serving', async () => {
    t = await makeTestApp({ jobs: { workers: 1, timeoutMs: 1 } });
    const rec = await upload(t.app, 'Sách quá hạn', [{ filename: 'sach.pdf', data: await makePdf(2) }]);
    await t.app.jobRunner.drain(60_000);
    const after = (await t.app.inject({ url: `/api/products/${rec.id}`, headers: auth() })).json();
    expect(after.files[0].derivatives).toEqual(
      expect.arrayContaining([expect.objectContaining({ kind: 'extract', state: 'failed', errorCode: 'TIMEOUT', reason: expect.stringMatching(/longer than/) })]),
    );
    expect((await t.app.inject({ url: '/healthz' })).statusCode).toBe(200);
    // The blob is kept even though its derivatives failed.
    expect((await t.app.inject({ url: `/api/files/${rec.files[0].sha256}`, headers: auth() })).statusCode).toBe(200);
  });

  it('kills a worker past the memory cap with MEMORY_LIMIT', async () => {
    // A Node worker with pdf.js loaded and parsing is well above 64 MB resident.
    t = await makeTestApp({ jobs: { workers: 1, memoryLimitMb: 64 } });
    const rec = await upload(t.app, 'Sách dày', [{ filename: 'day.pdf', data: await makePdf(200, 'Trang') }]);
    await t.app.jobRunner.drain(60_000);
    const after = (await t.app.inject({ url: `/api/products/${rec.id}`, headers: auth() })).json();
    expect(after.files[0].derivatives.map((d: { errorCode: string }) => d.errorCode)).toContain('MEMORY_LIMIT');
  });

  it('retries a job whose worker died, and finishes it', async () => {
    t = await makeTestApp({ jobs: { workers: 1 } });
    const app = t.app;
    const rec = await upload(app, 'Tài liệu', [{ filename: 'tl.pdf', data: await makePdf(40, 'Trang dai') }]);
    // Kill the worker process as soon as a job is running.
    const deadline = Date.now() + 20_000;
    let killed = false;
    while (!killed && Date.now() < deadline) {
      const running = app.db.sqlite.prepare(`SELECT count(*) AS n FROM jobs WHERE state = 'running'`).get() as { n: number };
      if (running.n > 0) {
        const pids = app.jobRunner.workerPids();
        for (const pid of pids) process.kill(pid, 'SIGKILL');
        killed = pids.length > 0;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(killed).toBe(true);
    await app.jobRunner.drain(60_000);
    const after = (await app.inject({ url: `/api/products/${rec.id}`, headers: auth() })).json();
    expect(after.processing).toBe('done');
    const attempts = after.files[0].derivatives.map((d: { attempts: number }) => d.attempts);
    expect(Math.max(...attempts)).toBeGreaterThanOrEqual(2);
  });
});

describe('text files keep their encoding', () => {
  it('are served with the charset the extractor found (none for TCVN3, which browsers do not know), bytes as uploaded', async () => {
    t = await makeTestApp({ jobs: { workers: 1 } });
    const line = 'Kho tư liệu chung của Đề án tỉnh Cao Bằng, ngày 30 tháng 3 năm 2023. Ban Tuyên giáo Tỉnh uỷ.\n';
    const cp1258 = iconv.encode(toCp1258Form(line.repeat(20)), 'windows-1258');
    const tcvn = iconv.encode(line.repeat(20), 'tcvn');
    const utf8 = Buffer.from(line.repeat(20));
    const rec = await upload(t.app, 'Văn bản cũ', [
      { filename: 'cp1258.txt', data: cp1258 },
      { filename: 'tcvn3.txt', data: tcvn },
      { filename: 'utf8.txt', data: utf8 },
    ]);
    await t.app.jobRunner.drain(60_000);
    const files = (await t.app.inject({ url: `/api/products/${rec.id}`, headers: auth() })).json().files as Array<{ sha256: string; metadata: { encoding: string } }>;
    expect(files.map((f) => f.metadata.encoding)).toEqual(['windows-1258', 'tcvn', 'utf-8']);
    const expected = [['text/plain; charset=windows-1258', cp1258], ['text/plain', tcvn], ['text/plain; charset=utf-8', utf8]] as const;
    for (const [i, f] of files.entries()) {
      const res = await t.app.inject({ url: `/api/files/${f.sha256}`, headers: auth() });
      expect(res.headers['content-type']).toBe(expected[i][0]);
      expect(res.rawPayload.equals(expected[i][1])).toBe(true);
    }
  });
});
