import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanText, normaliseIsbn, todayVn } from '../../server/catalogue/product-fields.ts';
import { titleSimilarity, foldVi } from '../../server/catalogue/fold.ts';
import { makeTestApp, multipartBody, type TestApp } from '../helpers/app.ts';
import { makePdf } from '../helpers/samples.ts';
import { insertProduct, makeActors, type Actors } from './fixtures.ts';

describe('catalogue field rules (unit)', () => {
  it('checks ISBN-10 and ISBN-13 checksums', () => {
    expect(normaliseIsbn('978-604-59-0000-0')).toBe('9786045900000');
    expect(normaliseIsbn('ISBN 0-306-40615-2')).toBe('0306406152');
    expect(normaliseIsbn('0-8044-2957-X')).toBe('080442957X');
    expect(normaliseIsbn('978-604-59-0000-1')).toBeNull();
    expect(normaliseIsbn('0-306-40615-3')).toBeNull();
    expect(normaliseIsbn('12345')).toBeNull();
  });
  it('stores text without control characters, lone surrogates, noncharacters or bidi overrides', () => {
    expect(cleanText('Để an toàn\u0000 giao\u001b thông\ud800 \uffff\u202eđường\u202c bộ\tCao Bằng')).toBe('Để an toàn giao thông đường bộ Cao Bằng');
    // The description keeps its lines (CRLF read as one break), other fields get one line.
    expect(cleanText('Dòng một  \r\n  dòng hai\u0085', true)).toBe('Dòng một\ndòng hai');
    expect(cleanText('Dòng một\ndòng hai')).toBe('Dòng một dòng hai');
    expect(cleanText('Ảnh 📷 Pác Bó'.normalize('NFD'))).toBe('Ảnh 📷 Pác Bó');
  });
  it('folds Vietnamese and scores similar titles', () => {
    expect(foldVi('Địa lý - Lịch sử tỉnh Cao Bằng')).toBe('dia ly lich su tinh cao bang');
    expect(titleSimilarity('Địa lý - Lịch sử tỉnh Cao Bằng', 'Dia ly lich su tinh Cao Bang')).toBe(1);
    expect(titleSimilarity('Địa lý - Lịch sử tỉnh Cao Bằng', 'Địa lý – Lịch sử tỉnh Cao Bằng (tái bản)')).toBeGreaterThan(0.6);
    expect(titleSimilarity('Bảo vật quốc gia ở Cao Bằng', 'Bản đồ du lịch Cao Bằng')).toBeLessThan(0.6);
  });
});

describe('catalogue fields through the API', () => {
  let t: TestApp;
  let a: Actors;
  let pdf: Buffer;
  beforeAll(async () => {
    t = await makeTestApp({ jobs: { workers: 0 } });
    a = await makeActors(t.app);
    pdf = await makePdf(1, 'Cao Bang thuc luc');
  });
  afterAll(() => t.close());

  const upload = (fields: Record<string, string | string[]>, headers: Record<string, string>) => {
    const { body, headers: h } = multipartBody(fields, [{ filename: 'sách.pdf', contentType: 'application/pdf', data: pdf }]);
    return t.app.inject({ method: 'POST', url: '/api/products', payload: body, headers: { ...h, ...headers } });
  };

  it('accepts every catalogue field on upload', async () => {
    const res = await upload(
      {
        title: 'Cao Bằng thực lục',
        altTitle: '高平實錄',
        type: 'book',
        description: 'Sách cổ do Sở VHTTDL hoàn thành xuất bản',
        agency: 'so-vhttdl',
        coIssuer: ['ban-tuyen-giao', 'so-gddt'],
        releaseDate: '2023-03-20',
        publisher: 'Nhà xuất bản Chính trị quốc gia Sự thật',
        identifier: 'CB-2023-001',
        isbn: '978-604-59-0000-0',
        printRun: '1000',
        language: ['vi', 'tay'],
        subjects: 'lịch sử, Cao Bằng',
        planTask: '2023-cao-bang-thuc-luc',
        access: 'internal',
        copyReceivedOn: '2023-03-25',
        copyCondition: 'Mới',
        copyShelf: 'Kệ B-12',
      },
      a.archivist.headers,
    );
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({
      title: 'Cao Bằng thực lục',
      altTitle: '高平實錄',
      agency: { code: 'so-vhttdl' },
      coIssuers: [expect.objectContaining({ code: 'ban-tuyen-giao' }), expect.objectContaining({ code: 'so-gddt' })],
      releaseDate: '2023-03-20',
      year: 2023,
      isbn: '9786045900000',
      printRun: 1000,
      languages: ['vi', 'tay'],
      subjects: ['lịch sử', 'Cao Bằng'],
      planTask: { code: '2023-cao-bang-thuc-luc' },
      access: 'internal',
      physicalCopy: { receivedOn: '2023-03-25', condition: 'Mới', shelf: 'Kệ B-12' },
    });
  });

  it('binds agency submitters to their own agency and their own plan tasks', async () => {
    const own = await upload({ title: 'Tờ rơi ứng xử văn minh du lịch', type: 'leaflet', planTask: '2023-to-roi-du-lich-van-minh' }, a.agency.headers);
    expect(own.statusCode).toBe(201);
    expect(own.json().agency.code).toBe('so-vhttdl');
    const other = await upload({ title: 'Đĩa', type: 'audio', planTask: '2023-dia-truyen-thanh' }, a.agency.headers);
    expect(other.statusCode).toBe(400);
    expect(other.json().field).toBe('planTask');
    const wrongAgency = await upload({ title: 'Đĩa', type: 'audio', agency: 'so-tttt' }, a.agency.headers);
    expect(wrongAgency.json()).toMatchObject({ statusCode: 400, field: 'agency' });
    const shelf = await upload({ title: 'Sách', type: 'book', copyShelf: 'Kệ A' }, a.agency.headers);
    expect(shelf.json()).toMatchObject({ statusCode: 403, code: 'FIELD_NOT_ALLOWED', field: 'copyShelf' });
  });

  it('flags a submission whose title closely matches an existing record, or whose plan task already has one', async () => {
    const first = await upload({ title: 'Bản đồ du lịch Cao Bằng', type: 'map', planTask: '2023-ban-do-du-lich' }, a.agency.headers);
    const second = await upload({ title: 'Ban do du lich Cao Bang (loai cam tay)', type: 'map', planTask: '2023-ban-do-du-lich' }, a.agency.headers);
    // Same PDF bytes as the first upload: the same-file flag wins for that record; the title flag names it only once.
    const flags = second.json().duplicateFlags as Array<{ kind: string; productId: number }>;
    expect(flags.filter((f) => f.productId === first.json().id)).toEqual([expect.objectContaining({ kind: 'same_file' })]);
    const other = await t.app.inject({
      method: 'PATCH',
      url: `/api/products/${insertProduct(t.app.db.sqlite, { title: 'Bản đồ hành chính', type: 'map', agencyId: a.agencyA })}`,
      headers: { ...a.archivist.headers, 'if-match': '"v1"' },
      payload: { title: 'Bản đồ du lịch Cao Bằng', planTask: '2023-ban-do-du-lich' },
    });
    expect(other.statusCode).toBe(200);
    const kinds = (other.json().duplicateFlags as Array<{ kind: string; productId: number }>).filter((f) => f.productId === first.json().id).map((f) => f.kind).sort();
    expect(kinds).toEqual(['same_plan_task', 'similar_title']);
    const flagged = (await t.app.inject({ url: '/api/products?flagged=true&pageSize=100', headers: a.archivist.headers })).json();
    expect(flagged.items.map((i: { id: number }) => i.id)).toContain(other.json().id);
  });

  it.each([
    [{ type: 'novel' }, 'type'],
    [{ agency: 'so-khong-ton-tai' }, 'agency'],
    [{ coIssuers: ['so-vhttdl', 'khong-co'] }, 'coIssuers'],
    [{ releaseDate: '2999-01-01' }, 'releaseDate'],
    [{ releaseDate: '2023-02-30' }, 'releaseDate'],
    [{ isbn: '978-604-59-0000-1' }, 'isbn'],
    [{ printRun: -5 }, 'printRun'],
    [{ languages: ['Tiếng Việt'] }, 'languages'],
    [{ planTask: 'khong-co' }, 'planTask'],
    [{ access: 'secret' }, 'access'],
    [{ title: '' }, 'title'],
    [{ year: 2020, releaseDate: '2023-01-05' }, 'year'],
    [{ year: 2021 }, 'year'],
    [{ state: 'published' }, 'state'],
  ])('PATCH %j → 400 naming %s', async (payload, field) => {
    const id = insertProduct(t.app.db.sqlite, { title: 'Sách kiểm tra', agencyId: a.agencyA, year: 2022 });
    t.app.db.sqlite.prepare(`UPDATE products SET release_date = '2022-09-02' WHERE id = ?`).run(id);
    const res = await t.app.inject({ method: 'PATCH', url: `/api/products/${id}`, headers: { ...a.archivist.headers, 'if-match': '"v1"' }, payload });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json()).toMatchObject({ code: 'VALIDATION_FAILED', field });
    expect(res.json().message).toContain(field === 'state' ? 'state' : field);
  });

  it('names every field with a problem at once (errors), the first also as field', async () => {
    const id = insertProduct(t.app.db.sqlite, { title: 'Sách kiểm tra', agencyId: a.agencyA, year: 2022 });
    const payload = { title: '', isbn: '978-604-59-0000-1', year: '20x3', printRun: -5, publisher: 'Nhà xuất bản Văn hoá dân tộc' };
    const res = await t.app.inject({ method: 'PATCH', url: `/api/products/${id}`, headers: { ...a.archivist.headers, 'if-match': '"v1"' }, payload });
    expect(res.statusCode).toBe(400);
    const body = res.json();
    expect(body).toMatchObject({ code: 'VALIDATION_FAILED', field: 'title' });
    expect(body.errors.map((e: { field: string }) => e.field)).toEqual(['title', 'isbn', 'printRun', 'year']);
    // Nothing was written.
    expect((await t.app.inject({ url: `/api/products/${id}`, headers: a.archivist.headers })).json()).toMatchObject({ title: 'Sách kiểm tra', version: 1 });
  });

  it('knows today in Cao Bằng', () => {
    expect(todayVn(Date.parse('2023-03-30T17:30:00Z'))).toBe('2023-03-31');
  });
});
