/**
 * Renaming an agency reaches search at once: its products are found by the new name, hits and
 * facets show it, and the agency filter takes the new code (through the real routes and events).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, makeTestApp, multipartBody, type TestApp } from '../helpers/app.ts';

let t: TestApp;
beforeAll(async () => {
  t = await makeTestApp({ jobs: { workers: 0 } });
});
afterAll(async () => {
  await t?.close();
});

describe('agency rename and search', () => {
  it('re-indexes the agency’s products as soon as PATCH /api/agencies/:id returns', async () => {
    const inject = t.app.inject.bind(t.app);
    const created = await inject({ method: 'POST', url: '/api/agencies', headers: auth(), payload: { code: 'trung-tam-vh-cu', name: 'Trung tâm Văn hoá Hà Quảng' } });
    expect(created.statusCode).toBe(201);
    const agency = created.json() as { id: number };
    const { body, headers } = multipartBody(
      { title: 'Tờ gấp lễ hội Nàng Hai', type: 'flyer', year: '2022', agency: 'trung-tam-vh-cu' },
      [{ filename: 'le-hoi.txt', contentType: 'text/plain', data: Buffer.from('Lễ hội cầu trăng của người Tày.', 'utf8') }],
    );
    const up = await inject({ method: 'POST', url: '/api/products', headers: { ...auth(), ...headers }, payload: body });
    expect(up.statusCode).toBe(201);
    const id = (up.json() as { id: number }).id;
    for (const action of ['start_review', 'accept', 'publish']) {
      const r = await inject({ method: 'POST', url: `/api/products/${id}/transitions`, headers: auth(), payload: { action } });
      expect(r.statusCode, action).toBe(200);
    }
    const search = async (qs: string) => (await inject({ url: `/api/search?${qs}` })).json() as {
      total: number; mode: string; hits: Array<{ id: number; agency: { code: string; name: string } | null }>; facets: { agency: Record<string, number> };
    };
    /** Ids matching every word (not the any-of fallback a query matching nothing as a whole gets). */
    const matchAll = async (qs: string) => {
      const r = await search(qs);
      return r.mode === 'and' ? r.hits.map((h) => h.id) : [];
    };
    expect(await matchAll('q=ha%20quang%20nang%20hai')).toEqual([id]);

    const patched = await inject({ method: 'PATCH', url: `/api/agencies/${agency.id}`, headers: auth(), payload: { code: 'bao-tang-ha-quang', name: 'Bảo tàng huyện Hà Quảng', shortName: 'BT Hà Quảng' } });
    expect(patched.statusCode).toBe(200);

    const byNew = await search('q=bao%20tang%20nang%20hai');
    expect(byNew.mode).toBe('and');
    expect(byNew.hits.map((h) => h.id)).toEqual([id]);
    expect(byNew.hits[0].agency).toMatchObject({ code: 'bao-tang-ha-quang', name: 'Bảo tàng huyện Hà Quảng' });
    expect(byNew.facets.agency).toEqual({ 'bao-tang-ha-quang': 1 });
    expect((await search('q=nang%20hai&agency=bao-tang-ha-quang')).total).toBe(1);
    expect((await search('q=nang%20hai&agency=trung-tam-vh-cu')).total).toBe(0);
    // The old words ("trung tâm văn hoá") no longer match it: no record holds them any more, so they are
    // unknown words, left out or corrected like any typo (the vocabulary used to keep words an edit had
    // removed: they stayed known, and only the any-of fallback found the record).
    const byOld = (await inject({ url: '/api/search?q=trung%20tam%20van%20hoa%20nang%20hai' })).json() as { ignored: string[]; corrections: Array<{ from: string; to: string }> };
    expect([...byOld.ignored, ...byOld.corrections.map((c) => c.from)].sort()).toEqual(['hoa', 'tam', 'trung', 'van']);
    expect(byOld.corrections.every((c) => !['trung', 'tam', 'van', 'hoa'].includes(c.to))).toBe(true);

    // A plan task's title is searchable on the products made for it: renaming the task reaches them too.
    const task = await inject({
      method: 'POST', url: '/api/plan-tasks', headers: auth(),
      payload: { code: 'kh-2024-le-hoi', planRef: '05-KH/TU', year: 2024, agency: 'bao-tang-ha-quang', title: 'Quảng bá lễ hội truyền thống', deadline: '2024-12-31' },
    });
    expect(task.statusCode).toBe(201);
    const taskId = (task.json() as { id: number }).id;
    const rec = await inject({ url: `/api/products/${id}`, headers: auth() });
    const edited = await inject({ method: 'PATCH', url: `/api/products/${id}`, headers: { ...auth(), 'if-match': rec.headers.etag as string }, payload: { planTask: taskId } });
    expect(edited.statusCode).toBe(200);
    expect(await matchAll('q=quang%20ba%20le%20hoi%20nang%20hai')).toEqual([id]);
    const renamed = await inject({ method: 'PATCH', url: `/api/plan-tasks/${taskId}`, headers: auth(), payload: { title: 'Sưu tầm dân ca Tày Nùng' } });
    expect(renamed.statusCode).toBe(200);
    expect(await matchAll('q=suu%20tam%20dan%20ca%20nang%20hai')).toEqual([id]);
    // The old title's own words are in no record any more: unknown, like the agency's old name above.
    const byOldTitle = (await inject({ url: '/api/search?q=quang%20ba%20truyen%20thong%20nang%20hai' })).json() as { ignored: string[]; corrections: Array<{ from: string; to: string }> };
    expect([...byOldTitle.ignored, ...byOldTitle.corrections.map((c) => c.from)].sort()).toEqual(['ba', 'thong', 'truyen']);
    expect(byOldTitle.corrections.every((c) => !['ba', 'truyen', 'thong'].includes(c.to))).toBe(true);
  });
});
