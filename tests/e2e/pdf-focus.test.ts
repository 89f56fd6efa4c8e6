/**
 * The PDF viewer's frame on the record page shows a focus ring when the keyboard moves into it
 * (Chromium matches no :focus on the <iframe> then: record.js marks it), and none after a click.
 *
 * Run: `npx vitest run tests/e2e/pdf-focus.test.ts` (needs Debian's chromium; KHO_SKIP_E2E=1 skips).
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makePdf } from '../helpers/samples.ts';
import { makeProduct } from '../web/helpers.ts';
import { newContext, SKIP_E2E, startHarness, type Harness } from './browser.ts';

const e2e = SKIP_E2E ? describe.skip : describe;

/** Tab until the PDF frame is the page's active element (at most 40 stops); false if it never is. */
async function tabToFrame(page: Page): Promise<boolean> {
  for (let i = 0; i < 40; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate(() => document.activeElement?.classList.contains('pdf-frame') ?? false)) return true;
  }
  return false;
}

const ring = (page: Page) =>
  page.locator('iframe.pdf-frame').evaluate((f) => {
    const s = getComputedStyle(f);
    return { marked: f.classList.contains('frame-focus'), outline: s.outlineStyle === 'none' ? 'none' : `${s.outlineStyle} ${s.outlineWidth}` };
  });

e2e('PDF viewer focus ring', () => {
  let h: Harness;
  let id: number;

  beforeAll(async () => {
    h = await startHarness({ jobs: { workers: 0 } });
    id = await makeProduct(h.t.app, { title: 'Lịch sử Đảng bộ huyện Hà Quảng', type: 'book', year: '2021' }, { publish: true, files: [{ filename: 'lich-su-ha-quang.pdf', data: await makePdf(3, 'Lich su Ha Quang') }] });
  }, 120_000);
  afterAll(async () => {
    await h?.close();
  });

  it('shows a ring on the frame reached by Tab, drops it when the focus comes back, shows none after a click', async () => {
    const { ctx, page, errors } = await newContext(h);
    await page.goto(`/san-pham/${id}`);
    await page.locator('iframe.pdf-frame').waitFor();
    expect(await ring(page)).toEqual({ marked: false, outline: 'none' });

    expect(await tabToFrame(page)).toBe(true);
    await expect.poll(() => ring(page)).toEqual({ marked: true, outline: 'solid 3px' });

    // Back in the page (the link under the frame, as Shift+Tab out of the viewer would): no ring.
    await page.locator('a.open-at-page').focus();
    await expect.poll(() => ring(page)).toEqual({ marked: false, outline: 'none' });

    // A click into the frame moves the focus there too, but by pointer: no ring.
    await page.locator('iframe.pdf-frame').click({ position: { x: 40, y: 40 } });
    await page.waitForTimeout(300);
    expect(await page.evaluate(() => document.activeElement?.classList.contains('pdf-frame'))).toBe(true);
    expect((await ring(page)).marked).toBe(false);
    expect(errors).toEqual([]);
    await ctx.close();
  }, 120_000);
});
