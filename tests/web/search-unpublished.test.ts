/**
 * The public search page lists published products only, for staff too; a staff member's query that
 * matches records not published names them (found by a fresh-clone browser probe: an archivist
 * searching for a record just handed in read "0 results … try other words").
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestApp, type TestApp } from '../helpers/app.ts';
import { createUser, firstAgency, login, makeProduct, type Session } from './helpers.ts';

describe('search page: records staff may see that are not published', () => {
  let t: TestApp;
  let archivist: Session;
  let agencyUser: Session;
  let draftId: number;
  let otherDraftId: number;
  beforeAll(async () => {
    t = await makeTestApp({ jobs: { workers: 0 } });
    const agency = await firstAgency(t.app);
    const other = t.app.db.sqlite.prepare('SELECT code FROM agencies WHERE active = 1 AND id != ? ORDER BY id LIMIT 1').get(agency.id) as { code: string };
    await createUser(t.app, 'luu-tru-tim', 'archivist');
    await createUser(t.app, 'co-quan-tim', 'agency', agency.code);
    archivist = await login(t.app, 'luu-tru-tim');
    agencyUser = await login(t.app, 'co-quan-tim');
    await makeProduct(t.app, { title: 'Sách Đông Khê 1950 đã công bố', agency: agency.code }, { publish: true });
    draftId = await makeProduct(t.app, { title: 'Tờ gấp Đông Khê chiến thắng, mới nộp', agency: agency.code });
    otherDraftId = await makeProduct(t.app, { title: 'Bản đồ Đông Khê của cơ quan khác', agency: other.code });
  });
  afterAll(async () => t?.close());
  const get = (url: string, s?: Session) => t.app.inject({ method: 'GET', url, headers: s ? { cookie: s.cookie } : {} });

  it('an archivist sees the published hit in the list and the unpublished ones named with their state', async () => {
    const vi = await get('/?q=dong+khe', archivist);
    expect(vi.statusCode).toBe(200);
    expect(vi.body).toContain('Trang tra cứu chỉ liệt kê sản phẩm đã công bố. 2 hồ sơ chưa công bố mà bạn được xem cũng khớp với truy vấn này');
    expect(vi.body).toContain(`<a href="/san-pham/${draftId}">Tờ gấp Đông Khê chiến thắng, mới nộp</a> · Mới nộp`);
    expect(vi.body).toContain(`<a href="/san-pham/${otherDraftId}">`);
    // The list itself is still the public one.
    expect(vi.body).toMatch(/<h2 id="results-heading">1 kết quả<\/h2>/);
    const en = await get('/?q=dong+khe&lang=en', archivist);
    expect(en.body).toContain('This page lists published products only. 2 unpublished records you may see also match this query');
    expect(en.body).toContain(`<a href="/san-pham/${draftId}"><span lang="vi">Tờ gấp Đông Khê chiến thắng, mới nộp</span></a> · Submitted`);
  });

  it('agency staff see only the records they may see, in the singular in English', async () => {
    const en = await get('/?q=dong+khe&lang=en', agencyUser);
    expect(en.body).toContain('1 unpublished record you may see also matches this query');
    expect(en.body).toContain(`/san-pham/${draftId}"`);
    expect(en.body).not.toContain(`/san-pham/${otherDraftId}"`);
  });

  it('the public, a browse without words and a query matching nothing unpublished get no such note', async () => {
    for (const res of [await get('/?q=dong+khe'), await get('/', archivist), await get('/?q=sach+da+cong+bo', archivist)]) {
      expect(res.statusCode).toBe(200);
      expect(res.body).not.toContain('staff-unpublished');
      expect(res.body).not.toContain(`/san-pham/${draftId}"`);
    }
  });
});
