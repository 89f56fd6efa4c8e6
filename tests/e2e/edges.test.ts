/**
 * The web UI in a real browser beyond the happy path: very long unbroken titles and file names, a
 * record with 20 files, a field's help kept with its error message, the editor after the session
 * has ended. One app and one browser for the file (see browser.ts).
 *
 * Run: `npx vitest run tests/e2e/edges.test.ts` (needs Debian's chromium; KHO_SKIP_E2E=1 skips).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makePng } from '../helpers/samples.ts';
import { createUser, makeProduct } from '../web/helpers.ts';
import { DESKTOP, horizontalOverflow, newContext, PHONE, SKIP_E2E, startHarness, uiLogin, type Harness } from './browser.ts';

const e2e = SKIP_E2E ? describe.skip : describe;

e2e('web UI edges in a real browser', () => {
  let h: Harness;
  let longId: number;
  let editId: number;
  const LONG_WORD = 'Tuyêntruyềnvềlịchsửcáchmạngtỉnh'.repeat(12);

  beforeAll(async () => {
    h = await startHarness();
    const app = h.t.app;
    await createUser(app, 'luutru-bien', 'archivist');
    await createUser(app, 'vhttdl-bien', 'agency', 'so-vhttdl');
    const files = [];
    for (let i = 1; i <= 20; i++) files.push({ filename: `anh-so-${i}-${'daiquadai'.repeat(12)}.png`, data: await makePng(40, 30, i) });
    longId = await makeProduct(app, { title: `Bộ ảnh ${LONG_WORD}`, type: 'photo', agency: 'so-vhttdl', year: '2024' }, { files });
    editId = await makeProduct(app, { title: 'Tờ gấp du lịch Cao Bằng', type: 'flyer', agency: 'so-vhttdl', year: '2023' }, { files: [{ filename: 'to-gap.png', data: await makePng(60, 40, 3) }] });
  }, 180_000);

  afterAll(async () => {
    await h?.close();
  });

  it('a very long unbroken title and 20 long file names wrap instead of widening the record and editor pages', async () => {
    for (const size of [DESKTOP, PHONE]) {
      const { ctx, page, errors } = await newContext(h, size);
      await uiLogin(page, 'luutru-bien');
      await page.goto(`/san-pham/${longId}`);
      expect(await page.locator('section.file').count()).toBe(20);
      expect(await horizontalOverflow(page)).toBe(0);
      await page.goto(`/san-pham/${longId}/sua`);
      expect(await page.locator('h1').textContent()).toContain(LONG_WORD);
      expect(await horizontalOverflow(page)).toBe(0);
      expect(errors).toEqual([]);
      await ctx.close();
    }
  });

  it('the compliance matrix fits a phone: a plan task with a web address wraps instead of widening the table', async () => {
    const { ctx, page, errors } = await newContext(h, PHONE);
    await uiLogin(page, 'luutru-bien');
    await page.goto('/bao-cao?nam=2023');
    // The plan's 2023 tasks include one naming http://lichsu.caobang.gov.vn (data/plan-199-KH-TU-2023.json).
    expect(await page.locator('table.matrix').textContent()).toContain('http://lichsu.caobang.gov.vn');
    const wrap = page.locator('.table-wrap:has(table.matrix)');
    expect(await wrap.evaluate((w) => w.scrollWidth - w.clientWidth)).toBe(0);
    expect(await horizontalOverflow(page)).toBe(0);
    expect(errors).toEqual([]);
    await ctx.close();
  });

  it('at phone width the review queue and a record history show every column without a sideways scroll, still tables to a screen reader', async () => {
    const { ctx, page, errors } = await newContext(h, PHONE);
    await uiLogin(page, 'luutru-bien');
    for (const [url, selector] of [['/tham-dinh', 'table.queue'], [`/san-pham/${editId}`, '.history table']]) {
      await page.goto(url);
      const table = page.locator(selector);
      // The queue holds the record with the very long unbroken title (beforeAll).
      expect(await table.locator('tbody tr').count(), url).toBeGreaterThan(0);
      expect(await table.evaluate((t) => t.parentElement!.scrollWidth - t.parentElement!.clientWidth), url).toBe(0);
      const cut = await table.evaluate((t) => Array.from(t.querySelectorAll('tbody td')).filter((td) => td.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5).map((td) => td.textContent));
      expect(cut, url).toEqual([]);
      expect(await table.getByRole('row').count(), url).toBe((await table.locator('tr').count()));
      expect(await table.getByRole('columnheader').count(), url).toBeGreaterThan(3);
      expect(await horizontalOverflow(page), url).toBe(0);
    }
    // Each cell says which column it is, now that the header row is out of sight.
    await page.goto('/tham-dinh');
    const dateCell = page.locator('table.queue').getByRole('cell', { name: /^Ngày nộp: \d\d\/\d\d\/\d{4}/ }).first();
    expect(await dateCell.isVisible()).toBe(true);
    // The select-all box keeps its place (shown by desk.js) and is reachable.
    expect(await page.locator('#select-all').isVisible()).toBe(true);
    expect(errors).toEqual([]);
    await ctx.close();
  });

  it('Escape undoes the image zoom opened from the keyboard, from the button or from inside the picture', async () => {
    const { ctx, page, errors } = await newContext(h, PHONE);
    await uiLogin(page, 'luutru-bien');
    await page.goto(`/san-pham/${editId}`);
    const button = page.getByRole('button', { name: 'Phóng to / thu nhỏ ảnh' });
    const box = page.locator('.zoom-box').first();
    await button.focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => box.getAttribute('class')).toContain('zoomed');
    expect(await button.getAttribute('aria-pressed')).toBe('true');
    await page.keyboard.press('Escape');
    await expect.poll(() => box.getAttribute('class')).not.toContain('zoomed');
    expect(await button.getAttribute('aria-pressed')).toBe('false');
    // Zoomed again, the focus moved into the picture (its link): Escape still undoes it and brings the focus back.
    await page.keyboard.press('Enter');
    await expect.poll(() => box.getAttribute('class')).toContain('zoomed');
    await box.locator('a.zoom-link').focus();
    await page.keyboard.press('Escape');
    await expect.poll(() => box.getAttribute('class')).not.toContain('zoomed');
    expect(await page.evaluate(() => document.activeElement?.classList.contains('zoom-toggle'))).toBe(true);
    expect(errors).toEqual([]);
    await ctx.close();
  });

  it('a field refused by the server keeps its help text described along with the message', async () => {
    const { ctx, page, errors } = await newContext(h);
    await uiLogin(page, 'vhttdl-bien');
    await page.goto('/nop');
    const languages = page.locator('#f-languages');
    expect(await languages.getAttribute('aria-describedby')).toBe('languages-help');
    await page.getByLabel('Loại *').selectOption('leaflet');
    await page.getByLabel('Tên sản phẩm *').fill('Tờ rơi song ngữ Việt – Tày');
    await languages.fill('vi, 12@@');
    await page.locator('#file-input').setInputFiles([{ name: 'to-roi.png', mimeType: 'image/png', buffer: await makePng(50, 40, 5) }]);
    await page.getByRole('button', { name: 'Nộp sản phẩm' }).click();
    await expect.poll(() => languages.getAttribute('aria-invalid')).toBe('true');
    expect(await languages.getAttribute('aria-describedby')).toBe('languages-error languages-help');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('f-languages');
    // Sent again: the message goes, the help stays.
    await languages.fill('vi, tay');
    await page.getByRole('button', { name: 'Nộp sản phẩm' }).click();
    await expect.poll(() => page.locator('#new-record-link').count(), { timeout: 20_000 }).toBe(1);
    expect(await languages.getAttribute('aria-invalid')).toBeNull();
    expect(await languages.getAttribute('aria-describedby')).toBe('languages-help');
    // The sent form stays disabled; the next product starts from an empty form, one link away.
    expect(await page.getByLabel('Tên sản phẩm *').isDisabled()).toBe(true);
    await page.getByRole('link', { name: 'Nộp sản phẩm khác' }).click();
    await page.waitForURL(/\/nop$/);
    expect(await page.getByLabel('Tên sản phẩm *').isDisabled()).toBe(false);
    expect(await page.getByLabel('Tên sản phẩm *').inputValue()).toBe('');
    expect(errors).toEqual([]);
    await ctx.close();
  });

  it('keeps what was typed in the editor when the session ended in another tab', async () => {
    const { ctx, page, errors } = await newContext(h);
    await uiLogin(page, 'luutru-bien');
    await page.goto(`/san-pham/${editId}/sua`);
    await page.getByLabel('Mô tả').fill('Tờ gấp giới thiệu Thác Bản Giốc, Pác Bó và hồ Thang Hen.');
    const other = await ctx.newPage();
    await other.goto('/dang-xuat');
    await Promise.all([other.waitForURL(/da-dang-xuat/), other.locator('main').getByRole('button', { name: 'Đăng xuất' }).click()]);
    await other.close();
    await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Lưu', exact: true }).click()]);
    await expect.poll(() => page.locator('.notice').first().textContent()).toContain('Phiên đăng nhập đã hết');
    await page.getByLabel('Tên đăng nhập').fill('luutru-bien');
    await page.getByLabel('Mật khẩu').fill('mat-khau-rat-dai-123');
    await Promise.all([page.waitForURL(/dang-nhap/), page.getByRole('button', { name: 'Đăng nhập' }).click()]);
    const resume = page.getByRole('button', { name: 'Tiếp tục sửa' });
    await expect.poll(() => resume.count()).toBe(1);
    await Promise.all([page.waitForURL(new RegExp(`/san-pham/${editId}/sua$`)), resume.click()]);
    expect(await page.getByLabel('Mô tả').inputValue()).toBe('Tờ gấp giới thiệu Thác Bản Giốc, Pác Bó và hồ Thang Hen.');
    await Promise.all([page.waitForURL(/luu=1/), page.getByRole('button', { name: 'Lưu', exact: true }).click()]);
    expect(await page.locator('main').textContent()).toContain('Thác Bản Giốc, Pác Bó');
    expect(errors).toEqual([]);
    await ctx.close();
  });

  it('explains refusals the form does not foresee in the page language, never with the API English', async () => {
    const { ctx, page, errors } = await newContext(h);
    await uiLogin(page, 'vhttdl-bien');
    await page.goto('/nop');
    await page.getByLabel('Loại *').selectOption('leaflet');
    await page.getByLabel('Tên sản phẩm *').fill('Tờ rơi phòng chống thiên tai');
    await page.locator('#file-input').setInputFiles([{ name: 'thien-tai.png', mimeType: 'image/png', buffer: await makePng(50, 40, 8) }]);
    const answers: Array<[number, Record<string, unknown>, string]> = [
      [429, { code: 'RATE_LIMITED', message: 'Rate limit exceeded, retry in 1 minute' }, 'Có quá nhiều yêu cầu. Hãy thử lại sau ít phút.'],
      [507, { code: 'STORAGE_FULL', message: 'No space left on device' }, 'Kho lưu trữ đã hết chỗ: sản phẩm chưa được lưu.'],
      [503, { code: 'STORAGE_READ_ONLY', message: 'The store is read-only' }, 'Kho lưu trữ tạm thời không ghi được: sản phẩm chưa được lưu.'],
      [500, { code: 'INTERNAL_ERROR', message: 'Internal server error' }, 'Máy chủ gặp lỗi khi nhận sản phẩm. Hãy thử lại sau.'],
      [400, { code: 'UPLOAD_INCOMPLETE', message: 'The body ended before the form did' }, 'Không nộp được sản phẩm (mã lỗi UPLOAD_INCOMPLETE).'],
      [413, { code: 'FIELD_TOO_LARGE', message: 'A field is larger than 1 MB' }, 'Một trường nhập quá dài.'],
    ];
    for (const [status, body, shown] of answers) {
      await page.unroute('**/api/products**');
      await page.route('**/api/products**', (route) => route.fulfill({ status, contentType: 'application/json; charset=utf-8', body: JSON.stringify({ statusCode: status, ...body }) }));
      await page.getByRole('button', { name: 'Nộp sản phẩm' }).click();
      await expect.poll(() => page.locator('#upload-errors').textContent()).toContain(shown);
      expect(await page.locator('#upload-errors').textContent()).not.toContain(String(body.message));
    }
    expect(errors).toEqual([]);
    await ctx.close();
  });
});
