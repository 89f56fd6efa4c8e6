/**
 * JSON bodies keep their types: the validator's coercion (meant for form posts, whose values are
 * all text) must not store `false` as the text "false" or read 0, false or "" as null.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, makeTestApp, type TestApp } from '../helpers/app.ts';

describe('JSON bodies are not coerced into other values', () => {
  let t: TestApp;
  let agencyId: number;
  let taskId: number;
  beforeAll(async () => {
    t = await makeTestApp({ jobs: { workers: 0 } });
    const agency = await t.app.inject({ method: 'POST', url: '/api/agencies', headers: auth(), payload: { code: 'trung-tam-van-hoa', name: 'Trung tâm Văn hóa tỉnh', shortName: 'TTVH' } });
    expect(agency.statusCode).toBe(201);
    agencyId = agency.json().id;
    const task = await t.app.inject({
      method: 'POST', url: '/api/plan-tasks', headers: auth(),
      payload: { code: 'kh-2025-to-gap', planRef: '12-KH/TU', year: 2025, agency: 'trung-tam-van-hoa', title: 'Tờ gấp giới thiệu di tích', productType: 'flyer', notes: 'Phát hành quý II', deadline: '2025-06-30' },
    });
    expect(task.statusCode).toBe(201);
    taskId = task.json().id;
  });
  afterAll(() => t.close());

  it('refuses false for a text field instead of storing the text "false"', async () => {
    const res = await t.app.inject({ method: 'PATCH', url: `/api/agencies/${agencyId}`, headers: auth(), payload: { shortName: false } });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'VALIDATION_FAILED', field: 'shortName' });
    const notes = await t.app.inject({ method: 'PATCH', url: `/api/plan-tasks/${taskId}`, headers: auth(), payload: { notes: true } });
    expect(notes.statusCode).toBe(400);
    expect(notes.json()).toMatchObject({ code: 'VALIDATION_FAILED', field: 'notes' });
    const agencies = (await t.app.inject({ url: '/api/agencies', headers: auth() })).json() as Array<{ id: number; shortName: string | null }>;
    expect(agencies.find((a) => a.id === agencyId)?.shortName).toBe('TTVH');
  });

  it('refuses 0, false and "" where only null clears a field, and null still clears it', async () => {
    for (const value of [0, false, '']) {
      const res = await t.app.inject({ method: 'PATCH', url: `/api/plan-tasks/${taskId}`, headers: auth(), payload: { productType: value } });
      expect(res.statusCode, JSON.stringify(value)).toBe(400);
      expect(res.json()).toMatchObject({ code: 'VALIDATION_FAILED', field: 'productType' });
      expect(res.json().message).toContain('null');
    }
    const tasks = (await t.app.inject({ url: '/api/plan-tasks?year=2025' })).json() as Array<{ id: number; productType: string | null; notes: string | null }>;
    expect(tasks.find((x) => x.id === taskId)).toMatchObject({ productType: 'flyer', notes: 'Phát hành quý II' });
    const cleared = await t.app.inject({ method: 'PATCH', url: `/api/plan-tasks/${taskId}`, headers: auth(), payload: { productType: null } });
    expect(cleared.statusCode).toBe(200);
    expect(cleared.json().productType).toBeNull();
  });

  it('refuses false for a number and a store deadline of "" (read as none before)', async () => {
    const year = await t.app.inject({ method: 'PATCH', url: `/api/plan-tasks/${taskId}`, headers: auth(), payload: { year: false } });
    expect(year.statusCode).toBe(400);
    expect(year.json()).toMatchObject({ code: 'VALIDATION_FAILED', field: 'year' });
    const deadline = await t.app.inject({ method: 'PUT', url: '/api/store-deadlines/bao-cao-nam', headers: auth(), payload: { year: 2025, kind: 'other', label: 'Báo cáo năm', deadline: '' } });
    expect(deadline.statusCode).toBe(400);
    expect(deadline.json()).toMatchObject({ code: 'VALIDATION_FAILED', field: 'deadline' });
  });

  it('still reads numbers written as text, in JSON and in form posts', async () => {
    const json = await t.app.inject({ method: 'PATCH', url: `/api/plan-tasks/${taskId}`, headers: auth(), payload: { year: '2026' } });
    expect(json.statusCode).toBe(200);
    expect(json.json().year).toBe(2026);
    const form = await t.app.inject({
      method: 'PATCH', url: `/api/plan-tasks/${taskId}`,
      headers: { ...auth(), 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ year: '2027', notes: 'Đã in 2.000 bản' }).toString(),
    });
    expect(form.statusCode).toBe(200);
    expect(form.json()).toMatchObject({ year: 2027, notes: 'Đã in 2.000 bản' });
  });

  it('reads "true" and "false" as truth values but refuses 0 and 1 for them', async () => {
    const off = await t.app.inject({ method: 'PATCH', url: `/api/agencies/${agencyId}`, headers: auth(), payload: { active: 'false' } });
    expect(off.statusCode).toBe(200);
    expect(off.json().active).toBe(false);
    const one = await t.app.inject({ method: 'PATCH', url: `/api/agencies/${agencyId}`, headers: auth(), payload: { active: 1 } });
    expect(one.statusCode).toBe(400);
    expect(one.json()).toMatchObject({ code: 'VALIDATION_FAILED', field: 'active' });
  });

  it('refuses a JSON body that is not UTF-8 (400 INVALID_JSON) instead of storing U+FFFD, and reads a UTF-8 one', async () => {
    // "Văn hóa" written in Windows-1258 (0xE3 is "ă" there), as a Windows editor may save it.
    const cp1258 = Buffer.concat([Buffer.from('{"shortName":"V'), Buffer.from([0xe3]), Buffer.from('n ho'), Buffer.from([0xe1]), Buffer.from('"}')]);
    const bad = await t.app.inject({ method: 'PATCH', url: `/api/agencies/${agencyId}`, headers: { ...auth(), 'content-type': 'application/json' }, payload: cp1258 });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ statusCode: 400, code: 'INVALID_JSON', message: expect.stringContaining('UTF-8') });
    const stored = t.app.db.sqlite.prepare('SELECT short_name AS s FROM agencies WHERE id = ?').get(agencyId) as { s: string };
    expect(stored.s).toBe('TTVH');
    const good = await t.app.inject({
      method: 'PATCH', url: `/api/agencies/${agencyId}`,
      headers: { ...auth(), 'content-type': 'application/json; charset=utf-8' },
      payload: Buffer.from('\ufeff{"shortName":"Văn hóa"}', 'utf8'),
    });
    expect(good.statusCode).toBe(200);
    expect(good.json().shortName).toBe('Văn hóa');
    // Still refused as before: broken JSON, and a prototype key.
    const broken = await t.app.inject({ method: 'PATCH', url: `/api/agencies/${agencyId}`, headers: { ...auth(), 'content-type': 'application/json' }, payload: '{"shortName":' });
    expect(broken.json()).toMatchObject({ statusCode: 400, code: 'INVALID_JSON' });
    const proto = await t.app.inject({ method: 'PATCH', url: `/api/agencies/${agencyId}`, headers: { ...auth(), 'content-type': 'application/json' }, payload: '{"__proto__":{"x":1}}' });
    expect(proto.statusCode).toBe(400);
  });
});
