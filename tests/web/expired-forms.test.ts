/**
 * Admin and review-desk forms sent after the session ended (found by a fresh-clone browser probe:
 * the "add user" form, sent with an expired session, led to a plain "log in to continue" and then
 * back to an empty form, the account not made and nothing saying so).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestApp, type TestApp } from '../helpers/app.ts';
import { createUser, login, makeProduct } from './helpers.ts';

const form = (fields: Record<string, string>): string => new URLSearchParams(fields).toString();
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

describe('a desk or admin form sent after the session ended', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await makeTestApp({ jobs: { workers: 0 } });
  });
  afterAll(async () => t?.close());

  it('the admin form: the login page says the account was not made, in both languages, and nothing is made', async () => {
    const typed = { _csrf: 'old-token', op: 'create_user', username: 'nghien-cuu-het-han', displayName: 'Nguyễn Thị Hà', role: 'researcher', password: 'mat-khau-rat-dai-2026' };
    const vi = await t.app.inject({ method: 'POST', url: '/quan-tri', headers: { ...FORM, cookie: 'kho_session=het-han' }, payload: form(typed) });
    expect(vi.statusCode).toBe(401);
    expect(vi.body).toContain('Phiên đăng nhập đã hết nên việc vừa gửi chưa được thực hiện. Hãy đăng nhập lại rồi làm lại.');
    expect(vi.body).not.toContain('Hãy đăng nhập để tiếp tục.');
    expect(vi.body).toContain(`action="/dang-nhap?next=${encodeURIComponent('/quan-tri')}"`);
    const en = await t.app.inject({ method: 'POST', url: '/quan-tri', headers: { ...FORM, cookie: 'kho_session=het-han; lang=en' }, payload: form(typed) });
    expect(en.statusCode).toBe(401);
    expect(en.body).toContain('Your session ended, so what you sent was not done. Log in again, then do it again.');
    expect(t.app.db.sqlite.prepare('SELECT COUNT(*) AS n FROM users WHERE username = ?').get(typed.username)).toEqual({ n: 0 });
  });

  it('the review desk: the bulk action is not done and the login page says so', async () => {
    const id = await makeProduct(t.app, { title: 'Tờ gấp chờ thẩm định' });
    const res = await t.app.inject({ method: 'POST', url: '/tham-dinh', headers: { ...FORM, cookie: 'kho_session=het-han' }, payload: form({ _csrf: 'old-token', action: 'start_review', ids: String(id) }) });
    expect(res.statusCode).toBe(401);
    expect(res.body).toContain('Phiên đăng nhập đã hết nên việc vừa gửi chưa được thực hiện.');
    expect(res.body).toContain(`action="/dang-nhap?next=${encodeURIComponent('/tham-dinh')}"`);
    expect((t.app.db.sqlite.prepare('SELECT state FROM products WHERE id = ?').get(id) as { state: string }).state).toBe('submitted');
  });

  it('a signed-in archivist posting the admin form still gets the forbidden page, not the login page', async () => {
    await createUser(t.app, 'luu-tru-het-han', 'archivist');
    const s = await login(t.app, 'luu-tru-het-han');
    const res = await t.app.inject({ method: 'POST', url: '/quan-tri', headers: { ...FORM, cookie: s.cookie }, payload: form({ _csrf: s.csrf, op: 'create_user', username: 'x-y-z' }) });
    expect(res.statusCode).toBe(403);
    expect(res.body).not.toContain('Phiên đăng nhập đã hết');
  });
});
