import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestApp, type TestApp } from '../helpers/app.ts';
import { insertProduct, makeActors, taskIdOf, type Actors } from './fixtures.ts';

describe('review workflow', () => {
  let t: TestApp;
  let a: Actors;
  const changed: number[] = [];
  beforeAll(async () => {
    t = await makeTestApp({ jobs: { workers: 0 } });
    a = await makeActors(t.app);
    t.app.events.on('product-changed', (id) => changed.push(id));
  });
  afterAll(() => t.close());

  const act = (id: number, action: string, headers: Record<string, string>, extra: Record<string, unknown> = {}) =>
    t.app.inject({ method: 'POST', url: `/api/products/${id}/transitions`, headers, payload: { action, ...extra } });
  const get = (id: number, headers: Record<string, string> = {}) => t.app.inject({ url: `/api/products/${id}`, headers });
  const newRecord = () => insertProduct(t.app.db.sqlite, { title: 'Sách “Bảo vật quốc gia ở Cao Bằng”', type: 'book', agencyId: a.agencyA, planTaskId: taskIdOf(t.app.db.sqlite, '2023-bao-vat-quoc-gia') });

  it('goes submitted → in_review → accepted → published, bumping the version and logging each step', async () => {
    const id = newRecord();
    changed.length = 0;
    expect((await get(id)).statusCode).toBe(404); // not public before publication
    const steps: Array<[string, string]> = [['start_review', 'in_review'], ['accept', 'accepted'], ['publish', 'published']];
    let version = 1;
    for (const [action, state] of steps) {
      const res = await act(id, action, a.archivist.headers);
      expect(res.statusCode, action).toBe(200);
      expect(res.json()).toMatchObject({ state, version: ++version });
      expect(res.headers.etag).toBe(`"v${version}"`);
    }
    expect(changed).toEqual([id, id, id]);
    const pub = await get(id);
    expect(pub.statusCode).toBe(200);
    expect(pub.json().publishedAt).toEqual(expect.any(String));
    const hist = await t.app.inject({ url: `/api/products/${id}/history`, headers: a.archivist.headers });
    expect(hist.json().entries.map((e: { action: string; actor: string; changes: { state: unknown } }) => [e.action, e.actor, e.changes.state])).toEqual([
      ['start_review', 'luu-tru-vien', ['submitted', 'in_review']],
      ['accept', 'luu-tru-vien', ['in_review', 'accepted']],
      ['publish', 'luu-tru-vien', ['accepted', 'published']],
    ]);
  });

  it('refuses to publish before acceptance with 409 ILLEGAL_TRANSITION naming from and to', async () => {
    const id = newRecord();
    const res = await act(id, 'publish', a.archivist.headers);
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ code: 'ILLEGAL_TRANSITION', from: 'submitted', to: 'published', action: 'publish' });
    expect(res.json().message).toMatch(/submitted → published/);
    const inReview = await act(id, 'start_review', a.archivist.headers);
    expect((await act(id, 'publish', a.archivist.headers)).json()).toMatchObject({ code: 'ILLEGAL_TRANSITION', from: 'in_review' });
    expect(inReview.statusCode).toBe(200);
    expect((await act(id, 'start_review', a.archivist.headers)).json()).toMatchObject({ code: 'ILLEGAL_TRANSITION', from: 'in_review', to: 'in_review' });
    expect((await act(id, 'resubmit', a.archivist.headers)).json()).toMatchObject({ code: 'ILLEGAL_TRANSITION', from: 'in_review', to: 'submitted' });
  });

  it('returns a record with a reason; the agency sees the reason, fixes it and resubmits', async () => {
    const id = newRecord();
    const noReason = await act(id, 'return', a.archivist.headers);
    expect(noReason.statusCode).toBe(400);
    expect(noReason.json()).toMatchObject({ code: 'VALIDATION_FAILED', field: 'reason' });
    const ret = await act(id, 'return', a.archivist.headers, { reason: 'Thiếu trang bìa và số ISBN' });
    expect(ret.json()).toMatchObject({ state: 'returned', returnReason: 'Thiếu trang bìa và số ISBN' });
    const mine = await t.app.inject({ url: '/api/products?state=returned', headers: a.agency.headers });
    expect(mine.json().items.map((i: { id: number }) => i.id)).toContain(id);
    const fix = await t.app.inject({ method: 'PATCH', url: `/api/products/${id}`, headers: { ...a.agency.headers, 'if-match': ret.headers.etag as string }, payload: { isbn: '978-604-0-00000-3' } });
    expect(fix.statusCode, fix.body).toBe(400); // bad checksum
    expect(fix.json().field).toBe('isbn');
    const fixed = await t.app.inject({ method: 'PATCH', url: `/api/products/${id}`, headers: { ...a.agency.headers, 'if-match': ret.headers.etag as string }, payload: { isbn: '978-604-59-0000-0', description: 'Đã bổ sung bìa' } });
    expect(fixed.statusCode, fixed.body).toBe(200);
    const resub = await act(id, 'resubmit', a.agency.headers);
    expect(resub.statusCode).toBe(200);
    expect(resub.json()).toMatchObject({ state: 'submitted', returnReason: null });
    const hist = (await t.app.inject({ url: `/api/products/${id}/history`, headers: a.agency.headers })).json();
    expect(hist.entries.map((e: { action: string }) => e.action)).toEqual(['return', 'update', 'resubmit']);
    expect(hist.entries[0].note).toBe('Thiếu trang bìa và số ISBN');
    expect(hist.entries[1].changes).toEqual({ isbn: [null, '9786045900000'], description: [null, 'Đã bổ sung bìa'] });
  });

  it('lets the agency withdraw its own record before acceptance but not after', async () => {
    const early = newRecord();
    expect((await act(early, 'withdraw', a.agency.headers)).json()).toMatchObject({ state: 'withdrawn' });
    expect((await act(early, 'withdraw', a.archivist.headers)).json()).toMatchObject({ code: 'ILLEGAL_TRANSITION', from: 'withdrawn' });
    const late = newRecord();
    await act(late, 'start_review', a.archivist.headers);
    await act(late, 'accept', a.archivist.headers);
    const res = await act(late, 'withdraw', a.agency.headers);
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ code: 'ILLEGAL_TRANSITION', from: 'accepted', to: 'withdrawn' });
    expect((await act(late, 'withdraw', a.archivist.headers)).json()).toMatchObject({ state: 'withdrawn' });
  });

  it('locks the record for the agency after acceptance (409 RECORD_LOCKED) while archivists may still edit', async () => {
    const id = newRecord();
    await act(id, 'start_review', a.archivist.headers);
    const acc = await act(id, 'accept', a.archivist.headers);
    const etag = acc.headers.etag as string;
    const res = await t.app.inject({ method: 'PATCH', url: `/api/products/${id}`, headers: { ...a.agency.headers, 'if-match': etag }, payload: { title: 'Tên khác' } });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ code: 'RECORD_LOCKED', state: 'accepted' });
    const staffEdit = await t.app.inject({ method: 'PATCH', url: `/api/products/${id}`, headers: { ...a.archivist.headers, 'if-match': etag }, payload: { copyShelf: 'Kệ A-03', copyReceivedOn: '2023-03-15', copyCondition: 'Tốt' } });
    expect(staffEdit.statusCode).toBe(200);
    expect(staffEdit.json().physicalCopy).toEqual({ receivedOn: '2023-03-15', condition: 'Tốt', shelf: 'Kệ A-03' });
  });

  it('keeps agencies to their own records and actions', async () => {
    const id = newRecord();
    expect((await act(id, 'accept', a.agency.headers)).json()).toMatchObject({ code: 'ACTION_NOT_ALLOWED' });
    expect((await act(id, 'withdraw', a.otherAgency.headers)).statusCode).toBe(404);
    expect((await act(id, 'start_review', a.researcher.headers)).statusCode).toBe(403);
    expect((await act(id, 'start_review', {})).statusCode).toBe(401);
    const published = insertProduct(t.app.db.sqlite, { title: 'Đĩa truyền thanh cơ sở', agencyId: a.agencyB, state: 'published' });
    // Visible (published, public) but not theirs: 403, not 404.
    const res = await t.app.inject({ method: 'PATCH', url: `/api/products/${published}`, headers: { ...a.agency.headers, 'if-match': '"v1"' }, payload: { title: 'x' } });
    expect(res.json()).toMatchObject({ statusCode: 403, code: 'NOT_YOUR_RECORD' });
  });

  it('an unknown action is a 400 naming the allowed actions once, not one complaint per action', async () => {
    const id = newRecord();
    const res = await act(id, 'xuat-ban', a.archivist.headers);
    expect(res.statusCode).toBe(400);
    const body = res.json();
    expect(body).toMatchObject({ code: 'VALIDATION_FAILED', field: 'action' });
    expect(body.message).toMatch(/^body\/action must be one of "[a-z_]+"(, "[a-z_]+")+$/);
    expect(body.message).toContain('"publish"');
    expect(body.message).not.toContain('constant');
  });

  it('names what a too-long reason breaks, once, not the null and anyOf branches', async () => {
    const id = newRecord();
    const res = await act(id, 'return', a.archivist.headers, { reason: 'Thiếu trang bìa. '.repeat(400) });
    expect(res.statusCode).toBe(400);
    const body = res.json();
    expect(body).toMatchObject({ code: 'VALIDATION_FAILED', field: 'reason' });
    expect(body.message).toBe('body/reason must NOT have more than 5000 characters (or null)');
  });

  it('applies bulk transitions per record and reports each result', async () => {
    const ids = [newRecord(), newRecord(), newRecord()];
    await act(ids[1], 'withdraw', a.archivist.headers);
    const res = await t.app.inject({ method: 'POST', url: '/api/products/bulk-transitions', headers: a.archivist.headers, payload: { ids: [...ids, 999999], action: 'start_review' } });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.ok).toBe(2);
    expect(body.failed).toBe(2);
    expect(body.results).toEqual([
      expect.objectContaining({ id: ids[0], ok: true, from: 'submitted', to: 'in_review' }),
      expect.objectContaining({ id: ids[1], ok: false, statusCode: 409, code: 'ILLEGAL_TRANSITION' }),
      expect.objectContaining({ id: ids[2], ok: true }),
      expect.objectContaining({ id: 999999, ok: false, statusCode: 404, code: 'PRODUCT_NOT_FOUND' }),
    ]);
  });

  it('shows anonymous callers only published public records in lists', async () => {
    const sqlite = t.app.db.sqlite;
    const pub = insertProduct(sqlite, { title: 'Phim tài liệu Pác Bó', type: 'video', agencyId: a.agencyA, state: 'published' });
    const internal = insertProduct(sqlite, { title: 'Phim nội bộ', type: 'video', agencyId: a.agencyA, state: 'published', access: 'internal' });
    const anon = (await t.app.inject({ url: '/api/products?type=video&pageSize=100' })).json();
    expect(anon.items.map((i: { id: number }) => i.id)).toEqual([pub]);
    expect(anon.items.every((i: { state: string; access: string }) => i.state === 'published' && i.access === 'public')).toBe(true);
    const granted = (await t.app.inject({ url: '/api/products?type=video', headers: a.researcherInternal.headers })).json();
    expect(granted.items.map((i: { id: number }) => i.id).sort()).toEqual([pub, internal].sort());
    const plain = (await t.app.inject({ url: '/api/products?type=video', headers: a.researcher.headers })).json();
    expect(plain.items.map((i: { id: number }) => i.id)).toEqual([pub]);
    const queue = (await t.app.inject({ url: '/api/products?state=submitted,in_review&pageSize=2&page=1', headers: a.archivist.headers })).json();
    expect(queue.pageSize).toBe(2);
    expect(queue.items.length).toBeLessThanOrEqual(2);
    expect(queue.total).toBeGreaterThan(2);
  });

  it('lets an admin delete a record and announces it', async () => {
    const id = newRecord();
    const deleted: number[] = [];
    t.app.events.on('product-deleted', (x) => deleted.push(x));
    const res = await t.app.inject({ method: 'DELETE', url: `/api/products/${id}`, headers: a.admin.headers });
    expect(res.statusCode).toBe(204);
    expect(deleted).toEqual([id]);
    expect((await get(id, a.admin.headers)).statusCode).toBe(404);
  });
});
