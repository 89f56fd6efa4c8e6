/** Login throttling through the login form: only failed logins count, per user and per address. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestApp, type TestApp } from '../helpers/app.ts';
import { createUser, PASSWORD } from './helpers.ts';

describe('login throttling', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await makeTestApp({ jobs: { workers: 0 } });
    for (const u of ['nv-mot', 'nv-hai', 'nv-ba']) await createUser(t.app, u, 'archivist');
  });
  afterAll(async () => t?.close());

  /** Log in through the form from one address (an office behind one NAT). */
  const formLogin = async (username: string, password: string, ip: string) => {
    const page = await t.app.inject({ url: '/dang-nhap', remoteAddress: ip });
    const token = page.cookies.find((c) => c.name === 'kho_csrf')!.value;
    return t.app.inject({
      method: 'POST',
      url: '/dang-nhap',
      remoteAddress: ip,
      headers: { cookie: `kho_csrf=${token}`, 'content-type': 'application/x-www-form-urlencoded' },
      payload: `_csrf=${token}&username=${encodeURIComponent(username)}&password=${encodeURIComponent(password)}`,
    });
  };

  it('never locks out an office whose many logins succeed', async () => {
    for (let i = 0; i < 40; i++) {
      const res = await formLogin(['nv-mot', 'nv-hai'][i % 2], PASSWORD, '10.9.0.1');
      expect(res.statusCode, `login ${i + 1}`).toBe(303);
    }
    // A few typos among them lock out nobody either.
    expect((await formLogin('nv-mot', 'sai-mat-khau', '10.9.0.1')).statusCode).toBe(401);
    expect((await formLogin('nv-ba', PASSWORD, '10.9.0.1')).statusCode).toBe(303);
  });

  it('still stops password guessing: per user, then per address, and says so truthfully', async () => {
    const ip = '10.9.0.2';
    for (let i = 0; i < 5; i++) expect((await formLogin('nv-hai', `doan-sai-${i}`, ip)).statusCode).toBe(401);
    const blocked = await formLogin('nv-hai', PASSWORD, ip);
    expect(blocked.statusCode).toBe(429);
    expect(blocked.body).toContain('Đăng nhập sai quá nhiều lần.');
    const api = await t.app.inject({ method: 'POST', url: '/api/auth/login', remoteAddress: ip, payload: { username: 'nv-hai', password: PASSWORD } });
    expect(api.statusCode).toBe(429);
    expect(api.json().message).toMatch(/^Too many failed logins/);
    // Another colleague at the same address is not blocked by it.
    expect((await formLogin('nv-ba', PASSWORD, ip)).statusCode).toBe(303);
    // Guessing across many usernames from one address: stopped after 30 failures in all.
    for (let i = 5; i < 30; i++) expect((await formLogin(`khong-co-${i}`, 'x', ip)).statusCode).toBe(401);
    expect((await formLogin('nv-ba', PASSWORD, ip)).statusCode).toBe(429);
  });
});
