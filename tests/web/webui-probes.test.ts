/** Web UI behaviour found by a browser review beyond the happy path: languages, lost input, focus. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, makeTestApp, type TestApp } from '../helpers/app.ts';
import { makePng } from '../helpers/samples.ts';
import { createUser, login, makeProduct, PASSWORD, postForms, type Session } from './helpers.ts';

const form = (fields: Record<string, string>): string => new URLSearchParams(fields).toString();
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
/** The name → value pairs of the hidden inputs of a form. */
const hiddenInputs = (formHtml: string): Record<string, string> =>
  Object.fromEntries([...formHtml.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [m[1], m[2].replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>')]));

describe('web UI beyond the happy path', () => {
  let t: TestApp;
  let archivist: Session;
  beforeAll(async () => {
    t = await makeTestApp({ jobs: { workers: 0 } });
    await createUser(t.app, 'luu-tru-tham-do', 'archivist');
    archivist = await login(t.app, 'luu-tru-tham-do');
  });
  afterAll(async () => t?.close());

  it('says why processing failed in the page language, once per file however many jobs failed', async () => {
    const id = await makeProduct(t.app, { title: 'Tài liệu hỏng' });
    const sha = (t.app.db.sqlite.prepare('SELECT sha256 FROM product_files WHERE product_id = ?').get(id) as { sha256: string }).sha256;
    t.app.db.sqlite
      .prepare(`UPDATE jobs SET state = 'failed', error_code = 'PDF_MALFORMED', error_message = 'The PDF is damaged and cannot be read: Invalid PDF structure.' WHERE sha256 = ?`)
      .run(sha);
    expect((t.app.db.sqlite.prepare(`SELECT COUNT(*) AS n FROM jobs WHERE sha256 = ? AND state = 'failed'`).get(sha) as { n: number }).n).toBeGreaterThan(1);
    const vi = (await t.app.inject({ url: `/san-pham/${id}`, headers: { cookie: archivist.cookie } })).body;
    expect(vi).toContain('Tệp PDF bị hỏng, không đọc được.');
    expect(vi).not.toContain('Invalid PDF structure');
    expect(vi.split('Tệp PDF bị hỏng, không đọc được.').length - 1).toBe(1);
    const en = (await t.app.inject({ url: `/san-pham/${id}?lang=en`, headers: { cookie: archivist.cookie } })).body;
    expect(en).toContain('The PDF is damaged and cannot be read.');
    expect(en).not.toContain('Tệp PDF bị hỏng');
    // No empty viewer and no "open at page 1" for a PDF nothing could read: a note, and the download link.
    expect(vi).toContain('Không xem trước được tệp PDF này vì tệp bị hỏng.');
    expect(vi).not.toContain('class="pdf-frame"');
    expect(vi).not.toContain('class="open-at-page"');
    expect(vi).toContain('?download=true');
    expect(en).toContain('This PDF cannot be previewed: the file is damaged.');

    // A code the UI does not know: its code in Vietnamese, the worker's own words in English.
    t.app.db.sqlite.prepare(`UPDATE jobs SET error_code = 'SAVE_FAILED', error_message = 'disk full' WHERE sha256 = ?`).run(sha);
    const viOther = (await t.app.inject({ url: `/san-pham/${id}?lang=vi`, headers: { cookie: archivist.cookie } })).body;
    expect(viOther).toContain('Không xử lý được tệp (mã lỗi SAVE_FAILED).');
    expect(viOther).not.toContain('disk full');
    // A failure that says nothing about the file itself leaves the viewer.
    expect(viOther).toContain('class="pdf-frame"');
    expect((await t.app.inject({ url: `/san-pham/${id}?lang=en`, headers: { cookie: archivist.cookie } })).body).toContain('disk full');
    expect((await t.app.inject({ url: `/api/products/${id}`, headers: auth() })).statusCode).toBe(200);
  });

  it('marks the catalogue text of English pages as Vietnamese (lang=vi), and adds nothing on Vietnamese pages', async () => {
    const id = await makeProduct(t.app, { title: 'Lễ hội Lồng tồng xã Quốc Toản', description: 'Tờ gấp giới thiệu lễ hội xuống đồng.' }, { publish: true });
    const en = (await t.app.inject({ url: `/san-pham/${id}?lang=en` })).body;
    expect(en).toContain('<html lang="en"');
    expect(en).toContain('<h1><span lang="vi">Lễ hội Lồng tồng xã Quốc Toản</span></h1>');
    expect(en).toMatch(/<span class="prewrap" lang="vi">Tờ gấp giới thiệu lễ hội xuống đồng\.<\/span>/);
    const vi = (await t.app.inject({ url: `/san-pham/${id}?lang=vi` })).body;
    expect(vi).toContain('<h1>Lễ hội Lồng tồng xã Quốc Toản</h1>');
    expect(vi).not.toContain('<span lang="vi">');
    const hits = (await t.app.inject({ url: `/?q=${encodeURIComponent('lồng tồng')}&lang=en` })).body;
    expect(hits).toMatch(/<h3 class="hit-title"><a href="[^"]+"><span lang="vi">Lễ hội <mark>Lồng<\/mark> <mark>tồng<\/mark>|<h3 class="hit-title"><a href="[^"]+"><span lang="vi">Lễ hội Lồng tồng/);
  });

  it('marks agency names, subjects and plan tasks of English pages as Vietnamese too', async () => {
    const task = t.app.db.sqlite.prepare('SELECT p.id, p.title, a.code, a.name FROM plan_tasks p JOIN agencies a ON a.id = p.agency_id ORDER BY p.id LIMIT 1').get() as { id: number; title: string; code: string; name: string };
    const esc = (x: string) => x.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/'/g, '&#39;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
    const id = await makeProduct(t.app, { title: 'Sách ảnh “Di sản Cao Bằng”', agency: task.code, subjects: 'di sản, du lịch', planTask: String(task.id), year: '2023' }, { publish: true });
    const en = (await t.app.inject({ url: `/san-pham/${id}?lang=en`, headers: { cookie: archivist.cookie } })).body;
    expect(en).toContain(`· <span lang="vi">${esc(task.name)}</span>`);
    expect(en).toContain(`<dd><span lang="vi">${esc(task.name)}</span></dd>`);
    expect(en).toContain('<dd><span lang="vi">di sản; du lịch</span></dd>');
    expect(en).toContain(`<span lang="vi">${esc(task.title)}</span> <span class="muted">`);
    // The history's catalogue values, the editor's heading, an image's alt text.
    expect(en).toContain('<span class="change-field">Title:</span> <span lang="vi">Sách ảnh “Di sản Cao Bằng”</span>');
    expect((await t.app.inject({ url: `/san-pham/${id}/sua?lang=en`, headers: { cookie: archivist.cookie } })).body).toContain('<h1>Edit record: <span lang="vi">Sách ảnh “Di sản Cao Bằng”</span></h1>');
    const imageId = await makeProduct(t.app, { title: 'Ảnh Thác Bản Giốc' }, { files: [{ filename: 'thac.png', data: await makePng(40, 30, 9) }] });
    expect((await t.app.inject({ url: `/san-pham/${imageId}?lang=en`, headers: { cookie: archivist.cookie } })).body).toMatch(/<img [^>]*alt="Ảnh Thác Bản Giốc" lang="vi"/);
    const vi = (await t.app.inject({ url: `/san-pham/${id}?lang=vi`, headers: { cookie: archivist.cookie } })).body;
    const markedVi = /<(?!html\b)[a-z]+\b[^>]* lang="vi"/;
    expect(vi).not.toMatch(markedVi);

    const hits = (await t.app.inject({ url: `/?q=${encodeURIComponent('di sản cao bằng')}&agency=${task.code}&lang=en` })).body;
    expect(hits).toContain(`· <span lang="vi">${esc(task.name)}</span>`);
    expect(hits).toMatch(/<span class="facet-label" lang="vi">/);
    expect(hits).toMatch(new RegExp(`Agency: <span lang="vi">[^<]+</span> <span aria-hidden="true">×</span>`));
    const viHits = (await t.app.inject({ url: `/?q=${encodeURIComponent('di sản cao bằng')}&agency=${task.code}&lang=vi` })).body;
    expect(viHits).not.toMatch(markedVi);

    const upload = (await t.app.inject({ url: '/nop?lang=en', headers: { cookie: archivist.cookie } })).body;
    expect(upload).toContain(`<option value="${task.code}" lang="vi">`);
    expect(upload).toContain(`<option value="${task.id}" lang="vi">`);
    expect((await t.app.inject({ url: '/nop?lang=vi', headers: { cookie: archivist.cookie } })).body).not.toMatch(markedVi);
    const deskId = await makeProduct(t.app, { title: 'Chờ thẩm định', agency: task.code });
    const deskPage = (await t.app.inject({ url: '/tham-dinh?lang=en', headers: { cookie: archivist.cookie } })).body;
    expect(deskPage).toContain(`href="/san-pham/${deskId}"`);
    expect(deskPage).toContain(`data-label="Issuing agency" lang="vi">${esc(task.name)}</td>`);
    const report = (await t.app.inject({ url: '/bao-cao?nam=2023&lang=en', headers: { cookie: archivist.cookie } })).body;
    expect(report).toMatch(/<th scope="row" lang="vi">/);
    expect(report).toContain(`<span lang="vi">${esc(task.title)}</span>`);
  });

  it('names every box that scrolls on its own, and has a live region for the suggestion count in the page language', async () => {
    const id = await makeProduct(t.app, { title: 'Bảng cuộn có tên' });
    const year = (t.app.db.sqlite.prepare('SELECT year FROM plan_tasks ORDER BY id LIMIT 1').get() as { year: number }).year;
    const pages = [
      (await t.app.inject({ url: '/tham-dinh', headers: { cookie: archivist.cookie } })).body,
      (await t.app.inject({ url: `/san-pham/${id}`, headers: { cookie: archivist.cookie } })).body,
      (await t.app.inject({ url: `/bao-cao?nam=${year}`, headers: { cookie: archivist.cookie } })).body,
      (await t.app.inject({ url: '/quan-tri', headers: auth() })).body,
    ];
    let boxes = 0;
    for (const page of pages) {
      for (const m of page.matchAll(/<div\b([^>]*)\btabindex="0"([^>]*)>/g)) {
        const attrs = m[1] + m[2];
        boxes++;
        expect(attrs).toContain('role="region"');
        const by = /aria-labelledby="([^"]+)"/.exec(attrs)?.[1];
        expect(by, attrs).toBeTruthy();
        // The element it names exists and has text.
        expect(page).toMatch(new RegExp(`id="${by}"[^>]*>[^<\\s]`));
      }
    }
    expect(boxes).toBeGreaterThanOrEqual(7); // desk, history, chart(s), matrix, 4 admin tables
    const vi = (await t.app.inject({ url: '/' })).body;
    expect(vi).toContain('<p id="q-suggest-count" class="visually-hidden" role="status" aria-live="polite" data-one="1 gợi ý, chọn bằng phím mũi tên lên, xuống." data-many="{n} gợi ý, chọn bằng phím mũi tên lên, xuống." data-none="Không có gợi ý."></p>');
    const en = (await t.app.inject({ url: '/?lang=en' })).body;
    expect(en).toContain('data-one="1 suggestion, choose with the up and down arrow keys." data-many="{n} suggestions, choose with the up and down arrow keys." data-none="No suggestions."');
  });

  it('makes Back after a workflow action ask anew (no-store on pages with workflow buttons) and keeps a form token out of links', async () => {
    const id = await makeProduct(t.app, { title: 'Hồ sơ quay lại sau thao tác' }, { publish: true });
    const staffView = await t.app.inject({ url: `/san-pham/${id}`, headers: { cookie: archivist.cookie } });
    expect(staffView.body).toContain('class="transition-form"');
    expect(staffView.headers['cache-control']).toBe('private, no-store');
    const desk = await t.app.inject({ url: '/tham-dinh', headers: { cookie: archivist.cookie } });
    expect(desk.headers['cache-control']).toBe('private, no-store');
    // A reader's page has no buttons to go stale: cached as before.
    expect((await t.app.inject({ url: `/san-pham/${id}` })).headers['cache-control']).toBe('private, no-cache');
    // The upload form's answer page (its URL carries the token): the language switch leaves it out.
    const refused = await t.app.inject({ url: `/nop?_csrf=${encodeURIComponent(archivist.csrf)}`, headers: { cookie: archivist.cookie } });
    expect(refused.body).toContain('class="lang-switch" href="/nop?lang=en"');
  });

  it('keeps what was typed in the editor when the session has ended, through a new login, without saving it', async () => {
    const id = await makeProduct(t.app, { title: 'Tờ gấp du lịch Cao Bằng' });
    const version = (t.app.db.sqlite.prepare('SELECT version FROM products WHERE id = ?').get(id) as { version: number }).version;
    const typed = { title: 'Tờ gấp “Cao Bằng – điểm đến an toàn”', description: 'Mô tả đã gõ rất lâu & chưa lưu <b>', year: '2023', type: 'flyer', version: String(version) };
    // The session cookie is gone (expired or logged out elsewhere): the post comes in anonymous.
    const expired = await t.app.inject({ method: 'POST', url: `/san-pham/${id}/sua`, headers: FORM, payload: form({ _csrf: 'old-token', then: 'save', ...typed }) });
    expect(expired.statusCode).toBe(401);
    expect(expired.body).toContain('Phiên đăng nhập đã hết nên hồ sơ chưa được lưu');
    const loginForm = postForms(expired.body).find((f) => f.includes('action="/dang-nhap'))!;
    expect(loginForm).toContain(`action="/dang-nhap?next=${encodeURIComponent(`/san-pham/${id}/sua`)}"`);
    const carried = hiddenInputs(loginForm);
    expect(carried.draft_description).toBe(typed.description);
    expect(carried.draft_version).toBe(String(version));
    const anonCsrf = expired.cookies.find((c) => c.name === 'kho_csrf')!.value;
    const url = `/dang-nhap?next=${encodeURIComponent(`/san-pham/${id}/sua`)}`;

    // A wrong password does not lose it either.
    const wrong = await t.app.inject({ method: 'POST', url, headers: { ...FORM, cookie: `kho_csrf=${anonCsrf}` }, payload: form({ ...carried, username: 'luu-tru-tham-do', password: 'sai-mat-khau-123' }) });
    expect(wrong.statusCode).toBe(401);
    expect(hiddenInputs(postForms(wrong.body).find((f) => f.includes('action="/dang-nhap'))!).draft_title).toBe(typed.title);

    const back = await t.app.inject({ method: 'POST', url, headers: { ...FORM, cookie: `kho_csrf=${anonCsrf}` }, payload: form({ ...carried, username: 'luu-tru-tham-do', password: PASSWORD }) });
    expect(back.statusCode).toBe(200);
    const session = back.cookies.find((c) => c.name === 'kho_session')!;
    expect(session).toBeTruthy();
    const resume = postForms(back.body).find((f) => f.includes(`action="/san-pham/${id}/sua"`))!;
    const fields = hiddenInputs(resume);
    expect(fields.then).toBe('restore');
    expect(fields.description).toBe(typed.description);

    const restored = await t.app.inject({ method: 'POST', url: `/san-pham/${id}/sua`, headers: { ...FORM, cookie: `kho_session=${session.value}` }, payload: form(fields) });
    expect(restored.statusCode).toBe(200);
    expect(restored.body).toContain('Mô tả đã gõ rất lâu &amp; chưa lưu &lt;b&gt;</textarea>');
    expect(restored.body).toContain('value="Tờ gấp “Cao Bằng – điểm đến an toàn”"');
    expect(restored.body).toContain(`name="version" value="${version}"`);
    expect(restored.body).toContain('Hồ sơ chưa được lưu');
    // Nothing was saved on the way.
    const row = t.app.db.sqlite.prepare('SELECT title, description, version FROM products WHERE id = ?').get(id) as { title: string; description: string | null; version: number };
    expect(row).toEqual({ title: 'Tờ gấp du lịch Cao Bằng', description: null, version });
  });

  it('keeps a workflow reason typed when the session has ended, through a new login, without sending it', async () => {
    const id = await makeProduct(t.app, { title: 'Tờ rơi chờ trả lại' });
    const reason = 'Thiếu ảnh bìa & <số> trang “mục lục”';
    const expired = await t.app.inject({ method: 'POST', url: `/san-pham/${id}/chuyen`, headers: { ...FORM, cookie: 'kho_session=het-han' }, payload: form({ _csrf: 'old-token', action: 'return', reason }) });
    expect(expired.statusCode).toBe(401);
    expect(expired.body).toContain('Phiên đăng nhập đã hết nên thao tác chưa được thực hiện.');
    const loginForm = postForms(expired.body).find((f) => f.includes('action="/dang-nhap'))!;
    expect(loginForm).toContain(`action="/dang-nhap?next=${encodeURIComponent(`/san-pham/${id}`)}"`);
    const carried = hiddenInputs(loginForm);
    expect(carried.draft_reason).toBe(reason);
    const anonCsrf = expired.cookies.find((c) => c.name === 'kho_csrf')!.value;
    const back = await t.app.inject({
      method: 'POST',
      url: `/dang-nhap?next=${encodeURIComponent(`/san-pham/${id}`)}`,
      headers: { ...FORM, cookie: `kho_csrf=${anonCsrf}` },
      payload: form({ ...carried, username: 'luu-tru-tham-do', password: PASSWORD }),
    });
    expect(back.statusCode).toBe(200);
    const session = back.cookies.find((c) => c.name === 'kho_session')!;
    const resume = postForms(back.body).find((f) => f.includes(`action="/san-pham/${id}/chuyen"`))!;
    expect(resume).toContain('Quay lại hồ sơ');
    const fields = hiddenInputs(resume);
    expect(fields).toMatchObject({ reason, then: 'restore' });

    const restored = await t.app.inject({ method: 'POST', url: `/san-pham/${id}/chuyen`, headers: { ...FORM, cookie: `kho_session=${session.value}` }, payload: form(fields) });
    expect(restored.statusCode).toBe(200);
    expect(restored.body).toContain('Thiếu ảnh bìa &amp; &lt;số&gt; trang “mục lục”</textarea>');
    expect(restored.body).toContain('Thao tác chưa được thực hiện');
    // Nothing was done on the way.
    expect((t.app.db.sqlite.prepare('SELECT state FROM products WHERE id = ?').get(id) as { state: string }).state).toBe('submitted');

    // Without a reason there is nothing to keep: the login page as for any page.
    const plain = await t.app.inject({ method: 'POST', url: `/san-pham/${id}/chuyen`, headers: { ...FORM, cookie: 'kho_session=het-han' }, payload: form({ _csrf: 'x', action: 'start_review', reason: '' }) });
    expect(plain.statusCode).toBe(303);
    expect(plain.headers.location).toBe(`/dang-nhap?next=${encodeURIComponent(`/san-pham/${id}`)}`);
  });

  it('a refused save opens the editor on the first field with a problem, tied to its message', async () => {
    const id = await makeProduct(t.app, { title: 'Sách “Đất và người Cao Bằng”' });
    const version = (t.app.db.sqlite.prepare('SELECT version FROM products WHERE id = ?').get(id) as { version: number }).version;
    const res = await t.app.inject({
      method: 'POST', url: `/san-pham/${id}/sua`, headers: { ...FORM, cookie: archivist.cookie },
      payload: form({ _csrf: archivist.csrf, version: String(version), then: 'save', title: '', year: '12ab', type: 'book' }),
    });
    expect(res.statusCode).toBe(400);
    expect(res.body.match(/autofocus/g)).toHaveLength(1);
    expect(res.body).toMatch(/<input id="f-title"[^>]*aria-describedby="title-error" aria-invalid="true" autofocus>/);
    expect(res.body).toMatch(/<input id="f-year"[^>]*aria-describedby="year-error" aria-invalid="true">/);
    expect(res.body).toContain('<p class="field-error" id="title-error">');
    const fresh = await t.app.inject({ url: `/san-pham/${id}/sua`, headers: { cookie: archivist.cookie } });
    expect(fresh.body).not.toContain('autofocus');
  });

  it('a request refused before any page saw it is explained in the page language with its stable code', async () => {
    const bad = await t.app.inject({ method: 'POST', url: '/dang-nhap', headers: { 'content-type': 'application/json' }, payload: '{hỏng' });
    expect(bad.statusCode).toBe(400);
    expect(bad.headers['content-type']).toContain('text/html');
    expect(bad.body).toContain('Yêu cầu gửi lên không hợp lệ.');
    expect(bad.body).toContain('Mã lỗi: INVALID_JSON');
    expect(bad.body).not.toContain('Body is not valid JSON');
    const xml = await t.app.inject({ method: 'POST', url: '/dang-nhap?lang=en', headers: { 'content-type': 'text/xml' }, payload: '<a/>' });
    expect(xml.statusCode).toBe(415);
    expect(xml.body).toContain('This page does not accept the kind of data sent.');
    expect(xml.body).toContain('Error code: UNSUPPORTED_CONTENT_TYPE');
    expect(xml.body).not.toContain('Unsupported Media Type');
    const big = await t.app.inject({ method: 'POST', url: '/dang-nhap', headers: FORM, payload: `username=${'a'.repeat(3 * 1024 * 1024)}` });
    expect(big.statusCode).toBe(413);
    expect(big.body).toContain('Dữ liệu gửi lên quá lớn.');
    expect(big.body).toContain('Mã lỗi: BODY_TOO_LARGE');
    expect(big.body).not.toContain('Request body is too large');
  });

  it('the admin page answers a done form with a redirect, and a token form sent twice makes one token', async () => {
    await createUser(t.app, 'quan-tri-tham-do', 'admin');
    const admin = await login(t.app, 'quan-tri-tham-do');
    const post = (body: Record<string, string>) => t.app.inject({ method: 'POST', url: '/quan-tri', headers: { ...FORM, cookie: admin.cookie }, payload: form({ _csrf: admin.csrf, ...body }) });
    const agency = await post({ op: 'create_agency', code: 'xa-thu-nghiem', name: 'Uỷ ban nhân dân xã Thử Nghiệm' });
    expect(agency.statusCode).toBe(303);
    expect(agency.headers.location).toBe('/quan-tri?luu=1');

    const page = await t.app.inject({ url: '/quan-tri', headers: { cookie: admin.cookie } });
    const tokenForm = postForms(page.body).find((f) => f.includes('value="create_token"'))!;
    const once = hiddenInputs(tokenForm).once;
    expect(once).toMatch(/^[A-Za-z0-9_-]{16,}$/);
    const tokens = () => (t.app.db.sqlite.prepare('SELECT COUNT(*) AS n FROM api_tokens').get() as { n: number }).n;
    const before = tokens();
    const first = await post({ op: 'create_token', user: 'quan-tri-tham-do', name: 'Đồng bộ cổng thông tin', once });
    expect(first.statusCode).toBe(200);
    expect(first.body).toMatch(/id="new-token">[^<]+</);
    // The answer page reloaded: the same form again.
    const again = await post({ op: 'create_token', user: 'quan-tri-tham-do', name: 'Đồng bộ cổng thông tin', once });
    expect(again.statusCode).toBe(303);
    expect(again.headers.location).toBe('/quan-tri?luu=token');
    expect(tokens()).toBe(before + 1);
    expect((await t.app.inject({ url: '/quan-tri?luu=token', headers: { cookie: admin.cookie } })).body).toContain('tải lại trang không tạo thêm khoá');
    // A fresh page's form makes another.
    const fresh = hiddenInputs(postForms((await t.app.inject({ url: '/quan-tri', headers: { cookie: admin.cookie } })).body).find((f) => f.includes('value="create_token"'))!).once;
    expect(fresh).not.toBe(once);
    expect((await post({ op: 'create_token', user: 'quan-tri-tham-do', name: 'Khoá thứ hai', once: fresh })).statusCode).toBe(200);
    expect(tokens()).toBe(before + 2);
  });

  it('a browser sending a page URL a method it does not take gets a page; scripts keep the JSON answer', async () => {
    const HTML = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };
    const put = await t.app.inject({ method: 'PUT', url: '/?lang=en', headers: HTML });
    expect(put.statusCode).toBe(405);
    expect(put.headers.allow).toBe('GET, HEAD');
    expect(put.headers['content-type']).toContain('text/html');
    expect(put.body).toContain('<html lang="en">');
    expect(put.body).toContain('This address does not accept this kind of request.');
    expect(put.body).toContain('Error code: METHOD_NOT_ALLOWED');
    const post = await t.app.inject({ method: 'POST', url: '/san-pham/1', headers: { ...HTML, ...FORM }, payload: 'a=1' });
    expect(post.statusCode).toBe(405);
    expect(post.body).toContain('Địa chỉ này không nhận cách gửi yêu cầu này.');
    const nowhere = await t.app.inject({ method: 'POST', url: '/khong-co-trang-nay', headers: { ...HTML, ...FORM }, payload: 'a=1' });
    expect(nowhere.statusCode).toBe(404);
    expect(nowhere.body).toContain('Không tìm thấy trang');
    // Scripts and the API keep their JSON with its stable code.
    const script = await t.app.inject({ method: 'PUT', url: '/' });
    expect(script.statusCode).toBe(405);
    expect(script.json().code).toBe('METHOD_NOT_ALLOWED');
    const api = await t.app.inject({ method: 'PUT', url: '/api/products', headers: HTML });
    expect(api.statusCode).toBe(405);
    expect(api.json().code).toBe('METHOD_NOT_ALLOWED');
    expect((await t.app.inject({ method: 'POST', url: '/api/khong-co', headers: HTML })).json().code).toBe('ROUTE_NOT_FOUND');
  });

  it('a refused login ties its message to both fields', async () => {
    const page = await t.app.inject({ url: '/dang-nhap' });
    const token = page.cookies.find((c) => c.name === 'kho_csrf')!.value;
    const res = await t.app.inject({ method: 'POST', url: '/dang-nhap', headers: { ...FORM, cookie: `kho_csrf=${token}` }, payload: form({ _csrf: token, username: 'luu-tru-tham-do', password: 'khong-dung-mat-khau' }) });
    expect(res.statusCode).toBe(401);
    expect(res.body).toContain('<div class="notice notice-error" role="alert" id="login-error">Sai tên đăng nhập hoặc mật khẩu.</div>');
    expect(res.body).toMatch(/<input id="username"[^>]*aria-invalid="true" aria-describedby="login-error">/);
    expect(res.body).toMatch(/<input id="password"[^>]*aria-invalid="true" aria-describedby="login-error">/);
    expect(page.body).not.toContain('aria-describedby="login-error"');
  });

  it('a bulk return without a reason marks the reason field, ties the message to it and focuses it', async () => {
    const id = await makeProduct(t.app, { title: 'Sách trả lại hàng loạt' });
    const res = await t.app.inject({ method: 'POST', url: '/tham-dinh', headers: { ...FORM, cookie: archivist.cookie }, payload: form({ _csrf: archivist.csrf, ids: String(id), action: 'return', reason: '  ' }) });
    expect(res.statusCode).toBe(400);
    expect(res.body).toMatch(/<input id="bulk-reason" name="reason" value="" aria-describedby="bulk-reason-error bulk-reason-help" aria-invalid="true" autofocus>/);
    expect(res.body).toContain('<p class="field-error" id="bulk-reason-error">');
    const page = await t.app.inject({ url: '/tham-dinh', headers: { cookie: archivist.cookie } });
    expect(page.body).toContain('aria-describedby="bulk-reason-help">');
    expect(page.body).not.toContain('autofocus');
  });

  it('an admin form refused for a reason the page does not foresee says so in Vietnamese, not with the API English', async () => {
    await createUser(t.app, 'quan-tri-hai', 'admin');
    const admin = await login(t.app, 'quan-tri-hai');
    const post = (body: Record<string, string>, lang = '') => t.app.inject({ method: 'POST', url: `/quan-tri${lang}`, headers: { ...FORM, cookie: admin.cookie }, payload: form({ _csrf: admin.csrf, ...body }) });
    const gone = await post({ op: 'revoke_token', id: '987654' });
    expect(gone.statusCode).toBe(404);
    expect(gone.body).toContain('Không có khoá API này (có thể đã bị thu hồi).');
    expect(gone.body).not.toContain('Token not found');
    const unknown = await post({ op: 'xoa_het' });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.body).toContain('Không thực hiện được (mã lỗi UNKNOWN_OP).');
    expect((await post({ op: 'revoke_token', id: '987654' }, '?lang=en')).body).toContain('No such API token (it may have been revoked).');
  });
});
