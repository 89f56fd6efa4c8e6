/**
 * The fourth review of the web UI in a real browser: printing a record and a result list, a search
 * with more results than the list can page through and 43 agencies in the facets, an upload
 * cancelled halfway on a throttled network, following a link while offline, the reader's own
 * default text size, and a record whose processing ends while a reason is being typed.
 *
 * Run: `npx vitest run tests/e2e/review4.test.ts` (needs Debian's chromium; KHO_SKIP_E2E=1 skips).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makePdf, makePng } from '../helpers/samples.ts';
import { createUser, makeProduct } from '../web/helpers.ts';
import { DESKTOP, horizontalOverflow, newContext, PHONE, shot, SKIP_E2E, startHarness, uiLogin, type Harness } from './browser.ts';

const e2e = SKIP_E2E ? describe.skip : describe;
const BULK = 2_050;

e2e('fourth review of the web UI', () => {
  let h: Harness;
  let dir: string;
  let recId: number;
  let pdfSha: string;

  beforeAll(async () => {
    h = await startHarness({ upload: { maxFileBytes: 64 * 1024 * 1024 } });
    dir = await mkdtemp(join(tmpdir(), 'kho-review4-'));
    const app = h.t.app;
    await createUser(app, 'luutru-r4', 'archivist');
    const pages = 4;
    recId = await makeProduct(app, {
      title: 'Bộ ảnh và sách về phong trào thi đua yêu nước ở các xã vùng cao biên giới tỉnh Cao Bằng',
      type: 'book', agency: 'so-vhttdl', year: '2020',
      description: 'Dòng đầu của mô tả.\nXem thêm tại https://caobang.gov.vn/tin-tuc?id=5&lang=vi\nDòng ba: javascript:alert(1)',
    }, { publish: true, files: [{ filename: 'sach-thi-dua.pdf', data: await makePdf(pages, 'Phong trao thi dua yeu nuoc') }, { filename: 'anh-bia.png', data: await makePng(800, 600, 4) }] });
    // 20 more agencies (43 in all) and more published records than the list pages through (100 pages of 20).
    const { sqlite } = app.db;
    const insA = sqlite.prepare(`INSERT INTO agencies (code, name, short_name, category) VALUES (?, ?, ?, 'district')`);
    for (let i = 1; i <= 20; i++) insA.run(`ubnd-xa-${i}`, `Ủy ban nhân dân xã biên giới số ${i}, tỉnh Cao Bằng`, `UBND xã số ${i}`);
    const agencies = (sqlite.prepare('SELECT id FROM agencies').all() as Array<{ id: number }>).map((a) => a.id);
    const ins = sqlite.prepare(`INSERT INTO products (title, type, description, agency_id, year, languages, subjects, state, access, published_at, submitted_at)
      VALUES (?, 'leaflet', ?, ?, ?, '["vi"]', '[]', 'published', 'public', ?, ?)`);
    sqlite.transaction(() => {
      for (let i = 0; i < BULK; i++) {
        const at = new Date(Date.UTC(2020 + (i % 5), i % 12, 1 + (i % 27))).toISOString();
        ins.run(`Tờ rơi phòng chống ma túy số ${i + 1}`, 'Tài liệu tuyên truyền ở xã vùng cao.', agencies[i % agencies.length], 2018 + (i % 6), at, at);
      }
    })();
    app.searchIndex.rebuild();
    await app.jobRunner.drain();
    pdfSha = (sqlite.prepare(`SELECT b.sha256 FROM product_files f JOIN blobs b ON b.sha256 = f.sha256 WHERE f.product_id = ? AND b.media_type = 'application/pdf'`).get(recId) as { sha256: string }).sha256;
  }, 240_000);

  afterAll(async () => {
    await h?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('prints a record and a result list without navigation, with whole file addresses and nothing cut, in both languages', async () => {
    const { ctx, page, errors } = await newContext(h, DESKTOP);
    await page.emulateMedia({ media: 'print' });
    for (const lang of ['vi', 'en']) {
      await page.goto(`/san-pham/${recId}?lang=${lang}&trang=2`);
      for (const sel of ['.main-nav', '.user-box', '.site-footer', '.zoom-toggle', '.page-nav', 'iframe.pdf-frame']) {
        expect(await page.locator(sel).first().isVisible(), `${lang} ${sel}`).toBe(false);
      }
      const urls = await page.locator('.print-url').allInnerTexts();
      expect(urls, lang).toContain(`${h.base}/api/files/${pdfSha}`);
      expect(urls.length, lang).toBe(2);
      // The page text box scrolls on screen; on paper it is printed whole.
      const text = page.locator('.page-text');
      expect(await text.evaluate((e) => e.scrollHeight - e.clientHeight), lang).toBeLessThanOrEqual(1);
      // The description's web address is text, never a link (let alone a javascript: one).
      expect(await page.locator('.fields a').count(), lang).toBe(0);
      await page.goto(`/?q=ma+tuy&lang=${lang}`);
      for (const sel of ['.search-form', '.facets', '.paging', '.sort']) expect(await page.locator(sel).first().isVisible(), `${lang} ${sel}`).toBe(false);
      const hitUrls = await page.locator('.hit .print-url').allInnerTexts();
      expect(hitUrls.length, lang).toBe(20);
      expect(hitUrls[0], lang).toMatch(new RegExp(`^${h.base}/san-pham/\\d+$`));
      // What was searched, and which page of how many, since the search box is not printed.
      expect(await page.locator('.print-only').innerText(), lang).toBe(lang === 'vi' ? 'Truy vấn: “ma tuy” · trang 1 / 100 của danh sách' : 'Query: “ma tuy” · page 1 of 100 of the list');
      expect(await horizontalOverflow(page), lang).toBe(0);
    }
    // On screen none of it shows.
    await page.emulateMedia({ media: 'screen' });
    expect(await page.locator('.print-url').first().isVisible()).toBe(false);
    expect(await page.locator('.print-only').isVisible()).toBe(false);
    expect(errors).toEqual([]);
    await ctx.close();
  });

  it('every one of 43 agencies is reachable in the facets, and a list past 100 pages says how to reach the rest', async () => {
    for (const size of [PHONE, DESKTOP]) {
      const { ctx, page, errors } = await newContext(h, size);
      await page.goto('/?q=ma+tuy');
      const agencyLinks = page.locator('.facet [data-facet="agency"]');
      expect(await agencyLinks.count()).toBe(43);
      const more = page.locator('details.facet-more').filter({ has: page.locator('[data-facet="agency"]') });
      expect(await more.locator('summary').innerText()).toBe('Xem thêm 31 mục');
      await more.locator('summary').click();
      await Promise.all([page.waitForURL(/agency=ubnd-xa-7/), more.locator('[data-value="ubnd-xa-7"]').click()]);
      // The chosen agency, listed under "more", keeps that list open.
      expect(await page.locator('details.facet-more[open] [data-value="ubnd-xa-7"]').count()).toBe(1);
      // The first and the last page are one click away from anywhere in the list.
      await page.goto('/?q=ma+tuy&page=50');
      const paging = page.getByRole('navigation', { name: 'Phân trang' });
      expect(await paging.getByRole('link', { name: 'Trang 1', exact: true }).count()).toBe(1);
      expect(await paging.getByRole('link', { name: 'Trang 100', exact: true }).count()).toBe(1);
      expect(await horizontalOverflow(page)).toBe(0);
      if (size === PHONE) await shot(page, 'search-paging-phone');
      await Promise.all([page.waitForURL(/page=100/), paging.getByRole('link', { name: 'Trang 100', exact: true }).click()]);
      expect(await page.locator('.results .info').innerText()).toContain('Danh sách chỉ liệt kê 2.000 kết quả đầu tiên (100 trang) trong số 2.050.');
      // A page past the last that can be listed says the same, not a silent page 100.
      await page.goto('/?q=ma+tuy&page=500');
      expect(await page.locator('.results .info').innerText()).toContain('trong số 2.050');
      expect(errors).toEqual([]);
      await ctx.close();
    }
  });

  it('an upload on a slow network can be cancelled halfway: nothing is saved, the form is kept, and leaving meanwhile asks first', async () => {
    const file = join(dir, 'bai-hat-dai.wav');
    // 16 MB of a WAV header and silence: sniffed as audio, sent at 4 MB/s.
    const data = Buffer.alloc(16 * 1024 * 1024);
    data.write('RIFF', 0, 'latin1'); data.writeUInt32LE(data.length - 8, 4); data.write('WAVEfmt ', 8, 'latin1');
    data.writeUInt32LE(16, 16); data.writeUInt16LE(1, 20); data.writeUInt16LE(2, 22); data.writeUInt32LE(48000, 24); data.writeUInt32LE(192000, 28); data.writeUInt16LE(4, 32); data.writeUInt16LE(16, 34);
    data.write('data', 36, 'latin1'); data.writeUInt32LE(data.length - 44, 40);
    await writeFile(file, data);
    const before = (h.t.app.db.sqlite.prepare('SELECT count(*) AS n FROM products').get() as { n: number }).n;
    const { ctx, page, errors } = await newContext(h, DESKTOP);
    await uiLogin(page, 'luutru-r4');
    await page.goto('/nop');
    await page.getByLabel('Loại *').selectOption('audio');
    await page.getByLabel('Tên sản phẩm *').fill('Bài hát truyền thống Cao Bằng (bản ghi dài)');
    await page.locator('#file-input').setInputFiles(file);
    const cdp = await ctx.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 100, downloadThroughput: 4_000_000, uploadThroughput: 4_000_000 });
    await page.locator('#upload-submit').click();
    await page.waitForFunction(() => (document.querySelector('.file-list progress') as HTMLProgressElement | null)?.value! >= 30, null, { timeout: 60_000 });
    // How far it is, in words, for a screen reader too (the status is a polite live region).
    expect(await page.locator('#upload-status').innerText()).toMatch(/^Đang tải lên… đã gửi [1-9]0 %$/);
    // The file list is what is being sent: its remove buttons wait.
    expect(await page.getByRole('button', { name: 'Bỏ tệp bai-hat-dai.wav' }).isDisabled()).toBe(true);
    // Leaving the page now would lose the upload: the page asks first.
    expect(await page.evaluate(() => { const e = new Event('beforeunload', { cancelable: true }); window.dispatchEvent(e); return e.defaultPrevented; })).toBe(true);
    await page.getByRole('button', { name: 'Huỷ tải lên' }).click();
    await page.locator('#upload-cancelled').waitFor();
    expect(await page.locator('#upload-cancelled').innerText()).toContain('Đã huỷ việc tải lên: sản phẩm chưa được lưu.');
    expect(await page.getByLabel('Tên sản phẩm *').inputValue()).toBe('Bài hát truyền thống Cao Bằng (bản ghi dài)');
    expect(await page.locator('.file-list li').count()).toBe(1);
    expect(await page.locator('#upload-submit').isEnabled()).toBe(true);
    expect(await page.getByRole('button', { name: 'Huỷ tải lên' }).count()).toBe(0);
    expect(await page.evaluate(() => { const e = new Event('beforeunload', { cancelable: true }); window.dispatchEvent(e); return e.defaultPrevented; })).toBe(false);
    const after = (h.t.app.db.sqlite.prepare('SELECT count(*) AS n FROM products').get() as { n: number }).n;
    expect(after).toBe(before);
    expect(errors).toEqual([]);
    await ctx.close();
  });

  it('offline, a search or a link stays on the page and says so in the page language; back online the note goes', async () => {
    const { ctx, page, errors } = await newContext(h, PHONE);
    await page.goto('/?q=ma+tuy');
    await ctx.setOffline(true);
    await page.locator('#q').fill('thác Bản Giốc');
    await page.getByRole('button', { name: 'Tìm', exact: true }).click();
    const note = page.locator('#offline-note');
    await note.waitFor({ state: 'visible' });
    expect(await note.innerText()).toContain('Không có kết nối mạng');
    expect(await note.getAttribute('role')).toBe('alert');
    expect(page.url()).toBe(`${h.base}/?q=ma+tuy`);
    expect(await page.locator('#q').inputValue()).toBe('thác Bản Giốc');
    await page.locator('.hit-title a').first().click();
    expect(page.url()).toBe(`${h.base}/?q=ma+tuy`);
    await ctx.setOffline(false);
    await note.waitFor({ state: 'hidden' });
    await Promise.all([page.waitForURL(/Gi%E1%BB%91c|Gi\u1ed1c/), page.getByRole('button', { name: 'Tìm', exact: true }).click()]);
    expect(errors).toEqual([]);
    await ctx.close();
  });

  it('a reader with a 24 px default text size gets 24 px text, and nothing is cut or scrolls sideways', async () => {
    const { ctx, page, errors } = await newContext(h, DESKTOP);
    const cdp = await ctx.newCDPSession(page);
    await cdp.send('Page.enable');
    await cdp.send('Page.setFontSizes', { fontSizes: { standard: 24 } });
    for (const url of ['/?q=ma+tuy', `/san-pham/${recId}`, '/dang-nhap']) {
      await page.goto(url);
      expect(await page.evaluate(() => getComputedStyle(document.documentElement).fontSize), url).toBe('24px');
      expect(await page.locator('h1').first().evaluate((e) => parseFloat(getComputedStyle(e).fontSize)), url).toBeGreaterThan(30);
      expect(await horizontalOverflow(page), url).toBe(0);
    }
    expect(errors).toEqual([]);
    await ctx.close();
  });

  it('processing that ends while a reason is being typed on the record does not reload the page and lose it', async () => {
    const { sqlite } = h.t.app.db;
    const id = await makeProduct(h.t.app, { title: 'Tờ gấp du lịch đang xử lý', type: 'flyer', agency: 'so-vhttdl', year: '2023' }, { files: [{ filename: 'to-gap.png', data: await makePng(300, 200, 8) }] });
    await h.t.app.jobRunner.drain();
    const sha = (sqlite.prepare('SELECT sha256 FROM product_files WHERE product_id = ?').get(id) as { sha256: string }).sha256;
    // Held as running (no worker takes a running job), so the page shows processing and polls.
    sqlite.prepare(`UPDATE jobs SET state = 'running' WHERE sha256 = ?`).run(sha);
    const { ctx, page, errors } = await newContext(h, DESKTOP);
    await uiLogin(page, 'luutru-r4');
    await page.goto(`/san-pham/${id}`);
    const status = page.locator('.processing-status');
    expect(await status.innerText()).toBe('Đang xử lý tệp…');
    await page.getByLabel('Lý do').fill('Ảnh bìa bị mờ, xin gửi lại bản rõ hơn.');
    let reloaded = false;
    page.on('load', () => { reloaded = true; });
    sqlite.prepare(`UPDATE jobs SET state = 'done' WHERE sha256 = ?`).run(sha);
    await expect.poll(() => status.innerText(), { timeout: 20_000 }).toContain('Đã xử lý xong.');
    expect(reloaded).toBe(false);
    expect(await page.getByLabel('Lý do').inputValue()).toBe('Ảnh bìa bị mờ, xin gửi lại bản rõ hơn.');
    expect(await status.getAttribute('role')).toBe('status');
    expect(await status.getByRole('link').innerText()).toContain('Tải lại trang');
    expect(errors).toEqual([]);
    await ctx.close();
  });

  it('the outcome of a desk action and of a record action gets the focus, so a screen reader reads it first', async () => {
    const id = await makeProduct(h.t.app, { title: 'Sách ảnh Thác Bản Giốc chờ thẩm định', type: 'book', agency: 'so-vhttdl', year: '2024' }, { files: [{ filename: 'sach-anh.png', data: await makePng(200, 150, 12) }] });
    const { ctx, page, errors } = await newContext(h, DESKTOP);
    await uiLogin(page, 'luutru-r4');
    await page.goto('/tham-dinh');
    await page.locator('tr', { hasText: 'Sách ảnh Thác Bản Giốc chờ thẩm định' }).getByRole('checkbox').check();
    await page.getByLabel('Thao tác', { exact: true }).selectOption('start_review');
    await Promise.all([page.waitForURL(/da=start_review/), page.getByRole('button', { name: 'Thực hiện' }).click()]);
    await expect.poll(() => page.evaluate(() => (document.activeElement?.classList.contains('notice') ? document.activeElement.textContent : ''))).toContain('Đã xử lý 1 hồ sơ');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('role'))).toBe('status');
    await page.goto(`/san-pham/${id}`);
    await Promise.all([page.waitForURL(/da=accept/), page.getByRole('button', { name: 'Chấp nhận' }).click()]);
    await expect.poll(() => page.evaluate(() => (document.activeElement?.classList.contains('notice') ? document.activeElement.textContent : ''))).toContain('Đã thực hiện: Chấp nhận');
    // Tab goes on from the notice into the page, not back to the top.
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.closest('main') !== null)).toBe(true);
    expect(errors).toEqual([]);
    await ctx.close();
  });
});
