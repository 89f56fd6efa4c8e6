/** Web UI behaviour found by a browser review beyond the happy path: languages, lost input, focus. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, makeTestApp, type TestApp } from '../helpers/app.ts';
import { createUser, login, makeProduct, type Session } from './helpers.ts';

describe('web UI beyond the happy path', () => {
  let t: TestApp;
  let archivist: Session;
  beforeAll(async () => {
    t = await makeTestApp({ jobs: { workers: 0 } });
    await createUser(t.app, 'luu-tru-tham-do', 'archivist');
    archivist = await login(t.app, 'luu-tru-tham-do');
  });
  afterAll(async () => t?.close());

  it('says why processing failed in the page language, once per file however many jobs failed', async () => {
    const id = await makeProduct(t.app, { title: 'Tài liệu hỏng' });
    const sha = (t.app.db.sqlite.prepare('SELECT sha256 FROM product_files WHERE product_id = ?').get(id) as { sha256: string }).sha256;
    t.app.db.sqlite
      .prepare(`UPDATE jobs SET state = 'failed', error_code = 'PDF_MALFORMED', error_message = 'The PDF is damaged and cannot be read: Invalid PDF structure.' WHERE sha256 = ?`)
      .run(sha);
    expect((t.app.db.sqlite.prepare(`SELECT COUNT(*) AS n FROM jobs WHERE sha256 = ? AND state = 'failed'`).get(sha) as { n: number }).n).toBeGreaterThan(1);
    const vi = (await t.app.inject({ url: `/san-pham/${id}`, headers: { cookie: archivist.cookie } })).body;
    expect(vi).toContain('Tệp PDF bị hỏng, không đọc được.');
    expect(vi).not.toContain('Invalid PDF structure');
    expect(vi.split('Tệp PDF bị hỏng, không đọc được.').length - 1).toBe(1);
    const en = (await t.app.inject({ url: `/san-pham/${id}?lang=en`, headers: { cookie: archivist.cookie } })).body;
    expect(en).toContain('The PDF is damaged and cannot be read.');
    expect(en).not.toContain('Tệp PDF bị hỏng');

    // A code the UI does not know: its code in Vietnamese, the worker's own words in English.
    t.app.db.sqlite.prepare(`UPDATE jobs SET error_code = 'SAVE_FAILED', error_message = 'disk full' WHERE sha256 = ?`).run(sha);
    const viOther = (await t.app.inject({ url: `/san-pham/${id}?lang=vi`, headers: { cookie: archivist.cookie } })).body;
    expect(viOther).toContain('Không xử lý được tệp (mã lỗi SAVE_FAILED).');
    expect(viOther).not.toContain('disk full');
    expect((await t.app.inject({ url: `/san-pham/${id}?lang=en`, headers: { cookie: archivist.cookie } })).body).toContain('disk full');
    expect((await t.app.inject({ url: `/api/products/${id}`, headers: auth() })).statusCode).toBe(200);
  });
});
