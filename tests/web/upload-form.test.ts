/**
 * The upload form without JavaScript: a real multipart form posted to /nop, handed to the upload
 * pipeline of POST /api/products, answered 303 to the new record or with the form again.
 */
import CFB from 'cfb';
import { readdir } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestApp, multipartBody, type TestApp } from '../helpers/app.ts';
import { makePdf, randomBinary } from '../helpers/samples.ts';
import { createUser, firstAgency, login, type Session } from './helpers.ts';

/**
 * Every control of the upload page's form as a browser sends it: in the page's order, empty ones
 * too (an unchecked radio is not sent), the files last — the page must have its file input last.
 */
function browserForm(page: string, fields: Record<string, string>, files: Array<{ filename: string; data: Buffer; contentType?: string }>) {
  const form = /<form id="upload-form"[\s\S]*?<\/form>/.exec(page)![0];
  const controls = [...form.matchAll(/<(input|select|textarea)\b([^>]*)>/g)].map((m) => ({ tag: m[1], attrs: m[2], at: m.index }));
  const names = controls.map((c) => /\bname="([^"]+)"/.exec(c.attrs)?.[1]).filter((n): n is string => n !== undefined);
  expect(names.at(-1)).toBe('file');
  const all: Record<string, string> = {};
  for (const c of controls) {
    const name = /\bname="([^"]+)"/.exec(c.attrs)?.[1];
    if (!name || name === 'file') continue;
    if (/type="radio"/.test(c.attrs) && !/\bchecked\b/.test(c.attrs)) continue;
    const tail = form.slice(c.at);
    const shown =
      c.tag === 'input' ? /\bvalue="([^"]*)"/.exec(c.attrs)?.[1]
      // A select sends its selected option, else its first one.
      : c.tag === 'select' ? (/<option value="([^"]*)"[^>]*\bselected>/.exec(tail.slice(0, tail.indexOf('</select>'))) ?? /<option value="([^"]*)"/.exec(tail))?.[1]
      : /^<textarea[^>]*>([^<]*)<\/textarea>/.exec(tail)?.[1];
    all[name] = (shown ?? '').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  }
  for (const [k, v] of Object.entries(fields)) all[k] = v;
  return multipartBody(all, files);
}

describe('upload form without JavaScript', () => {
  let t: TestApp;
  let agency: Session;
  const count = () => (t.app.db.sqlite.prepare('SELECT COUNT(*) AS n FROM products').get() as { n: number }).n;
  const post = (session: Session, mp: { body: Buffer; headers: Record<string, string> }, query = '') =>
    t.app.inject({ method: 'POST', url: `/nop${query}`, headers: { ...mp.headers, cookie: session.cookie }, payload: mp.body });
  let uploadPage = '';
  const browserPost = async (fields: Record<string, string>, files: Array<{ filename: string; data: Buffer; contentType?: string }>, query?: string) =>
    post(agency, browserForm(uploadPage, fields, files), query);

  beforeAll(async () => {
    t = await makeTestApp({ jobs: { workers: 0 }, upload: { maxFileBytes: 64 * 1024 } });
    const a = await firstAgency(t.app);
    await createUser(t.app, 'can-bo-nop', 'agency', a.code);
    agency = await login(t.app, 'can-bo-nop');
    uploadPage = (await t.app.inject({ url: '/nop', headers: { cookie: agency.cookie } })).body;
  });
  afterAll(async () => t?.close());

  it('is a multipart form posting to the page, with its button usable without a script', async () => {
    const page = (await t.app.inject({ url: '/nop', headers: { cookie: agency.cookie } })).body;
    // The CSRF token is in the body (the form's first control), never in the URL.
    expect(page).toContain('action="/nop" enctype="multipart/form-data"');
    const form = /<form id="upload-form"[\s\S]*?<\/form>/.exec(page)![0];
    expect(/<(?:input|select|textarea)\b[^>]*>/.exec(form)![0]).toBe(`<input type="hidden" name="_csrf" value="${agency.csrf}">`);
    expect(page).not.toContain('_csrf=');
    expect(page).toMatch(/<button type="submit" id="upload-submit">/);
    expect(page).not.toContain('<noscript>');
    expect(page).toContain('<input type="hidden" name="onDuplicate" value="reject">');
  });

  it('creates the record and answers 303 to its page', async () => {
    const before = count();
    const pdf = await makePdf(2, 'Bao cao tong ket');
    const res = await browserPost({ type: 'book', title: 'Sách “Non nước Cao Bằng”', subjects: 'du lịch, lịch sử' }, [{ filename: 'non-nuoc.pdf', data: pdf, contentType: 'application/pdf' }]);
    expect(res.statusCode).toBe(303);
    const m = /^\/san-pham\/(\d+)\?nop=1$/.exec(String(res.headers.location));
    expect(m).not.toBeNull();
    expect(count()).toBe(before + 1);
    const row = t.app.db.sqlite.prepare('SELECT title, state FROM products WHERE id = ?').get(Number(m![1])) as { title: string; state: string };
    expect(row).toEqual({ title: 'Sách “Non nước Cao Bằng”', state: 'submitted' });
    const page = (await t.app.inject({ url: String(res.headers.location), headers: { cookie: agency.cookie } })).body;
    expect(page).toContain(`Đã nộp thành công. Mã hồ sơ: ${m![1]}.`);
  });

  it('takes an archivist form with the staff fields (agency, physical copy, access) as the browser sends it', async () => {
    await createUser(t.app, 'luu-tru-nop', 'archivist');
    const archivist = await login(t.app, 'luu-tru-nop');
    const page = (await t.app.inject({ url: '/nop', headers: { cookie: archivist.cookie } })).body;
    expect(page).toContain('id="f-agency"');
    const a = await firstAgency(t.app);
    const res = await post(archivist, browserForm(page, { type: 'leaflet', title: 'Áp phích “Ngày hội Đại đoàn kết”', agency: a.code, copyShelf: 'Kệ A-3' }, [{ filename: 'ap-phich.pdf', data: await makePdf(1, 'ap phich') }]));
    expect(res.statusCode, [...res.body.matchAll(/<p class="field-error" id="([^"]+)">([^<]*)/g)].map((m) => m[1] + ' ' + m[2]).join('; ')).toBe(303);
    const id = Number(/(\d+)/.exec(String(res.headers.location))![1]);
    const row = t.app.db.sqlite.prepare('SELECT p.title, a.code FROM products p JOIN agencies a ON a.id = p.agency_id WHERE p.id = ?').get(id) as { title: string; code: string };
    expect(row).toEqual({ title: 'Áp phích “Ngày hội Đại đoàn kết”', code: a.code });
  });

  it('shows a refused file in the page language, keeps what was typed, and stores nothing', async () => {
    const before = count();
    const typed = { type: 'leaflet', title: 'Tờ rơi “Phòng chống cháy rừng” & <b>', description: 'Mô tả dài\nhai dòng' };
    const res = await browserPost(typed, [{ filename: 'chay-rung.exe', data: randomBinary(2048, 7) }]);
    expect(res.statusCode).toBe(415);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.body).toContain('Không nhận loại tệp của “chay-rung.exe”');
    expect(res.body).toContain('value="Tờ rơi “Phòng chống cháy rừng” &amp; &lt;b&gt;"');
    expect(res.body).toContain('>Mô tả dài\nhai dòng</textarea>');
    expect(res.body).toMatch(/<option value="leaflet" selected>/);
    expect(count()).toBe(before);
    expect(await readdir(join(t.dataDir, 'tmp')).catch(() => [])).toEqual([]);

    // A password-protected Office file is named as such, not as an unknown type.
    const cfb = CFB.utils.cfb_new();
    CFB.utils.cfb_add(cfb, '/EncryptionInfo', Buffer.from([4, 0, 4, 0, 0x40, 0, 0, 0]));
    CFB.utils.cfb_add(cfb, '/EncryptedPackage', randomBinary(8192, 5));
    const locked = await browserPost(typed, [{ filename: 'ke-hoach.docx', data: Buffer.from(CFB.write(cfb, { type: 'buffer' }) as Uint8Array) }]);
    expect(locked.statusCode).toBe(415);
    expect(locked.body).toContain('Tệp “ke-hoach.docx” là tài liệu Office (Word, Excel hoặc PowerPoint) có đặt mật khẩu');
    expect(count()).toBe(before);
    const en = await browserPost(typed, [{ filename: 'lon.pdf', data: Buffer.concat([await makePdf(1), randomBinary(70 * 1024, 3)]) }], '?lang=en');
    expect(en.statusCode).toBe(413);
    expect(en.body).toContain('File “lon.pdf” is too large: each file may be at most 64 KB.');
    expect(count()).toBe(before);
  });

  it('shows a missing title next to its field', async () => {
    const res = await browserPost({ type: 'book', description: 'Giữ lại mô tả' }, [{ filename: 'a.pdf', data: await makePdf(1, 'thieu tieu de') }]);
    expect(res.statusCode).toBe(400);
    expect(res.body).toMatch(/<input id="f-title" name="title" type="text" value="" required maxlength="500" aria-describedby="title-error" aria-invalid="true" autofocus>/);
    expect(res.body).toContain('id="title-error"');
    expect(res.body).toContain('>Giữ lại mô tả</textarea>');
  });

  it('names the record a duplicate file is already in, and hands the copy in flagged when asked', async () => {
    const pdf = await makePdf(3, 'Ban trung lap');
    const first = await browserPost({ type: 'book', title: 'Bản gốc' }, [{ filename: 'goc.pdf', data: pdf }]);
    const firstId = Number(/(\d+)/.exec(String(first.headers.location))![1]);
    const before = count();
    const again = await browserPost({ type: 'book', title: 'Bản nộp lại' }, [{ filename: 'lai.pdf', data: pdf }]);
    expect(again.statusCode).toBe(409);
    expect(again.body).toContain('Tệp “lai.pdf” trùng với sản phẩm đã có trong kho:');
    expect(again.body).toContain(`<a href="/san-pham/${firstId}">Bản gốc</a>`);
    expect(again.body).toContain('<input type="radio" id="dup-flag" name="onDuplicate" value="flag">');
    expect(again.body).toContain('value="Bản nộp lại"');
    expect(again.body).not.toContain('<input type="hidden" name="onDuplicate"');
    expect(count()).toBe(before);

    // The refused page's own form, the files picked again and "submit anyway" chosen.
    const flagged = await post(agency, browserForm(again.body, { onDuplicate: 'flag' }, [{ filename: 'lai.pdf', data: pdf }]));
    expect(flagged.statusCode).toBe(303);
    expect(count()).toBe(before + 1);
  });

  /** The upload page's form as a browser sends it, its `_csrf` part replaced, left out or moved after the files. */
  const csrfVariant = (token: string | null, where: 'first' | 'after-file' = 'first') => {
    const files = [{ filename: 'g.pdf', data: Buffer.from('%PDF-1.4 gia mao') }];
    const { body, headers } = browserForm(uploadPage, { type: 'book', title: 'Giả mạo' }, files);
    const boundary = /boundary=(.+)$/.exec(headers['content-type'])![1];
    // Drop the page's own `_csrf` part (the first), then put the chosen one where asked.
    const text = body.toString('latin1');
    const own = `--${boundary}\r\nContent-Disposition: form-data; name="_csrf"\r\n\r\n${agency.csrf}\r\n`;
    expect(text.startsWith(own)).toBe(true);
    let rest = text.slice(own.length);
    const part = token === null ? '' : `--${boundary}\r\nContent-Disposition: form-data; name="_csrf"\r\n\r\n${token}\r\n`;
    if (where === 'first') rest = part + rest;
    else rest = rest.replace(`--${boundary}--\r\n`, `${part}--${boundary}--\r\n`);
    return { body: Buffer.from(rest, 'latin1'), headers };
  };

  it('refuses a form whose CSRF token is wrong, missing, or only in the URL, and stores nothing', async () => {
    const before = count();
    for (const [mp, query] of [
      [csrfVariant('sai'), ''],
      [csrfVariant(null), ''],
      // The old form's place for it: a token in the URL is not taken any more.
      [csrfVariant(null), `?_csrf=${encodeURIComponent(agency.csrf)}`],
    ] as const) {
      const res = await post(agency, mp, query);
      expect(res.statusCode).toBe(403);
      expect(res.headers['content-type']).toMatch(/text\/html/);
      expect(res.body).toContain('Biểu mẫu đã hết hạn hoặc không hợp lệ');
      expect(res.body).toContain('Mã lỗi: CSRF_TOKEN_INVALID');
      // A fresh form to send again, its token in the body.
      expect(res.body).toContain(`<input type="hidden" name="_csrf" value="${agency.csrf}">`);
    }
    expect(count()).toBe(before);
    expect(await readdir(join(t.dataDir, 'tmp')).catch(() => [])).toEqual([]);
  });

  it('refuses a token sent after a file part before any file byte is written', async () => {
    const before = count();
    const tmp = join(t.dataDir, 'tmp');
    const created: string[] = [];
    const { watch } = await import('node:fs');
    const w = watch(tmp, (_ev, name) => name && created.push(String(name)));
    try {
      const res = await post(agency, csrfVariant(agency.csrf, 'after-file'));
      expect(res.statusCode).toBe(403);
      expect(res.body).toContain('Mã lỗi: CSRF_TOKEN_INVALID');
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      w.close();
    }
    expect(created).toEqual([]);
    expect(count()).toBe(before);
    expect(await readdir(tmp)).toEqual([]);
    // The same form with its token first goes through.
    const ok = await post(agency, csrfVariant(agency.csrf));
    expect(ok.statusCode).toBe(303);
    expect(count()).toBe(before + 1);
  });

  /**
   * A server of its own, an agency user's session, and half of a form post of ~1 MB written on a
   * raw socket (the other half never sent); returns once the upload's temp file exists.
   */
  async function halfFormPost(s2: TestApp, user: string, title: string, seed: number, lang: 'vi' | 'en' = 'vi') {
    await s2.app.listen({ host: '127.0.0.1', port: 0 });
    const port = (s2.app.server.address() as { port: number }).port;
    const a = await firstAgency(s2.app);
    await createUser(s2.app, user, 'agency', a.code);
    const session = await login(s2.app, user);
    const page = (await s2.app.inject({ url: '/nop', headers: { cookie: session.cookie } })).body;
    const big = Buffer.concat([await makePdf(1, user), randomBinary(1024 * 1024, seed)]);
    const { body, headers } = browserForm(page, { type: 'book', title }, [{ filename: `${user}.pdf`, data: big }]);
    const head = Object.entries({ ...headers, 'content-length': String(body.length), cookie: `${session.cookie}; lang=${lang}` }).map(([k, v]) => `${k}: ${v}`).join('\r\n');
    const sock = connect({ host: '127.0.0.1', port });
    sock.on('error', () => {});
    const t0 = Date.now();
    const closed = new Promise<number>((resolve) => sock.on('close', () => resolve(Date.now() - t0)));
    const received: Buffer[] = [];
    sock.on('data', (d: Buffer) => received.push(d));
    const answer = () => Buffer.concat(received).toString('utf8');
    sock.write(`POST /nop HTTP/1.1\r\nhost: 127.0.0.1\r\n${head}\r\n\r\n`);
    sock.write(body.subarray(0, Math.floor(body.length / 2)));
    const tmp = join(s2.dataDir, 'tmp');
    for (let i = 0; i < 200 && (await readdir(tmp).catch(() => [])).length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect((await readdir(tmp)).length).toBe(1);
    return { port, sock, closed, tmp, answer };
  }

  /** Nothing of the upload is left, and the server still answers. */
  async function expectNothingKept(s2: TestApp, tmp: string, port: number) {
    for (let i = 0; i < 200 && (await readdir(tmp)).length > 0; i++) await new Promise((r) => setTimeout(r, 25));
    expect(await readdir(tmp)).toEqual([]);
    expect((s2.app.db.sqlite.prepare('SELECT COUNT(*) AS n FROM products').get() as { n: number }).n).toBe(0);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
  }

  it('drops a form post whose browser stops sending, and keeps nothing', async () => {
    const s2 = await makeTestApp({ jobs: { workers: 0 }, upload: { idleTimeoutMs: 1000 } });
    try {
      const { port, sock, closed, tmp, answer } = await halfFormPost(s2, 'can-bo-mat-mang', 'Mất mạng giữa chừng', 5);
      const ms = await Promise.race([closed, new Promise<number>((r) => setTimeout(() => r(-1), 10_000))]);
      sock.destroy();
      expect(ms).toBeGreaterThan(900);
      // Answered with the form and the reason in the page language before the connection closed.
      expect(answer()).toMatch(/^HTTP\/1\.1 408 /);
      expect(answer()).toMatch(/\r\nconnection: close\r\n/i);
      expect(answer()).toContain('<html lang="vi">');
      expect(answer()).toContain('Máy chủ không nhận được dữ liệu nào trong 1 giây nên đã dừng việc tải lên');
      expect(answer()).toContain('Mã lỗi: UPLOAD_STALLED');
      expect(answer()).toContain('value="Mất mạng giữa chừng"');
      await expectNothingKept(s2, tmp, port);
    } finally {
      await s2.close();
    }
  });

  it('answers a trickling form post with the reason in English when the page is English, and keeps nothing', async () => {
    const s2 = await makeTestApp({ jobs: { workers: 0 }, upload: { idleTimeoutMs: 400, minBytesPerSecond: 64 * 1024 } });
    try {
      const { port, sock, closed, tmp, answer } = await halfFormPost(s2, 'can-bo-mang-cham', 'Mạng chậm', 7, 'en');
      // A few bytes now and then: never idle, far under the floor.
      const trickle = setInterval(() => sock.write('x'), 50);
      const ms = await Promise.race([closed, new Promise<number>((r) => setTimeout(() => r(-1), 10_000))]);
      clearInterval(trickle);
      sock.destroy();
      expect(ms).toBeGreaterThan(700);
      expect(answer()).toMatch(/^HTTP\/1\.1 408 /);
      expect(answer()).toContain('<html lang="en">');
      expect(answer()).toContain('The connection was too slow (under 64 KB/s), so the upload was stopped');
      expect(answer()).toContain('Error code: UPLOAD_TOO_SLOW');
      await expectNothingKept(s2, tmp, port);
    } finally {
      await s2.close();
    }
  });

  it('keeps nothing from a form post whose browser goes away mid-upload', async () => {
    const s2 = await makeTestApp({ jobs: { workers: 0 } });
    try {
      const { port, sock, tmp } = await halfFormPost(s2, 'can-bo-dong-tab', 'Đóng thẻ giữa chừng', 6);
      sock.destroy();
      await expectNothingKept(s2, tmp, port);
    } finally {
      await s2.close();
    }
  });
});
