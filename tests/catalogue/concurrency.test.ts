import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestApp, type TestApp } from '../helpers/app.ts';
import { insertProduct, makeActors, type Actors } from './fixtures.ts';

describe('optimistic concurrency on record edits', () => {
  let t: TestApp;
  let a: Actors;
  beforeAll(async () => {
    t = await makeTestApp({ jobs: { workers: 0 } });
    a = await makeActors(t.app);
  });
  afterAll(() => t.close());

  const patch = (id: number, headers: Record<string, string>, payload: Record<string, unknown>) =>
    t.app.inject({ method: 'PATCH', url: `/api/products/${id}`, headers, payload });

  it('two archivists edit the same record: one wins, the other gets 412, nothing is silently overwritten', async () => {
    const id = insertProduct(t.app.db.sqlite, { title: 'Bản đồ du lịch Cao Bằng', type: 'map', agencyId: a.agencyA });
    const changed: number[] = [];
    t.app.events.on('product-changed', (x) => changed.push(x));
    const [r1, r2] = await Promise.all([
      t.app.inject({ url: `/api/products/${id}`, headers: a.archivist.headers }),
      t.app.inject({ url: `/api/products/${id}`, headers: a.archivist2.headers }),
    ]);
    expect(r1.headers.etag).toBe('"v1"');
    expect(r2.headers.etag).toBe('"v1"');
    const [w1, w2] = await Promise.all([
      patch(id, { ...a.archivist.headers, 'if-match': r1.headers.etag as string }, { title: 'Bản đồ du lịch Cao Bằng (loại cầm tay)' }),
      patch(id, { ...a.archivist2.headers, 'if-match': r2.headers.etag as string }, { title: 'Bản đồ du lịch Cao Bằng (có khung treo)', printRun: 500 }),
    ]);
    const statuses = [w1.statusCode, w2.statusCode].sort();
    expect(statuses).toEqual([200, 412]);
    const winner = w1.statusCode === 200 ? w1 : w2;
    const loser = w1.statusCode === 200 ? w2 : w1;
    expect(loser.json()).toMatchObject({ code: 'STALE_WRITE', currentVersion: 2, currentEtag: '"v2"' });
    // Only the committed edit is announced (the search index listens).
    expect(changed).toEqual([id]);
    const now = (await t.app.inject({ url: `/api/products/${id}`, headers: a.archivist.headers })).json();
    expect(now.title).toBe(winner.json().title);
    expect(now.version).toBe(2);
    expect(now.printRun).toBe(w2 === winner ? 500 : null);
    const hist = (await t.app.inject({ url: `/api/products/${id}/history`, headers: a.archivist.headers })).json();
    expect(hist.entries.filter((e: { action: string }) => e.action === 'update')).toHaveLength(1);

    // The loser reloads and applies the change on top of the winner's.
    const retry = await patch(id, { ...(loser === w1 ? a.archivist : a.archivist2).headers, 'if-match': '"v2"' }, { printRun: 800 });
    expect(retry.statusCode).toBe(200);
    expect(retry.json()).toMatchObject({ title: winner.json().title, printRun: 800, version: 3 });
    expect(retry.headers.etag).toBe('"v3"');
  });

  it('requires If-Match (428) and accepts weak and listed ETags', async () => {
    const id = insertProduct(t.app.db.sqlite, { title: 'Tờ gấp du lịch', agencyId: a.agencyA });
    const none = await patch(id, a.archivist.headers, { title: 'x' });
    expect(none.statusCode).toBe(428);
    expect(none.json().code).toBe('PRECONDITION_REQUIRED');
    expect((await patch(id, { ...a.archivist.headers, 'if-match': 'W/"v1"' }, { title: 'Tờ gấp A' })).statusCode).toBe(200);
    expect((await patch(id, { ...a.archivist.headers, 'if-match': '"v1", "v2"' }, { title: 'Tờ gấp B' })).statusCode).toBe(200);
    expect((await patch(id, { ...a.archivist.headers, 'if-match': '"v2"' }, { title: 'Tờ gấp C' })).statusCode).toBe(412);
  });

  it('If-Match: * matches any current version (RFC 9110), edits and transitions alike', async () => {
    const id = insertProduct(t.app.db.sqlite, { title: 'Tờ rơi phòng chống dịch', type: 'leaflet', agencyId: a.agencyA });
    const edit = await patch(id, { ...a.archivist.headers, 'if-match': '*' }, { title: 'Tờ rơi phòng, chống dịch' });
    expect(edit.statusCode, edit.body).toBe(200);
    expect(edit.headers.etag).toBe('"v2"');
    const move = await t.app.inject({ method: 'POST', url: `/api/products/${id}/transitions`, headers: { ...a.archivist.headers, 'if-match': '*' }, payload: { action: 'start_review' } });
    expect(move.statusCode, move.body).toBe(200);
    expect(move.json()).toMatchObject({ state: 'in_review', version: 3 });
  });

  it('a record that does not exist is 404 whatever If-Match says (never 412 or 428)', async () => {
    const missing = 987_654;
    for (const ifMatch of [undefined, '*', '"v1"', 'W/"v1"']) {
      const headers = { ...a.archivist.headers, ...(ifMatch ? { 'if-match': ifMatch } : {}) };
      const res = await patch(missing, headers, { title: 'Không có' });
      expect(res.statusCode, `PATCH with If-Match ${ifMatch}`).toBe(404);
      const tr = await t.app.inject({ method: 'POST', url: `/api/products/${missing}/transitions`, headers, payload: { action: 'start_review' } });
      expect(tr.statusCode, `transition with If-Match ${ifMatch}`).toBe(404);
      expect(tr.json().code).toBe(res.json().code);
    }
  });

  it('an If-Match that is no entity-tag list is 400 BAD_IF_MATCH, not a stale write', async () => {
    const id = insertProduct(t.app.db.sqlite, { title: 'Sổ tay tuyên truyền viên', type: 'book', agencyId: a.agencyA });
    for (const bad of ['v1', '"v1" "v2"', '*, "v1"', '"v1', 'W/v1']) {
      const res = await patch(id, { ...a.archivist.headers, 'if-match': bad }, { title: 'Sổ tay' });
      expect(res.statusCode, bad).toBe(400);
      expect(res.json()).toMatchObject({ code: 'BAD_IF_MATCH' });
      expect(res.json().message).toContain('"v1"');
    }
    // A well-formed tag that is not ours never matches: stale, with the current ETag to retry with.
    const other = await patch(id, { ...a.archivist.headers, 'if-match': '"abc"' }, { title: 'Sổ tay' });
    expect(other.statusCode).toBe(412);
    expect(other.json()).toMatchObject({ code: 'STALE_WRITE', currentEtag: '"v1"' });
    expect((await t.app.inject({ url: `/api/products/${id}`, headers: a.archivist.headers })).json().title).toBe('Sổ tay tuyên truyền viên');
  });

  it('a transition with a stale If-Match is refused too', async () => {
    const id = insertProduct(t.app.db.sqlite, { title: 'Sách Cao Bằng thực lục', type: 'book', agencyId: a.agencyA });
    await patch(id, { ...a.archivist.headers, 'if-match': '"v1"' }, { publisher: 'NXB Chính trị quốc gia Sự thật' });
    const res = await t.app.inject({ method: 'POST', url: `/api/products/${id}/transitions`, headers: { ...a.archivist2.headers, 'if-match': '"v1"' }, payload: { action: 'start_review' } });
    expect(res.statusCode).toBe(412);
    expect((await t.app.inject({ url: `/api/products/${id}`, headers: a.archivist.headers })).json().state).toBe('submitted');
  });
});
