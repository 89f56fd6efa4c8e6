/** Small things on the login and record pages that an outside review found. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, makeTestApp, type TestApp } from '../helpers/app.ts';
import { createUser, login, makeProduct, PASSWORD, type Session } from './helpers.ts';

describe('login and record page details', () => {
  let t: TestApp;
  let archivist: Session;
  beforeAll(async () => {
    t = await makeTestApp({ jobs: { workers: 0 } });
    await createUser(t.app, 'luu-tru-chi-tiet', 'archivist');
    archivist = await login(t.app, 'luu-tru-chi-tiet');
  });
  afterAll(async () => t?.close());

  it('after a wrong password, the password field has the focus', async () => {
    const page = await t.app.inject({ url: '/dang-nhap' });
    const token = page.cookies.find((c) => c.name === 'kho_csrf')!.value;
    const res = await t.app.inject({
      method: 'POST', url: '/dang-nhap',
      headers: { cookie: `kho_csrf=${token}`, 'content-type': 'application/x-www-form-urlencoded' },
      payload: `_csrf=${token}&username=luu-tru-chi-tiet&password=${encodeURIComponent(`${PASSWORD}-sai`)}`,
    });
    expect(res.statusCode).toBe(401);
    expect(res.body).toMatch(/<input id="password"[^>]*autofocus/);
    expect(page.body).not.toMatch(/<input id="password"[^>]*autofocus/);
  });

  it('a page number past the end of the PDF opens its last page', async () => {
    const id = await makeProduct(t.app, { title: 'Sách hai trang' });
    t.app.db.sqlite.prepare(`UPDATE blobs SET metadata = '{"pages":2}' WHERE sha256 = (SELECT sha256 FROM product_files WHERE product_id = ?)`).run(id);
    const res = await t.app.inject({ url: `/san-pham/${id}?trang=99`, headers: { cookie: archivist.cookie } });
    expect(res.body).toMatch(/#page=2"/);
    expect(res.body).not.toContain('#page=99');
    expect((await t.app.inject({ url: `/san-pham/${id}?trang=2`, headers: { cookie: archivist.cookie } })).body).toMatch(/#page=2"/);
  });

  it('a possible duplicate is named by its title, once however many flags name it', async () => {
    const first = await makeProduct(t.app, { title: 'Bản đồ du lịch Cao Bằng', type: 'map' });
    const fileOf = t.app.db.sqlite.prepare('SELECT sha256 FROM product_files WHERE product_id = ?').get(first) as { sha256: string };
    const second = await makeProduct(t.app, { title: 'Ban do du lich Cao Bang', type: 'map' });
    t.app.db.sqlite
      .prepare('UPDATE products SET duplicate_flags = ? WHERE id = ?')
      .run(JSON.stringify([{ kind: 'same_file', productId: first, sha256: fileOf.sha256 }, { kind: 'similar_title', productId: first }]), second);
    const res = await t.app.inject({ url: `/san-pham/${second}`, headers: auth() });
    expect(res.body).toContain(`<a href="/san-pham/${first}">Bản đồ du lịch Cao Bằng (#${first})</a>`);
    expect(res.body.split(`href="/san-pham/${first}"`).length - 1).toBe(1);
  });

  it('the search page offers "most relevant" only when there are words to search for', async () => {
    const none = await t.app.inject({ url: '/' });
    expect(none.body).not.toContain('Liên quan nhất');
    expect(none.body).toContain('Mới nhất');
    const some = await t.app.inject({ url: '/?q=ban+do' });
    expect(some.body).toContain('Liên quan nhất');
  });

  it('the compliance report says when a year has no submissions instead of drawing empty axes', async () => {
    const res = await t.app.inject({ url: '/bao-cao?nam=2031', headers: { cookie: archivist.cookie } });
    expect(res.statusCode).toBe(200);
    expect(res.body.split('Chưa có sản phẩm nào được nộp trong năm này.').length - 1).toBe(2);
    expect(res.body).not.toContain('class="bar-chart"');
  });
});
