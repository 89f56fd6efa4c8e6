/**
 * Against a real listening server on 127.0.0.1: multipart uploads from a real HTTP client,
 * byte-identical downloads, Range requests, UTF-8 file names, truncated and aborted uploads.
 */
import { createHash } from 'node:crypto';
import { readdir, rename } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, makeTestApp, multipartBody, type TestApp } from '../helpers/app.ts';
import { makePdf, randomBinary } from '../helpers/samples.ts';

const sha = (b: Buffer | Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('real HTTP server', () => {
  let t: TestApp;
  let base: string;
  let pdf: Buffer;
  let rec: { id: number; files: Array<{ sha256: string; originalName: string; size: number }> };

  beforeAll(async () => {
    t = await makeTestApp({ jobs: { workers: 0 }, upload: { maxFileBytes: 8 * 1024 * 1024, idleTimeoutMs: 1500 } });
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    const addr = t.app.server.address() as { port: number };
    base = `http://127.0.0.1:${addr.port}`;
    // A PDF padded to ~1 MB so ranges fall inside real content.
    pdf = Buffer.concat([await makePdf(3, 'Cao Bang thuc luc'), Buffer.from('\n%' + 'x'.repeat(1024 * 1024) + '\n')]);
    const form = new FormData();
    form.append('title', 'Cao Bằng thực lục');
    form.append('type', 'book');
    form.append('year', '2022');
    form.append('file', new Blob([new Uint8Array(pdf)], { type: 'application/pdf' }), 'Cao Bằng thực lục – bản in.pdf');
    form.append('file', new Blob([new TextEncoder().encode("Đất và người Cao Bằng\n")], { type: 'text/plain' }), 'ghi chú.txt');
    const res = await fetch(`${base}/api/products`, { method: 'POST', body: form, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(res.status).toBe(201);
    rec = await res.json();
  });
  afterAll(() => t.close());

  /** A POST /api/products written by hand on a raw socket: the headers now, the body as the test sends it. */
  function rawUpload(headers: Record<string, string>, contentLength: number) {
    const head = Object.entries({ ...headers, 'content-length': String(contentLength), authorization: `Bearer ${ADMIN_TOKEN}` }).map(([k, v]) => `${k}: ${v}`).join('\r\n');
    const sock = connect({ host: '127.0.0.1', port: Number(new URL(base).port) });
    const got = { answer: '' };
    sock.on('data', (d: Buffer) => (got.answer += d.toString('utf8')));
    sock.on('error', () => {});
    const closed = new Promise<void>((resolve) => sock.on('close', () => resolve()));
    sock.write(`POST /api/products HTTP/1.1\r\nhost: 127.0.0.1\r\n${head}\r\n\r\n`);
    return { sock, got, closed };
  }

  const get = (path: string, headers: Record<string, string> = {}) =>
    fetch(`${base}${path}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...headers } });

  it('uploads several files over HTTP and downloads them byte-identical', async () => {
    expect(rec.files.map((f) => f.originalName)).toEqual(['Cao Bằng thực lục – bản in.pdf', 'ghi chú.txt']);
    const res = await get(`/api/files/${rec.files[0].sha256}`);
    expect(res.status).toBe(200);
    const body = Buffer.from(await res.arrayBuffer());
    expect(sha(body)).toBe(sha(pdf));
    expect(res.headers.get('content-type')).toBe('application/pdf');
    expect(res.headers.get('etag')).toBe(`"${sha(pdf)}"`);
    expect(res.headers.get('accept-ranges')).toBe('bytes');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-disposition')).toBe(
      `inline; filename="Cao Bang thuc luc _ ban in.pdf"; filename*=UTF-8''${encodeURIComponent('Cao Bằng thực lục – bản in.pdf')}`,
    );
    const txt = await get(`/api/files/${rec.files[1].sha256}`);
    expect(txt.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(txt.headers.get('content-disposition')).toMatch(/^attachment;/);
    expect(await txt.text()).toBe('Đất và người Cao Bằng\n');
  });

  it.each([
    ['first byte', 'bytes=0-0', 0, 0],
    ['middle', 'bytes=1000-1999', 1000, 1999],
    ['open-ended', 'bytes=500000-', 500000, -1],
    ['suffix', 'bytes=-500', -500, -1],
    ['end past the size', 'bytes=10-99999999', 10, -1],
  ])('serves a Range: %s', async (_label, range, start, end) => {
    const size = pdf.length;
    const s = start < 0 ? size + start : start;
    const e = end < 0 ? size - 1 : end;
    const res = await get(`/api/files/${rec.files[0].sha256}`, { range });
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toBe(`bytes ${s}-${e}/${size}`);
    expect(Number(res.headers.get('content-length'))).toBe(e - s + 1);
    expect(Buffer.from(await res.arrayBuffer()).equals(pdf.subarray(s, e + 1))).toBe(true);
  });

  it('answers 416 for a range past the end, with the size', async () => {
    const res = await get(`/api/files/${rec.files[0].sha256}`, { range: `bytes=${pdf.length}-` });
    expect(res.status).toBe(416);
    expect(res.headers.get('content-range')).toBe(`bytes */${pdf.length}`);
    expect((await res.json()).code).toBe('RANGE_NOT_SATISFIABLE');
    // A JSON error, not the file: none of the file's caching or naming headers.
    expect(res.headers.get('content-disposition')).toBeNull();
    expect(res.headers.get('etag')).toBeNull();
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('answers 404 BLOB_MISSING, with none of the file headers, when the store lost the bytes of a file', async () => {
    const sha = rec.files[0].sha256 as string;
    const path = join(t.dataDir, 'blobs', sha.slice(0, 2), sha.slice(2, 4), sha);
    await rename(path, `${path}.away`);
    try {
      for (const headers of [{}, { range: 'bytes=0-9' }] as Array<Record<string, string>>) {
        const res = await get(`/api/files/${sha}`, headers);
        expect(res.status).toBe(404);
        expect((await res.json()).code).toBe('BLOB_MISSING');
        expect(res.headers.get('content-disposition')).toBeNull();
        expect(res.headers.get('etag')).toBeNull();
      }
    } finally {
      await rename(`${path}.away`, path);
    }
    expect((await get(`/api/files/${sha}`)).status).toBe(200);
  });

  it('answers routing errors with the API error body: a bad path encoding, a too-long parameter, a wrong method', async () => {
    const bad = await get('/api/products/%');
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect((await bad.json()).code).toBe('BAD_URL');
    const long = await fetch(`${base}/api/store-deadlines/${'a'.repeat(300)}`, { method: 'PUT' });
    expect(long.status).toBe(414);
    expect((await long.json()).code).toBe('URI_TOO_LONG');
    const put = await fetch(`${base}/api/products/${rec.id}`, { method: 'PUT' });
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('DELETE, GET, HEAD, PATCH');
    expect((await put.json()).code).toBe('METHOD_NOT_ALLOWED');
    // Also where the web answers every other GET (its catch-all), and outside /api.
    const getLogin = await get('/api/auth/login');
    expect(getLogin.status).toBe(405);
    expect(getLogin.headers.get('allow')).toBe('POST');
    const delHealth = await fetch(`${base}/healthz`, { method: 'DELETE' });
    expect(delHealth.status).toBe(405);
    expect(delHealth.headers.get('allow')).toBe('GET, HEAD');
    expect((await get(`/api/products/${'1'.repeat(300)}`)).status).toBe(414);
    const none = await get('/api/no-such-thing');
    expect(none.status).toBe(404);
    expect((await none.json()).code).toBe('ROUTE_NOT_FOUND');
  });

  it('answers a path with a trailing slash 404 ROUTE_NOT_FOUND naming the path without it, not 414 or a validation error', async () => {
    for (const path of [`/api/products/${rec.id}/`, '/api/products/', `/api/files/${rec.files[0].sha256}/`]) {
      const res = await get(path);
      expect(res.status, path).toBe(404);
      const body = await res.json();
      expect(body, path).toMatchObject({ statusCode: 404, code: 'ROUTE_NOT_FOUND' });
      expect(body.message, path).toContain(`without the trailing slash: ${path.replace(/\/$/, '')}`);
    }
    // A parameter over the router's length limit is still 414, with or without the slash.
    expect((await get(`/api/products/${'1'.repeat(300)}/`)).status).toBe(414);
  });

  it('answers a URL longer than the header limit 414 URI_TOO_LONG, and long header lines 431', async () => {
    const raw = (request: string) =>
      new Promise<{ status: number; code: string }>((resolve, reject) => {
        const sock = connect({ host: '127.0.0.1', port: Number(new URL(base).port) }, () => sock.end(request));
        const chunks: Buffer[] = [];
        sock.on('data', (c: Buffer) => chunks.push(c));
        sock.on('end', () => {
          const res = Buffer.concat(chunks).toString('utf8');
          resolve({ status: Number(res.split(' ')[1]), code: (JSON.parse(res.slice(res.indexOf('\r\n\r\n') + 4)) as { code: string }).code });
        });
        sock.on('error', reject);
      });
    for (const n of [20_000, 100_000]) {
      expect(await raw(`GET /api/search?q=${'a'.repeat(n)} HTTP/1.1\r\nHost: x\r\n\r\n`), String(n)).toEqual({ status: 414, code: 'URI_TOO_LONG' });
    }
    // The same size spread over header lines is 431, as is one long header after a short request line.
    expect(await raw(`GET /api/search?q=a HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 40 }, (_, i) => `X-H${i}: ${'b'.repeat(500)}`).join('\r\n')}\r\n\r\n`)).toEqual({ status: 431, code: 'HEADERS_TOO_LARGE' });
    expect(await raw(`GET /api/search?q=${'a'.repeat(9000)} HTTP/1.1\r\nHost: x\r\n\r\n`)).not.toMatchObject({ status: 414 });
    expect((await get('/healthz')).status).toBe(200);
  });

  it('ignores a Range when If-Range names another version, and honours If-None-Match', async () => {
    const full = await get(`/api/files/${rec.files[0].sha256}`, { range: 'bytes=0-9', 'if-range': '"other"' });
    expect(full.status).toBe(200);
    await full.arrayBuffer();
    const cached = await get(`/api/files/${rec.files[0].sha256}`, { 'if-none-match': `"${rec.files[0].sha256}"` });
    expect(cached.status).toBe(304);
  });

  it('answers a request the HTTP parser refuses with the JSON error body and a stable code', async () => {
    const raw = (request: Buffer) =>
      new Promise<string>((resolve, reject) => {
        const sock = connect({ host: '127.0.0.1', port: Number(new URL(base).port) }, () => sock.end(request));
        const chunks: Buffer[] = [];
        sock.on('data', (c: Buffer) => chunks.push(c));
        sock.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
        sock.on('error', reject);
      });
    const parse = (res: string) => ({ status: Number(res.split(' ')[1]), body: JSON.parse(res.slice(res.indexOf('\r\n\r\n') + 4)) as { code: string; statusCode: number; message: string } });
    // Raw UTF-8 in the request line (what `curl "…?q=thủy"` sends): percent-encoding is required.
    const utf8 = parse(await raw(Buffer.from('GET /api/search?q=thủy HTTP/1.1\r\nHost: x\r\n\r\n', 'utf8')));
    expect(utf8).toEqual({ status: 400, body: expect.objectContaining({ statusCode: 400, code: 'MALFORMED_REQUEST' }) });
    expect(utf8.body).toMatchObject({ message: expect.stringContaining('percent-encoded') });
    const garbage = parse(await raw(Buffer.from('NOT HTTP AT ALL\r\n\r\n')));
    expect(garbage.body.code).toBe('MALFORMED_REQUEST');
    // Body framing: the message names the fault instead of blaming the URL.
    const badLength = parse(await raw(Buffer.from('POST /api/products HTTP/1.1\r\nHost: x\r\nContent-Length: ba\r\n\r\n')));
    expect(badLength.body).toMatchObject({ code: 'MALFORMED_REQUEST', message: expect.stringContaining('Content-Length is not a number') });
    const both = parse(await raw(Buffer.from('POST /api/products HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n')));
    expect(both.body).toMatchObject({ code: 'MALFORMED_REQUEST', message: expect.stringContaining('Transfer-Encoding were both sent') });
    for (const b of [badLength, both, garbage]) expect(b.body.message).not.toContain('percent-encoded');
    const huge = parse(await raw(Buffer.from(`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`)));
    expect(huge).toEqual({ status: 431, body: expect.objectContaining({ code: 'HEADERS_TOO_LARGE' }) });
    // The server still answers normally afterwards.
    expect((await get('/healthz')).status).toBe(200);
  });

  it('answers HEAD with the length and no body', async () => {
    const res = await fetch(`${base}/api/files/${rec.files[0].sha256}`, { method: 'HEAD', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(res.status).toBe(200);
    expect(Number(res.headers.get('content-length'))).toBe(pdf.length);
  });

  it('hides files of records the requester may not see', async () => {
    const res = await fetch(`${base}/api/files/${rec.files[0].sha256}`);
    expect(res.status).toBe(404);
    expect((await res.json()).code).toBe('FILE_NOT_FOUND');
  });

  it('refuses a truncated multipart body (no closing boundary) and keeps nothing', async () => {
    const before = (t.app.db.sqlite.prepare('SELECT count(*) AS n FROM products').get() as { n: number }).n;
    const { body, headers } = multipartBody({ title: 'Bị cắt', type: 'book' }, [{ filename: 'cut.pdf', data: await makePdf(2, 'cut') }]);
    const cut = body.subarray(0, body.length - 200);
    const res = await fetch(`${base}/api/products`, { method: 'POST', body: new Uint8Array(cut), headers: { ...headers, authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(res.status).toBe(400);
    expect((await res.json()).code).toMatch(/BAD_MULTIPART|REQUEST_ABORTED|UPLOAD_INCOMPLETE/);
    expect((t.app.db.sqlite.prepare('SELECT count(*) AS n FROM products').get() as { n: number }).n).toBe(before);
    expect(await readdir(join(t.dataDir, 'tmp'))).toEqual([]);
  });

  it('answers 413 for a file or a field over its limit and keeps the keep-alive connection usable', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const post = (body: Buffer, headers: Record<string, string>) =>
      new Promise<{ status: number; json: { code?: string }; socket: unknown }>((resolve, reject) => {
        const req = request(`${base}/api/products`, { method: 'POST', agent, headers: { ...headers, authorization: `Bearer ${ADMIN_TOKEN}`, 'content-length': String(body.length) } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode!, json: JSON.parse(Buffer.concat(chunks).toString()), socket: req.socket }));
        });
        req.on('error', reject);
        req.end(body);
      });
    try {
      const tooBig = multipartBody({ title: 'Quá lớn', type: 'book' }, [{ filename: 'lon.pdf', data: Buffer.concat([await makePdf(1, 'lon'), randomBinary(9 * 1024 * 1024, 3)]) }]);
      const first = await post(tooBig.body, tooBig.headers);
      expect(first.status).toBe(413);
      expect(first.json.code).toBe('FILE_TOO_LARGE');
      const longField = multipartBody({ title: 'Đ'.repeat(40_000), type: 'book' }, [{ filename: 'a.pdf', data: await makePdf(1, 'field') }]);
      const second = await post(longField.body, longField.headers);
      expect(second.status).toBe(413);
      expect(second.json.code).toBe('FIELD_TOO_LARGE');
      const ok = multipartBody({ title: 'Sau lỗi vẫn gửi được', type: 'book' }, [{ filename: 'sau-loi.pdf', data: await makePdf(1, 'after the refusal') }]);
      const third = await post(ok.body, ok.headers);
      expect(third.status).toBe(201);
      expect(third.socket).toBe(first.socket); // the same connection served all three
      expect(await readdir(join(t.dataDir, 'tmp'))).toEqual([]);
    } finally {
      agent.destroy();
    }
  });

  it('leaves no temp file and no record when the client aborts mid-upload', async () => {
    const before = (t.app.db.sqlite.prepare('SELECT count(*) AS n FROM products').get() as { n: number }).n;
    const big = Buffer.concat([await makePdf(1, 'abort'), randomBinary(4 * 1024 * 1024, 9)]);
    const { body, headers } = multipartBody({ title: 'Bị huỷ', type: 'book' }, [{ filename: 'abort.pdf', data: big }]);
    const url = new URL(`${base}/api/products`);
    let sawTempFile = false;
    await new Promise<void>((resolve) => {
      const req = request({
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers: { ...headers, 'content-length': String(body.length), authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      req.on('error', () => resolve());
      req.on('close', () => resolve());
      // Send a third of the body, wait until the server is writing the temp file, then cut the connection.
      req.write(body.subarray(0, Math.floor(body.length / 3)));
      const wait = async () => {
        for (let i = 0; i < 200; i++) {
          if ((await readdir(join(t.dataDir, 'tmp'))).length > 0) {
            sawTempFile = true;
            break;
          }
          await new Promise((r) => setTimeout(r, 10));
        }
        req.destroy();
      };
      void wait();
    });
    expect(sawTempFile).toBe(true);
    // The server notices the abort asynchronously.
    for (let i = 0; i < 200 && (await readdir(join(t.dataDir, 'tmp'))).length > 0; i++) await new Promise((r) => setTimeout(r, 25));
    expect(await readdir(join(t.dataDir, 'tmp'))).toEqual([]);
    expect((t.app.db.sqlite.prepare('SELECT count(*) AS n FROM products').get() as { n: number }).n).toBe(before);
    // And the server still answers.
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it('answers 408 UPLOAD_STALLED to a client whose Content-Length promises more than the whole form it sent, and keeps nothing', async () => {
    const before = (t.app.db.sqlite.prepare('SELECT count(*) AS n FROM products').get() as { n: number }).n;
    const { body, headers } = multipartBody({ title: 'Độ dài khai sai', type: 'leaflet' }, [{ filename: 'to-roi.txt', data: Buffer.from('Tờ rơi có độ dài khai sai\n'.repeat(100)) }]);
    const { sock, got, closed } = rawUpload(headers, body.length + 1000);
    sock.write(body);
    await Promise.race([closed, new Promise((r) => setTimeout(r, 10_000))]);
    sock.destroy();
    expect(got.answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(JSON.parse(got.answer.slice(got.answer.indexOf('\r\n\r\n') + 4))).toMatchObject({ code: 'UPLOAD_STALLED' });
    for (let i = 0; i < 200 && (await readdir(join(t.dataDir, 'tmp'))).length > 0; i++) await new Promise((r) => setTimeout(r, 25));
    expect(await readdir(join(t.dataDir, 'tmp'))).toEqual([]);
    expect((t.app.db.sqlite.prepare('SELECT count(*) AS n FROM products').get() as { n: number }).n).toBe(before);
  });

  it('drops an upload whose client stops sending without closing, and keeps nothing', async () => {
    const before = (t.app.db.sqlite.prepare('SELECT count(*) AS n FROM products').get() as { n: number }).n;
    const big = Buffer.concat([await makePdf(1, 'stalled'), randomBinary(1024 * 1024, 11)]);
    const { body, headers } = multipartBody({ title: 'Mất mạng giữa chừng', type: 'book' }, [{ filename: 'dung.pdf', data: big }]);
    const head = Object.entries({ ...headers, 'content-length': String(body.length), authorization: `Bearer ${ADMIN_TOKEN}` }).map(([k, v]) => `${k}: ${v}`).join('\r\n');
    const sock = connect({ host: '127.0.0.1', port: Number(new URL(base).port) });
    const t0 = Date.now();
    const closed = new Promise<number>((resolve) => sock.on('close', () => resolve(Date.now() - t0)));
    let answer = '';
    sock.on('data', (d: Buffer) => (answer += d.toString('utf8')));
    sock.on('error', () => {});
    sock.write(`POST /api/products HTTP/1.1\r\nhost: 127.0.0.1\r\n${head}\r\n\r\n`);
    sock.write(body.subarray(0, Math.floor(body.length / 2)));
    // Nothing more is sent and the socket stays open: the server gives up after idleTimeoutMs (1.5 s).
    for (let i = 0; i < 100 && (await readdir(join(t.dataDir, 'tmp'))).length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect((await readdir(join(t.dataDir, 'tmp'))).length).toBe(1);
    const ms = await Promise.race([closed, new Promise<number>((r) => setTimeout(() => r(-1), 10_000))]);
    sock.destroy();
    expect(ms).toBeGreaterThan(1000);
    // The client, still reading, is told why before the connection closes.
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toMatchObject({ statusCode: 408, code: 'UPLOAD_STALLED' });
    for (let i = 0; i < 200 && (await readdir(join(t.dataDir, 'tmp'))).length > 0; i++) await new Promise((r) => setTimeout(r, 25));
    expect(await readdir(join(t.dataDir, 'tmp'))).toEqual([]);
    expect((t.app.db.sqlite.prepare('SELECT count(*) AS n FROM products').get() as { n: number }).n).toBe(before);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it('drops an upload that trickles below the rate floor (never idle long enough for the idle timer), and keeps nothing', async () => {
    const before = (t.app.db.sqlite.prepare('SELECT count(*) AS n FROM products').get() as { n: number }).n;
    const { body, headers } = multipartBody({ title: 'Tải lên nhỏ giọt', type: 'book' }, [{ filename: 'nho-giot.pdf', data: Buffer.concat([await makePdf(1, 'nho giot'), randomBinary(64 * 1024, 12)]) }]);
    const { sock, got, closed } = rawUpload(headers, body.length);
    // 100 bytes every 250 ms: 400 bytes a second, below the default floor of 1,024, and never
    // quiet for the idle timeout (1.5 s).
    let sent = 0;
    const trickle = setInterval(() => {
      if (sock.destroyed || sent >= body.length) return;
      sock.write(body.subarray(sent, sent + 100));
      sent += 100;
    }, 250);
    await Promise.race([closed, new Promise((r) => setTimeout(r, 10_000))]);
    clearInterval(trickle);
    sock.destroy();
    expect(got.answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(JSON.parse(got.answer.slice(got.answer.indexOf('\r\n\r\n') + 4))).toMatchObject({ statusCode: 408, code: 'UPLOAD_TOO_SLOW' });
    expect(sent).toBeLessThan(body.length);
    for (let i = 0; i < 200 && (await readdir(join(t.dataDir, 'tmp'))).length > 0; i++) await new Promise((r) => setTimeout(r, 25));
    expect(await readdir(join(t.dataDir, 'tmp'))).toEqual([]);
    expect((t.app.db.sqlite.prepare('SELECT count(*) AS n FROM products').get() as { n: number }).n).toBe(before);
  });
});
