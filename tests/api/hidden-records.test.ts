/**
 * What a caller learns about records they may not see through the records they may see: a
 * visible record's duplicate flags name other records (and carry their titles), and exports and
 * write answers return whole records. Found by probing a built server as anonymous, two agencies'
 * submitters, a researcher, an archivist and an admin.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, makeTestApp, multipartBody, type TestApp } from '../helpers/app.ts';
import { insertProduct, makeActors, taskIdOf, type Actors } from '../catalogue/fixtures.ts';

const HIDDEN_TITLE = 'Dự thảo đề cương Lịch sử Đảng bộ huyện Hà Quảng';
/** The hidden title as a whole JSON string (the other records' titles start with it). */
const LEAKED = JSON.stringify(HIDDEN_TITLE);

describe('records hidden from a caller stay hidden inside the records they may see', () => {
  let t: TestApp;
  let a: Actors;
  let hiddenId: number;
  let flaggedId: number;
  let uploadAnswer: { duplicateFlags: unknown[] };

  const upload = async (headers: Record<string, string>, fields: Record<string, string>, text: string) => {
    const { body, headers: h } = multipartBody(fields, [{ filename: 'tài liệu.txt', contentType: 'text/plain', data: Buffer.from(text) }]);
    const res = await t.app.inject({ method: 'POST', url: '/api/products', payload: body, headers: { ...h, ...headers } });
    expect(res.statusCode, res.body).toBe(201);
    return res.json();
  };
  const act = async (id: number, action: string) => {
    const res = await t.app.inject({ method: 'POST', url: `/api/products/${id}/transitions`, payload: { action }, headers: auth() });
    expect(res.statusCode, res.body).toBe(200);
  };

  beforeAll(async () => {
    t = await makeTestApp({ jobs: { workers: 0 } });
    a = await makeActors(t.app);
    // Agency A's draft (submitted: only A and staff may see it).
    hiddenId = (await upload(a.agency.headers, { title: HIDDEN_TITLE, type: 'book' }, 'Bản thảo chưa duyệt của Sở')).id;
    // Agency B hands in a record with a close title: it is flagged as resembling A's draft.
    const b = await upload(a.otherAgency.headers, { title: `${HIDDEN_TITLE} (bản in)`, type: 'book' }, 'Bản in của Sở Thông tin');
    flaggedId = b.id;
    expect(t.app.db.sqlite.prepare('SELECT duplicate_flags AS f FROM products WHERE id = ?').get(flaggedId)).toEqual({ f: expect.stringContaining(HIDDEN_TITLE) });
    uploadAnswer = b;
  });
  afterAll(async () => t.close());

  it('a submitter of another agency does not read the draft title or id in the flags of its own record', async () => {
    // Neither in the upload's answer …
    expect(JSON.stringify(uploadAnswer)).not.toContain(LEAKED);
    expect(uploadAnswer.duplicateFlags).toEqual([]);
    // … nor when reading the record later.
    const res = await t.app.inject({ url: `/api/products/${flaggedId}`, headers: a.otherAgency.headers });
    expect(res.statusCode).toBe(200);
    expect(res.json().duplicateFlags).toEqual([]);
    expect(res.body).not.toContain(LEAKED);
  });

  it('staff and the draft owner still see the flag with the title', async () => {
    for (const h of [auth(), a.archivist.headers]) {
      const rec = (await t.app.inject({ url: `/api/products/${flaggedId}`, headers: h })).json();
      expect(rec.duplicateFlags).toEqual([expect.objectContaining({ kind: 'similar_title', productId: hiddenId, detail: HIDDEN_TITLE })]);
    }
  });

  it('once the flagged record is published, anonymous readers, exports and edits do not reveal the draft either', async () => {
    await act(flaggedId, 'start_review');
    await act(flaggedId, 'accept');
    await act(flaggedId, 'publish');
    const anon = await t.app.inject({ url: `/api/products/${flaggedId}` });
    expect(anon.statusCode).toBe(200);
    expect(anon.json().duplicateFlags).toEqual([]);
    expect(anon.body).not.toContain(LEAKED);
    expect(anon.body).not.toMatch(new RegExp(`"productId":${hiddenId}\\b`));

    const exp = await t.app.inject({ url: '/api/search/export?format=json&q=H%C3%A0%20Qu%E1%BA%A3ng' });
    expect(exp.statusCode).toBe(200);
    expect(exp.json().records.map((r: { id: number }) => r.id)).toEqual([flaggedId]);
    expect(exp.body).not.toContain(LEAKED);

    // A researcher (no internal grant) reads it like the public.
    const res = await t.app.inject({ url: `/api/products/${flaggedId}`, headers: a.researcher.headers });
    expect(res.json().duplicateFlags).toEqual([]);

    // An archivist's edit answer keeps the flags (staff); the draft's own agency sees its own draft named.
    const own = (await t.app.inject({ url: `/api/products/${flaggedId}`, headers: a.agency.headers })).json();
    expect(own.duplicateFlags).toEqual([expect.objectContaining({ productId: hiddenId, detail: HIDDEN_TITLE })]);
  });

  it('the owning agency reads no hidden flag in the answers of its own edits and transitions', async () => {
    const other = await upload(a.otherAgency.headers, { title: `${HIDDEN_TITLE} - tái bản`, type: 'book' }, 'Tái bản của Sở Thông tin');
    const get = await t.app.inject({ url: `/api/products/${other.id}`, headers: a.otherAgency.headers });
    const patch = await t.app.inject({
      method: 'PATCH', url: `/api/products/${other.id}`, payload: { description: 'Bản sửa lần một' },
      headers: { ...a.otherAgency.headers, 'if-match': get.headers.etag as string },
    });
    expect(patch.statusCode, patch.body).toBe(200);
    expect(patch.body).not.toContain(LEAKED);
    const tr = await t.app.inject({ method: 'POST', url: `/api/products/${other.id}/transitions`, payload: { action: 'withdraw' }, headers: a.otherAgency.headers });
    expect(tr.statusCode, tr.body).toBe(200);
    expect(tr.body).not.toContain(LEAKED);
    // (Staff see the flags this record holds.)
    const staffView = (await t.app.inject({ url: `/api/products/${other.id}`, headers: auth() })).json();
    expect(staffView.duplicateFlags.map((f: { productId: number }) => f.productId)).toContain(hiddenId);
  });

  it('the compliance report counts a record of another agency linked to a task but shows its title only to those who may see it', async () => {
    // An archivist linked agency A's unpublished record to a task of agency B (Sở TTTT).
    const { sqlite } = t.app.db;
    const title = 'Đĩa phát thanh tiếng Tày - bản nháp của Sở Văn hoá';
    const id = insertProduct(sqlite, { title, type: 'audio', agencyId: a.agencyA, planTaskId: taskIdOf(sqlite, '2023-dia-truyen-thanh'), submittedAt: '2023-05-10T03:00:00.000Z' });
    const rowOf = (body: { tasks: Array<{ task: { code: string }; submitted: number; products: Array<{ id: number; title: string | null }> }> }) =>
      body.tasks.find((r) => r.task.code === '2023-dia-truyen-thanh')!;

    const b = await t.app.inject({ url: '/api/reports/compliance?year=2023', headers: a.otherAgency.headers });
    expect(b.statusCode).toBe(200);
    expect(b.body).not.toContain(title);
    expect(rowOf(b.json())).toMatchObject({ submitted: 1, products: [{ id, title: null }] });
    const csv = await t.app.inject({ url: '/api/reports/compliance?year=2023&format=csv', headers: a.otherAgency.headers });
    expect(csv.statusCode).toBe(200);
    expect(csv.body).not.toContain(title);

    const staffRow = rowOf((await t.app.inject({ url: '/api/reports/compliance?year=2023', headers: a.archivist.headers })).json());
    expect(staffRow.products).toEqual([expect.objectContaining({ id, title })]);
  });

  it('lists count and filter duplicate flags by the records the caller may see', async () => {
    const list = async (headers: Record<string, string>, query: string) => {
      const res = await t.app.inject({ url: `/api/products?pageSize=100${query}`, headers });
      expect(res.statusCode, res.body).toBe(200);
      return res.json().items as Array<{ id: number; duplicateFlagCount: number }>;
    };
    for (const h of [a.otherAgency.headers, {}, a.researcher.headers]) {
      expect((await list(h, '')).find((i) => i.id === flaggedId)?.duplicateFlagCount).toBe(0);
      expect((await list(h, '&flagged=true')).map((i) => i.id)).not.toContain(flaggedId);
      expect((await list(h, '&flagged=false')).map((i) => i.id)).toContain(flaggedId);
    }
    // The draft owner sees its draft named, so the flag counts for it; staff see every flag.
    for (const h of [a.agency.headers, a.archivist.headers]) {
      expect((await list(h, '')).find((i) => i.id === flaggedId)?.duplicateFlagCount).toBe(1);
      expect((await list(h, '&flagged=true')).map((i) => i.id)).toContain(flaggedId);
      expect((await list(h, '&flagged=false')).map((i) => i.id)).not.toContain(flaggedId);
    }
  });
});
