/**
 * What three new users met on the server-rendered pages (docs/ui.md, “Review as new users”): the
 * login page saying how accounts are made, API token states in the page language, the agency's
 * list naming each edit link's record and saying what to do when empty, a withdrawal with its
 * reason, a duplicate's title marked Vietnamese on an English page.
 */
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, makeTestApp, type TestApp } from '../helpers/app.ts';
import { makePdf } from '../helpers/samples.ts';
import { INITIAL_ADMIN_FILE } from '../../server/plugins/catalogue.ts';
import { createUser, firstAgency, login, makeProduct, PASSWORD, type Session } from './helpers.ts';

describe('pages as new users meet them', () => {
  let t: TestApp;
  let archivist: Session;
  let clerk: Session;
  let admin: Session;
  let emptyClerk: Session;
  let agencyCode: string;

  beforeAll(async () => {
    t = await makeTestApp({ jobs: { workers: 0 } });
    agencyCode = (await firstAgency(t.app)).code;
    const other = t.app.db.sqlite.prepare('SELECT code FROM agencies WHERE active = 1 ORDER BY id LIMIT 1 OFFSET 1').get() as { code: string };
    await createUser(t.app, 'luu-tru-moi', 'archivist');
    await createUser(t.app, 'van-thu-moi', 'agency', agencyCode);
    await createUser(t.app, 'van-thu-chua-nop', 'agency', other.code);
    await createUser(t.app, 'quan-tri-moi', 'admin');
    archivist = await login(t.app, 'luu-tru-moi');
    clerk = await login(t.app, 'van-thu-moi');
    emptyClerk = await login(t.app, 'van-thu-chua-nop');
    admin = await login(t.app, 'quan-tri-moi');
  });
  afterAll(async () => t?.close());

  const get = (url: string, s?: Session) => t.app.inject({ method: 'GET', url, headers: s ? { cookie: s.cookie } : {} });
  const form = (url: string, s: Session, fields: Record<string, string>) =>
    t.app.inject({ method: 'POST', url, headers: { cookie: s.cookie, 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ _csrf: s.csrf, ...fields }).toString() });

  it('the login page says how to get an account and, on a fresh install, where the first admin password is', async () => {
    expect(existsSync(join(t.dataDir, INITIAL_ADMIN_FILE))).toBe(true);
    const vi = (await get('/dang-nhap?lang=vi')).body;
    expect(vi).toContain('Chưa có tài khoản? Tài khoản do quản trị viên của kho cấp');
    expect(vi).toContain('Tra cứu thì không cần đăng nhập.');
    expect(vi).toContain('Lần khởi động đầu tiên, máy chủ đã tạo tài khoản admin.');
    expect(vi).toContain(`ghi trong tệp ${INITIAL_ADMIN_FILE} ở thư mục dữ liệu`);
    const en = (await get('/dang-nhap?lang=en')).body;
    expect(en).toContain('No account? The archive administrator gives each staff member one');
    expect(en).toContain(`written to the file ${INITIAL_ADMIN_FILE} in the data folder`);
    expect(en).not.toContain('Chưa có tài khoản');
    // The password itself never shows.
    const password = /password: (\S+)/.exec((await import('node:fs')).readFileSync(join(t.dataDir, INITIAL_ADMIN_FILE), 'utf8'))![1];
    expect(vi).not.toContain(password);
    // Once the file is deleted (the admin has logged in and done as told), the note goes; the account hint stays.
    await rm(join(t.dataDir, INITIAL_ADMIN_FILE));
    const after = (await get('/dang-nhap')).body;
    expect(after).not.toContain('Lần khởi động đầu tiên');
    expect(after).toContain('Chưa có tài khoản?');
  });

  it('the admin page names API token states in the page language', async () => {
    const made = await t.app.inject({ method: 'POST', url: '/api/tokens', headers: auth(), payload: { user: 'quan-tri-moi', name: 'kịch bản sao lưu' } });
    expect(made.statusCode, made.body).toBe(201);
    const revoked = await t.app.inject({ method: 'POST', url: '/api/tokens', headers: auth(), payload: { user: 'quan-tri-moi', name: 'khoá cũ' } });
    expect(revoked.statusCode, revoked.body).toBe(201);
    const del = await t.app.inject({ method: 'DELETE', url: `/api/tokens/${revoked.json().token.id}`, headers: auth() });
    expect(del.statusCode, del.body).toBeLessThan(300);
    const cells = (body: string) => [...body.matchAll(/<tr><td>(kịch bản sao lưu|khoá cũ)<\/td><td>[^<]*<\/td><td><code>[^<]*<\/code><\/td><td>([^<]*)<\/td>/g)].map((m) => `${m[1]}: ${m[2]}`).sort();
    expect(cells((await get('/quan-tri?lang=vi', admin)).body)).toEqual(['khoá cũ: Đã thu hồi', 'kịch bản sao lưu: Đang dùng']);
    expect(cells((await get('/quan-tri?lang=en', admin)).body)).toEqual(['khoá cũ: Revoked', 'kịch bản sao lưu: Active']);
  });

  it('the admin page sets a new password for an account, their own included', async () => {
    await createUser(t.app, 'quen-mat-khau', 'agency', agencyCode);
    await createUser(t.app, 'quan-tri-hai', 'admin');
    const admin2 = await login(t.app, 'quan-tri-hai');
    const idOf = (name: string) => (t.app.db.sqlite.prepare('SELECT id FROM users WHERE username = ?').get(name) as { id: number }).id;
    const page = (await get('/quan-tri?lang=vi', admin2)).body;
    expect(page).toContain(`<label class="visually-hidden" for="pw-${idOf('quen-mat-khau')}">Mật khẩu mới (ít nhất 10 ký tự) cho quen-mat-khau</label>`);
    expect(page).toContain('Đặt mật khẩu<span class="visually-hidden"> quen-mat-khau</span>');
    const apiLogin = (username: string, password: string) => t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password } });
    // Too short: refused in the page language, nothing changed.
    const short = await form('/quan-tri?lang=vi', admin2, { op: 'set_password', id: String(idOf('quen-mat-khau')), password: 'ngan' });
    expect(short.statusCode).toBe(400);
    expect(short.body).toContain('Mật khẩu không hợp lệ: cần ít nhất 10 ký tự.');
    expect((await apiLogin('quen-mat-khau', PASSWORD)).statusCode).toBe(200);
    // Another account's: done, back to the page by GET.
    const ok = await form('/quan-tri', admin2, { op: 'set_password', id: String(idOf('quen-mat-khau')), password: 'mật-khẩu-mới-của-văn-thư' });
    expect(ok.statusCode).toBe(303);
    expect(ok.headers.location).toBe('/quan-tri?luu=1');
    expect((await apiLogin('quen-mat-khau', 'mật-khẩu-mới-của-văn-thư')).statusCode).toBe(200);
    expect((await apiLogin('quen-mat-khau', PASSWORD)).statusCode).toBe(401);
    // One's own (the first admin's task after the first start): sent to log in again, told why.
    const own = await form('/quan-tri', admin2, { op: 'set_password', id: String(idOf('quan-tri-hai')), password: 'mật-khẩu-quản-trị-mới' });
    expect(own.statusCode).toBe(303);
    expect(own.headers.location).toBe('/dang-nhap?next=%2Fquan-tri&mat-khau-moi=1');
    expect((await get('/quan-tri', admin2)).statusCode).not.toBe(200);
    const loginPage = (await get(own.headers.location as string)).body;
    expect(loginPage).toContain('Đã đặt mật khẩu mới. Hãy đăng nhập lại bằng mật khẩu đó.');
    expect((await apiLogin('quan-tri-hai', 'mật-khẩu-quản-trị-mới')).statusCode).toBe(200);
  });

  it('the agency list names the record of each edit link, and an empty list leads to the upload form', async () => {
    await makeProduct(t.app, { title: 'Tờ gấp Non nước Cao Bằng', agency: agencyCode, type: 'flyer' });
    await makeProduct(t.app, { title: 'Sách ảnh Pác Bó', agency: agencyCode, type: 'book' });
    const mine = (await get('/cua-toi?lang=vi', clerk)).body;
    const links = [...mine.matchAll(/<a class="button small[^"]*" href="\/san-pham\/\d+\/sua">([\s\S]*?)<\/a>/g)].map((m) => m[1].replace(/<[^>]+>/g, ''));
    expect(links.sort()).toEqual(['Sửa: Sách ảnh Pác Bó', 'Sửa: Tờ gấp Non nước Cao Bằng']);
    expect(mine).toContain('<span class="visually-hidden">: Sách ảnh Pác Bó</span>');
    const en = (await get('/cua-toi?lang=en', clerk)).body;
    expect(en).toContain('Edit<span class="visually-hidden">: <span lang="vi">Sách ảnh Pác Bó</span></span>');
    const empty = (await get('/cua-toi?lang=vi', emptyClerk)).body;
    expect(empty).toContain('Chưa có sản phẩm nào.');
    expect(empty).toContain('<a class="button" href="/nop">Nộp sản phẩm đầu tiên</a>');
    expect((await get('/cua-toi?lang=en', emptyClerk)).body).toContain('<a class="button" href="/nop">Submit your first product</a>');
  });

  it('a published record can be withdrawn with a reason from its page, and the history shows the reason', async () => {
    const id = await makeProduct(t.app, { title: 'Phim tài liệu Bác Hồ ở Pác Bó', agency: agencyCode, type: 'book' }, { publish: true });
    const page = (await get(`/san-pham/${id}?lang=vi`, archivist)).body;
    const wf = /<form method="post" action="\/san-pham\/\d+\/chuyen"[\s\S]*?<\/form>/.exec(page)![0];
    expect(wf).toContain('value="withdraw"');
    expect(wf).toContain('<textarea id="reason" name="reason"');
    expect(wf).toContain('khi rút khỏi kho, lý do được ghi vào lịch sử hồ sơ');
    const res = await form(`/san-pham/${id}/chuyen`, archivist, { action: 'withdraw', reason: 'Bản in sai năm phát hành, cơ quan sẽ nộp bản khác.' });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe(`/san-pham/${id}?da=withdraw`);
    const after = (await get(`/san-pham/${id}?lang=vi`, archivist)).body;
    const history = /<section class="history"[\s\S]*?<\/section>/.exec(after)![0];
    expect(history).toContain('Bản in sai năm phát hành, cơ quan sẽ nộp bản khác.');
  });

  it('the agency sees the reason field by its Withdraw button too', async () => {
    const id = await makeProduct(t.app, { title: 'Tờ rơi phòng chống cháy rừng', agency: agencyCode, type: 'leaflet' });
    const page = (await get(`/san-pham/${id}?lang=en`, clerk)).body;
    expect(page).toContain('value="withdraw"');
    expect(page).toContain('<textarea id="reason" name="reason"');
    expect(page).toContain('when withdrawing one, the reason is kept in its history');
  });

  it('the review queue says what the number after the type counts', async () => {
    const pdf = await makePdf(1, 'Hai tep');
    await makeProduct(t.app, { title: 'Kỷ yếu hội thảo Pác Bó', agency: agencyCode, type: 'book' }, { files: [{ filename: 'ky-yeu.pdf', data: pdf }, { filename: 'bia.pdf', data: await makePdf(1, 'Bia') }] });
    await makeProduct(t.app, { title: 'Tờ rơi an toàn giao thông', agency: agencyCode, type: 'leaflet' });
    const vi = (await get('/tham-dinh?lang=vi', archivist)).body;
    expect(vi).toMatch(/Kỷ yếu hội thảo Pác Bó<\/a> <span class="muted">\(Sách, 2 tệp\)<\/span>/);
    expect(vi).toMatch(/Tờ rơi an toàn giao thông<\/a> <span class="muted">\(Tờ rơi, 1 tệp\)<\/span>/);
    const en = (await get('/tham-dinh?lang=en', archivist)).body;
    expect(en).toMatch(/Kỷ yếu hội thảo Pác Bó<\/span><\/a> <span class="muted">\(Book, 2 files\)<\/span>/);
    expect(en).toMatch(/Tờ rơi an toàn giao thông<\/span><\/a> <span class="muted">\(Leaflet, 1 file\)<\/span>/);
  });

  it('the compliance report offers the years products were handed in, not only the plan years', async () => {
    // A record handed in now; the plan seed's tasks are 2023's.
    await makeProduct(t.app, { title: 'Băng rôn kỷ niệm ngày thành lập tỉnh', agency: agencyCode, type: 'other' });
    const now = new Date().getUTCFullYear();
    expect(now).not.toBe(2023);
    const page = (await get('/bao-cao', archivist)).body;
    const options = [...(/<select id="nam" name="nam">([\s\S]*?)<\/select>/.exec(page)![1].matchAll(/<option value="(\d+)"( selected)?>/g))].map((m) => `${m[1]}${m[2] ? '*' : ''}`);
    expect(options).toEqual([String(now), '2023*']);
    // That year's page draws the submissions (no plan tasks that year: the matrix says so).
    const year = (await get(`/bao-cao?nam=${now}`, archivist)).body;
    expect(year).toContain('<svg');
    expect(year).toContain('Chưa có nhiệm vụ nào trong năm này.');
  });

  it('on English pages the return reason written by the archivist is marked Vietnamese', async () => {
    const id = await makeProduct(t.app, { title: 'Áp phích ngày hội đại đoàn kết', agency: agencyCode, type: 'other' });
    const r = await t.app.inject({ method: 'POST', url: `/api/products/${id}/transitions`, headers: auth(), payload: { action: 'return', reason: 'Thiếu năm phát hành trên bìa.' } });
    expect(r.statusCode, r.body).toBeLessThan(300);
    expect((await get(`/san-pham/${id}?lang=en`, clerk)).body).toContain('<strong>Reason for return:</strong> <span lang="vi">Thiếu năm phát hành trên bìa.</span>');
    expect((await get('/cua-toi?lang=en', clerk)).body).toContain('<strong>Reason for return:</strong> <span lang="vi">Thiếu năm phát hành trên bìa.</span>');
    expect((await get('/cua-toi?lang=vi', clerk)).body).toContain('<strong>Lý do trả lại:</strong> Thiếu năm phát hành trên bìa.</p>');
  });

  it('on an English page the title of a possible duplicate is marked Vietnamese', async () => {
    const pdf = await makePdf(1, 'Ban do du lich Cao Bang');
    const first = await makeProduct(t.app, { title: 'Bản đồ du lịch Cao Bằng', agency: agencyCode, type: 'map' }, { files: [{ filename: 'ban-do.pdf', data: pdf }] });
    const second = await makeProduct(t.app, { title: 'Bản đồ du lịch (bản nộp lại)', agency: agencyCode, type: 'map' }, { files: [{ filename: 'ban-do-2.pdf', data: pdf }] });
    const en = (await get(`/san-pham/${second}?lang=en`, archivist)).body;
    expect(en).toContain(`Possible duplicate of: <a href="/san-pham/${first}"><span lang="vi">Bản đồ du lịch Cao Bằng</span> (#${first})</a>`);
    const vi = (await get(`/san-pham/${second}?lang=vi`, archivist)).body;
    expect(vi).toContain(`Có thể trùng với: <a href="/san-pham/${first}">Bản đồ du lịch Cao Bằng (#${first})</a>`);
  });

  it('an archive with nothing published says so and where to start, instead of asking to remove filters', async () => {
    const fresh = await makeTestApp({ jobs: { workers: 0 } });
    try {
      await createUser(fresh.app, 'van-thu-dau-tien', 'agency', agencyCode);
      const s = await login(fresh.app, 'van-thu-dau-tien');
      const page = (await fresh.app.inject({ url: '/?lang=vi' })).body;
      expect(page).toContain('Kho chưa có sản phẩm nào được công bố.');
      expect(page).not.toContain('bỏ bớt bộ lọc');
      expect(page).not.toContain('href="/nop"');
      const en = (await fresh.app.inject({ url: '/?lang=en', headers: { cookie: s.cookie } })).body;
      expect(en).toContain('Nothing has been published in the archive yet.');
      expect(en).toContain('<a class="button" href="/nop">Submit the first product</a>');
      // A search that finds nothing, no filter set: other words, not filters to remove.
      const none = (await fresh.app.inject({ url: '/?lang=vi&q=kh%C3%B4ng%20c%C3%B3%20g%C3%AC' })).body;
      expect(none).toContain('Không tìm thấy sản phẩm nào. Hãy thử từ khoá khác, ngắn hơn');
      const filtered = (await fresh.app.inject({ url: '/?lang=vi&q=abc&type=book' })).body;
      expect(filtered).toContain('Hãy thử từ khoá khác hoặc bỏ bớt bộ lọc.');
    } finally {
      await fresh.close();
    }
  });
});
