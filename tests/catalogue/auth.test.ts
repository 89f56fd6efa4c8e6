import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword, verifyPassword } from '../../server/auth/passwords.ts';
import { createLoginLimiter } from '../../server/auth/sessions.ts';
import { hashSecret } from '../../server/auth/tokens.ts';
import { INITIAL_ADMIN_FILE } from '../../server/plugins/catalogue.ts';
import { makeTestApp, type TestApp } from '../helpers/app.ts';
import { insertProduct, makeActors, PASSWORD, type Actors } from './fixtures.ts';

const cookieOf = (setCookie: string | string[] | undefined): string => {
  const c = [setCookie ?? []].flat().find((s) => s.startsWith('kho_session='));
  if (!c) throw new Error('no session cookie');
  return c;
};

describe('passwords (unit)', () => {
  it('hashes with scrypt in the documented format and verifies', async () => {
    const h = await hashPassword('Mật khẩu rất dài 123');
    expect(h).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(await verifyPassword('Mật khẩu rất dài 123', h)).toBe(true);
    // NFC and NFD spellings of the same Vietnamese password are the same password.
    expect(await verifyPassword('Mật khẩu rất dài 123'.normalize('NFD'), h)).toBe(true);
    expect(await verifyPassword('Mat khau rat dai 123', h)).toBe(false);
    expect(await verifyPassword('x', 'garbage')).toBe(false);
  });
  it('limits failed logins per IP and username', () => {
    let now = 0;
    const l = createLoginLimiter({ maxFailures: 3, windowMs: 60_000, now: () => now });
    for (let i = 0; i < 3; i++) {
      expect(l.check('1.2.3.4', 'admin')).toBe(0);
      l.fail('1.2.3.4', 'admin');
    }
    expect(l.check('1.2.3.4', 'admin')).toBe(60);
    expect(l.check('1.2.3.4', 'luu-tru')).toBe(0);
    expect(l.check('5.6.7.8', 'admin')).toBe(0);
    now = 60_001;
    expect(l.check('1.2.3.4', 'admin')).toBe(0);
  });
});

describe('sessions, CSRF and tokens', () => {
  let t: TestApp;
  let a: Actors;
  beforeAll(async () => {
    t = await makeTestApp({ jobs: { workers: 0 } });
    a = await makeActors(t.app);
  });
  afterAll(() => t.close());

  const login = (username: string, password: string, headers: Record<string, string> = {}, remoteAddress = '10.0.0.1') =>
    t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password }, headers, remoteAddress });

  it('creates the first admin with a random password written to a 0600 file, and that login works', async () => {
    const file = join(t.dataDir, INITIAL_ADMIN_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const password = /password: (\S+)/.exec(readFileSync(file, 'utf8'))![1];
    expect(password.length).toBeGreaterThanOrEqual(16);
    const res = await login('admin', password);
    expect(res.statusCode).toBe(200);
    expect(res.json().user).toMatchObject({ username: 'admin', role: 'admin' });
  });

  it('logs in with a password: HttpOnly SameSite=Lax cookie, CSRF token; me; logout', async () => {
    const res = await login('so-vhttdl', PASSWORD);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.user).toMatchObject({ username: 'so-vhttdl', role: 'agency', agency: { code: 'so-vhttdl' } });
    const cookie = cookieOf(res.headers['set-cookie']);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(cookie).toMatch(/Path=\//);
    expect(cookie).not.toMatch(/Secure/);
    const value = /kho_session=([^;]+)/.exec(cookie)![1];
    // Only the hash of the cookie is stored.
    expect(t.app.db.sqlite.prepare('SELECT count(*) AS n FROM sessions WHERE id_hash = ?').get(hashSecret(value))).toEqual({ n: 1 });
    const me = await t.app.inject({ url: '/api/auth/me', cookies: { kho_session: value } });
    expect(me.json()).toMatchObject({ username: 'so-vhttdl', via: 'session', csrfToken: body.csrfToken });
    const noCsrf = await t.app.inject({ method: 'POST', url: '/api/auth/logout', cookies: { kho_session: value } });
    expect(noCsrf.statusCode).toBe(403);
    expect(noCsrf.json().code).toBe('CSRF_TOKEN_INVALID');
    const out = await t.app.inject({ method: 'POST', url: '/api/auth/logout', cookies: { kho_session: value }, headers: { 'x-csrf-token': body.csrfToken } });
    expect(out.statusCode).toBe(204);
    expect((await t.app.inject({ url: '/api/auth/me', cookies: { kho_session: value } })).statusCode).toBe(401);
  });

  it('marks the cookie Secure behind a TLS proxy', async () => {
    const s = await makeTestApp({ jobs: { workers: 0 }, trustProxy: true });
    try {
      await makeActors(s.app);
      const res = await s.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'luu-tru-vien', password: PASSWORD }, headers: { 'x-forwarded-proto': 'https' } });
      expect(cookieOf(res.headers['set-cookie'])).toMatch(/Secure/);
    } finally {
      await s.close();
    }
  });

  it('requires the CSRF token on session edits (header or _csrf form field) but not with bearer tokens', async () => {
    const res = await login('luu-tru-vien', PASSWORD);
    const { csrfToken } = res.json();
    const sid = /kho_session=([^;]+)/.exec(cookieOf(res.headers['set-cookie']))![1];
    const id = insertProduct(t.app.db.sqlite, { title: 'Phóng sự ảnh Cao Bằng', type: 'photo', agencyId: a.agencyA });
    const transition = (headers: Record<string, string>, payload: string, type = 'application/json') =>
      t.app.inject({ method: 'POST', url: `/api/products/${id}/transitions`, cookies: { kho_session: sid }, headers: { 'content-type': type, ...headers }, payload });
    expect((await transition({}, JSON.stringify({ action: 'start_review' }))).json().code).toBe('CSRF_TOKEN_INVALID');
    expect((await transition({ 'x-csrf-token': 'sai' }, JSON.stringify({ action: 'start_review' }))).statusCode).toBe(403);
    const form = await transition({}, `action=start_review&_csrf=${encodeURIComponent(csrfToken)}`, 'application/x-www-form-urlencoded');
    expect(form.statusCode, form.body).toBe(200);
    const header = await transition({ 'x-csrf-token': csrfToken }, JSON.stringify({ action: 'accept' }));
    expect(header.statusCode).toBe(200);
    const bearer = await t.app.inject({ method: 'POST', url: `/api/products/${id}/transitions`, headers: a.archivist.headers, payload: { action: 'publish' } });
    expect(bearer.statusCode).toBe(200);
  });

  it('rate-limits repeated failed logins with 429 and Retry-After', async () => {
    const codes: number[] = [];
    for (let i = 0; i < 6; i++) codes.push((await login('nha-nghien-cuu', 'sai mật khẩu', {}, '10.9.9.9')).statusCode);
    expect(codes).toEqual([401, 401, 401, 401, 401, 429]);
    const blocked = await login('nha-nghien-cuu', PASSWORD, {}, '10.9.9.9');
    expect(blocked.statusCode).toBe(429);
    expect(blocked.json().code).toBe('RATE_LIMITED');
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    // Another address is not affected.
    expect((await login('nha-nghien-cuu', PASSWORD, {}, '10.9.9.10')).statusCode).toBe(200);
    expect((await login('khong-ton-tai', 'x', {}, '10.9.9.11')).json().code).toBe('INVALID_CREDENTIALS');
  });

  it('API tokens: shown once, stored hashed, revocable, expiring', async () => {
    const created = await t.app.inject({ method: 'POST', url: '/api/tokens', headers: a.admin.headers, payload: { user: 'luu-tru-vien', name: 'nhập liệu', days: 7 } });
    expect(created.statusCode).toBe(201);
    const { token, secret } = created.json();
    expect(secret).toMatch(/^kho_/);
    expect(token.status).toBe('active');
    expect(Date.parse(token.expiresAt) - Date.now()).toBeGreaterThan(6.9 * 86_400_000);
    const row = t.app.db.sqlite.prepare('SELECT token_hash FROM api_tokens WHERE id = ?').get(token.id) as { token_hash: string };
    expect(row.token_hash).toBe(hashSecret(secret));
    expect(JSON.stringify((await t.app.inject({ url: '/api/tokens', headers: a.admin.headers })).json())).not.toContain(secret);
    const use = () => t.app.inject({ url: '/api/auth/me', headers: { authorization: `Bearer ${secret}` } });
    expect((await use()).json()).toMatchObject({ username: 'luu-tru-vien', via: 'api-token' });
    // Last use is recorded to the minute: a second use within the same minute writes nothing.
    const lastUsed = () => (t.app.db.sqlite.prepare('SELECT last_used_at FROM api_tokens WHERE id = ?').get(token.id) as { last_used_at: string | null }).last_used_at;
    const first = lastUsed();
    expect(first).not.toBeNull();
    expect(Date.now() - Date.parse(first!)).toBeLessThan(60_000);
    expect((await use()).statusCode).toBe(200);
    if (new Date().toISOString().slice(0, 16) === first!.slice(0, 16)) {
      expect(lastUsed()).toBe(first);
    }
    // A stale mark is refreshed.
    t.app.db.sqlite.prepare(`UPDATE api_tokens SET last_used_at = '2020-01-01T00:00:00.000Z' WHERE id = ?`).run(token.id);
    expect((await use()).statusCode).toBe(200);
    expect(lastUsed()!.slice(0, 4)).not.toBe('2020');
    const revoke = await t.app.inject({ method: 'DELETE', url: `/api/tokens/${token.id}`, headers: a.admin.headers });
    expect(revoke.json().status).toBe('revoked');
    expect((await use()).json()).toMatchObject({ statusCode: 401, code: 'INVALID_TOKEN' });
    expect((await t.app.inject({ url: '/api/products', headers: a.expired.headers })).json()).toMatchObject({ statusCode: 401, code: 'INVALID_TOKEN' });
  });

  it('a token lifetime of 0, false or an empty string is refused (400), not read as no expiry; null means no expiry', async () => {
    const create = (days: unknown) => t.app.inject({ method: 'POST', url: '/api/tokens', headers: a.admin.headers, payload: { user: 'luu-tru-vien', name: 'khoá thử hạn', days } });
    for (const days of [0, false, '', -3, 1.5, 3651, 'chín mươi']) {
      const res = await create(days);
      expect(res.statusCode, JSON.stringify(days)).toBe(400);
      expect(res.json()).toMatchObject({ code: 'VALIDATION_FAILED', field: 'days' });
    }
    const before = (t.app.db.sqlite.prepare(`SELECT count(*) AS n FROM api_tokens WHERE name = 'khoá thử hạn'`).get() as { n: number }).n;
    expect(before).toBe(0);
    const forever = await create(null);
    expect(forever.statusCode).toBe(201);
    expect(forever.json().token.expiresAt).toBeNull();
    const month = await create('30');
    expect(month.statusCode).toBe(201);
    expect(Date.parse(month.json().token.expiresAt) - Date.now()).toBeGreaterThan(29.9 * 86_400_000);
  });

  it('admins manage accounts: generated password shown once, disabling ends sessions', async () => {
    const created = await t.app.inject({ method: 'POST', url: '/api/users', headers: a.admin.headers, payload: { username: 'huyen-uy-hoa-an', role: 'agency', agency: 'huyen-uy-hoa-an', displayName: 'Huyện uỷ Hoà An' } });
    expect(created.statusCode).toBe(201);
    const { user, generatedPassword } = created.json();
    expect(user).toMatchObject({ role: 'agency', agency: { code: 'huyen-uy-hoa-an' }, hasPassword: true });
    const li = await login('huyen-uy-hoa-an', generatedPassword);
    expect(li.statusCode).toBe(200);
    const sid = /kho_session=([^;]+)/.exec(cookieOf(li.headers['set-cookie']))![1];
    const noAgency = await t.app.inject({ method: 'POST', url: '/api/users', headers: a.admin.headers, payload: { username: 'thieu-co-quan', role: 'agency' } });
    expect(noAgency.json()).toMatchObject({ statusCode: 400, field: 'agency' });
    const dup = await t.app.inject({ method: 'POST', url: '/api/users', headers: a.admin.headers, payload: { username: 'huyen-uy-hoa-an', role: 'researcher' } });
    expect(dup.json()).toMatchObject({ statusCode: 409, code: 'USERNAME_TAKEN' });
    const empty = await t.app.inject({ method: 'PATCH', url: `/api/users/${user.id}`, headers: a.admin.headers, payload: {} });
    expect(empty.json()).toMatchObject({ statusCode: 400, code: 'EMPTY_PATCH' });
    const off = await t.app.inject({ method: 'PATCH', url: `/api/users/${user.id}`, headers: a.admin.headers, payload: { active: false } });
    expect(off.json().active).toBe(false);
    expect((await t.app.inject({ url: '/api/auth/me', cookies: { kho_session: sid } })).statusCode).toBe(401);
    expect((await login('huyen-uy-hoa-an', generatedPassword)).statusCode).toBe(401);
  });

  it('usernames are one name whatever their case: a second account differing only in case is 409, login takes either case', async () => {
    const created = await t.app.inject({ method: 'POST', url: '/api/users', headers: a.admin.headers, payload: { username: 'Đặng-Thị-Hoa', role: 'researcher', password: PASSWORD } });
    expect(created.statusCode).toBe(201);
    const dup = await t.app.inject({ method: 'POST', url: '/api/users', headers: a.admin.headers, payload: { username: 'đặng-thị-hoa', role: 'researcher' } });
    expect(dup.json()).toMatchObject({ statusCode: 409, code: 'USERNAME_TAKEN', field: 'username' });
    const li = await login('ĐẶNG-THỊ-HOA', PASSWORD, {}, '10.7.7.7');
    expect(li.statusCode).toBe(200);
    expect(li.json().user.username).toBe('Đặng-Thị-Hoa');
    expect((await login('đặng-thị-hoa', 'sai mật khẩu', {}, '10.7.7.7')).json().code).toBe('INVALID_CREDENTIALS');
  });

  it('the last active admin account cannot be disabled or given another role (409 LAST_ADMIN); with another admin it can', async () => {
    const admins = () => (t.app.db.sqlite.prepare(`SELECT id FROM users WHERE role = 'admin' AND active = 1 ORDER BY id`).all() as { id: number }[]).map((r) => r.id);
    const patch = (id: number, payload: object) => t.app.inject({ method: 'PATCH', url: `/api/users/${id}`, headers: a.admin.headers, payload });
    const before = admins();
    expect(before.length).toBeGreaterThan(1);
    // Every admin but the last is disabled: allowed while another active admin remains.
    for (const id of before.slice(0, -1)) expect((await patch(id, { active: false })).statusCode).toBe(200);
    const last = before.at(-1)!;
    const off = await patch(last, { active: false });
    expect(off.json()).toMatchObject({ statusCode: 409, code: 'LAST_ADMIN' });
    const demoted = await patch(last, { role: 'archivist' });
    expect(demoted.json()).toMatchObject({ statusCode: 409, code: 'LAST_ADMIN' });
    expect(admins()).toEqual([last]);
    // Other changes to the last admin still go through.
    expect((await patch(last, { displayName: 'Quản trị viên Ban Tuyên giáo' })).statusCode).toBe(200);
    // With a second admin back, the first may step down.
    expect((await patch(before[0], { active: true })).statusCode).toBe(200);
    expect((await patch(last, { role: 'archivist' })).statusCode).toBe(200);
    expect(admins()).toEqual([before[0]]);
  });
});
