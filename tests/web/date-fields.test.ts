/**
 * Date fields of the forms are typed day first (dd/mm/yyyy) on the Vietnamese and the English page
 * alike, as the pages write dates: not `<input type="date">`, whose order follows the browser's
 * language. The API takes DD/MM/YYYY as well as YYYY-MM-DD and stores YYYY-MM-DD.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, makeTestApp, multipartBody, type TestApp } from '../helpers/app.ts';
import { makePdf } from '../helpers/samples.ts';
import { createUser, firstAgency, login, makeProduct, type Session } from './helpers.ts';

describe('date fields: day first in both languages', () => {
  let t: TestApp;
  let archivist: Session;
  let admin: Session;
  let id: number;
  beforeAll(async () => {
    t = await makeTestApp({ jobs: { workers: 0 } });
    await createUser(t.app, 'luu-tru-ngay', 'archivist');
    await createUser(t.app, 'quan-tri-ngay', 'admin');
    archivist = await login(t.app, 'luu-tru-ngay');
    admin = await login(t.app, 'quan-tri-ngay');
    id = await makeProduct(t.app, { title: 'Bản đồ du lịch Cao Bằng', type: 'map', releaseDate: '2022-03-15', year: '2022' });
  });
  afterAll(async () => t?.close());

  const releaseDate = () => (t.app.db.sqlite.prepare('SELECT release_date AS d FROM products WHERE id = ?').get(id) as { d: string | null }).d;
  const version = () => (t.app.db.sqlite.prepare('SELECT version FROM products WHERE id = ?').get(id) as { version: number }).version;

  it('renders the date fields as dd/mm/yyyy text fields, not type="date", on the Vietnamese and the English page', async () => {
    for (const [lang, help] of [['vi', 'Ngày/tháng/năm, ví dụ 27/11/2026.'], ['en', 'Day/month/year, e.g. 27/11/2026.']] as const) {
      for (const url of ['/nop', `/san-pham/${id}/sua`]) {
        const res = await t.app.inject({ url: `${url}?lang=${lang}`, headers: { cookie: archivist.cookie } });
        expect(res.statusCode, url).toBe(200);
        expect(res.body, url).not.toContain('type="date"');
        for (const field of ['releaseDate', 'copyReceivedOn']) {
          const input = new RegExp(`<input id="f-${field}"[^>]*>`).exec(res.body)?.[0] ?? '';
          expect(input, `${lang} ${url} ${field}`).toContain('type="text"');
          expect(input).toContain('placeholder="dd/mm/yyyy"');
          expect(input).toContain('inputmode="numeric"');
          expect(res.body).toContain(`<p class="help" id="${field}-help">${help}</p>`);
        }
      }
      const adminPage = await t.app.inject({ url: `/quan-tri?lang=${lang}`, headers: { cookie: admin.cookie } });
      const deadline = /<input id="t-deadline"[^>]*>/.exec(adminPage.body)?.[0] ?? '';
      expect(deadline, lang).toContain('type="text"');
      expect(deadline).toContain('placeholder="dd/mm/yyyy"');
    }
    // The stored date is shown day first in the editor.
    const edit = await t.app.inject({ url: `/san-pham/${id}/sua`, headers: { cookie: archivist.cookie } });
    expect(/<input id="f-releaseDate"[^>]*>/.exec(edit.body)?.[0]).toContain('value="15/03/2022"');
  });

  it('saves a day-first date from the editor as YYYY-MM-DD, and leaves an unchanged one alone', async () => {
    const post = (body: Record<string, string>) =>
      t.app.inject({
        method: 'POST', url: `/san-pham/${id}/sua`, headers: { cookie: archivist.cookie, 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ _csrf: archivist.csrf, version: String(version()), type: 'map', title: 'Bản đồ du lịch Cao Bằng', year: '2022', ...body }).toString(),
      });
    const v = version();
    const same = await post({ releaseDate: '15/03/2022' });
    expect(same.statusCode).toBe(303);
    expect(version()).toBe(v);
    const changed = await post({ releaseDate: '1/4/2022', copyReceivedOn: '02.05.2022' });
    expect(changed.statusCode).toBe(303);
    expect(releaseDate()).toBe('2022-04-01');
    expect((t.app.db.sqlite.prepare('SELECT copy_received_on AS d FROM products WHERE id = ?').get(id) as { d: string }).d).toBe('2022-05-02');
    // A day that does not exist, written day first: refused next to the field, the typed text kept.
    const bad = await post({ releaseDate: '31/02/2022' });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('Ngày phát hành không hợp lệ (viết ngày/tháng/năm, ví dụ 27/11/2026)');
    expect(bad.body).toContain('value="31/02/2022"');
    expect(releaseDate()).toBe('2022-04-01');
  });

  it('the API takes DD/MM/YYYY as well as YYYY-MM-DD, and names both forms when refusing another', async () => {
    const mp = multipartBody({ title: 'Tờ gấp Thác Bản Giốc', type: 'flyer', releaseDate: '30/06/2023' }, [{ filename: 'to-gap.pdf', data: await makePdf(1, 'Ban Gioc') }]);
    const up = await t.app.inject({ method: 'POST', url: '/api/products', headers: { ...auth(), ...mp.headers }, payload: mp.body });
    expect(up.statusCode).toBe(201);
    expect(up.json().releaseDate).toBe('2023-06-30');
    const patch = (releaseDate: string) => t.app.inject({ method: 'PATCH', url: `/api/products/${id}`, headers: { ...auth(), 'if-match': `"v${version()}"` }, payload: { releaseDate } });
    const us = await patch('June 3, 2022');
    expect(us.statusCode).toBe(400);
    expect(us.json()).toMatchObject({ code: 'VALIDATION_FAILED', field: 'releaseDate', message: 'releaseDate must be a date written DD/MM/YYYY or YYYY-MM-DD' });
    const impossible = await patch('29/02/2023');
    expect(impossible.json()).toMatchObject({ code: 'VALIDATION_FAILED', message: 'releaseDate 29/02/2023 does not exist in the calendar (check the day and the month)' });
    expect((await patch('2022-03-15')).statusCode).toBe(200);
    expect(releaseDate()).toBe('2022-03-15');
  });

  it('creates a plan task from the admin form with a day-first deadline', async () => {
    const agency = await firstAgency(t.app);
    const res = await t.app.inject({
      method: 'POST', url: '/quan-tri', headers: { cookie: admin.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ _csrf: admin.csrf, op: 'create_task', code: 'nv-ngay-thang', title: 'Tờ gấp giới thiệu di tích Pác Bó', planRef: '199-KH/TU', year: '2025', agency: agency.code, deadline: '30/06/2025' }).toString(),
    });
    expect(res.statusCode, res.body.slice(0, 300)).toBe(303);
    expect((t.app.db.sqlite.prepare("SELECT deadline FROM plan_tasks WHERE code = 'nv-ngay-thang'").get() as { deadline: string }).deadline).toBe('2025-06-30');
  });
});
