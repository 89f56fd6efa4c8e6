/**
 * End-to-end tests of the web UI in a real browser (Debian chromium + playwright-core), on a
 * real listening server with real worker processes. One app and one browser for the whole file;
 * each user gets their own browser context. Screenshots of the main pages (desktop 1280 px and
 * phone 360 px) are written to docs/screenshots/.
 *
 * Run: `npx vitest run tests/e2e` (needs `apt-get install -y chromium`; KHO_SKIP_E2E=1 skips).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import type { Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultFfmpegPath } from '../../server/ingest/adapters/ffmpeg.ts';
import { makePng } from '../helpers/samples.ts';
import { createUser, makeProduct } from '../web/helpers.ts';
import { DESKTOP, horizontalOverflow, newContext, PHONE, shot, SKIP_E2E, startHarness, uiLogin, type Harness } from './browser.ts';

const run = promisify(execFile);

async function pdfWithPages(texts: string[]): Promise<Buffer> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  texts.forEach((text, i) => {
    const page = doc.addPage([420, 595]);
    page.drawText(`Trang ${i + 1}`, { x: 40, y: 540, size: 12, font });
    page.drawText(text, { x: 40, y: 500, size: 16, font });
  });
  return Buffer.from(await doc.save());
}

async function makeVideo(dir: string): Promise<Buffer> {
  const out = join(dir, 'clip.mp4');
  await run(defaultFfmpegPath(), ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=duration=5:size=320x240:rate=25', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-movflags', '+faststart', '-y', out]);
  return readFile(out);
}

async function noiseJpeg(size: number): Promise<Buffer> {
  return sharp({ create: { width: size, height: size, channels: 3, background: { r: 0, g: 0, b: 0 }, noise: { type: 'gaussian', mean: 128, sigma: 60 } } })
    .jpeg({ quality: 95 })
    .toBuffer();
}

const e2e = SKIP_E2E ? describe.skip : describe;

e2e('web UI in a real browser', () => {
  let h: Harness;
  let dir: string;
  const ids: Record<string, number> = {};
  let flyerPng: Buffer;
  const XSS_TITLE = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script> Tờ rơi thử';

  beforeAll(async () => {
    h = await startHarness();
    dir = await mkdtemp(join(tmpdir(), 'kho-e2e-'));
    const app = h.t.app;
    await createUser(app, 'luutru', 'archivist');
    await createUser(app, 'vhttdl', 'agency', 'so-vhttdl');
    await createUser(app, 'quantri', 'admin');
    const pdf = await pdfWithPages(['Mo dau: lich su hinh thanh', 'Chuong 1: khang chien', 'Thac Ban Gioc va khu di tich', 'Ket luan']);
    ids.pdf = await makeProduct(app, { title: 'Lịch sử Đảng bộ tỉnh Cao Bằng 1930–2020', type: 'book', agency: 'ban-tuyen-giao', year: '2023', description: 'Sách lịch sử Đảng bộ tỉnh, dùng cho tuyên truyền và giáo dục truyền thống.' }, { publish: true, files: [{ filename: 'lich-su-dang-bo.pdf', data: pdf }] });
    const youthCover = await makePng(600, 800, 3);
    ids.youth = await makeProduct(app, { title: 'Lịch sử phong trào thanh niên Cao Bằng', type: 'book', agency: 'tinh-doan', year: '2022' }, { publish: true, files: [{ filename: 'bia-sach.png', data: youthCover }] });
    // Same bytes handed in again: flagged as a possible duplicate on the desk.
    ids.dup = await makeProduct(app, { title: 'Phong trào thanh niên (bản nộp lại)', type: 'book', agency: 'tinh-doan', year: '2022' }, { files: [{ filename: 'bia.png', data: youthCover }] });
    ids.video = await makeProduct(app, { title: 'Phim tư liệu: Lịch sử cách mạng ở Pác Bó', type: 'video', agency: 'dai-ptth', year: '2023' }, { publish: true, files: [{ filename: 'pac-bo.mp4', data: await makeVideo(dir) }] });
    ids.flyer = await makeProduct(app, { title: 'Tờ gấp “Cao Bằng – điểm đến an toàn, thân thiện”', type: 'flyer', agency: 'so-vhttdl', year: '2023', languages: 'vi,en' }, { publish: true, files: [{ filename: 'to-gap.png', data: (flyerPng = await makePng(800, 600, 7)) }] });
    ids.xss = await makeProduct(app, { title: XSS_TITLE, type: 'leaflet', agency: 'so-vhttdl', year: '2023' }, { publish: true, files: [{ filename: 'to-roi.png', data: await makePng(400, 300, 9) }] });
    ids.pending = await makeProduct(app, { title: 'Đĩa âm thanh truyền thanh cơ sở', type: 'document', agency: 'so-tttt', year: '2023' }, { files: [{ filename: 'bai-noi.png', data: await makePng(300, 300, 11) }] });
    await app.jobRunner.drain();
  }, 180_000);

  afterAll(async () => {
    await h?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('searches without diacritics with suggestions, applies two facets and removes one', async () => {
    const { ctx, page, errors } = await newContext(h);
    await page.goto('/');
    await expect.poll(() => page.locator('html').getAttribute('lang')).toBe('vi');
    await page.getByRole('combobox', { name: 'Tìm kiếm' }).fill('lich su');
    await expect.poll(() => page.locator('#q-suggestions [role="option"]').count(), { timeout: 15_000 }).toBeGreaterThan(0);
    // The count is announced in a polite live region, in the page language.
    const shown = await page.locator('#q-suggestions [role="option"]').count();
    expect(await page.locator('#q-suggest-count[role="status"][aria-live="polite"]').textContent()).toBe(`${shown} gợi ý, chọn bằng phím mũi tên lên, xuống.`);
    await page.keyboard.press('Escape');
    expect(await page.locator('#q-suggest-count').textContent()).toBe('');
    await Promise.all([page.waitForURL(/\?q=lich\+su/), page.getByRole('button', { name: 'Tìm', exact: true }).click()]);
    const titles = () => page.locator('.hit-title').allTextContents();
    expect(await titles()).toEqual(expect.arrayContaining(['Lịch sử Đảng bộ tỉnh Cao Bằng 1930–2020', 'Lịch sử phong trào thanh niên Cao Bằng', 'Phim tư liệu: Lịch sử cách mạng ở Pác Bó']));
    await expect.poll(() => page.locator('.hit mark').count()).toBeGreaterThan(0);

    await Promise.all([page.waitForURL(/type=book/), page.locator('.facet-link[data-facet="type"][data-value="book"]').click()]);
    expect((await titles()).sort()).toEqual(['Lịch sử phong trào thanh niên Cao Bằng', 'Lịch sử Đảng bộ tỉnh Cao Bằng 1930–2020'].sort());
    await Promise.all([page.waitForURL(/year=2023/), page.locator('.facet-link[data-facet="year"][data-value="2023"]').click()]);
    expect(new URL(page.url()).searchParams.getAll('type')).toEqual(['book']);
    expect(await titles()).toEqual(['Lịch sử Đảng bộ tỉnh Cao Bằng 1930–2020']);
    await shot(page, 'search-desktop');

    // The URL is the state: open it fresh in another page.
    const shared = await ctx.newPage();
    await shared.goto(page.url());
    expect(await shared.locator('.hit-title').allTextContents()).toEqual(['Lịch sử Đảng bộ tỉnh Cao Bằng 1930–2020']);
    await shared.close();

    // Remove the year filter with its chip.
    await Promise.all([page.waitForURL((u) => !u.search.includes('year=')), page.locator('.chip', { hasText: 'Năm: 2023' }).click()]);
    expect(await titles()).toHaveLength(2);
    expect(errors).toEqual([]);
    await ctx.close();
  });

  it('applies the agency filter when an agency is picked from the suggestions', async () => {
    const { ctx, page, errors } = await newContext(h);
    await page.goto('/?type=book');
    await page.getByRole('combobox', { name: 'Tìm kiếm' }).fill('tinh doan');
    const option = page.locator('#q-suggestions [role="option"]', { hasText: 'Tỉnh Đoàn Thanh niên Cộng sản Hồ Chí Minh tỉnh Cao Bằng' });
    await expect.poll(() => option.count(), { timeout: 15_000 }).toBe(1);
    await Promise.all([page.waitForURL(/agency=tinh-doan/), option.click()]);
    const url = new URL(page.url());
    expect(url.searchParams.get('q')).toBeNull(); // a filter, not a text search for the agency's name
    expect(url.searchParams.getAll('type')).toEqual(['book']); // other filters kept
    expect(await page.locator('.hit-title').allTextContents()).toEqual(['Lịch sử phong trào thanh niên Cao Bằng']);
    await expect.poll(() => page.locator('.chip', { hasText: 'Cơ quan: Tỉnh Đoàn' }).count()).toBe(1);
    expect(errors).toEqual([]);
    await ctx.close();
  });

  it('shows the newest published products for an empty search, with lazy thumbnails', async () => {
    const { ctx, page, errors } = await newContext(h);
    await page.goto('/');
    await expect.poll(() => page.getByRole('heading', { name: 'Sản phẩm mới công bố' }).count()).toBe(1);
    const hits = await page.locator('.hit-title').allTextContents();
    expect(hits.length).toBe(5);
    expect(hits).not.toContain('Đĩa âm thanh truyền thanh cơ sở'); // not published
    const img = page.locator('.hit-thumb img').first();
    expect(await img.getAttribute('loading')).toBe('lazy');
    const src = await img.getAttribute('src');
    const res = await page.request.get(src!);
    expect(res.status()).toBe(200);
    expect(res.headers()['etag']).toBeTruthy();
    expect(res.headers()['cache-control']).toContain('max-age');
    expect(errors).toEqual([]);
    await ctx.close();
  });

  it('opens a PDF hit at the page of the matching passage', async () => {
    const { ctx, page, errors } = await newContext(h);
    await page.goto('/?q=ban+gioc');
    const pageLink = page.locator('.hit').filter({ hasText: 'Lịch sử Đảng bộ' }).locator('a.page-link');
    await expect.poll(() => pageLink.textContent()).toContain('trang 3');
    await Promise.all([page.waitForURL(/\/san-pham\/\d+\?trang=3&tep=[0-9a-f]{64}$/), pageLink.click()]);
    const frame = page.locator('iframe.pdf-frame');
    const src = await frame.getAttribute('src');
    expect(src).toMatch(/^\/api\/files\/[0-9a-f]{64}#page=3$/);
    expect(await page.getByRole('link', { name: 'Mở tại trang 3' }).getAttribute('href')).toBe(src);
    // The PDF is served inline from our origin, so the browser's viewer opens it at that page.
    const res = await page.request.get(src!.split('#')[0]);
    expect(res.headers()['content-type']).toBe('application/pdf');
    expect(res.headers()['content-disposition']).toMatch(/^inline/);
    await expect.poll(() => page.frames().some((f) => f.url().includes('/api/files/')), { timeout: 20_000 }).toBe(true);
    // Facts and download link.
    await expect.poll(() => page.locator('.file .facts').first().textContent()).toContain('4 trang');
    const download = await page.locator('a.download').first().getAttribute('href');
    expect(download).toMatch(/\?download=true$/);
    const saved = await page.request.get(download!);
    expect(saved.status()).toBe(200);
    expect(saved.headers()['content-disposition']).toMatch(/^attachment/);
    await shot(page, 'record-pdf-desktop');
    expect(errors).toEqual([]);
    await ctx.close();
  });

  it('plays a video in the page and seeks in it', async () => {
    const { ctx, page, errors } = await newContext(h);
    await page.goto(`/san-pham/${ids.video}`);
    const video = page.locator('video.player');
    await video.waitFor();
    await page.evaluate(() => document.querySelector('video')!.play());
    await expect.poll(() => video.evaluate((v: HTMLVideoElement) => v.currentTime), { timeout: 20_000 }).toBeGreaterThan(0.2);
    const seeked = await video.evaluate(
      (v: HTMLVideoElement) =>
        new Promise<number>((resolve) => {
          v.addEventListener('seeked', () => resolve(v.currentTime), { once: true });
          v.currentTime = 3.5;
        }),
    );
    expect(seeked).toBeGreaterThan(3.3);
    expect(seeked).toBeLessThan(5);
    expect(await video.evaluate((v: HTMLVideoElement) => v.duration)).toBeCloseTo(5, 0);
    expect(await page.locator('.file .facts').first().textContent()).toContain('0:05');
    expect(errors).toEqual([]);
    await ctx.close();
  });

  it('renders a title with markup as text and runs none of it', async () => {
    const { ctx, page, errors } = await newContext(h);
    let dialogs = 0;
    page.on('dialog', (d) => {
      dialogs++;
      void d.dismiss();
    });
    await page.goto(`/san-pham/${ids.xss}`);
    expect(await page.locator('h1').textContent()).toBe(XSS_TITLE);
    await page.goto('/?q=to+roi+thu');
    expect(await page.locator('.hit-title').first().textContent()).toBe(XSS_TITLE);
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
    expect(await page.locator('h1 img, .hit-title img, .hit-title script').count()).toBe(0);
    expect(dialogs).toBe(0);
    expect(errors).toEqual([]);
    await ctx.close();
  });

  let uploadedId = 0;
  const UPLOAD_TITLE = 'Bản đồ du lịch huyện Trùng Khánh';

  it('lets an agency upload two files with a progress bar per file and see processing complete', async () => {
    const { ctx, page, errors } = await newContext(h);
    await uiLogin(page, 'vhttdl');
    await page.goto('/nop');
    await page.getByLabel('Loại *').selectOption('map');
    await page.getByLabel('Tên sản phẩm *').fill(UPLOAD_TITLE);
    await page.getByLabel('Năm').fill('2023');
    await page.getByLabel('Nhiệm vụ trong kế hoạch').selectOption({ label: await page.locator('#f-planTask option', { hasText: 'Bản đồ' }).first().textContent() ?? '' });
    const big = await noiseJpeg(1400);
    const text = Buffer.from('Bản đồ du lịch huyện Trùng Khánh: thác Bản Giốc, động Ngườm Ngao.\n'.repeat(20_000), 'utf8');
    await page.locator('#file-input').setInputFiles([
      { name: 'ban-do-trung-khanh.jpg', mimeType: 'image/jpeg', buffer: big },
      { name: 'thuyet-minh.txt', mimeType: 'text/plain', buffer: text },
    ]);
    expect(await page.locator('.file-item').count()).toBe(2);
    // Sizes in the page language's number format, as on the record page (a decimal comma in Vietnamese).
    expect(await page.locator('.file-item .name').nth(1).textContent()).toMatch(/^thuyet-minh\.txt \(\d+,\d MB\)$/);
    await shot(page, 'upload-desktop');

    // Throttle the upload so the progress is visible, and record every progress value.
    const cdp = await ctx.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 20, downloadThroughput: -1, uploadThroughput: 1_000_000 });
    await page.evaluate(() => {
      const w = window as unknown as { __progress: Array<[number, number]> };
      w.__progress = [];
      document.querySelectorAll('.file-item progress').forEach((bar, i) => {
        new MutationObserver(() => w.__progress.push([i, (bar as HTMLProgressElement).value])).observe(bar, { attributes: true });
      });
    });
    await page.getByRole('button', { name: 'Nộp sản phẩm' }).click();
    const link = page.locator('#new-record-link');
    await link.waitFor({ timeout: 60_000 });
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    uploadedId = Number((await link.getAttribute('href'))!.split('/').pop());
    expect(uploadedId).toBeGreaterThan(0);
    const progress = await page.evaluate(() => (window as unknown as { __progress: Array<[number, number]> }).__progress);
    // The first file filled up before the second started, and both went through partial values.
    const firstPartial = progress.some(([i, v]) => i === 0 && v > 0 && v < 100);
    const secondPartial = progress.some(([i, v]) => i === 1 && v > 0 && v < 100);
    expect(firstPartial || secondPartial).toBe(true);
    const firstDoneAt = progress.findIndex(([i, v]) => i === 0 && v === 100);
    const secondStartAt = progress.findIndex(([i, v]) => i === 1 && v > 0);
    expect(firstDoneAt).toBeGreaterThanOrEqual(0);
    expect(secondStartAt).toBeGreaterThanOrEqual(firstDoneAt);
    expect(await page.locator('.file-item progress').evaluateAll((bars) => bars.map((b) => (b as HTMLProgressElement).value))).toEqual([100, 100]);
    // The processing state updates without reloading.
    await page.locator('#processing-state[data-state="done"]').waitFor({ timeout: 120_000 });
    expect(await page.locator('#processing-state').textContent()).toContain('Đã xử lý');
    await shot(page, 'upload-done-desktop');
    expect(errors).toEqual([]);
    await ctx.close();
  }, 240_000);

  it('refuses a duplicate upload in Vietnamese with a link to the existing product', async () => {
    const { ctx, page } = await newContext(h);
    await uiLogin(page, 'vhttdl');
    await page.goto('/nop');
    await page.getByLabel('Loại *').selectOption('flyer');
    await page.getByLabel('Tên sản phẩm *').fill('Tờ gấp nộp trùng');
    await page.locator('#file-input').setInputFiles([{ name: 'trung.png', mimeType: 'image/png', buffer: flyerPng }]);
    await page.getByRole('button', { name: 'Nộp sản phẩm' }).click();
    const alert = page.locator('#upload-errors');
    await expect.poll(() => alert.textContent()).toContain('trùng với sản phẩm đã có');
    expect(await alert.locator('a').getAttribute('href')).toBe(`/san-pham/${ids.flyer}`);
    // The copy can still be handed in: it is kept, flagged as a possible duplicate of the first.
    await page.getByRole('button', { name: /^Vẫn nộp bản này/ }).click();
    await page.locator('#new-record-link').waitFor({ timeout: 20_000 });
    const id = Number((await page.locator('#new-record-link').getAttribute('href'))!.split('/').pop());
    const rec = (await (await page.request.get(`/api/products/${id}`)).json()) as { title: string; duplicateFlags: Array<{ kind: string; productId: number }> };
    expect(rec.title).toBe('Tờ gấp nộp trùng');
    expect(rec.duplicateFlags).toContainEqual(expect.objectContaining({ kind: 'same_file', productId: ids.flyer }));
    await ctx.close();
  });

  it('shows every missing field next to it and puts the focus on the first one', async () => {
    const { ctx, page, errors } = await newContext(h);
    await uiLogin(page, 'vhttdl');
    await page.goto('/nop');
    await page.getByRole('button', { name: 'Nộp sản phẩm' }).click();
    await expect.poll(() => page.locator('#upload-errors li').allTextContents()).toEqual(['Hãy chọn ít nhất một tệp.', 'Hãy chọn loại sản phẩm.', 'Hãy nhập tên sản phẩm (tối đa 500 ký tự).']);
    expect(await page.locator('#type-error').textContent()).toBe('Hãy chọn loại sản phẩm.');
    expect(await page.locator('#title-error').textContent()).toBe('Hãy nhập tên sản phẩm (tối đa 500 ký tự).');
    // The first problem in the form's order, the type, has the focus (not the last one found).
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('f-type');
    // A field the API refuses is explained in Vietnamese next to it.
    await page.getByLabel('Loại *').selectOption('book');
    await page.getByLabel('Tên sản phẩm *').fill('Sách có ISBN sai');
    await page.getByLabel('ISBN').fill('123');
    await page.locator('#file-input').setInputFiles([{ name: 'isbn-sai.pdf', mimeType: 'application/pdf', buffer: await pdfWithPages(['ISBN sai']) }]);
    await page.getByRole('button', { name: 'Nộp sản phẩm' }).click();
    await expect.poll(() => page.locator('#isbn-error').textContent()).toBe('ISBN không hợp lệ: cần 10 hoặc 13 chữ số với số kiểm tra đúng.');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('f-isbn');
    expect(errors).toEqual([]);
    await ctx.close();
  });

  it('uploads through the form without JavaScript, and shows a duplicate refusal in the page', async () => {
    const ctx = await h.browser.newContext({ baseURL: h.base, javaScriptEnabled: false, locale: 'vi-VN' });
    const page = await ctx.newPage();
    await uiLogin(page, 'vhttdl');
    await page.goto('/nop');
    const pdf = await pdfWithPages(['Nop khong can JavaScript']);
    await page.getByLabel('Loại *').selectOption('document');
    await page.getByLabel('Tên sản phẩm *').fill('Tài liệu nộp không cần JavaScript');
    await page.locator('#file-input').setInputFiles([{ name: 'khong-js.pdf', mimeType: 'application/pdf', buffer: pdf }]);
    await page.getByRole('button', { name: 'Nộp sản phẩm' }).click();
    await page.waitForURL(/\/san-pham\/\d+\?nop=1$/);
    const id = Number(/san-pham\/(\d+)/.exec(page.url())![1]);
    expect(await page.locator('.notice-ok').textContent()).toBe(`Đã nộp thành công. Mã hồ sơ: ${id}.`);
    expect(await page.locator('h1').textContent()).toBe('Tài liệu nộp không cần JavaScript');

    // The same bytes again: refused in the page, with a link to the record that holds them and
    // what was typed kept; choosing to hand it in anyway (the file picked again) makes a record.
    await page.goto('/nop');
    await page.getByLabel('Loại *').selectOption('document');
    await page.getByLabel('Tên sản phẩm *').fill('Bản nộp lại không cần JavaScript');
    await page.locator('#file-input').setInputFiles([{ name: 'lai.pdf', mimeType: 'application/pdf', buffer: pdf }]);
    await page.getByRole('button', { name: 'Nộp sản phẩm' }).click();
    await page.waitForLoadState();
    expect(await page.locator('#upload-refused').textContent()).toContain('Tệp “lai.pdf” trùng với sản phẩm đã có trong kho:');
    expect(await page.locator(`#upload-refused a[href="/san-pham/${id}"]`).textContent()).toBe('Tài liệu nộp không cần JavaScript');
    expect(await page.getByLabel('Tên sản phẩm *').inputValue()).toBe('Bản nộp lại không cần JavaScript');
    // Each choice a small radio with its label beside it (not a full-width control above its label).
    const radio = (await page.locator('#dup-flag').boundingBox())!;
    const label = (await page.locator('label[for="dup-flag"]').boundingBox())!;
    expect(radio.width).toBeLessThan(30);
    expect(label.x).toBeGreaterThan(radio.x + radio.width);
    expect(label.y).toBeLessThan(radio.y + radio.height);
    await page.getByLabel('Vẫn nộp bản này', { exact: false }).check();
    await page.locator('#file-input').setInputFiles([{ name: 'lai.pdf', mimeType: 'application/pdf', buffer: pdf }]);
    await page.getByRole('button', { name: 'Nộp sản phẩm' }).click();
    await page.waitForURL(/\/san-pham\/\d+\?nop=1$/);
    expect(Number(/san-pham\/(\d+)/.exec(page.url())![1])).not.toBe(id);
    await ctx.close();
  });

  it('explains refused files in Vietnamese: too large, unsupported type', async () => {
    const { ctx, page, errors } = await newContext(h);
    await uiLogin(page, 'vhttdl');
    await page.goto('/nop');
    await page.getByLabel('Loại *').selectOption('document');
    await page.getByLabel('Tên sản phẩm *').fill('Tài liệu thử từ chối');
    await page.locator('#file-input').setInputFiles([{ name: 'qua-lon.pdf', mimeType: 'application/pdf', buffer: Buffer.alloc(7 * 1024 * 1024, 65) }]);
    expect(await page.locator('.file-item .file-status').textContent()).toContain('quá lớn');
    await page.getByRole('button', { name: 'Nộp sản phẩm' }).click();
    await expect.poll(() => page.locator('#upload-errors').textContent()).toContain('Tệp “qua-lon.pdf” quá lớn: mỗi tệp không được vượt quá 6 MB.');
    await page.getByRole('button', { name: 'Bỏ tệp qua-lon.pdf' }).click();
    const binary = Buffer.alloc(4096);
    for (let i = 0; i < binary.length; i++) binary[i] = (i * 7919) % 251;
    await page.locator('#file-input').setInputFiles([{ name: 'chuong-trinh.exe', mimeType: 'application/octet-stream', buffer: binary }]);
    await page.getByRole('button', { name: 'Nộp sản phẩm' }).click();
    await expect.poll(() => page.locator('#upload-errors').textContent()).toContain('Không nhận loại tệp của “chuong-trinh.exe”');
    await shot(page, 'upload-refused-desktop');
    expect(errors).toEqual([]);
    await ctx.close();
  });

  it('takes a record through return with a reason, the agency fix, and publication into the public search', async () => {
    expect(uploadedId).toBeGreaterThan(0);
    const arch = await newContext(h);
    await uiLogin(arch.page, 'luutru');
    await arch.page.goto('/tham-dinh');
    expect(await arch.page.locator('tr', { hasText: 'Phong trào thanh niên (bản nộp lại)' }).locator('.dup-flag').textContent()).toBe('Nghi trùng');
    const row = arch.page.locator('tr', { hasText: UPLOAD_TITLE });
    await row.getByRole('checkbox').check();
    await arch.page.getByLabel('Thao tác', { exact: true }).selectOption('start_review');
    await Promise.all([arch.page.waitForLoadState('load'), arch.page.getByRole('button', { name: 'Thực hiện' }).click()]);
    await expect.poll(() => arch.page.locator('.notice').textContent()).toContain('Đã xử lý 1 hồ sơ');
    await shot(arch.page, 'desk-desktop');

    await arch.page.goto(`/san-pham/${uploadedId}`);
    await arch.page.getByLabel('Lý do').fill('Thiếu ảnh bìa; đề nghị ghi rõ năm phát hành.');
    await Promise.all([arch.page.waitForURL(/da=return/), arch.page.getByRole('button', { name: 'Trả lại' }).click()]);
    expect(await arch.page.locator('.notice-ok').textContent()).toContain('Trả lại');

    const agency = await newContext(h);
    await uiLogin(agency.page, 'vhttdl');
    await agency.page.goto('/cua-toi');
    const card = agency.page.locator('.card', { hasText: UPLOAD_TITLE });
    expect(await card.locator('.reason').textContent()).toContain('Thiếu ảnh bìa');
    await shot(agency.page, 'mine-desktop');
    await Promise.all([agency.page.waitForURL(/\/sua$/), card.getByRole('link', { name: 'Sửa và gửi lại' }).click()]);
    await agency.page.getByLabel('Ngày phát hành').fill('2023-05-19');
    await agency.page.getByLabel('Tên sản phẩm *').fill(`${UPLOAD_TITLE} (tái bản)`);
    await Promise.all([agency.page.waitForURL(/da=resubmit/), agency.page.getByRole('button', { name: 'Sửa và gửi lại' }).click()]);
    expect(await agency.page.locator('h1').textContent()).toBe(`${UPLOAD_TITLE} (tái bản)`);
    // The text file's extracted text is shown on the record page.
    expect(await agency.page.locator('.doc-text-body').first().textContent()).toContain('động Ngườm Ngao');

    await arch.page.goto(`/san-pham/${uploadedId}`);
    for (const [button, state] of [['Bắt đầu thẩm định', 'start_review'], ['Chấp nhận', 'accept'], ['Công bố', 'publish']]) {
      await Promise.all([arch.page.waitForURL(new RegExp(`da=${state}`)), arch.page.getByRole('button', { name: button, exact: true }).click()]);
    }
    expect(await arch.page.locator('.field', { hasText: 'Trạng thái' }).textContent()).toContain('Đã công bố');
    expect(await arch.page.locator('.history tbody tr').count()).toBeGreaterThanOrEqual(5);

    const pub = await newContext(h);
    await pub.page.goto('/?q=ban+do+trung+khanh+tai+ban');
    expect(await pub.page.locator('.hit-title').first().textContent()).toBe(`${UPLOAD_TITLE} (tái bản)`);
    for (const c of [arch, agency, pub]) {
      expect(c.errors).toEqual([]);
      await c.ctx.close();
    }
  }, 180_000);

  it('is usable at phone width (360 px) and keyboard reachable', async () => {
    const pages: Array<[string, string, string | null]> = [
      ['search', '/?q=lich+su', null],
      ['record', `/san-pham/${ids.pdf}`, null],
      ['login', '/dang-nhap', null],
      ['upload', '/nop', 'vhttdl'],
      ['mine', '/cua-toi', 'vhttdl'],
      ['desk', '/tham-dinh', 'luutru'],
      ['report', '/bao-cao?nam=2023', 'luutru'],
      ['admin', '/quan-tri', 'quantri'],
    ];
    const contexts = new Map<string, Awaited<ReturnType<typeof newContext>>>();
    const get = async (user: string | null) => {
      const key = user ?? '';
      if (!contexts.has(key)) {
        const c = await newContext(h, PHONE);
        if (user) await uiLogin(c.page, user);
        contexts.set(key, c);
      }
      return contexts.get(key)!;
    };
    for (const [name, url, user] of pages) {
      const { page } = await get(user);
      await page.goto(url);
      expect(await horizontalOverflow(page), `${name} overflows at 360 px`).toBeLessThanOrEqual(0);
      await shot(page, `${name}-phone`);
    }
    // Keyboard: the first Tab reaches the skip link, which moves focus to the main content.
    const { page } = await get(null);
    await page.goto('/');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.className)).toBe('skip-link');
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('main');
    // Images carry alt text; form controls have labels.
    for (const [, url, user] of pages) {
      const c = await get(user);
      await c.page.goto(url);
      expect(await c.page.locator('img:not([alt])').count(), url).toBe(0);
      const unlabeled = await c.page.evaluate(() =>
        Array.from(document.querySelectorAll('input:not([type=hidden]), select, textarea'))
          .filter((el) => !(el as HTMLInputElement).labels?.length && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby'))
          .map((el) => el.outerHTML.slice(0, 80)),
      );
      expect(unlabeled, url).toEqual([]);
    }
    for (const c of contexts.values()) {
      expect(c.errors).toEqual([]);
      await c.ctx.close();
    }
  }, 180_000);

  it('saves desktop screenshots of the staff pages', async () => {
    const arch = await newContext(h, DESKTOP);
    await uiLogin(arch.page, 'luutru');
    // This run's records were submitted this year: that year's charts have bars; the plan's year
    // (2023) had no submissions here, and its charts say so.
    await arch.page.goto(`/bao-cao?nam=${new Date().getUTCFullYear()}`);
    expect(await arch.page.locator('svg.bar-chart').count()).toBe(2);
    await arch.page.goto('/bao-cao?nam=2023');
    expect(await arch.page.locator('figure.chart p.hint').count()).toBe(2);
    await shot(arch.page, 'report-desktop');
    const admin = await newContext(h, DESKTOP);
    await uiLogin(admin.page, 'quantri');
    await admin.page.goto('/quan-tri');
    await shot(admin.page, 'admin-desktop');
    await admin.page.goto('/dang-nhap');
    await shot(admin.page, 'login-desktop');
    await admin.page.goto(`/san-pham/${ids.youth}`);
    await admin.page.locator('.zoom-box img').waitFor();
    await expect.poll(() => admin.page.locator('.zoom-box img').evaluate((i: HTMLImageElement) => i.complete && i.naturalWidth > 0)).toBe(true);
    await shot(admin.page, 'record-desktop');
    // Zoom toggles with the button (keyboard reachable) and loads the original.
    await admin.page.getByRole('button', { name: 'Phóng to / thu nhỏ ảnh' }).click();
    expect(await admin.page.locator('.zoom-box').getAttribute('class')).toContain('zoomed');
    const en = await newContext(h, DESKTOP);
    await en.page.goto('/?lang=en');
    expect(await en.page.locator('html').getAttribute('lang')).toBe('en');
    await shot(en.page, 'search-english-desktop');
    for (const c of [arch, admin, en]) await c.ctx.close();
  }, 120_000);
});

export type { Page };
