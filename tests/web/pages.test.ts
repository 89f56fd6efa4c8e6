/** Inject-level tests of the web UI: escaping, CSP, CSRF on every form, 404 page, language switch, login, static caching, workflow forms. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, makeTestApp, multipartBody, type TestApp } from '../helpers/app.ts';
import { makePng } from '../helpers/samples.ts';
import { MEDIA_TYPES } from '../../server/ingest/media-types.ts';
import { formatLabel } from '../../server/web/pages/record.ts';
import { searchedFor } from '../../server/web/pages/search.ts';
import { createUser, firstAgency, login, makeProduct, postForms, PASSWORD, type Session } from './helpers.ts';

const XSS = '<script>alert(1)</script><img src=x onerror=alert(2)>';

describe('web pages', () => {
  let t: TestApp;
  let archivist: Session;
  let agencyUser: Session;
  let admin: Session;
  let xssId: number;
  let agencyCode: string;

  beforeAll(async () => {
    t = await makeTestApp({ jobs: { workers: 0 } });
    const agency = await firstAgency(t.app);
    agencyCode = agency.code;
    await createUser(t.app, 'luu-tru', 'archivist');
    await createUser(t.app, 'co-quan', 'agency', agency.code);
    await createUser(t.app, 'quan-tri', 'admin');
    archivist = await login(t.app, 'luu-tru');
    agencyUser = await login(t.app, 'co-quan');
    admin = await login(t.app, 'quan-tri');
    xssId = await makeProduct(t.app, { title: `Sổ tay ${XSS}`, description: `Mô tả ${XSS}`, agency: agency.code, year: '2023' }, { publish: true });
  });
  afterAll(async () => t?.close());

  const get = (url: string, s?: Session, headers: Record<string, string> = {}) =>
    t.app.inject({ method: 'GET', url, headers: { ...(s ? { cookie: s.cookie } : {}), ...headers } });

  it('shows a record titled with markup as text on the search page and the record page', async () => {
    for (const url of ['/', `/?q=${encodeURIComponent('so tay')}`, `/san-pham/${xssId}`]) {
      const res = await get(url);
      expect(res.statusCode, url).toBe(200);
      expect(res.body, url).not.toContain('<script>alert(1)');
      expect(res.body, url).not.toContain('<img src=x');
      expect(res.body, url).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    }
  });

  it('marks the service name as Vietnamese in the header of an English page', async () => {
    const en = (await get('/?lang=en')).body;
    expect(en).toContain('<html lang="en">');
    expect(en).toContain('<div class="brand"><a href="/"><span lang="vi">Kho tư liệu</span> (Archive)</a>');
    const vi = (await get('/?lang=vi')).body;
    expect(vi).toContain('<div class="brand"><a href="/">Kho tư liệu</a>');
  });

  it('sends a strict CSP and other security headers with every page', async () => {
    const res = await get('/');
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("object-src 'none'");
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['referrer-policy']).toBe('same-origin');
    // No inline scripts or styles anywhere: only external modules and JSON data blocks.
    for (const url of ['/', `/san-pham/${xssId}`, '/nop', '/tham-dinh', '/bao-cao', '/quan-tri', '/dang-nhap']) {
      const page = (await get(url, admin)).body;
      for (const m of page.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)) {
        if (/type="application\/json"/.test(m[1])) continue;
        expect(m[1], url).toMatch(/src="\/static\//);
        expect(m[2].trim(), url).toBe('');
      }
      expect(page, url).not.toMatch(/<style|\sstyle="/);
      // An icon of its own, so no browser asks for /favicon.ico (a 404 in every console).
      expect(page, url).toContain('<link rel="icon" href="data:,">');
      expect(page, url).not.toMatch(/\son[a-z]+="/);
    }
  });

  it('puts a CSRF token in every form that posts', async () => {
    const pages: Array<[string, Session | undefined]> = [
      ['/dang-nhap', undefined],
      [`/san-pham/${xssId}`, archivist],
      [`/san-pham/${xssId}/sua`, archivist],
      ['/tham-dinh', archivist],
      ['/quan-tri', admin],
      ['/cua-toi', agencyUser],
      ['/nop', agencyUser],
      ['/', archivist],
    ];
    let forms = 0;
    for (const [url, s] of pages) {
      const res = await get(url, s);
      expect(res.statusCode, url).toBe(200);
      const token = s ? s.csrf : undefined;
      for (const f of postForms(res.body)) {
        forms++;
        const m = /name="_csrf" value="([^"]+)"/.exec(f);
        expect(m, `${url}: ${f.slice(0, 80)}`).not.toBeNull();
        if (token) expect(m![1]).toBe(token);
      }
    }
    expect(forms).toBeGreaterThan(10);
    // Multipart upload form: the token travels as a header from upload.js, and the page carries it in the meta tag.
    const up = await get('/nop', agencyUser);
    expect(up.body).toContain(`<meta name="csrf-token" content="${agencyUser.csrf}">`);
  });

  it('refuses form posts with a wrong or missing CSRF token', async () => {
    const id = await makeProduct(t.app, { title: 'Tờ gấp kiểm tra CSRF', agency: agencyCode });
    const bad = await t.app.inject({
      method: 'POST', url: `/san-pham/${id}/chuyen`, headers: { cookie: archivist.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'action=start_review&_csrf=wrong',
    });
    expect(bad.statusCode).toBe(403);
    expect(bad.headers['content-type']).toMatch(/text\/html/);
    const state = () => (t.app.db.sqlite.prepare('SELECT state FROM products WHERE id = ?').get(id) as { state: string }).state;
    expect(state()).toBe('submitted');
    const good = await t.app.inject({
      method: 'POST', url: `/san-pham/${id}/chuyen`, headers: { cookie: archivist.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      payload: `action=start_review&_csrf=${encodeURIComponent(archivist.csrf)}`,
    });
    expect(good.statusCode).toBe(303);
    expect(good.headers.location).toBe(`/san-pham/${id}?da=start_review`);
    expect(state()).toBe('in_review');
    // Anonymous login form: double-submit cookie.
    const noToken = await t.app.inject({ method: 'POST', url: '/dang-nhap', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `username=luu-tru&password=${PASSWORD}` });
    expect(noToken.statusCode).toBe(403);
    expect(noToken.cookies.find((c) => c.name === 'kho_session')).toBeUndefined();
  });

  it('does not call a still image "1 page" in the file facts', async () => {
    const id = await makeProduct(t.app, { title: 'Ảnh tư liệu một trang', type: 'photo' }, { publish: true, files: [{ filename: 'anh.png', data: await makePng(40, 30, 5) }] });
    // The facts as the image extractor records them (no job workers in this app).
    t.app.db.sqlite.prepare(`UPDATE blobs SET metadata = '{"format":"png","width":40,"height":30,"pages":1}' WHERE sha256 IN (SELECT sha256 FROM product_files WHERE product_id = ?)`).run(id);
    const facts = /<p class="facts">([^<]*)/.exec((await get(`/san-pham/${id}`)).body)?.[1] ?? '';
    expect(facts).toContain('40 × 30 điểm ảnh');
    expect(facts).not.toContain('trang');
  });

  it('names file formats in English on the English record page, as Vietnamese does', async () => {
    const vi = /<p class="facts">([^<]*)/.exec((await get(`/san-pham/${xssId}`)).body)?.[1] ?? '';
    expect(vi).toContain('Tài liệu PDF');
    const en = /<p class="facts">([^<]*)/.exec((await get(`/san-pham/${xssId}?lang=en`)).body)?.[1] ?? '';
    expect(en).toContain('PDF document');
    expect(en).not.toContain('application/pdf');
    // Every accepted type has an English name: no media type, no Vietnamese word.
    for (const m of MEDIA_TYPES) {
      const label = formatLabel(m.mediaType, 'en');
      expect(label, m.mediaType).not.toContain('/');
      expect(label, m.mediaType).not.toMatch(/[ÀÁẢÃẠĂÂĐÊÔƠƯàáảãạăâđèéẻẽẹêìíỉĩịòóỏõọôơùúủũụưỳýỷỹỵ]/);
    }
    expect(formatLabel('image/jpeg', 'en')).toBe('JPEG image');
    expect(formatLabel('audio/mpeg', 'en')).toBe('MP3 audio');
  });

  it('writes dates date first with the whole year, sizes in the page language, and English singulars', async () => {
    const id = await makeProduct(t.app, { title: 'Tờ rơi một trang', type: 'leaflet', releaseDate: '2023-05-19' }, { publish: true });
    t.app.db.sqlite.prepare(`UPDATE products SET submitted_at = '2026-11-27T07:31:00.000Z' WHERE id = ?`).run(id);
    t.app.db.sqlite.prepare(`UPDATE blobs SET metadata = '{"pages":1}' WHERE sha256 IN (SELECT sha256 FROM product_files WHERE product_id = ?)`).run(id);
    const vi = (await get(`/san-pham/${id}`, archivist)).body;
    expect(vi).toContain('<dt>Ngày nộp</dt><dd>27/11/2026 14:31</dd>'); // 07:31 UTC is 14:31 in Cao Bằng
    expect(vi).toContain('<dt>Ngày phát hành</dt><dd>19/05/2023</dd>');
    expect(vi).not.toMatch(/\d\d:\d\d \d\d\/\d\d\/\d\d\b/); // never "14:31 27/11/26"
    expect(/<p class="facts">([^<]*)/.exec(vi)?.[1]).toMatch(/^1 trang · Dung lượng \d+,\d KB · /);
    const en = (await get(`/san-pham/${id}?lang=en`, archivist)).body;
    expect(en).toContain('<dt>Submitted</dt><dd>27/11/2026 14:31</dd>');
    expect(en).toContain('<dt>Release date</dt><dd>19/05/2023</dd>');
    expect(/<p class="facts">([^<]*)/.exec(en)?.[1]).toMatch(/^1 page · Size \d+\.\d KB · /);
    const search = (await get(`/?q=${encodeURIComponent('tờ rơi một trang')}&lang=en`)).body;
    expect(search).toContain('<h2 id="results-heading">1 result</h2>');
    expect(search).toMatch(/<span class="count">1<span class="visually-hidden"> product<\/span>/);
    expect(search).not.toMatch(/>1<span class="visually-hidden"> products</);
  });

  it('links each file to a download that the file route answers as an attachment', async () => {
    const page = (await get(`/san-pham/${xssId}`)).body;
    const links = [...page.matchAll(/<a class="download" href="([^"]+)"/g)].map((m) => m[1].replace(/&amp;/g, '&'));
    expect(links.length).toBeGreaterThan(0);
    for (const href of links) {
      const res = await get(href);
      expect(res.statusCode, href).toBe(200);
      expect(String(res.headers['content-disposition']), href).toMatch(/^attachment/);
    }
  });

  it('returns a record with a reason through the form, and refuses an empty reason in Vietnamese', async () => {
    const id = await makeProduct(t.app, { title: 'Bản đồ du lịch Cao Bằng', agency: agencyCode });
    const post = (body: string) => t.app.inject({ method: 'POST', url: `/san-pham/${id}/chuyen`, headers: { cookie: archivist.cookie, 'content-type': 'application/x-www-form-urlencoded' }, payload: `${body}&_csrf=${encodeURIComponent(archivist.csrf)}` });
    const empty = await post('action=return&reason=');
    expect(empty.statusCode).toBe(400);
    expect(empty.body).toContain('Hãy ghi lý do trả lại.');
    // … next to the reason field too.
    expect(empty.body).toMatch(/<textarea id="reason" name="reason" rows="2" aria-describedby="reason-help reason-error" aria-invalid="true"/);
    expect(empty.body).toContain('<p class="field-error" id="reason-error">Hãy ghi lý do trả lại.</p>');
    const ok = await post(`action=return&reason=${encodeURIComponent('Thiếu trang bìa')}`);
    expect(ok.statusCode).toBe(303);
    // The history names the actions in Vietnamese, not by their codes.
    const history = (await get(`/san-pham/${id}`, archivist)).body.split('id="hist-h"')[1];
    expect(history).toMatch(/<td[^>]*>Tạo hồ sơ<\/td>/);
    expect(history).toMatch(/<td[^>]*>Trả lại<\/td>/);
    expect(history).not.toMatch(/<td[^>]*>(create|return)<\/td>/);
    const mine = await get('/cua-toi', agencyUser);
    expect(mine.body).toContain('Bản đồ du lịch Cao Bằng');
    expect(mine.body).toContain('Thiếu trang bìa');
    expect(mine.body).toContain(`/san-pham/${id}/sua`);
  });

  it('shows the record history readably in the page language, never as raw JSON', async () => {
    const id = await makeProduct(t.app, { title: 'Sách lịch sử hồ sơ', agency: agencyCode });
    const long = `Mô tả rất dài ${'về lịch sử Cao Bằng '.repeat(10)}kết thúc`;
    const patch = await t.app.inject({ method: 'PATCH', url: `/api/products/${id}`, headers: { ...auth(), 'if-match': '"v1"' }, payload: { printRun: 5000, releaseDate: '2023-05-19', description: long, languages: ['vi', 'tay'] } });
    expect(patch.statusCode, patch.body).toBe(200);
    const move = await t.app.inject({ method: 'POST', url: `/api/products/${id}/transitions`, headers: auth(), payload: { action: 'start_review' } });
    expect(move.statusCode).toBe(200);
    const vi = (await get(`/san-pham/${id}`, archivist)).body.split('id="hist-h"')[1];
    expect(vi).not.toMatch(/[{}[\]]|&quot;|null|in_review|sha256/);
    expect(vi).toContain('<span class="change-field">Trạng thái:</span> Mới nộp <span aria-hidden="true">→</span><span class="visually-hidden">thành</span> Đang thẩm định');
    expect(vi).toContain('<span class="change-field">Số lượng in:</span> (trống) <span aria-hidden="true">→</span><span class="visually-hidden">thành</span> 5.000');
    expect(vi).toContain('Ngày phát hành:</span> (trống) <span aria-hidden="true">→</span><span class="visually-hidden">thành</span> 19/05/2023');
    expect(vi).toContain('Ngôn ngữ:</span> Tiếng Việt <span aria-hidden="true">→</span><span class="visually-hidden">thành</span> Tiếng Việt, Tiếng Tày');
    expect(vi).toContain('<span class="change-field">Tệp:</span> tai-lieu.pdf');
    // A long value is shortened with an ellipsis, the whole of it in the tooltip.
    expect(vi).toMatch(new RegExp(`<span title="${long}">Mô tả rất dài [^<]*…</span>`));
    const en = (await get(`/san-pham/${id}?lang=en`, archivist)).body.split('id="hist-h"')[1];
    expect(en).toContain('<span class="change-field">State:</span> Submitted <span aria-hidden="true">→</span><span class="visually-hidden">changed to</span> In review');
    expect(en).toContain('<span class="change-field">Print run:</span> (empty) <span aria-hidden="true">→</span><span class="visually-hidden">changed to</span> 5,000');
  });

  it('logs in through the form and out again', async () => {
    const page = await get('/dang-nhap?next=/cua-toi');
    const csrfCookie = page.cookies.find((c) => c.name === 'kho_csrf')!;
    const token = /name="_csrf" value="([^"]+)"/.exec(page.body)![1];
    expect(token).toBe(csrfCookie.value);
    const wrong = await t.app.inject({ method: 'POST', url: '/dang-nhap?next=/cua-toi', headers: { cookie: `kho_csrf=${token}`, 'content-type': 'application/x-www-form-urlencoded' }, payload: `_csrf=${token}&username=co-quan&password=sai-mat-khau-000` });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.body).toContain('Sai tên đăng nhập hoặc mật khẩu.');
    const res = await t.app.inject({ method: 'POST', url: '/dang-nhap?next=/cua-toi', headers: { cookie: `kho_csrf=${token}`, 'content-type': 'application/x-www-form-urlencoded' }, payload: `_csrf=${token}&username=co-quan&password=${PASSWORD}` });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/cua-toi');
    const session = res.cookies.find((c) => c.name === 'kho_session')!;
    expect(session.httpOnly).toBe(true);
    const mine = await get('/cua-toi', { cookie: `kho_session=${session.value}`, csrf: '' });
    expect(mine.statusCode).toBe(200);
    expect(mine.body).toContain('Sản phẩm của tôi');
    const csrf = /name="csrf-token" content="([^"]+)"/.exec(mine.body)![1];
    const out = await t.app.inject({ method: 'POST', url: '/dang-xuat', headers: { cookie: `kho_session=${session.value}`, 'content-type': 'application/x-www-form-urlencoded' }, payload: `_csrf=${csrf}` });
    expect(out.statusCode).toBe(303);
    const after = await get('/cua-toi', { cookie: `kho_session=${session.value}`, csrf: '' });
    expect(after.statusCode).toBe(303);
    expect(after.headers.location).toMatch(/^\/dang-nhap\?next=/);
  });

  it('after a session ended, a workflow action comes back to the record page once logged in again', async () => {
    const id = await makeProduct(t.app, { title: 'Tờ rơi hết phiên', agency: agencyCode });
    // The form posts with a session cookie the server no longer knows.
    const res = await t.app.inject({ method: 'POST', url: `/san-pham/${id}/chuyen`, headers: { cookie: 'kho_session=het-han', 'content-type': 'application/x-www-form-urlencoded' }, payload: `action=start_review&reason=&_csrf=x` });
    // (With a reason typed, the login page keeps it: tests/web/webui-probes.test.ts.)
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe(`/dang-nhap?next=${encodeURIComponent(`/san-pham/${id}`)}`);
    const page = await get(String(res.headers.location));
    expect(page.body).toContain('Hãy đăng nhập để tiếp tục.');
    expect(page.body).toContain(`action="/dang-nhap?next=${encodeURIComponent(`/san-pham/${id}`)}"`);
    expect((await get(`/san-pham/${id}`, archivist)).statusCode).toBe(200);
    // The answer page of a workflow form: its language switch (a GET of the same URL) leads to the record.
    const errorPage = await t.app.inject({ method: 'POST', url: `/san-pham/${id}/chuyen`, headers: { cookie: archivist.cookie, 'content-type': 'application/x-www-form-urlencoded' }, payload: `action=return&reason=&_csrf=${encodeURIComponent(archivist.csrf)}` });
    expect(errorPage.body).toContain(`href="/san-pham/${id}/chuyen?lang=en"`);
    const switched = await get(`/san-pham/${id}/chuyen?lang=en`, archivist);
    expect(switched.statusCode).toBe(303);
    expect(switched.headers.location).toBe(`/san-pham/${id}?lang=en`);
    // Pages whose form posts to themselves come back to themselves (the editor through a login
    // page that keeps what was typed: see tests/web/webui-probes.test.ts).
    const edit = await t.app.inject({ method: 'POST', url: `/san-pham/${id}/sua`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'title=x' });
    expect(edit.statusCode).toBe(401);
    expect(edit.body).toContain(`action="/dang-nhap?next=${encodeURIComponent(`/san-pham/${id}/sua`)}"`);
  });

  it('keeps unsafe redirects out of login', async () => {
    const page = await get('/dang-nhap?next=//evil.example/x');
    expect(page.body).toContain('action="/dang-nhap?next=%2F"');
  });

  it('gates pages by role', async () => {
    expect((await get('/tham-dinh')).statusCode).toBe(303);
    expect((await get('/tham-dinh', agencyUser)).statusCode).toBe(403);
    expect((await get('/quan-tri', archivist)).statusCode).toBe(403);
    expect((await get('/tham-dinh', archivist)).statusCode).toBe(200);
  });

  it('answers unknown pages with a friendly HTML 404 and unknown API routes with JSON', async () => {
    const page = await get('/khong-co-trang-nay');
    expect(page.statusCode).toBe(404);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.body).toContain('Không tìm thấy trang');
    expect(page.body).toContain('<html lang="vi">');
    const api = await get('/api/khong-co');
    expect(api.statusCode).toBe(404);
    expect(api.json().code).toBe('ROUTE_NOT_FOUND');
    const rec = await get('/san-pham/999999');
    expect(rec.statusCode).toBe(404);
    expect(rec.body).toContain('Không tìm thấy sản phẩm này');
  });

  it('links back to the last page of results from a page past it', async () => {
    for (let i = 0; i < 21; i++) await makeProduct(t.app, { title: `Bản tin phân trang ${i}`, year: '2020' }, { publish: true });
    const page = await get(`/?q=${encodeURIComponent('phân trang')}&page=7`);
    expect(page.statusCode).toBe(200);
    // There are results, just not on this page: said so, not "nothing found".
    expect(page.body).not.toContain('Không tìm thấy sản phẩm nào');
    expect(page.body).toContain('Danh sách chỉ có 2 trang: trang 7 không có kết quả nào. <a href="/?q=ph%C3%A2n+trang&amp;page=2">Về trang 2</a>');
    expect(page.body).toMatch(/<a rel="prev" href="\/\?q=ph%C3%A2n\+trang&amp;page=2">/);
    expect(page.body).toMatch(/<a href="\/\?q=ph%C3%A2n\+trang" aria-label="Trang 1">1<\/a>/);
  });

  it('switches language with ?lang= and remembers it in a cookie', async () => {
    const vi = await get('/');
    expect(vi.body).toContain('<html lang="vi">');
    expect(vi.body).toContain('Tra cứu');
    const en = await get('/?lang=en');
    expect(en.body).toContain('<html lang="en">');
    expect(en.body).toContain('Newest published products');
    const cookie = en.cookies.find((c) => c.name === 'lang');
    expect(cookie?.value).toBe('en');
    const again = await get('/dang-nhap', undefined, { cookie: 'lang=en' });
    expect(again.body).toContain('<html lang="en">');
    expect(again.body).toContain('Log in');
    // The switch link keeps the current query.
    const withQuery = await get('/?q=sach&type=book');
    expect(withQuery.body).toMatch(/href="\/\?q=sach&amp;type=book&amp;lang=en"/);
  });

  it('serves static assets with a strong ETag and immutable caching for the versioned URL', async () => {
    const page = (await get('/')).body;
    const href = /href="(\/static\/app\.css\?v=[0-9a-f]+)"/.exec(page)![1];
    const css = await get(href);
    expect(css.statusCode).toBe(200);
    expect(css.headers['cache-control']).toContain('immutable');
    const etag = String(css.headers.etag);
    const again = await get(href, undefined, { 'if-none-match': etag });
    expect(again.statusCode).toBe(304);
    const unversioned = await get('/static/app.css');
    expect(unversioned.headers['cache-control']).not.toContain('immutable');
  });

  it('filters by facets kept in the URL and shows removable chips', async () => {
    await makeProduct(t.app, { title: 'Video clip di sản Cao Bằng', type: 'video', agency: agencyCode, year: '2022' }, { publish: true });
    const res = await get(`/?type=book&year=2023`);
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('Sổ tay');
    expect(res.body).not.toContain('Video clip di sản');
    expect(res.body).toMatch(/class="chip" href="\/\?year=2023"/); // removing the type filter keeps the year
    expect(res.body).toMatch(/class="chip" href="\/\?type=book"/);
  });

  it('ignores filter values in the URL that are not valid (unknown type, agency or language)', async () => {
    const res = await get('/?type=nope&agency=khong-co&language=xx&year=abcd');
    expect(res.statusCode).toBe(200);
    // (The language switch and login links keep the URL as it was; the page itself shows none of them.)
    const shown = res.body.split('<main')[1];
    for (const raw of ['type.nope', 'nope', 'khong-co', 'xx', 'Đang lọc']) expect(shown, raw).not.toContain(raw);
    expect(res.body).toContain('Sản phẩm mới công bố'); // nothing left to filter by: the newest products
    // Valid values beside them still filter, and only they show as chips.
    const mixed = await get(`/?type=book&type=nope&agency=${agencyCode}&agency=khong-co&language=vi`);
    expect(mixed.body.split('<main')[1]).not.toMatch(/nope|khong-co/);
    expect(mixed.body).toMatch(new RegExp(`class="chip" href="/\\?agency=${agencyCode}&amp;language=vi"`));
    expect([...mixed.body.matchAll(/class="chip" href=/g)].length).toBe(3);
    // One language at a time: the last valid one, whatever its case, an invalid one beside it ignored.
    for (const q of ['language=vi&language=xx', 'language=xx&language=vi', 'language=VI', 'language=vi,xx']) {
      const page = await get(`/?${q}`);
      expect(page.body, q).toMatch(/class="chip" href="\/"/);
      expect(page.body.split('<main')[1], q).not.toContain('xx');
    }
  });

  it('says which whole query was searched when a syllable was corrected or left out', async () => {
    await makeProduct(t.app, { title: 'Suối Lê Nin và hang Pác Bó' }, { publish: true });
    const page = await get(`/?q=${encodeURIComponent('sui le nin')}`);
    expect(page.body).toContain('Suối Lê Nin và hang Pác Bó');
    expect(page.body).toContain('<p class="info">Đã tìm theo: suối le nin</p>');
    // As typed: nothing to say.
    expect((await get(`/?q=${encodeURIComponent('suối lê nin')}`)).body).not.toContain('Đã tìm theo');
    // A syllable found nowhere is left out of what was searched; corrections without a hit stay folded.
    expect(searchedFor('sui lê nin zzqx', { corrections: [{ from: 'sui', to: 'suoi' }], ignored: ['zzqx'], hits: [] })).toBe('suoi lê nin');
    expect(searchedFor('Bản đồ', { corrections: [], ignored: [], hits: [] })).toBeNull();
  });

  it('gives agency suggestions the agency code, so picking one can apply the filter', async () => {
    const res = await get(`/goi-y?q=${encodeURIComponent('tinh doan')}`);
    const agency = (res.json().suggestions as Array<{ kind: string; text: string; agency?: string }>).find((x) => x.kind === 'agency');
    expect(agency).toMatchObject({ text: 'Tỉnh Đoàn Thanh niên Cộng sản Hồ Chí Minh tỉnh Cao Bằng', agency: 'tinh-doan' });
  });

  it('offers an agency only its own plan tasks on the upload page', async () => {
    const page = (await get('/nop', agencyUser)).body;
    const own = t.app.db.sqlite.prepare('SELECT title FROM plan_tasks WHERE agency_id = (SELECT id FROM agencies WHERE code = ?)').all(agencyCode) as Array<{ title: string }>;
    const others = t.app.db.sqlite.prepare('SELECT title FROM plan_tasks WHERE agency_id != (SELECT id FROM agencies WHERE code = ?)').all(agencyCode) as Array<{ title: string }>;
    const options = [...page.matchAll(/<option value="\d+"[^>]*>([^<]*)<\/option>/g)].map((m) => m[1]);
    expect(options.length).toBe(own.length);
    for (const o of others) expect(page).not.toContain(o.title.replace(/"/g, '&quot;').replace(/'/g, '&#39;'));
    expect(page).not.toContain('id="f-agency"'); // agency staff submit for their own agency
    expect(page).toContain('<label for="file-input"');
    // The form works without JavaScript (it posts to /nop: tests/web/upload-form.test.ts).
    expect(page).toContain('<button type="submit" id="upload-submit">');
  });

  it('renders the admin, desk and report pages for staff', async () => {
    const adminPage = await get('/quan-tri', admin);
    expect(adminPage.body).toContain('co-quan');
    const desk = await get('/tham-dinh', archivist);
    expect(desk.body).toContain('Hàng chờ thẩm định');
    const report = await get('/bao-cao?nam=2023', archivist);
    expect(report.statusCode).toBe(200);
    expect(report.body).toContain('/api/reports/compliance?year=2023&amp;format=csv');
    // This file's records were submitted this year: its charts have bars.
    expect((await get(`/bao-cao?nam=${new Date().getUTCFullYear()}`, archivist)).body).toContain('<svg');
  });

  it('keeps the desk selection on a refused bulk action and names each record that failed, and why', async () => {
    const a = await makeProduct(t.app, { title: 'Tờ gấp hàng chờ A', agency: agencyCode });
    const b = await makeProduct(t.app, { title: 'Tờ gấp hàng chờ <B>', agency: agencyCode });
    const post = (body: string) => t.app.inject({ method: 'POST', url: '/tham-dinh', headers: { cookie: archivist.cookie, 'content-type': 'application/x-www-form-urlencoded' }, payload: `${body}&_csrf=${encodeURIComponent(archivist.csrf)}` });
    const noReason = await post(`ids=${a}&ids=${b}&action=return&reason=`);
    expect(noReason.statusCode).toBe(400);
    expect(noReason.body).toContain('Hãy ghi lý do trả lại.');
    expect(noReason.body).toContain(`id="sel-${a}" aria-label="Chọn hồ sơ Tờ gấp hàng chờ A" checked>`);
    expect(noReason.body).toMatch(new RegExp(`id="sel-${b}"[^>]* checked>`));
    expect(noReason.body).toContain('<option value="return" selected>');
    // Accepting straight from "submitted" is refused for both: each is named, with the reason in Vietnamese.
    const refusedPost = await post(`ids=${a}&ids=${b}&action=accept&reason=`);
    expect(refusedPost.statusCode).toBe(303);
    const refused = await get(String(refusedPost.headers.location), archivist);
    expect(refused.statusCode).toBe(200);
    expect(refused.body).toContain('Đã xử lý 0 hồ sơ; 2 hồ sơ không xử lý được.');
    expect(refused.body).toContain(`<li><a href="/san-pham/${a}">Tờ gấp hàng chờ A</a>: Không thể thực hiện thao tác này ở trạng thái hiện tại của hồ sơ.</li>`);
    expect(refused.body).toContain('Tờ gấp hàng chờ &lt;B&gt;');
    expect(refused.body).toMatch(new RegExp(`id="sel-${a}"[^>]* checked>`));
  });

  it('redirects after a bulk action, so reloading the desk does not repeat it', async () => {
    const a = await makeProduct(t.app, { title: 'Tờ gấp tải lại A', agency: agencyCode });
    const b = await makeProduct(t.app, { title: 'Tờ gấp tải lại B', agency: agencyCode });
    const post = (body: string) => t.app.inject({ method: 'POST', url: '/tham-dinh?trang_thai=submitted', headers: { cookie: archivist.cookie, 'content-type': 'application/x-www-form-urlencoded' }, payload: `${body}&_csrf=${encodeURIComponent(archivist.csrf)}` });
    const res = await post(`ids=${a}&ids=${b}&action=start_review&reason=`);
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/tham-dinh?trang_thai=submitted&da=start_review&xong=2');
    const audits = () => (t.app.db.sqlite.prepare("SELECT count(*) AS n FROM audit_log WHERE entity = 'product' AND action = 'start_review'").get() as { n: number }).n;
    const before = audits();
    // Loading (and reloading) the page it leads to shows the outcome and acts on nothing.
    for (let i = 0; i < 2; i++) {
      const page = await get(String(res.headers.location), archivist);
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain('<div class="notice notice-ok outcome" role="status" tabindex="-1" autofocus>Đã xử lý 2 hồ sơ; 0 hồ sơ không xử lý được.</div>');
      expect(page.body).toContain('<form method="post" action="/tham-dinh?trang_thai=submitted" class="desk-form">');
    }
    expect(audits()).toBe(before);
    const en = await get(`${String(res.headers.location)}&lang=en`, archivist);
    expect(en.body).toContain('Records done: 2; could not be changed: 0.');
  });

  it('creates an API token from the admin page and shows it once', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/quan-tri', headers: { cookie: admin.cookie, 'content-type': 'application/x-www-form-urlencoded' }, payload: `op=create_token&user=co-quan&name=script&_csrf=${encodeURIComponent(admin.csrf)}` });
    expect(res.statusCode).toBe(200);
    const secret = /id="new-token">([^<]+)</.exec(res.body)?.[1];
    expect(secret).toBeTruthy();
    const works = await t.app.inject({ method: 'GET', url: '/api/auth/me', headers: auth(secret!) });
    expect(works.statusCode).toBe(200);
    const later = await get('/quan-tri', admin);
    expect(later.body).not.toContain(secret!);
  });
});

describe('record editor', () => {
  let t: TestApp;
  let archivist: Session;
  let id: number;
  beforeAll(async () => {
    t = await makeTestApp({ jobs: { workers: 0 } });
    await createUser(t.app, 'bien-tap', 'archivist');
    archivist = await login(t.app, 'bien-tap');
    id = await makeProduct(t.app, { title: 'Sách ảnh Cao Bằng', year: '2021' });
  });
  afterAll(async () => t?.close());

  const post = (body: Record<string, string>) =>
    t.app.inject({
      method: 'POST', url: `/san-pham/${id}/sua`, headers: { cookie: archivist.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ _csrf: archivist.csrf, ...body }).toString(),
    });
  const version = () => (t.app.db.sqlite.prepare('SELECT version FROM products WHERE id = ?').get(id) as { version: number }).version;

  it('shows a validation message next to the field', async () => {
    const res = await post({ version: String(version()), type: 'book', title: 'Sách ảnh Cao Bằng', year: '20x1' });
    expect(res.statusCode).toBe(400);
    expect(res.body).toMatch(/id="f-year"[^>]*aria-describedby="year-error"[^>]*aria-invalid="true"/);
    expect(res.body).toContain('<p class="field-error" id="year-error">Năm phải gồm 4 chữ số, không ở tương lai và khớp với ngày phát hành.</p>');
    expect(res.body).toContain('value="20x1"'); // the user's input is kept
  });

  it('shows every refused field at once, each next to its field', async () => {
    const res = await post({ version: String(version()), type: 'book', title: 'Sách ảnh Cao Bằng', year: '20x1', isbn: 'abc', printRun: '-5' });
    expect(res.statusCode).toBe(400);
    for (const f of ['year', 'isbn', 'printRun']) expect(res.body).toMatch(new RegExp(`id="f-${f}"[^>]*aria-describedby="${f}-error"[^>]*aria-invalid="true"`));
    expect(res.body).toContain('Số lượng in phải là một số nguyên dương.');
  });

  it('explains every refused field in Vietnamese, never with the English API message', async () => {
    const cases: Array<[Record<string, string>, string, string]> = [
      [{ isbn: 'abc' }, 'isbn', 'ISBN không hợp lệ'],
      [{ printRun: '-5' }, 'printRun', 'Số lượng in phải là một số nguyên dương.'],
      [{ copyReceivedOn: '2999-01-01' }, 'copyReceivedOn', 'Ngày nhận bản lưu không hợp lệ'],
      [{ coIssuers: 'khong-co-co-quan-nay' }, 'coIssuers', 'Có cơ quan phối hợp không có trong danh sách'],
      [{ planTask: '999999' }, 'planTask', 'Nhiệm vụ không hợp lệ'],
      [{ subjects: 'x'.repeat(201) }, 'subjects', 'Quá nhiều chủ đề'],
      [{ publisher: 'x'.repeat(5000) }, 'publisher', 'Nội dung quá dài.'],
      [{ releaseDate: '2021-05-01', year: '2020' }, 'year', 'khớp với ngày phát hành'],
    ];
    for (const [fields, field, message] of cases) {
      const res = await post({ version: String(version()), type: 'book', title: 'Sách ảnh Cao Bằng', year: '2021', ...fields });
      expect(res.statusCode, field).toBe(400);
      const error = res.body.match(new RegExp(`<p class="field-error" id="${field}-error">([^<]*)</p>`))?.[1];
      expect(error, field).toContain(message);
    }
    // The upload page hands the same messages to upload.js, which shows them next to the field.
    const upload = await t.app.inject({ method: 'GET', url: '/nop', headers: { cookie: archivist.cookie } });
    expect(upload.body).toContain('"field.isbn":"ISBN không hợp lệ');
    expect(upload.body).toContain('"field.publisher":"Nội dung quá dài."');
  });

  it('saves a change and warns about a stale edit, showing the latest values', async () => {
    const v = version();
    const ok = await post({ version: String(v), type: 'book', title: 'Sách ảnh Cao Bằng xưa và nay', year: '2021' });
    expect(ok.statusCode).toBe(303);
    expect(ok.headers.location).toBe(`/san-pham/${id}?luu=1`);
    // Someone else edits meanwhile; this form still carries the old version.
    const stale = await post({ version: String(v), type: 'book', title: 'Sách ảnh Cao Bằng (bản của tôi)', year: '2021' });
    expect(stale.statusCode).toBe(409);
    expect(stale.body).toContain('Hồ sơ vừa được người khác sửa');
    expect(stale.body).toContain('Giá trị mới nhất: <q>Sách ảnh Cao Bằng xưa và nay</q>');
    expect(stale.body).toContain('value="Sách ảnh Cao Bằng (bản của tôi)"');
    expect(stale.body).toContain(`name="version" value="${version()}"`);
    const title = (t.app.db.sqlite.prepare('SELECT title FROM products WHERE id = ?').get(id) as { title: string }).title;
    expect(title).toBe('Sách ảnh Cao Bằng xưa và nay');
  });
});

describe('uploaded active content', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await makeTestApp({ jobs: { workers: 0 } });
  });
  afterAll(async () => t?.close());

  it('never serves uploaded HTML or SVG inline from the app origin', async () => {
    const files = [
      { filename: 'trang.html', data: Buffer.from('<!doctype html><html><body><script>alert(document.cookie)</script></body></html>') },
      { filename: 'hinh.svg', data: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script><rect width="10" height="10"/></svg>') },
    ];
    for (const f of files) {
      const mp = multipartBody({ title: `Tệp ${f.filename}`, type: 'document' }, [f]);
      const up = await t.app.inject({ method: 'POST', url: '/api/products', headers: { ...auth(), ...mp.headers }, payload: mp.body });
      if (up.statusCode === 415) continue; // refused outright: fine
      expect(up.statusCode).toBe(201);
      const sha = up.json().files[0].sha256 as string;
      const res = await t.app.inject({ method: 'GET', url: `/api/files/${sha}` });
      const type = String(res.headers['content-type']);
      const inline = !String(res.headers['content-disposition']).startsWith('attachment');
      expect(inline && /html|svg|xml/.test(type), `${f.filename}: ${type} ${res.headers['content-disposition']}`).toBe(false);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(String(res.headers['content-security-policy'])).toContain('sandbox');
    }
  });
});

describe('admin: roles', () => {
  let t: TestApp;
  let admin: Session;
  beforeAll(async () => {
    t = await makeTestApp({ jobs: { workers: 0 } });
    await createUser(t.app, 'quan-tri', 'admin');
    await createUser(t.app, 'nghien-cuu', 'researcher');
    admin = await login(t.app, 'quan-tri');
  });
  afterAll(async () => t?.close());

  it('creates a user and changes a role from the admin page', async () => {
    const agency = await firstAgency(t.app);
    const post = (body: Record<string, string>) =>
      t.app.inject({ method: 'POST', url: '/quan-tri', headers: { cookie: admin.cookie, 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ _csrf: admin.csrf, ...body }).toString() });
    const created = await post({ op: 'create_user', username: 'can-bo-moi', displayName: 'Cán bộ mới', role: 'agency', agency: agency.code, password: PASSWORD });
    // Done: back to the page by GET (a reload does not post again), which says so.
    expect(created.statusCode).toBe(303);
    expect(created.headers.location).toBe('/quan-tri?luu=1');
    expect((await t.app.inject({ url: '/quan-tri?luu=1', headers: { cookie: admin.cookie } })).body).toContain('Đã lưu.');
    const bad = await post({ op: 'create_user', username: 'x', role: 'agency', agency: '' });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('notice-error');
    // Refusals are explained in Vietnamese, not with the API's English message.
    const refusals: Array<[Record<string, string>, string]> = [
      [{ op: 'create_user', username: 'x', role: 'researcher', password: PASSWORD }, 'Tên đăng nhập gồm 2–64 chữ cái'],
      [{ op: 'create_user', username: 'can-bo-moi', role: 'researcher', password: PASSWORD }, 'Tên đăng nhập này đã có người dùng.'],
      [{ op: 'create_user', username: 'can-bo-2', role: 'agency', agency: '', password: PASSWORD }, 'Cán bộ cơ quan phải gắn với một cơ quan'],
      [{ op: 'create_user', username: 'can-bo-3', role: 'researcher', password: 'ngan' }, 'Mật khẩu không hợp lệ'],
      [{ op: 'create_agency', code: 'Mã sai!', name: 'Cơ quan thử' }, 'Mã gồm 2–64 chữ thường'],
      [{ op: 'create_agency', code: agency.code, name: 'Cơ quan thử' }, 'Mã này đã có.'],
      [{ op: 'create_task', code: 'nv-thu', title: 'Nhiệm vụ thử', planRef: '199-KH/TU', year: '2023', agency: agency.code, deadline: '2023-02-30' }, 'Hạn phải là một ngày'],
    ];
    for (const [body, message] of refusals) {
      const res = await post(body);
      expect(res.statusCode, JSON.stringify(body)).toBeGreaterThanOrEqual(400);
      const shown = /<div class="notice notice-error"[^>]*>([\s\S]*?)<\/div>/.exec(res.body)?.[1] ?? '';
      expect(shown, JSON.stringify(body)).toContain(message);
    }
    const id = (t.app.db.sqlite.prepare("SELECT id FROM users WHERE username = 'nghien-cuu'").get() as { id: number }).id;
    const changed = await post({ op: 'set_role', id: String(id), role: 'archivist', agency: '' });
    expect(changed.statusCode).toBe(303);
    expect((t.app.db.sqlite.prepare('SELECT role FROM users WHERE id = ?').get(id) as { role: string }).role).toBe('archivist');
  });
});
