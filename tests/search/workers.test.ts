/**
 * Query workers (server/search/query-workers.ts): a worker thread answers exactly what the main
 * thread answers, and sees every change once the write that made it has returned.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '../../server/auth/principal.ts';
import { openDatabase, type Database_ } from '../../server/db/client.ts';
import { createSearchService, defaultSearchWorkers, type SearchParams, type SearchResponse, type SearchService } from '../../server/search/index.ts';
import { loadCatalogue, type LoadedCatalogue } from './relevance/fixture.ts';

const archivist: Principal = { userId: 1, username: 'luu-tru', role: 'archivist', agencyId: null, canSeeInternal: true, via: 'session' };
const agencyUser = (agencyId: number): Principal => ({ userId: 2, username: 'don-vi', role: 'agency', agencyId, canSeeInternal: false, via: 'session' });

type Service = SearchService & { searchUncached: SearchService['search']; workersLive(): number; workersQueued(): number; phaseTimings(): Record<string, number> };

let dir: string;
let db: Database_;
let cat: LoadedCatalogue;
let search: Service;
const same = (r: SearchResponse) => JSON.stringify({ ...r, tookMs: 0 });

beforeAll(() => {
  // .vitest-tmp/ (ignored by git) does not exist on a fresh clone.
  mkdirSync(join(import.meta.dirname, '../../.vitest-tmp'), { recursive: true });
  dir = mkdtempSync(join(import.meta.dirname, '../../.vitest-tmp/search-workers-'));
  db = openDatabase(join(dir, 'kho.sqlite'));
  cat = loadCatalogue(db.sqlite, 120);
  // workerInflight: every search below goes to the worker (one at a time), none runs here.
  search = createSearchService({ sqlite: db.sqlite, workers: 1, workerInflight: 1000 }) as Service;
  search.ensureReady();
}, 60_000);
afterAll(() => {
  search?.close();
  db?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The answer of the worker (searchAsync, cache bypassed) and of the main thread, as JSON. */
async function both(params: SearchParams, viewer: Principal | null): Promise<[string, string]> {
  const w = await search.searchAsync(params, viewer, false);
  return [same(w), same(search.searchUncached(params, viewer))];
}

describe('query workers', () => {
  it('start only when asked (SEARCH_WORKERS), never under vitest by default', () => {
    expect(defaultSearchWorkers({ VITEST: 'true' })).toBe(0);
    expect(defaultSearchWorkers({ VITEST: 'true', SEARCH_WORKERS: '2' })).toBe(2);
    expect(defaultSearchWorkers({ SEARCH_WORKERS: '0' })).toBe(0);
    expect(defaultSearchWorkers({ SEARCH_WORKERS: 'x' })).toBe(0);
  });

  it('answer the judged queries exactly as the main thread, for every kind of viewer', async () => {
    expect(search.workersLive()).toBe(1);
    const judged = JSON.parse(readFileSync(join(import.meta.dirname, 'relevance/queries.json'), 'utf8')) as Array<{ q: string; type?: string; agency?: string }>;
    const ownAgency = [...cat.agencyIds.values()][0];
    let n = 0;
    for (const j of judged) {
      for (const viewer of [null, archivist, agencyUser(ownAgency)]) {
        const params: SearchParams = { q: j.q, type: j.type, agency: j.agency };
        const [w, m] = await both(params, viewer);
        expect(w).toBe(m);
        n++;
      }
    }
    for (const params of [{ q: '' }, { q: 'cao bang', sort: 'date' as const, page: 2, limit: 5 }, { q: 'lich su', yearFrom: 2000, yearTo: 2020, language: 'vi' }]) {
      const [w, m] = await both(params, null);
      expect(w).toBe(m);
    }
    expect(n).toBeGreaterThan(200);
  }, 60_000);

  it('route by what a worker has finished, not by the answers this thread has yet to read', async () => {
    // A busy main thread reads the workers' answers late. Routing by those answers, a worker that has
    // finished everything looked full, got nothing new and sat idle while this thread searched.
    const s = createSearchService({ sqlite: db.sqlite, workers: 1, workerInflight: 2, profile: true, cacheSize: 0 }) as Service;
    try {
      s.ensureReady();
      expect(s.workersLive()).toBe(1);
      const first = [s.searchAsync({ q: 'cao bằng' }, null, false), s.searchAsync({ q: 'truyền thống' }, null, false)];
      expect(s.workersQueued()).toBe(2);
      // Busy, without yielding to the event loop: the worker finishes both meanwhile.
      const deadline = Date.now() + 20_000;
      while (s.workersQueued() > 0 && Date.now() < deadline) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
      expect(s.workersQueued()).toBe(0);
      const before = JSON.stringify(s.phaseTimings());
      const third = s.searchAsync({ q: 'lịch sử' }, null, false);
      // Sent to the worker: nothing ran on this thread.
      expect(JSON.stringify(s.phaseTimings())).toBe(before);
      const answers = await Promise.all([...first, third]);
      expect(answers[2].total).toBe(s.searchUncached({ q: 'lịch sử' }, null).total);
      expect(JSON.stringify(s.phaseTimings())).not.toBe(before);
    } finally {
      s.close();
    }
  }, 60_000);

  it('see a create, edit, publish, delete and new text as soon as the write returns', async () => {
    const hits = async (q: string, viewer: Principal | null = null) => (await search.searchAsync({ q }, viewer, false)).hits.map((h) => h.id);
    const id = Number(
      db.sqlite.prepare("INSERT INTO products(title, type, state, access, languages) VALUES ('Hang Pác Bó mùa xuân', 'book', 'submitted', 'public', '[\"vi\"]')").run().lastInsertRowid,
    );
    search.indexProduct(id);
    expect(await hits('pac bo mua xuan')).not.toContain(id);
    expect(await hits('pac bo mua xuan', archivist)).toContain(id);
    db.sqlite.prepare("UPDATE products SET state = 'published', title = 'Thác Bản Giốc mùa thu', version = version + 1 WHERE id = ?").run(id);
    search.indexProduct(id);
    expect(await hits('ban gioc mua thu')).toContain(id);
    expect(await hits('pac bo mua xuan', archivist)).not.toContain(id);

    const sha = 'f'.repeat(64);
    db.sqlite.prepare("INSERT INTO blobs(sha256, size, media_type, kind) VALUES (?, 10, 'application/pdf', 'pdf')").run(sha);
    db.sqlite.prepare("INSERT INTO product_files(product_id, sha256, original_name) VALUES (?, ?, 'sach.pdf')").run(id, sha);
    search.indexProduct(id);
    db.sqlite.prepare('INSERT INTO blob_texts(sha256, page, text) VALUES (?, 1, ?), (?, 2, ?)').run(sha, 'Trang đầu.', sha, 'Nhà sàn của đồng bào Tày ở xã Xuân Trường.');
    search.indexBlob(sha);
    const r = await search.searchAsync({ q: 'nha san xuan truong' }, null, false);
    const hit = r.hits.find((h) => h.id === id);
    expect(hit?.snippets.some((s) => s.page === 2)).toBe(true);
    const [w, m] = await both({ q: 'nha san xuan truong' }, null);
    expect(w).toBe(m);

    search.removeProduct(id);
    db.sqlite.prepare('DELETE FROM product_files WHERE product_id = ?').run(id);
    db.sqlite.prepare('DELETE FROM products WHERE id = ?').run(id);
    expect(await hits('ban gioc mua thu')).not.toContain(id);
    const [w2, m2] = await both({ q: 'ban gioc' }, archivist);
    expect(w2).toBe(m2);
    expect(search.workersLive()).toBe(1);
  }, 60_000);

  it('score with the statistics of the public records, as the main thread does: a draft changes no anonymous answer', async () => {
    const probe = ['cao bang', 'giáo dục truyền thống', 'du lich', 'đề án'];
    const anon = async () => Promise.all(probe.map(async (q) => same(await search.searchAsync({ q }, null, false))));
    const before = await anon();
    const ins = db.sqlite.prepare("INSERT INTO products(title, type, state, access) VALUES ('Cao Bằng: giáo dục truyền thống, du lịch và đề án', 'book', ?, ?)");
    const draft = Number(ins.run('submitted', 'public').lastInsertRowid);
    const internal = Number(ins.run('published', 'internal').lastInsertRowid);
    search.indexProduct(draft);
    search.indexProduct(internal);
    expect(await anon()).toEqual(before);
    db.sqlite.prepare("UPDATE products SET state = 'published', version = version + 1 WHERE id = ?").run(draft);
    search.indexProduct(draft);
    expect(await anon()).not.toEqual(before);
    for (const viewer of [null, archivist]) {
      for (const q of probe) {
        const [w, m] = await both({ q }, viewer);
        expect(w).toBe(m);
      }
    }
    for (const id of [draft, internal]) {
      db.sqlite.prepare('DELETE FROM products WHERE id = ?').run(id);
      search.removeProduct(id);
    }
    expect(await anon()).toEqual(before);
    expect(search.workersLive()).toBe(1);
  });

  it('take a word an edit or a delete has removed as unknown, as the main thread does', async () => {
    const ins = db.sqlite.prepare("INSERT INTO products(title, type, state, access, description) VALUES (?, 'map', 'published', 'public', ?)");
    const edited = Number(ins.run('Bản đồ hành chính Cao Bằng', 'Bản in lần đầu, mã zyxwoldtoken.').lastInsertRowid);
    const deleted = Number(ins.run('Tờ gấp Cao Bằng zyxdeltoken', null).lastInsertRowid);
    search.indexProduct(edited);
    search.indexProduct(deleted);
    expect((await search.searchAsync({ q: 'zyxwoldtokem' }, null, false)).corrections).toEqual([{ from: 'zyxwoldtokem', to: 'zyxwoldtoken', display: 'zyxwoldtoken' }]);
    db.sqlite.prepare("UPDATE products SET description = 'Bản in lần đầu.', version = version + 1 WHERE id = ?").run(edited);
    search.indexProduct(edited);
    db.sqlite.prepare('DELETE FROM products WHERE id = ?').run(deleted);
    search.removeProduct(deleted);
    for (const viewer of [null, archivist]) {
      for (const [word, typo] of [['zyxwoldtoken', 'zyxwoldtokem'], ['zyxdeltoken', 'zyxdeltokem']]) {
        const r = await search.searchAsync({ q: `"cao bang" ${word}` }, viewer, false);
        expect(r.hits.map((h) => h.id)).toContain(edited);
        expect(r.ignored).toEqual([word]);
        const t = await search.searchAsync({ q: typo }, viewer, false);
        expect(t).toMatchObject({ total: 0, corrections: [], ignored: [typo] });
        for (const q of [`"cao bang" ${word}`, typo, `cao bang ${word.slice(0, 6)}`]) {
          const [w, m] = await both({ q }, viewer);
          expect(w).toBe(m);
        }
      }
    }
    expect(search.workersLive()).toBe(1);
  });

  it('see an agency renamed: its new name finds its records, hits and facets show it, the filter takes its new code', async () => {
    const agencyId = Number(db.sqlite.prepare("INSERT INTO agencies(code, name) VALUES ('bao-tang-cu', 'Bảo tàng Lịch sử Cũ')").run().lastInsertRowid);
    const id = Number(
      db.sqlite.prepare("INSERT INTO products(title, type, state, access, agency_id) VALUES ('Hiện vật thời đồ đá ở Ngườm Vài', 'photo', 'published', 'public', ?)").run(agencyId).lastInsertRowid,
    );
    search.indexProduct(id);
    // The worker has replayed the record (and read the agency under its old name) before the rename.
    expect((await search.searchAsync({ q: 'lich su cu nguom vai' }, null, false)).hits.map((h) => h.agency?.name)).toEqual(['Bảo tàng Lịch sử Cũ']);
    db.sqlite.prepare("UPDATE agencies SET code = 'bao-tang-moi', name = 'Bảo tàng Khảo cổ Núi Đá' WHERE id = ?").run(agencyId);
    search.indexAgency(agencyId);
    const r = await search.searchAsync({ q: 'khao co nui da nguom vai' }, null, false);
    expect(r.hits.map((h) => h.id)).toEqual([id]);
    expect(r.hits[0].agency).toEqual({ id: agencyId, code: 'bao-tang-moi', name: 'Bảo tàng Khảo cổ Núi Đá' });
    expect(r.facets.agency).toEqual({ 'bao-tang-moi': 1 });
    expect((await search.searchAsync({ q: 'nguom vai', agency: 'bao-tang-moi' }, null, false)).total).toBe(1);
    // The old name no longer matches as a whole (only the any-of fallback answers).
    expect((await search.searchAsync({ q: 'lich su cu nguom vai' }, null, false)).mode).toBe('or');
    const [w, m] = await both({ q: 'bao tang khao co' }, null);
    expect(w).toBe(m);
    expect(search.workersLive()).toBe(1);
  });

  it('keep the answer cache correct: an answer computed before a change is not served after it', async () => {
    const id = Number(db.sqlite.prepare("INSERT INTO products(title, type, state, access) VALUES ('Bản đồ hồ Ba Bể', 'map', 'published', 'public')").run().lastInsertRowid);
    const pending = search.searchAsync({ q: 'ho ba be' }, null);
    search.indexProduct(id);
    await pending;
    expect((await search.searchAsync({ q: 'ho ba be' }, null)).hits.map((h) => h.id)).toContain(id);
  });
});
