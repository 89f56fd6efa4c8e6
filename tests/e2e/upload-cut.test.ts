/**
 * The upload form (without JavaScript, and once with it) cut by the server while the browser is still sending: a
 * stalled network (a proxy that stops passing the browser's bytes) and a file far over the limit.
 * The browser must show the form again with the reason in the page language, not its own
 * "connection reset" page, and nothing is kept. The CSRF token travels in the body, never the URL.
 *
 * Run: `npx vitest run tests/e2e/upload-cut.test.ts` (needs Debian's chromium; KHO_SKIP_E2E=1 skips).
 */
import { open, readdir, rm } from 'node:fs/promises';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../web/helpers.ts';
import { SKIP_E2E, startHarness, uiLogin, type Harness } from './browser.ts';

const e2e = SKIP_E2E ? describe.skip : describe;
/** Bytes of a connection the stalling proxy passes (login and page requests are smaller). */
const STALL_AFTER = 20 * 1024;

e2e('upload form cut while the browser sends', () => {
  let h: Harness;
  let proxy: Server;
  let proxyBase: string;
  let bigFile: string;
  const urls: string[] = [];

  beforeAll(async () => {
    h = await startHarness({ jobs: { workers: 0 }, upload: { idleTimeoutMs: 1500, maxFileBytes: 64 * 1024 } });
    await createUser(h.t.app, 'vhttdl-cat', 'agency', 'so-vhttdl');
    const port = Number(new URL(h.base).port);
    // A network that stalls: the first 20 KB a browser sends on a connection pass, then nothing
    // more is read from it; the server's answers still pass back.
    proxy = createServer((c) => {
      const up = connect(port, '127.0.0.1');
      let passed = 0;
      c.on('data', (d: Buffer) => {
        const piece = d.subarray(0, Math.max(0, STALL_AFTER - passed));
        passed += piece.length;
        if (piece.length > 0) up.write(piece);
        if (passed >= STALL_AFTER) c.pause();
      });
      up.on('data', (d: Buffer) => c.write(d));
      up.on('end', () => c.end());
      up.on('close', () => c.destroy());
      c.on('close', () => up.destroy());
      c.on('error', () => {});
      up.on('error', () => {});
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
    proxyBase = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
    // 64 MiB that sniff as a PDF: well over the limit, and more than the socket buffers hold.
    bigFile = join(tmpdir(), `kho-cut-${process.pid}.pdf`);
    const fh = await open(bigFile, 'w');
    await fh.write(Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.alloc(64 * 1024 * 1024, 0x20)]));
    await fh.close();
  }, 120_000);

  afterAll(async () => {
    await new Promise((r) => proxy?.close(r));
    await h?.close();
    if (bigFile) await rm(bigFile, { force: true });
  });

  async function fillAndSend(page: Page, title: string, file: string | { name: string; mimeType: string; buffer: Buffer }) {
    page.on('request', (r) => urls.push(r.url()));
    await page.goto('/nop');
    await page.locator('#f-type').selectOption('leaflet');
    await page.locator('#f-title').fill(title);
    await page.locator('#file-input').setInputFiles(file);
    const [res] = await Promise.all([page.waitForNavigation({ timeout: 30_000 }), page.locator('#upload-submit').click()]);
    return res;
  }

  async function expectNothingKept() {
    const tmp = join(h.t.dataDir, 'tmp');
    for (let i = 0; i < 100 && (await readdir(tmp)).length > 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await readdir(tmp)).toEqual([]);
    expect((h.t.app.db.sqlite.prepare('SELECT COUNT(*) AS n FROM products').get() as { n: number }).n).toBe(0);
  }

  it('shows the form again with the reason when the network stalls, in the page language', async () => {
    for (const lang of ['vi', 'en'] as const) {
      const ctx = await h.browser.newContext({ baseURL: proxyBase, javaScriptEnabled: false, locale: 'vi-VN' });
      const page = await ctx.newPage();
      await uiLogin(page, 'vhttdl-cat');
      if (lang === 'en') await page.goto('/?lang=en');
      const res = await fillAndSend(page, 'Tờ rơi “Mạng chập chờn”', { name: 'to-roi.pdf', mimeType: 'application/pdf', buffer: Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.alloc(60 * 1024, 0x20)]) });
      expect(res?.status()).toBe(408);
      expect(await page.locator('html').getAttribute('lang')).toBe(lang);
      const refused = await page.locator('#upload-refused').innerText();
      expect(refused).toContain(lang === 'vi' ? 'Máy chủ không nhận được dữ liệu nào trong 2 giây' : 'The server received nothing for 2 seconds');
      expect(refused).toContain('UPLOAD_STALLED');
      // What was typed is kept; the files are picked again.
      expect(await page.locator('#f-title').inputValue()).toBe('Tờ rơi “Mạng chập chờn”');
      await ctx.close();
    }
    await expectNothingKept();
  });

  it('shows the refusal of a file far over the limit instead of a reset connection', async () => {
    const ctx = await h.browser.newContext({ baseURL: h.base, javaScriptEnabled: false, locale: 'vi-VN' });
    const page = await ctx.newPage();
    await uiLogin(page, 'vhttdl-cat');
    const res = await fillAndSend(page, 'Video quá lớn', bigFile);
    expect(res?.status()).toBe(413);
    expect(await page.locator('#upload-refused').innerText()).toContain(`quá lớn: mỗi tệp không được vượt quá 64 KB`);
    expect(await page.locator('#f-title').inputValue()).toBe('Video quá lớn');
    await ctx.close();
    await expectNothingKept();
  });

  it('with JavaScript: a stalled upload is named in the page language, not as a network failure', async () => {
    const ctx = await h.browser.newContext({ baseURL: proxyBase, locale: 'vi-VN' });
    const page = await ctx.newPage();
    await uiLogin(page, 'vhttdl-cat');
    await page.goto('/nop');
    await page.locator('#f-type').selectOption('leaflet');
    await page.locator('#f-title').fill('Tờ rơi “Mạng chập chờn” (có JavaScript)');
    await page.locator('#file-input').setInputFiles({ name: 'to-roi.pdf', mimeType: 'application/pdf', buffer: Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.alloc(60 * 1024, 0x20)]) });
    await page.locator('#upload-submit').click();
    const errors = page.locator('#upload-errors');
    await errors.getByText('UPLOAD_STALLED', { exact: false }).or(errors.getByText('mạng', { exact: false })).first().waitFor({ timeout: 30_000 });
    const shown = await errors.innerText();
    expect(shown).toContain('Máy chủ không nhận được dữ liệu nào trong 2 giây nên đã dừng việc tải lên: sản phẩm chưa được lưu.');
    expect(shown).toContain('UPLOAD_STALLED');
    // What was typed stays in the form.
    expect(await page.locator('#f-title').inputValue()).toBe('Tờ rơi “Mạng chập chờn” (có JavaScript)');
    await ctx.close();
    await expectNothingKept();
  });

  it('never puts the CSRF token in a URL', () => {
    expect(urls.filter((u) => u.includes('/nop'))).not.toEqual([]);
    expect(urls.filter((u) => /_csrf/.test(u))).toEqual([]);
  });
});
