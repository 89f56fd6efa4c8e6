/**
 * A 50-page Vietnamese PDF read on a phone from a search hit: read the page, turn pages, go to a
 * page, get back to the results.
 *
 * Run: `npx vitest run tests/e2e/phone-pdf.test.ts` (needs Debian's chromium; KHO_SKIP_E2E=1 skips).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeUnicodePdf, tempDir } from '../helpers/fixtures.ts';
import { makeProduct } from '../web/helpers.ts';
import { DESKTOP, horizontalOverflow, newContext, PHONE, shot, SKIP_E2E, startHarness, type Harness } from './browser.ts';

const e2e = SKIP_E2E ? describe.skip : describe;

const pageText = (i: number) =>
  `Trang ${i}: Lịch sử Đảng bộ tỉnh Cao Bằng\nPhong trào cách mạng ở Pác Bó năm 19${40 + (i % 10)}\nĐoạn văn thứ ${i} về truyền thống yêu nước${i === 23 ? ' bên thác Bản Giốc' : ''}`;

e2e('a long PDF on a phone', () => {
  let h: Harness;
  let pdfId: number;

  beforeAll(async () => {
    h = await startHarness();
    const app = h.t.app;
    const tmp = await tempDir('kho-phone-pdf-');
    const path = join(tmp.dir, 'lich-su.pdf');
    await makeUnicodePdf(path, Array.from({ length: 50 }, (_, i) => pageText(i + 1)), { madeFont: true, title: 'Lịch sử Đảng bộ' });
    pdfId = await makeProduct(app, { title: 'Lịch sử Đảng bộ tỉnh Cao Bằng (1930–1954)', type: 'book', agency: 'ban-tuyen-giao', year: '2023' }, { publish: true, files: [{ filename: 'lich-su-dang-bo.pdf', data: await readFile(path) }] });
    await tmp.cleanup();
    await app.jobRunner.drain();
  }, 180_000);

  afterAll(async () => {
    await h?.close();
  });

  it('at 360 px a PDF hit opens at its page as text, pages turn and jump, and Back returns to the results', async () => {
    const { ctx, page, errors } = await newContext(h, PHONE);
    await page.goto('/?q=thac+ban+gioc');
    const hit = page.locator('.hit').filter({ hasText: 'Lịch sử Đảng bộ' }).locator('a.page-link');
    await expect.poll(() => hit.textContent()).toContain('trang 23');
    await Promise.all([page.waitForURL(new RegExp(`/san-pham/${pdfId}\\?trang=23&`)), hit.click()]);
    // The page itself, readable as text in the page (a phone's browser draws no PDF inside a page).
    const reader = page.getByRole('region', { name: 'Chữ của trang 23' });
    await expect.poll(() => reader.isVisible()).toBe(true);
    expect(await reader.textContent()).toContain('Đoạn văn thứ 23 về truyền thống yêu nước bên thác Bản Giốc');
    expect(await page.getByRole('heading', { name: 'Trang 23 / 50' }).isVisible()).toBe(true);
    expect(await page.locator('iframe.pdf-frame').isVisible()).toBe(false);
    // The phone's own viewer, which zooms, is one tap away, at the same page.
    expect(await page.getByRole('link', { name: 'Mở tại trang 23' }).isVisible()).toBe(true);
    // Turning pages.
    const nav = page.getByRole('navigation', { name: 'Chuyển trang' });
    await Promise.all([page.waitForURL(/trang=24/), nav.getByRole('link', { name: 'Trang sau ›' }).click()]);
    expect(await page.getByRole('region', { name: 'Chữ của trang 24' }).textContent()).toContain('Đoạn văn thứ 24');
    await Promise.all([page.waitForURL(/trang=23/), nav.getByRole('link', { name: '‹ Trang trước' }).click()]);
    // Going to a page by number, and to one past the end (the last one).
    await nav.getByLabel('Đến trang').fill('7');
    await Promise.all([page.waitForURL(/trang=7/), nav.getByRole('button', { name: 'Xem' }).click()]);
    expect(await page.getByRole('region', { name: 'Chữ của trang 7' }).textContent()).toContain('Đoạn văn thứ 7');
    await nav.getByLabel('Đến trang').fill('80');
    await Promise.all([page.waitForURL(/trang=80/), nav.getByRole('button', { name: 'Xem' }).click()]);
    expect(await page.getByRole('heading', { name: 'Trang 50 / 50' }).isVisible()).toBe(true);
    expect(await nav.getByRole('link', { name: 'Trang sau ›' }).count()).toBe(0);
    // The reader is in view after each turn, and nothing scrolls sideways.
    expect(await page.locator(".pdf-page h4").evaluate((e) => { const r = e.getBoundingClientRect(); return r.top >= 0 && r.bottom < innerHeight; })).toBe(true);
    expect(await horizontalOverflow(page)).toBe(0);
    await shot(page, 'record-pdf-phone');
    // Four page turns later, one Back is the search results again.
    await page.goBack();
    await page.waitForURL(/\/\?q=thac\+ban\+gioc$/);
    expect(errors).toEqual([]);
    await ctx.close();
  });

  it('on a desktop the PDF viewer stays, with the page text under it', async () => {
    const { ctx, page, errors } = await newContext(h, DESKTOP);
    await page.goto(`/san-pham/${pdfId}?lang=en&trang=2`);
    expect(await page.locator('iframe.pdf-frame').isVisible()).toBe(true);
    expect(await page.getByRole('heading', { name: 'Page 2 of 50' }).isVisible()).toBe(true);
    const reader = page.getByRole('region', { name: 'Text of page 2' });
    expect(await reader.getAttribute('lang')).toBe('vi');
    expect(await reader.textContent()).toContain('Đoạn văn thứ 2 ');
    expect(errors).toEqual([]);
    await ctx.close();
  });

});
