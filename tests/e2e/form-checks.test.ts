/**
 * The browser's own check of a form before it is sent (required, minlength, pattern) speaks the
 * page's language, not the browser's (forms.js): the test's Chromium is an English one.
 *
 * Run: `npx vitest run tests/e2e/form-checks.test.ts` (needs Debian's chromium; KHO_SKIP_E2E=1 skips).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../web/helpers.ts';
import { DESKTOP, newContext, SKIP_E2E, startHarness, uiLogin, type Harness } from './browser.ts';

const e2e = SKIP_E2E ? describe.skip : describe;

e2e('form checks in the page language', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness();
    await createUser(h.t.app, 'quantri-form', 'admin');
  }, 120_000);

  afterAll(async () => {
    await h?.close();
  });

  it('the browser check of a form before it is sent speaks the page language, not the browser language', async () => {
    const { ctx, page, errors } = await newContext(h, DESKTOP);
    // An empty login form: the browser stops it and says why.
    await page.goto('/dang-nhap');
    await page.getByRole('button', { name: 'Đăng nhập' }).click();
    const user = page.getByLabel('Tên đăng nhập');
    await expect.poll(() => user.evaluate((e: HTMLInputElement) => e.validationMessage)).toBe('Hãy điền vào ô này.');
    expect(new URL(page.url()).pathname).toBe('/dang-nhap');
    // Typing clears it; the next empty field has its own.
    await user.fill('quantri-form');
    expect(await user.evaluate((e: HTMLInputElement) => e.validity.valid)).toBe(true);
    await page.getByRole('button', { name: 'Đăng nhập' }).click();
    await expect.poll(() => page.getByLabel('Mật khẩu').evaluate((e: HTMLInputElement) => e.validationMessage)).toBe('Hãy điền vào ô này.');
    // The same in English.
    await page.goto('/dang-nhap?lang=en');
    await page.getByRole('button', { name: 'Log in' }).click();
    await expect.poll(() => page.getByLabel('Username').evaluate((e: HTMLInputElement) => e.validationMessage)).toBe('Please fill in this field.');
    await page.goto('/dang-nhap?lang=vi');
    await uiLogin(page, 'quantri-form');
    // Admin forms: a too-short password, an agency code with capitals.
    await page.goto('/quan-tri');
    const newUser = page.locator('form.admin-form').filter({ has: page.locator('#u-username') });
    await newUser.locator('#u-username').fill('nguoimoi');
    await newUser.locator('#u-password').fill('ngan');
    await newUser.getByRole('button').last().click();
    await expect.poll(() => newUser.locator('#u-password').evaluate((e: HTMLInputElement) => e.validationMessage)).toBe('Cần ít nhất 10 ký tự (mới có 4).');
    const agency = page.locator('form.admin-form').filter({ has: page.locator('#a-code') });
    await agency.locator('#a-code').fill('Sở-VH');
    await agency.locator('#a-name').fill('Sở Văn hoá');
    await agency.getByRole('button').last().click();
    await expect.poll(() => agency.locator('#a-code').evaluate((e: HTMLInputElement) => e.validationMessage)).toMatch(/^Mã gồm 2–64 chữ thường/);
    expect(errors).toEqual([]);
    await ctx.close();
  });
});
