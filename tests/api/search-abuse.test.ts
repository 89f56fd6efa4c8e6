/**
 * Hostile and odd requests to the search endpoints (`/api/search`, `/api/suggest`, `/api/search/export`)
 * and the search page, over a real listening server: each gets a 4xx with a stable code
 * (docs/search.md, API) or a sensible answer — never a 500, never a hang, never a record (or a facet
 * count, or a word) the viewer may not see.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, makeTestApp, multipartBody, type TestApp } from '../helpers/app.ts';
import { makeActors, type Actors } from '../catalogue/fixtures.ts';

/** Codes a search endpoint may answer a bad request with (docs/search.md, API; README for the URL ones). */
const CODES = new Set(['VALIDATION_FAILED', 'BAD_URL', 'YEAR_RANGE_INVERTED', 'URI_TOO_LONG', 'HEADERS_TOO_LARGE', 'MALFORMED_REQUEST']);
/** A word only the hidden records hold. */
const SECRET = 'Xylophrax';

interface Answer {
  status: number;
  body: string;
  ms: number;
  json(): any;
}

describe('hostile requests to the search endpoints', () => {
  let t: TestApp;
  let a: Actors;
  let port: number;
  const ids: Record<string, number> = {};
  let langIds: number[] = [];

  /** GET a path exactly as written (no client-side encoding). */
  const get = (path: string, headers: Record<string, string> = {}): Promise<Answer> => {
    const t0 = performance.now();
    return new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, path, headers, method: 'GET' }, (res) => {
        let b = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (b += c));
        res.on('end', () => resolve({ status: res.statusCode!, body: b, ms: performance.now() - t0, json: () => JSON.parse(b) }));
      });
      req.on('error', reject);
      req.setTimeout(10_000, () => req.destroy(new Error(`no answer in 10 s: ${path.slice(0, 80)}`)));
      req.end();
    });
  };

  const upload = async (fields: Record<string, string>, state: 'published' | 'submitted') => {
    const mp = multipartBody({ type: 'book', ...fields }, [{ filename: 'tai-lieu.txt', contentType: 'text/plain', data: Buffer.from(`${fields.title} ${Math.random()}`) }]);
    const res = await t.app.inject({ method: 'POST', url: '/api/products', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...mp.headers }, payload: mp.body });
    expect(res.statusCode, res.body).toBe(201);
    const id = res.json().id as number;
    if (state === 'published') {
      for (const action of ['start_review', 'accept', 'publish']) {
        const r = await t.app.inject({ method: 'POST', url: `/api/products/${id}/transitions`, headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, payload: { action } });
        expect(r.statusCode, r.body).toBe(200);
      }
    }
    return id;
  };

  beforeAll(async () => {
    t = await makeTestApp({ jobs: { workers: 0 } });
    a = await makeActors(t.app);
    ids.map = await upload({ title: 'Bản đồ du lịch tỉnh Cao Bằng', type: 'map', agency: 'so-vhttdl', year: '2021', language: 'vi' }, 'published');
    ids.book = await upload({ title: 'Lịch sử Đảng bộ tỉnh Cao Bằng', type: 'book', agency: 'ban-tuyen-giao', year: '2019', language: 'vi,tay' }, 'published');
    ids.flyer = await upload({ title: 'Tờ gấp thác Bản Giốc', type: 'flyer', agency: 'so-tttt', language: 'tay' }, 'published');
    // Hidden from the public: another agency's draft, an internal published record.
    ids.draft = await upload({ title: `Dự thảo ${SECRET} Cao Bằng`, type: 'leaflet', agency: 'so-tttt', year: '2022', language: 'dao' }, 'submitted');
    ids.internal = await upload({ title: `Báo cáo nội bộ ${SECRET} Cao Bằng`, type: 'document', agency: 'so-tttt', year: '2020', access: 'internal', language: 'hmn' }, 'published');
    // 34 languages, one record each: more distinct codes than the facet table's 32-bit mask had bits.
    const codes = 'ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de dv dz'.split(' ');
    langIds = [];
    for (const [i, code] of codes.entries()) langIds.push(await upload({ title: `Sách ngoại văn số ${i + 1}`, language: code, agency: 'so-vhttdl' }, 'published'));
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    port = (t.app.server.address() as { port: number }).port;
  }, 120_000);
  afterAll(async () => t?.close());

  const viewers = () => [
    { name: 'anonymous', headers: {} as Record<string, string>, hidden: [ids.draft, ids.internal] },
    { name: 'researcher', headers: a.researcher.headers, hidden: [ids.draft, ids.internal] },
    // The submitter of Sở VHTTDL: the drafts and internal records of Sở TTTT are not theirs.
    { name: 'agency', headers: a.agency.headers, hidden: [ids.draft, ids.internal] },
  ];

  const hostile = (): string[] => {
    const long = (s: string, n: number) => s.repeat(Math.ceil(n / s.length)).slice(0, n);
    const qs = [
      '', '%20', 'cao', 'cao&q=bang', 'cao&q=', '%00', '%00%01%02cao%1F', 'cao%00b%C3%A0ng', '%7F%C2%80%C2%9F',
      '%E2%80%8F', '%E2%80%8E%E2%80%AEcao', '%E2%80%8Dcao%E2%80%8D', '%E2%80%8B', '%EF%BB%BF', '%CC%81', '%CC%81%CC%80%CC%83%CC%89', 'cao%20%CC%81%20b%E1%BA%B1ng',
      '%F0%9F%98%80', '%F0%9F%98%80cao', '%F0%9F%91%A8%E2%80%8D%F0%9F%91%A9%E2%80%8D%F0%9F%91%A7', '%EF%BF%BE', '%EF%BF%BF', '%F4%8F%BF%BF',
      'NEAR(cao', 'NEAR(cao%20b%E1%BA%B1ng%2C%202)', '%22', '%22%22', '%22cao', '*', 'cao*', '%5E', '%5Ecao', 'cao:bang', 'title:cao', '{cao}', 'cao%20%2B%20bang',
      'AND%20OR%20NOT', 'cao%20AND%20OR%20NOT%20b%E1%BA%B1ng', 'NOT', 'OR', '-', '--', '-cao', 'NOT%20NOT%20cao', '((((((((((cao', '))))', '()', '-(-(-(cao)))',
      "'%20OR%201=1--", '%27)%3B%20DROP%20TABLE%20products%3B--', '1%3B%20SELECT%20*%20FROM%20users', '%25', '%5C', '%5C%22', 'cao%0Ab%E1%BA%B1ng', '%09cao',
      SECRET, `${SECRET}%20cao`, `${SECRET}%20OR%20cao`, `-${SECRET}`, `%22${SECRET}%20cao%22`, `xylophra`, `xylophraz`,
      encodeURIComponent(long('cao bằng ', 4000)), encodeURIComponent(long('(cao OR ', 4000)), encodeURIComponent(long('-"a" ', 4000)),
      encodeURIComponent(long('😀', 2000)), encodeURIComponent(long('\u0301', 4000)), encodeURIComponent(long('caobang', 4000)), encodeURIComponent(long('a', 4097)),
    ];
    const out = qs.flatMap((q) => [`/api/search?q=${q}`, `/api/suggest?q=${q}`]);
    out.push(
      `/api/search?q=${encodeURIComponent(long('cao bằng ', 10_000))}`,
      `/api/search?q=${long('%F0%9F%98%80', 12_000)}`,
      '/api/search?q=cao&q=bang', '/api/search?q[]=cao', '/api/search?q[a]=1', '/api/search?q[a][b]=1', '/api/search?q=cao&lang=vi', '/api/search?__proto__=1', '/api/search?constructor=1',
      '/api/search?type=book&type=flyer', '/api/search?type=', '/api/search?type=,,,', '/api/search?agency=', '/api/search?language=', '/api/search?state=',
      '/api/search?limit=0', '/api/search?limit=-1', '/api/search?limit=1e9', '/api/search?limit=20.5', '/api/search?limit=0x10', '/api/search?limit=1e1', '/api/search?limit=%2010',
      '/api/search?limit=', '/api/search?limit=100&page=10000', '/api/search?page=999', '/api/search?page=0', '/api/search?page=99999999999999999999',
      '/api/search?yearFrom=2023&yearTo=2019', '/api/search?yearFrom=2019&yearTo=2023&year=2030', '/api/search?year=0', '/api/search?year=-1', '/api/search?year=99999',
      '/api/search?sort=foo', '/api/search?sort=', '/api/search?type=foo', '/api/search?state=foo', '/api/search?language=zz', '/api/search?agency=nowhere',
      '/api/search?agency=99999999999999999999', '/api/search?agency=-1', `/api/search?state=submitted`, `/api/search?state=submitted,in_review,published&q=${SECRET}`,
      `/api/search?language=dao`, `/api/search?language=hmn&type=document`, `/api/search?agency=so-tttt&state=submitted`,
      '/api/suggest', '/api/suggest?q=ca&limit=0', '/api/suggest?q=ca&limit=21', '/api/suggest?q[]=ca', '/api/suggest?q=ca&q=b',
      '/api/search/export?format=json&q[]=cao', '/api/search/export?format=json&yearFrom=2023&yearTo=2019', '/api/search/export?format=json&type=foo',
      `/api/search/export?format=json&q=${SECRET}`, '/api/search/export?format=xml',
      '/api/search?q=%ED%A0%80', '/api/search?q=%ED%B0%80', '/api/search?q=%FF', '/api/search?q=%C3%28', '/api/search?q=%', '/api/search?q=%E1%BB', '/api/suggest?q=%ED%A0%80',
    );
    return out;
  };

  it('answers each with 200 or a 4xx with a stable code, quickly, and shows nothing the viewer may not see', async () => {
    const seen = new Map<string, number>();
    for (const v of viewers()) {
      for (const path of hostile()) {
        const res = await get(path, v.headers);
        const what = `${v.name} ${path.slice(0, 120)}`;
        expect(res.status, `${what}: ${res.body.slice(0, 200)}`).toBeLessThan(500);
        expect(res.ms, what).toBeLessThan(3000);
        seen.set(String(res.status), (seen.get(String(res.status)) ?? 0) + 1);
        if (res.status >= 400) {
          expect(CODES.has(res.json().code), `${what}: ${res.body.slice(0, 200)}`).toBe(true);
          continue;
        }
        const body = res.json();
        // What the answer shows beyond the words typed (echoed in `ignored`, `corrections[].from`, an export's `query`):
        // a correction *to* a word only hidden records hold would tell it.
        const shown = JSON.stringify([body.hits, body.records, body.suggestions, body.facets, (body.corrections ?? []).map((c: { to: string; display?: string }) => [c.to, c.display]), body.expansions]);
        expect(shown.toLowerCase(), what).not.toContain(SECRET.toLowerCase());
        const listed: number[] = [...(body.hits ?? []), ...(body.records ?? []), ...(body.suggestions ?? []).filter((s: { productId?: number }) => s.productId !== undefined).map((s: { productId: number }) => ({ id: s.productId }))].map((h: { id: number }) => h.id);
        for (const id of v.hidden) expect(listed, what).not.toContain(id);
        if (body.facets) {
          // Facet counts never count a hidden record: no value only hidden records hold, and no count above the visible records'.
          const visible = (await get(`/api/search?limit=100`, v.headers)).json().total as number;
          for (const [f, counts] of Object.entries(body.facets as Record<string, Record<string, number>>)) {
            for (const n of Object.values(counts)) expect(n, `${what}: facet ${f}`).toBeLessThanOrEqual(visible);
          }
          expect(Object.keys(body.facets.type), what).not.toContain('leaflet');
          expect(Object.keys(body.facets.language), what).not.toContain('dao');
          expect(Object.keys(body.facets.language), what).not.toContain('hmn');
          expect(Object.keys(body.facets.year), what).not.toContain('2022');
          expect(Object.keys(body.facets.year), what).not.toContain('2020');
        }
      }
    }
    // Both kinds of answer happened (the list is not all refusals).
    expect(seen.get('200')).toBeGreaterThan(100);
    expect(seen.get('400')).toBeGreaterThan(20);
  }, 300_000);

  it('refuses a query parameter the endpoint does not take (an array or object written by a client, a misspelt key) instead of dropping it', async () => {
    for (const [path, field] of [
      ['/api/search?q[]=cao', 'q[]'],
      ['/api/search?q[a]=1', 'q[a]'],
      ['/api/search?lang=vi', 'lang'],
      ['/api/search?q=cao&pageSize=5', 'pageSize'],
      ['/api/suggest?q[]=ca', 'q[]'],
      ['/api/suggest?q=ca&type=book', 'type'],
      ['/api/search/export?format=json&q[]=cao', 'q[]'],
    ]) {
      const res = await get(path);
      expect(res.status, path).toBe(400);
      expect(res.json(), path).toMatchObject({ code: 'VALIDATION_FAILED', field, message: expect.stringContaining(`unknown query parameter "${field}"`) });
    }
    // Before: `q[]=cao` was no `q` at all, and the whole catalogue came back as if it had matched.
    expect((await get('/api/search?q=th%C3%A1c%20gi%E1%BB%91c')).json().total).toBe(1);
  });

  it('refuses a whole number not written in decimal digits (the type coercion read 0x10 as 16)', async () => {
    for (const [path, field] of [['/api/search?limit=0x10', 'limit'], ['/api/search?limit=1e1', 'limit'], ['/api/search?limit=%2010', 'limit'], ['/api/search?year=2019.0', 'year'], ['/api/search?page=%2B2', 'page'], ['/api/suggest?q=ca&limit=0x3', 'limit'], ['/api/search/export?yearFrom=2e3', 'yearFrom']]) {
      const res = await get(path);
      expect(res.status, path).toBe(400);
      expect(res.json(), path).toMatchObject({ code: 'VALIDATION_FAILED', field, message: `querystring/${field} must be a whole number written in decimal digits` });
    }
    const ok = await get('/api/search?limit=010&year=2019');
    expect(ok.status).toBe(200);
    expect(ok.json()).toMatchObject({ limit: 10, total: 1 });
  });

  it('refuses a type or state outside their lists, naming the field and the values allowed; agency and language stay open', async () => {
    for (const [path, field] of [['/api/search?type=boook', 'type'], ['/api/search?type=book,films', 'type'], ['/api/search?state=publised', 'state'], ['/api/search/export?format=json&type=maps', 'type']]) {
      const res = await get(path);
      expect(res.status, path).toBe(400);
      expect(res.json(), path).toMatchObject({ code: 'VALIDATION_FAILED', field, message: expect.stringContaining('is not one of') });
    }
    // Any case, and empty items, as before.
    expect((await get('/api/search?type=Map,FLYER,')).json().total).toBe(2);
    expect((await get('/api/search?state=PUBLISHED')).json().total).toBeGreaterThan(3);
    // An agency code or language no record uses finds nothing (an old link), without an error.
    expect((await get('/api/search?agency=khong-co')).json().total).toBe(0);
    expect((await get('/api/search?language=zz')).json().total).toBe(0);
  });

  it('answers an export with a year range backwards 400 YEAR_RANGE_INVERTED, as the search does', async () => {
    for (const path of ['/api/search?yearFrom=2023&yearTo=2019', '/api/search/export?format=json&yearFrom=2023&yearTo=2019']) {
      const res = await get(path);
      expect(res.status, path).toBe(400);
      expect(res.json(), path).toMatchObject({ code: 'YEAR_RANGE_INVERTED', field: 'yearTo' });
    }
  });

  it('reads combining marks typed alone as nothing searchable, not as a word ""', async () => {
    for (const q of ['%CC%81', '%CC%81%CC%80%CC%83', '%20%CC%89%20']) {
      const res = (await get(`/api/search?q=${q}`)).json();
      expect(res, q).toMatchObject({ total: 0, mode: 'and', unsearchable: true });
      expect(res.ignored ?? [], q).toEqual([]);
    }
    // Between words, a stray mark changes nothing.
    const plain = (await get('/api/search?q=cao%20b%E1%BA%B1ng')).json();
    const stray = (await get('/api/search?q=cao%20%CC%81%20b%E1%BA%B1ng')).json();
    expect(stray.hits.map((h: { id: number }) => h.id)).toEqual(plain.hits.map((h: { id: number }) => h.id));
    expect(stray.ignored ?? []).toEqual([]);
  });

  it('answers the search page with a query string that does not decode as a 400 page, not a search for its raw text', async () => {
    for (const path of ['/?q=%ED%A0%80', '/?q=%FF', '/?q=cao&type=%E1%BB']) {
      const res = await get(path, { accept: 'text/html' });
      expect(res.status, path).toBe(400);
      expect(res.body, path).toContain('BAD_URL');
      expect(res.body, path).toContain('Địa chỉ trang không hợp lệ');
      expect(res.body, path).not.toContain('Đã tìm theo');
    }
    const en = await get('/?q=%FF&lang=en', { accept: 'text/html', cookie: 'kho_lang=en' });
    expect(en.status).toBe(400);
    const ok = await get('/?q=c%C3%A0o', { accept: 'text/html' });
    expect(ok.status).toBe(200);
  });

  it('filters and counts languages beyond the 32nd distinct code like the others', async () => {
    const all = (await get('/api/search?limit=100')).json();
    const codes = 'ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de dv dz'.split(' ');
    for (const c of codes) expect(all.facets.language[c], c).toBe(1);
    for (const [i, c] of codes.entries()) {
      const res = (await get(`/api/search?language=${c}`)).json();
      expect(res.hits.map((h: { id: number }) => h.id), c).toEqual([langIds[i]]);
    }
    // Several, across the mask's edge, and the other facets with the filter applied.
    const two = (await get('/api/search?language=ab,dz&sort=title')).json();
    expect(two.total).toBe(2);
    expect(two.facets.type).toEqual({ book: 2 });
  });
});
