import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endOfDayVn } from '../../server/catalogue/compliance.ts';
import { makeTestApp, type TestApp } from '../helpers/app.ts';
import { agencyIdOf, insertProduct, makeActors, taskIdOf, type Actors } from './fixtures.ts';

type Cells = [expected: number, submitted: number, onTime: number, late: number, accepted: number, missing: number, status: string];

describe('compliance report for the 2023 plan', () => {
  let t: TestApp;
  let a: Actors;
  beforeAll(async () => {
    t = await makeTestApp({ jobs: { workers: 0 } });
    a = await makeActors(t.app);
    const db = t.app.db.sqlite;
    const btg = agencyIdOf(db, 'ban-tuyen-giao');
    const vh = agencyIdOf(db, 'so-vhttdl');
    const tt = agencyIdOf(db, 'so-tttt');
    const task = (code: string) => taskIdOf(db, code);
    // Ban Tuyên giáo: the book handed in at 23:59 local time on the last day of Q1 → on time.
    insertProduct(db, { title: 'Địa lý - Lịch sử tỉnh Cao Bằng', type: 'book', agencyId: btg, planTaskId: task('2023-dia-ly-lich-su'), submittedAt: '2023-03-31T16:59:00.000Z', state: 'published', year: 2023 });
    // Sở VHTTDL: one minute past midnight local time on 1/4 → late.
    insertProduct(db, { title: 'Bảo vật quốc gia ở Cao Bằng', type: 'book', agencyId: vh, planTaskId: task('2023-bao-vat-quoc-gia'), submittedAt: '2023-03-31T17:00:00.000Z', state: 'in_review', year: 2023 });
    // A withdrawn on-time record does not count; the late accepted one does.
    insertProduct(db, { title: 'Cao Bằng thực lục (bản nháp)', type: 'book', agencyId: vh, planTaskId: task('2023-cao-bang-thuc-luc'), submittedAt: '2023-03-20T03:00:00.000Z', state: 'withdrawn', year: 2023 });
    insertProduct(db, { title: 'Cao Bằng thực lục', type: 'book', agencyId: vh, planTaskId: task('2023-cao-bang-thuc-luc'), submittedAt: '2023-04-05T03:00:00.000Z', state: 'accepted', year: 2023 });
    // Leaflets: one on time (accepted), a second edition late.
    insertProduct(db, { title: 'Tờ rơi ứng xử văn minh du lịch', type: 'leaflet', agencyId: vh, planTaskId: task('2023-to-roi-du-lich-van-minh'), submittedAt: '2023-05-10T03:00:00.000Z', state: 'accepted', year: 2023 });
    insertProduct(db, { title: 'Tờ gấp ứng xử văn minh du lịch (đợt 2)', type: 'flyer', agencyId: vh, planTaskId: task('2023-to-roi-du-lich-van-minh'), submittedAt: '2023-07-15T03:00:00.000Z', state: 'submitted', year: 2023 });
    // Backlog (released 2022 and earlier, due 30/3/2023): two on time, one late.
    insertProduct(db, { title: 'Phim tài liệu Pác Bó', type: 'video', agencyId: vh, submittedAt: '2023-03-29T03:00:00.000Z', state: 'accepted', year: 2021 });
    insertProduct(db, { title: 'Tờ gấp Thác Bản Giốc', type: 'flyer', agencyId: vh, submittedAt: '2023-03-30T16:00:00.000Z', state: 'submitted', year: 2022 });
    insertProduct(db, { title: 'Sách ảnh Non nước Cao Bằng', type: 'book', agencyId: vh, submittedAt: '2023-04-02T03:00:00.000Z', state: 'published', year: 2020 });
    insertProduct(db, { title: 'Sách cũ đã rút', type: 'book', agencyId: vh, submittedAt: '2023-04-02T03:00:00.000Z', state: 'withdrawn', year: 2019 });
    // Year boundaries in local time: 00:30 on 1/1/2023 counts for 2023, 23:30 on 31/12/2022 does not.
    insertProduct(db, { title: 'Ảnh Tết 2023', type: 'photo', agencyId: vh, submittedAt: '2022-12-31T17:30:00.000Z', state: 'returned' });
    insertProduct(db, { title: 'Bản tin cuối năm 2022', type: 'document', agencyId: vh, submittedAt: '2022-12-31T16:30:00.000Z', state: 'submitted', year: 2022 });
    // Sở TTTT: radio discs on time, returned (not accepted).
    insertProduct(db, { title: 'Đĩa phát thanh truyền thanh cơ sở', type: 'audio', agencyId: tt, planTaskId: task('2023-dia-truyen-thanh'), submittedAt: '2023-06-30T10:00:00.000Z', state: 'returned', year: 2023 });
  });
  afterAll(() => t.close());

  const report = async (qs = 'year=2023', headers = a.archivist.headers) => t.app.inject({ url: `/api/reports/compliance?${qs}`, headers });

  it('puts the deadline at the end of the local day', () => {
    expect(endOfDayVn('2023-03-31')).toBe('2023-03-31T16:59:59.999Z');
  });

  it('checks every task cell: expected, submitted, on time, late, accepted, missing', async () => {
    const res = await report();
    expect(res.statusCode).toBe(200);
    const body = res.json();
    const cells = Object.fromEntries(
      body.tasks.map((r: { task: { code: string }; expected: number; submitted: number; onTime: number; late: number; accepted: number; missing: number; status: string }) => [
        r.task.code,
        [r.expected, r.submitted, r.onTime, r.late, r.accepted, r.missing, r.status],
      ]),
    );
    expect(cells).toEqual({
      '2023-dia-ly-lich-su': [1, 1, 1, 0, 1, 0, 'on_time'],
      '2023-ke-hoach-dat-va-nguoi': [1, 0, 0, 0, 0, 1, 'missing'],
      '2023-bao-vat-quoc-gia': [1, 1, 0, 1, 0, 0, 'late'],
      '2023-cao-bang-thuc-luc': [1, 1, 0, 1, 1, 0, 'late'],
      '2023-to-roi-du-lich-van-minh': [1, 2, 1, 1, 1, 0, 'on_time'],
      '2023-ban-do-du-lich': [1, 0, 0, 0, 0, 1, 'missing'],
      '2023-quy-che-trang-lich-su': [1, 0, 0, 0, 0, 1, 'missing'],
      '2023-dia-truyen-thanh': [1, 1, 1, 0, 0, 0, 'on_time'],
      '2023-bao-cao-bang-chuyen-muc': [1, 0, 0, 0, 0, 1, 'missing'],
      '2023-dai-ptth-chuyen-muc': [1, 0, 0, 0, 0, 1, 'missing'],
    } satisfies Record<string, Cells>);
    expect(body.tasks.find((r: { task: { code: string } }) => r.task.code === '2023-ban-do-du-lich')).toMatchObject({ overdue: true, task: { deadlineLabel: 'Quý II/2023' } });
    expect(body.totals).toEqual({ expected: 10, submitted: 5, onTime: 3, late: 2, accepted: 3, missing: 5, products: 10, backlogLate: 1 });
    expect(body.storeDeadlines.map((d: { code: string }) => d.code)).toEqual(['2023-backlog', '2023-after-printing', '2023-annual-report']);
  });

  it('checks every per-agency cell, including the backlog deadline and the year boundary', async () => {
    const body = (await report()).json();
    const row = (code: string) => body.agencies.find((r: { agency: { code: string } }) => r.agency.code === code);
    expect(row('so-vhttdl')).toMatchObject({
      tasks: { expected: 4, submitted: 3, onTime: 1, late: 2, accepted: 2, missing: 1 },
      products: { submitted: 8, accepted: 4, published: 1, pending: 3, returned: 1, withdrawn: 2 },
      backlog: { deadline: '2023-03-30', total: 4, onTime: 3, late: 1 },
    });
    expect(row('ban-tuyen-giao')).toMatchObject({
      tasks: { expected: 2, submitted: 1, onTime: 1, late: 0, accepted: 1, missing: 1 },
      products: { submitted: 1, accepted: 1, published: 1, pending: 0, returned: 0, withdrawn: 0 },
      backlog: { total: 0, onTime: 0, late: 0 },
    });
    expect(row('so-tttt')).toMatchObject({
      tasks: { expected: 2, submitted: 1, onTime: 1, late: 0, accepted: 0, missing: 1 },
      products: { submitted: 1, accepted: 0, pending: 0, returned: 1 },
    });
    expect(row('huyen-uy-trung-khanh')).toMatchObject({ tasks: { expected: 0, missing: 0 }, products: { submitted: 0 } });
  });

  it('exports CSV that Excel opens with Vietnamese intact (UTF-8 BOM, CRLF, quoted)', async () => {
    const res = await report('year=2023&format=csv');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toMatch(/^attachment; filename="compliance-2023-tasks\.csv"; filename\*=UTF-8''b%C3%A1o-c%C3%A1o/);
    const raw = res.rawPayload;
    expect([...raw.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const text = raw.toString('utf8');
    expect(text).toContain('\r\n');
    expect(text.replace(/\r\n/g, '')).not.toContain('\n');
    const rows = parse(text, { bom: true }) as string[][];
    expect(rows[0]).toEqual(['Năm', 'Mã nhiệm vụ', 'Nhiệm vụ', 'Cơ quan chủ trì', 'Sản phẩm', 'Thời hạn', 'Hạn chót', 'Dự kiến', 'Đã nộp', 'Đúng hạn', 'Muộn', 'Đã tiếp nhận', 'Còn thiếu', 'Tình trạng', 'Nộp lần đầu']);
    const toRoi = rows.find((r) => r[1] === '2023-to-roi-du-lich-van-minh')!;
    expect(toRoi.slice(3, 14)).toEqual(['Sở Văn hóa, Thể thao và Du lịch tỉnh Cao Bằng', 'Tờ rơi, tờ gấp về ứng xử văn minh du lịch', 'Quý II/2023', '2023-06-30', '1', '2', '1', '1', '1', '0', 'Đúng hạn']);
    expect(rows.find((r) => r[1] === '2023-ban-do-du-lich')![13]).toBe('Chưa nộp');
    expect(rows.at(-1)!.slice(0, 1).concat(rows.at(-1)!.slice(7, 13))).toEqual(['Tổng', '10', '5', '3', '2', '3', '5']);

    const agencies = parse((await report('year=2023&format=csv&view=agencies')).rawPayload.toString('utf8'), { bom: true }) as string[][];
    const vh = agencies.find((r) => r[1] === 'so-vhttdl')!;
    expect(vh.slice(2, 19)).toEqual(['Sở Văn hóa, Thể thao và Du lịch tỉnh Cao Bằng', '4', '3', '1', '2', '2', '1', '8', '4', '1', '3', '1', '2', '2023-03-30', '4', '3', '1']);
  });

  it('filters by year, and an admin can add next year’s tasks', async () => {
    expect((await report('year=2024')).json().tasks).toEqual([]);
    const add = await t.app.inject({
      method: 'POST',
      url: '/api/plan-tasks',
      headers: a.admin.headers,
      payload: { code: '2024-dat-va-nguoi', planRef: 'KH/TU 2024', year: 2024, agency: 'ban-tuyen-giao', title: 'Phát hành Cuốn sách “Đất và người Cao Bằng”', productType: 'book', deadline: '2024-12-31', deadlineLabel: 'Năm 2024' },
    });
    expect(add.statusCode).toBe(201);
    const r2024 = (await report('year=2024')).json();
    expect(r2024.tasks.map((x: { task: { code: string }; status: string }) => [x.task.code, x.status])).toEqual([['2024-dat-va-nguoi', 'missing']]);
    expect(r2024.storeDeadlines).toEqual([]);
    // The 2024 plan's backlog rule: products released in 2023 or earlier are due by 31/3/2024.
    const put = await t.app.inject({
      method: 'PUT',
      url: '/api/store-deadlines/2024-backlog',
      headers: a.admin.headers,
      payload: { year: 2024, kind: 'backlog', label: 'Sản phẩm từ năm 2023 trở về trước: gửi trước ngày 31/3/2024', deadline: '2024-03-31', productYearsUpTo: 2023 },
    });
    expect(put.statusCode, put.body).toBe(200);
    const bad = await t.app.inject({ method: 'PUT', url: '/api/store-deadlines/x-1', headers: a.admin.headers, payload: { year: 2024, kind: 'backlog', label: 'x', deadline: '2024-02-30', productYearsUpTo: 2023 } });
    expect(bad.json()).toMatchObject({ statusCode: 400, field: 'deadline' });
    const vh2024 = (await report('year=2024')).json().agencies.find((r: { agency: { code: string } }) => r.agency.code === 'so-vhttdl');
    // Released ≤ 2023 and not withdrawn: the four 2023 task products, the three older films/books/flyers and the 2022 bulletin
    // (the photo without a year and the withdrawn records do not count); all were handed in before 31/3/2024.
    expect(vh2024.backlog).toMatchObject({ deadline: '2024-03-31', total: 8, onTime: 8, late: 0 });
  });

  it('shows an agency its own rows only; researchers may not read it', async () => {
    const mine = (await report('year=2023', a.agency.headers)).json();
    expect(new Set(mine.tasks.map((x: { agency: { code: string } }) => x.agency.code))).toEqual(new Set(['so-vhttdl']));
    expect(mine.agencies.map((x: { agency: { code: string } }) => x.agency.code)).toEqual(['so-vhttdl']);
    expect((await report('year=2023&agency=so-tttt', a.agency.headers)).json().agencies.map((x: { agency: { code: string } }) => x.agency.code)).toEqual(['so-vhttdl']);
    expect((await report('year=2023', a.researcher.headers)).statusCode).toBe(403);
    expect((await report('year=abc')).json()).toMatchObject({ statusCode: 400, field: 'year' });
  });
});
