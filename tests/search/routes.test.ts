import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '../../server/auth/principal.ts';
import { openDatabase, type Database_ } from '../../server/db/client.ts';
import searchRoutes from '../../server/routes/search.ts';
import { createSearchService, type SearchService } from '../../server/search/index.ts';
import { loadCatalogue, type LoadedCatalogue } from './relevance/fixture.ts';

let app: FastifyInstance;
let db: Database_;
let cat: LoadedCatalogue;
let service: SearchService;
const archivist: Principal = { userId: 1, username: 'a', role: 'archivist', agencyId: null, canSeeInternal: true, via: 'admin-token' };

beforeAll(async () => {
  db = openDatabase(':memory:');
  cat = loadCatalogue(db.sqlite, 20);
  service = createSearchService({ sqlite: db.sqlite });
  service.ensureReady();
  // A bare app standing in for buildApp: the service decorated as `app.searchIndex`, a toy auth hook.
  app = Fastify();
  app.decorate('searchIndex', service as never);
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (req) => {
    (req as unknown as { principal: Principal | null }).principal = req.headers['x-test-role'] === 'archivist' ? archivist : null;
  });
  await app.register(searchRoutes);
  await app.ready();
});
afterAll(async () => {
  await app.close();
  service.close();
  db.close();
});

describe('GET /api/search', () => {
  it('answers with hits, snippets and facets', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/search?q=chien%20thang%20dong%20khe' });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.total).toBeGreaterThan(0);
    const hit = body.hits.find((h: { id: number }) => h.id === cat.ids.get('long-book'));
    expect(hit.snippets.some((s: { page?: number }) => s.page === 199)).toBe(true);
    expect(hit.agency).toEqual({ id: cat.agencyIds.get('ban-tuyen-giao'), code: 'ban-tuyen-giao', name: 'Ban Tuyên giáo Tỉnh uỷ Cao Bằng' });
    expect(Object.keys(body.facets)).toEqual(['type', 'agency', 'year', 'language']);
  });

  it('filters and applies the viewer', async () => {
    const pub = (await app.inject({ url: '/api/search?q=ban%20thao%20non%20nuoc&limit=50' })).json();
    expect(pub.hits.map((h: { id: number }) => h.id)).not.toContain(cat.ids.get('ban-thao'));
    const staff = (await app.inject({ url: '/api/search?q=ban%20thao%20non%20nuoc&limit=50', headers: { 'x-test-role': 'archivist' } })).json();
    expect(staff.hits.map((h: { id: number }) => h.id)).toContain(cat.ids.get('ban-thao'));
    const maps = (await app.inject({ url: '/api/search?q=cao%20bang&type=map&agency=so-vhttdl&yearFrom=2021&yearTo=2023&sort=date' })).json();
    expect(maps.hits.length).toBeGreaterThan(0);
    for (const h of maps.hits) expect(h.type).toBe('map');
  });

  it.each([
    ['%22', 200], ['*', 200], ['NEAR(a%20b)', 200], ['%00%01', 200], ['%E2%80%AE', 200], ["'%3B%20DROP%20TABLE%20products", 200],
    ['a'.repeat(4000), 200], ['%F0%9F%98%80', 200],
  ])('treats q=%.40s as text', async (q, status) => {
    const res = await app.inject({ url: `/api/search?q=${q}` });
    expect(res.statusCode).toBe(status);
  });

  it('refuses bad parameters with 400, never 500', async () => {
    for (const qs of ['limit=1000', 'limit=0', 'page=0', 'year=abc', 'sort=random', `q=${'b'.repeat(5000)}`]) {
      const res = await app.inject({ url: `/api/search?${qs}` });
      expect(res.statusCode, qs).toBe(400);
    }
  });
});

describe('GET /api/search with a year range', () => {
  it('refuses a range whose start is after its end with a stable code, and takes a one-year range', async () => {
    const bad = await app.inject({ url: '/api/search?q=du%20lich&yearFrom=2023&yearTo=2019' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'YEAR_RANGE_INVERTED' });
    const one = await app.inject({ url: '/api/search?q=du%20lich&yearFrom=2023&yearTo=2023' });
    expect(one.statusCode).toBe(200);
    expect(one.json().total).toBeGreaterThan(0);
  });
});

describe('GET /api/suggest', () => {
  it('suggests as the user types', async () => {
    const res = await app.inject({ url: '/api/suggest?q=bao%20va' });
    expect(res.statusCode).toBe(200);
    const suggestions = res.json().suggestions as Array<{ kind: string; text: string; productId?: number }>;
    expect(suggestions.find((s) => s.kind === 'title')).toMatchObject({ productId: cat.ids.get('bao-vat') });
    expect(suggestions).toContainEqual({ kind: 'subject', text: 'bảo vật quốc gia' });
    expect((await app.inject({ url: '/api/suggest' })).statusCode).toBe(400);
    expect((await app.inject({ url: '/api/suggest?q=%22*%00' })).statusCode).toBe(200);
  });

  it('reads a word typed without spaces while its last syllable is still being typed (hochimi)', async () => {
    for (const q of ['hochimi', 'hochim', 'HoChiMi']) {
      const suggestions = (await app.inject({ url: `/api/suggest?q=${q}` })).json().suggestions as Array<{ kind: string; text: string; productId?: number }>;
      expect(suggestions[0], q).toEqual({ kind: 'subject', text: 'Hồ Chí Minh' });
      expect(suggestions.find((s) => s.kind === 'title'), q).toMatchObject({ productId: cat.ids.get('ho-chi-minh') });
    }
    const search = (await app.inject({ url: '/api/search?q=hochimi' })).json();
    expect(search.hits[0].id).toBe(cat.ids.get('ho-chi-minh'));
    expect(search.corrections).toEqual([{ from: 'hochimi', to: 'ho chi minh', display: 'Hồ Chí Minh' }]);
    // Typed with a trailing space it is a whole word, not a start: nothing is read into `mi`.
    expect((await app.inject({ url: '/api/search?q=hochimi%20' })).json().total).toBe(0);
    // Junk run together stays junk.
    for (const q of ['anhanhanhanhanhanhanhanhanhanhanhanhanh', 'xqzvwkjhgfxqzvwkjhgf', 'nganganganganganganganganganganganganga']) {
      expect((await app.inject({ url: `/api/suggest?q=${q}` })).json().suggestions, q).toEqual([]);
    }
  });
});
