/**
 * E2E harness: the real app listening on a free port, Debian's chromium driven by playwright-core.
 * Without /usr/bin/chromium the suite fails with the install hint, unless KHO_SKIP_E2E=1.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { makeTestApp, type TestApp } from '../helpers/app.ts';
import { PASSWORD } from '../web/helpers.ts';

export const CHROMIUM = '/usr/bin/chromium';
export const SKIP_E2E = process.env.KHO_SKIP_E2E === '1';
/**
 * Screenshots go to an ignored folder on an ordinary test run, so `npm test` leaves the tree clean;
 * `KHO_UPDATE_SCREENSHOTS=1 npx vitest run tests/e2e` refreshes the ones in docs/ that the README shows.
 */
export const SCREENSHOT_DIR = process.env.KHO_UPDATE_SCREENSHOTS === '1'
  ? resolve(import.meta.dirname, '../../docs/screenshots')
  : resolve(import.meta.dirname, 'screenshots-tmp');
export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 360, height: 740 };

export function assertChromium(): void {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`E2E tests need Debian's chromium at ${CHROMIUM}: run \`apt-get install -y chromium\` (or set KHO_SKIP_E2E=1 to skip them)`);
  }
}

export interface Harness {
  t: TestApp;
  base: string;
  browser: Browser;
  close(): Promise<void>;
}

export async function startHarness(overrides: Parameters<typeof makeTestApp>[0] = {}): Promise<Harness> {
  assertChromium();
  // A small file limit so the UI's "too large" refusal can be shown with a modest file.
  const t = await makeTestApp({ ...overrides, upload: { maxFileBytes: 6 * 1024 * 1024, ...overrides.upload } });
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  const addr = t.app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  // playwright's launch() always starts chromium on a fresh temporary profile (user-data-dir).
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-quic', '--autoplay-policy=no-user-gesture-required',
    ],
    timeout: 60_000,
  });
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  return {
    t,
    base: `http://127.0.0.1:${port}`,
    browser,
    async close() {
      await browser.close().catch(() => {});
      await t.close();
    },
  };
}

/** A new browser context (own cookies) at desktop or phone size, collecting page errors. */
export async function newContext(h: Harness, size: { width: number; height: number } = DESKTOP): Promise<{ ctx: BrowserContext; page: Page; errors: string[] }> {
  const ctx = await h.browser.newContext({ viewport: size, baseURL: h.base, locale: 'vi-VN', deviceScaleFactor: 1, isMobile: size.width < 500, hasTouch: size.width < 500 });
  ctx.setDefaultTimeout(30_000);
  ctx.setDefaultNavigationTimeout(45_000);
  const page = await ctx.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    // CSP violations are reported on the console: any is a bug.
    if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) errors.push(m.text());
  });
  return { ctx, page, errors };
}

/** Log in through the login form. */
export async function uiLogin(page: Page, username: string): Promise<void> {
  await page.goto('/dang-nhap');
  await page.getByLabel('Tên đăng nhập').fill(username);
  await page.getByLabel('Mật khẩu').fill(PASSWORD);
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/dang-nhap')), page.getByRole('button', { name: 'Đăng nhập' }).click()]);
}

export async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: false, animations: 'disabled' });
}

/** The page has no horizontal scrolling at its current viewport. */
export async function horizontalOverflow(page: Page): Promise<number> {
  return page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
}
