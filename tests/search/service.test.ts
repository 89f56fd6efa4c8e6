import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Principal } from '../../server/auth/principal.ts';
import { openDatabase, type Database_ } from '../../server/db/client.ts';
import { createSearchService, fold, type SearchService } from '../../server/search/index.ts';
import { MAX_BLOB_TERMS } from '../../server/search/service.ts';
import { loadCatalogue, type LoadedCatalogue } from './relevance/fixture.ts';

const archivist: Principal = { userId: 1, username: 'luu-tru', role: 'archivist', agencyId: null, canSeeInternal: true, via: 'session' };

let db: Database_;
let cat: LoadedCatalogue;
let search: SearchService;

beforeEach(() => {
  db = openDatabase(':memory:');
  cat = loadCatalogue(db.sqlite, 40);
  search = createSearchService({ sqlite: db.sqlite });
  search.ensureReady();
});
afterEach(() => {
  search.close();
  db.close();
});

const keysOf = (q: string, extra: Record<string, unknown> = {}, viewer: Principal | null = null) =>
  search.search({ q, limit: 50, ...extra }, viewer).hits.map((h) => cat.keys.get(h.id));

describe('matching Vietnamese with and without marks', () => {
  it('finds marked text from unmarked, upper-case and NFD queries alike', () => {
    expect(keysOf('cao bang thuc luc')[0]).toBe('thuc-luc');
    expect(keysOf('dang')).toEqual(expect.arrayContaining(['lich-su-dang-bo', 'dang-vien-tre', 'cong-trinh-dang-xay']));
    expect(keysOf('ĐỀ ÁN')).toEqual(expect.arrayContaining(['de-an-19', 'de-an-so-hoa']));
    const nfc = search.search({ q: 'Đội thanh niên xung kích' }, null);
    const nfd = search.search({ q: 'Đội thanh niên xung kích'.normalize('NFD') }, null);
    expect(nfd.total).toBe(nfc.total);
    expect(nfd.hits.map((h) => h.id)).toEqual(nfc.hits.map((h) => h.id));
  });

  it('ranks an exact-diacritic match above a folded-only one', () => {
    const bang = keysOf('bằng');
    expect(bang.indexOf('bang-khen')).toBeLessThan(bang.indexOf('cay-bang'));
    expect(bang.indexOf('bang-chung')).toBeLessThan(bang.indexOf('bang-tin'));
    expect(keysOf('bàng')[0]).toBe('cay-bang');
    expect(keysOf('bảng')[0]).toBe('bang-tin');
    const deAn = keysOf('đề án');
    expect(deAn.indexOf('de-an-so-hoa')).toBeLessThan(deAn.indexOf('huong-dan-an-toan'));
    expect(keysOf('để an')[0]).toBe('huong-dan-an-toan');
  });

  it('takes both tone placements (hòa / hoà, thủy / thuỷ) as the same exact spelling', () => {
    const add = (title: string) => {
      const id = Number(db.sqlite.prepare("INSERT INTO products(title, type, state, access) VALUES (?, 'document', 'published', 'public')").run(title).lastInsertRowid);
      search.indexProduct(id);
      return id;
    };
    // The longer title spells the query's syllable in the other tone placement; the shorter one
    // differs by its tone (folded-only), which BM25 alone would rank first.
    const newStyle = add('Công trình thuỷ lợi và nhà máy điện ở huyện Bảo Lạc');
    const otherTone = add('Thúy ở Bảo Lạc');
    const oldStyle = add('Sổ tay phòng chống dịch bệnh hòa nhập cộng đồng ở xã Hưng Đạo');
    const otherTone2 = add('Hóa Hưng Đạo');
    const ids = (q: string) => search.search({ q, limit: 50 }, null).hits.map((h) => h.id);
    for (const q of ['thủy bảo lạc', 'thuỷ bảo lạc', 'THỦY Bảo Lạc'.normalize('NFD')]) {
      const r = ids(q);
      expect(r.indexOf(newStyle), q).toBeLessThan(r.indexOf(otherTone));
    }
    for (const q of ['hoà hưng đạo', 'hòa hưng đạo']) {
      const r = ids(q);
      expect(r.indexOf(oldStyle), q).toBeLessThan(r.indexOf(otherTone2));
    }
    // The snippet marks the word whichever placement the query used.
    const hit = search.search({ q: 'thủy lợi' }, null).hits.find((h) => h.id === newStyle);
    expect(hit?.snippets[0].text).toContain('<mark>thuỷ</mark> <mark>lợi</mark>');
  });

  it('prefers syllables standing together, and quoted phrases are exact', () => {
    const loose = keysOf('giáo dục truyền thống');
    expect(loose).toContain('truyen-thong-van-hoa');
    expect(loose.indexOf('gd-tt-cach-mang')).toBeLessThan(loose.indexOf('truyen-thong-van-hoa'));
    const quoted = keysOf('"giáo dục truyền thống"');
    expect(quoted).toContain('gd-tt-cach-mang');
    expect(quoted).not.toContain('truyen-thong-van-hoa');
  });

  it('tolerates typos and completes prefixes', () => {
    const r = search.search({ q: 'thuc lucc' }, null);
    expect(cat.keys.get(r.hits[0].id)).toBe('thuc-luc');
    expect(r.corrections).toEqual([{ from: 'lucc', to: 'luc', display: 'lục' }]);
    expect(keysOf('bao va')[0]).toBe('bao-vat');
    expect(keysOf('Cao Bàng thuc luc')[0]).toBe('thuc-luc');
    expect(keysOf('truyen thon')).toContain('gd-tt-cach-mang');
    expect(keysOf('dan ca tya')[0]).toBe('dan-ca-tay');
  });

  it('returns nothing for a syllable found nowhere', () => {
    const r = search.search({ q: 'qxzvw' }, null);
    expect(r.total).toBe(0);
    expect(r.hits).toEqual([]);
  });
});

describe('full text and snippets', () => {
  it('names the page of a hit inside a long PDF, with the passage marked', () => {
    const r = search.search({ q: 'chien thang dong khe' }, null);
    const hit = r.hits.find((h) => cat.keys.get(h.id) === 'long-book');
    expect(hit).toBeDefined();
    const snip = hit!.snippets.find((s) => s.page !== undefined);
    expect(snip?.page).toBe(199);
    expect(snip?.unit).toBe('page');
    expect(snip?.text).toContain('<mark>Chiến</mark> <mark>thắng</mark> <mark>Đông</mark> <mark>Khê</mark>');
    expect(snip?.sha256).toBe(cat.blobs.get('long-book'));
  });

  it('reads a search in one transaction of its own: none left open after it, an open one of the caller left open', () => {
    const q = { q: 'chien thang dong khe', limit: 50 };
    // No answer cache: every call below searches.
    const uncached = createSearchService({ sqlite: db.sqlite, cacheSize: 0 });
    uncached.ensureReady();
    const alone = uncached.search(q, null);
    expect(alone.hits.some((h) => h.snippets.some((s) => s.page === 199))).toBe(true);
    expect(db.sqlite.inTransaction).toBe(false);
    db.sqlite.exec('BEGIN');
    const inside = uncached.search(q, null);
    expect(db.sqlite.inTransaction).toBe(true);
    db.sqlite.exec('COMMIT');
    expect({ ...inside, tookMs: 0 }).toEqual({ ...alone, tookMs: 0 });
    // A search that throws half-way still ends its transaction (here a table it reads is renamed away).
    db.sqlite.exec('ALTER TABLE blob_texts RENAME TO blob_texts_gone');
    expect(() => uncached.search(q, null)).toThrow();
    expect(db.sqlite.inTransaction).toBe(false);
    db.sqlite.exec('ALTER TABLE blob_texts_gone RENAME TO blob_texts');
    uncached.close();
  });

  it('gives no page number for unpaged text', () => {
    const r = search.search({ q: 'thông tư bộ luật lao động nuôi con' }, null);
    const hit = r.hits.find((h) => cat.keys.get(h.id) === 'thong-tu-10')!;
    const text = hit.snippets.find((s) => s.field === 'text');
    expect(text).toBeDefined();
    expect(text!.page).toBeUndefined();
  });

  it('keeps snippets HTML-safe', async () => {
    const id = Number(
      db.sqlite.prepare("INSERT INTO products(title, type, description, state) VALUES ('Tờ rơi <script>alert(1)</script>', 'leaflet', 'Mô tả <img src=x onerror=alert(1)> tờ rơi', 'published')").run().lastInsertRowid,
    );
    search.indexProduct(id);
    const hit = search.search({ q: 'alert to roi' }, null).hits.find((h) => h.id === id)!;
    for (const s of hit.snippets) {
      expect(s.text).not.toMatch(/<(?!\/?mark>)/);
    }
  });

  it('reports the thumbnail of the first file', () => {
    const hit = search.search({ q: 'an le the chap' }, null).hits[0];
    expect(hit.thumbnail).toBe(`/api/files/${cat.blobs.get('an-le-43')}/thumbnail?size=256`);
  });
});

describe('filters, facets and visibility', () => {
  it('computes each facet over the matching set with the other filters applied', () => {
    const q = 'cao bang';
    const base = { agency: 'so-vhttdl' };
    const r = search.search({ q, ...base, type: 'map' }, null);
    expect(r.hits.every((h) => h.type === 'map' && h.agency?.code === 'so-vhttdl')).toBe(true);
    // The type facet ignores the type filter but keeps the agency filter.
    for (const [type, n] of Object.entries(r.facets.type)) expect(search.search({ q, ...base, type }, null).total).toBe(n);
    // The agency facet ignores the agency filter but keeps the type filter.
    for (const [agency, n] of Object.entries(r.facets.agency)) expect(search.search({ q, type: 'map', agency }, null).total).toBe(n);
    for (const [year, n] of Object.entries(r.facets.year)) expect(search.search({ q, ...base, type: 'map', year: Number(year) }, null).total).toBe(n);
    for (const [language, n] of Object.entries(r.facets.language)) expect(search.search({ q, ...base, type: 'map', language }, null).total).toBe(n);
    expect(Object.keys(r.facets.type).length).toBeGreaterThan(1);
  });

  it('counts the year facet inside a year range: every year offered gives the results it counts', () => {
    for (const [q, extra] of [['', {}], ['cao bang', {}], ['', { type: 'book,leaflet' }], ['du lich', { yearTo: 2021 }], ['', { yearFrom: 2022 }]] as const) {
      const range = { yearFrom: 2019, yearTo: 2022, ...extra };
      const r = search.search({ q, ...range }, null);
      const years = Object.keys(r.facets.year).map(Number);
      expect(years.length, q).toBeGreaterThan(0);
      for (const y of years) {
        expect(y, q).toBeGreaterThanOrEqual(range.yearFrom);
        expect(y, q).toBeLessThanOrEqual(range.yearTo);
      }
      // Choosing a year keeps the range: each count is the total that choice gives, and they add up.
      for (const [year, n] of Object.entries(r.facets.year)) expect(search.search({ q, ...range, year: Number(year) }, null).total, `${q} ${year}`).toBe(n);
      expect(Object.values(r.facets.year).reduce((a, b) => a + b, 0), q).toBe(r.total);
      // Choosing a year in the facet and then another one: the year filter itself is still ignored.
      const first = years[0];
      expect(search.search({ q, ...range, year: first }, null).facets.year, q).toEqual(r.facets.year);
    }
  });

  it('applies year ranges and several types', () => {
    const r = search.search({ q: 'du lich', type: 'leaflet,flyer', yearFrom: 2023, yearTo: 2023, limit: 50 }, null);
    expect(r.total).toBeGreaterThan(0);
    for (const h of r.hits) {
      expect(['leaflet', 'flyer']).toContain(h.type);
      expect(h.year).toBe(2023);
    }
  });

  it('shows the public only published public records, staff everything', () => {
    expect(keysOf('kinh phi de an')).not.toContain('bao-cao-noi-bo');
    expect(keysOf('ban thao non nuoc')).not.toContain('ban-thao');
    expect(keysOf('kinh phi de an', {}, archivist)).toContain('bao-cao-noi-bo');
    expect(keysOf('ban thao non nuoc', {}, archivist)).toContain('ban-thao');
    const agencyUser: Principal = { userId: 2, username: 'vhttdl', role: 'agency', agencyId: cat.agencyIds.get('so-vhttdl')!, canSeeInternal: false, via: 'session' };
    expect(keysOf('ban thao non nuoc', {}, agencyUser)).toContain('ban-thao');
    // Totals and facets follow the same rule.
    const pub = search.search({ q: '' }, null);
    const all = search.search({ q: '' }, archivist);
    expect(all.total - pub.total).toBe(2);
    expect(Object.values(pub.facets.type).reduce((a, b) => a + b, 0)).toBe(pub.total);
    const onlySubmitted = search.search({ q: '', state: 'submitted' }, archivist);
    expect(onlySubmitted.hits.map((h) => cat.keys.get(h.id))).toEqual(['ban-thao']);
  });

  it('pages and sorts', () => {
    const p1 = search.search({ q: 'cao bang', limit: 5, page: 1 }, null);
    const p2 = search.search({ q: 'cao bang', limit: 5, page: 2 }, null);
    expect(p2.total).toBe(p1.total);
    expect(p1.hits.map((h) => h.id).filter((id) => p2.hits.some((x) => x.id === id))).toEqual([]);
    const byTitle = search.search({ q: 'cao bang', sort: 'title', limit: 50 }, null).hits.map((h) => h.title);
    // Title order is the Vietnamese alphabet (ă after a, đ after d), so `Bản đồ` sorts before `Bằng chứng`.
    expect(byTitle.length).toBeGreaterThan(3);
    // Punctuation separates words like a space (`Cao Bằng - Tiềm năng` files under `Cao Bằng Tiềm năng`).
    const words = (t: string) => t.replace(/[^\p{L}\p{M}\p{N}]+/gu, ' ').trim();
    const vi = new Intl.Collator('vi');
    expect(byTitle).toEqual([...byTitle].sort((a, b) => vi.compare(words(a), words(b))));
    const byDate = search.search({ q: 'cao bang', sort: 'date', limit: 50 }, null).hits.map((h) => h.year ?? 0);
    expect(byDate).toEqual([...byDate].sort((a, b) => b - a));
  });
});

describe('index maintenance', () => {
  it('reflects create, edit, publish and delete immediately', () => {
    const ins = db.sqlite.prepare("INSERT INTO products(title, type, state, access, languages) VALUES (?, 'book', 'submitted', 'public', '[\"vi\"]')");
    const id = Number(ins.run('Non nước Trùng Khánh hùng vĩ').lastInsertRowid);
    search.indexProduct(id);
    expect(search.search({ q: 'trung khanh hung vi' }, archivist).hits.map((h) => h.id)).toContain(id);
    // Not visible to the public (whose answer is the one without the draft: other Trùng Khánh records).
    expect(search.search({ q: 'trung khanh hung vi' }, null).hits.map((h) => h.id)).not.toContain(id);
    db.sqlite.prepare("UPDATE products SET state = 'published', title = 'Thác nước Bản Giốc mùa thu', version = version + 1 WHERE id = ?").run(id);
    search.indexProduct(id);
    expect(search.search({ q: 'trung khanh hung vi' }, archivist).hits.map((h) => h.id)).not.toContain(id);
    expect(search.search({ q: 'ban gioc mua thu' }, null).hits[0].id).toBe(id);
    db.sqlite.prepare('DELETE FROM products WHERE id = ?').run(id);
    search.removeProduct(id);
    expect(search.search({ q: 'ban gioc mua thu' }, null).hits.map((h) => h.id)).not.toContain(id);
  });


  it('scores every viewer with statistics of the public records only: a hidden record changes no score a viewer may see', () => {
    const probe = ['cao bang', 'giáo dục truyền thống', 'bằng', 'thuc lucc', 'bao va', '"quê hương cách mạng"', 'du lich', 'đề án'];
    const anon = () => probe.map((q) => JSON.stringify({ ...search.search({ q, limit: 50 }, null), tookMs: 0 }));
    /** The archivist's scores of the records that were there at the start. */
    const start = new Set(cat.ids.values());
    const staff = () => probe.map((q) => search.search({ q, limit: 100 }, archivist).hits.filter((h) => start.has(h.id)).map((h) => [h.id, h.score]));
    const before = { anon: anon(), staff: staff() };
    const ins = db.sqlite.prepare("INSERT INTO products(title, type, description, state, access, languages) VALUES (?, 'book', ?, ?, ?, '[\"vi\"]')");
    const hidden = [
      ['submitted', 'public'], ['draft', 'public'], ['published', 'internal'],
    ].map(([state, access]) => Number(ins.run('Cao Bằng: giáo dục truyền thống, du lịch và đề án', 'Bản thảo về quê hương cách mạng Cao Bằng, bằng khen, bảo vật.', state, access).lastInsertRowid));
    for (const id of hidden) search.indexProduct(id);
    expect(anon()).toEqual(before.anon);
    expect(staff()).toEqual(before.staff);
    // Edited while hidden: still nothing.
    db.sqlite.prepare("UPDATE products SET title = 'Cao Bằng cao bằng du lịch du lịch', version = version + 1 WHERE id = ?").run(hidden[0]);
    search.indexProduct(hidden[0]);
    expect(anon()).toEqual(before.anon);
    // Published, it is one of the public records: the statistics (and scores) change…
    db.sqlite.prepare("UPDATE products SET state = 'published', version = version + 1 WHERE id = ?").run(hidden[0]);
    search.indexProduct(hidden[0]);
    const published = anon();
    expect(published).not.toEqual(before.anon);
    // …and the same after a restart, from the snapshot.
    search.close();
    search = createSearchService({ sqlite: db.sqlite });
    expect(search.ensureReady().rebuilt).toBe(false);
    expect(anon()).toEqual(published);
    // Withdrawn or deleted, the answers are the ones before it again.
    db.sqlite.prepare("UPDATE products SET state = 'withdrawn', version = version + 1 WHERE id = ?").run(hidden[0]);
    search.indexProduct(hidden[0]);
    expect(anon()).toEqual(before.anon);
    expect(staff()).toEqual(before.staff);
    for (const id of hidden) {
      db.sqlite.prepare('DELETE FROM products WHERE id = ?').run(id);
      search.removeProduct(id);
    }
    expect(anon()).toEqual(before.anon);
    expect(staff()).toEqual(before.staff);
  });

  it('indexes changed products in one batch: before the next search or suggestion, and on its own soon after', async () => {
    const ins = db.sqlite.prepare("INSERT INTO products(title, type, state, access) VALUES (?, 'leaflet', 'published', 'public')");
    const stored = db.sqlite.prepare('SELECT count(*) FROM search_docs WHERE product_id IN (?, ?, ?)').pluck();
    const ids = ['Tờ rơi Hồ Thang Hen số một', 'Tờ rơi Hồ Thang Hen số hai', 'Tờ rơi Hồ Thang Hen số ba'].map((t) => Number(ins.run(t).lastInsertRowid));
    for (const id of ids) search.indexProduct(id);
    // A search right after the calls sees all three.
    expect(search.search({ q: 'thang hen', limit: 50 }, null).hits.map((h) => h.id)).toEqual(expect.arrayContaining(ids));
    expect(stored.get(...ids)).toBe(3);
    // A suggestion too.
    const later = Number(ins.run('Bản đồ Hồ Thang Hen mùa nước nổi').lastInsertRowid);
    search.indexProduct(later);
    expect(search.suggest('thang hen mua nuoc', null).map((s) => s.productId)).toContain(later);
    // With no search at all, the batch is indexed within a moment (its stored document is written).
    const alone = Number(ins.run('Sổ tay du lịch Hồ Thang Hen').lastInsertRowid);
    search.indexProduct(alone);
    const seen = db.sqlite.prepare('SELECT count(*) FROM search_docs WHERE product_id = ?').pluck();
    const t0 = Date.now();
    while (seen.get(alone) === 0 && Date.now() - t0 < 2000) await new Promise((r) => setTimeout(r, 10));
    expect(seen.get(alone)).toBe(1);
    // A product announced and deleted before its batch ran is not found.
    const gone = Number(ins.run('Tờ rơi Hồ Thang Hen đã thu hồi').lastInsertRowid);
    search.indexProduct(gone);
    db.sqlite.prepare('DELETE FROM products WHERE id = ?').run(gone);
    search.removeProduct(gone);
    expect(search.search({ q: 'thang hen thu hoi' }, null).hits.map((h) => h.id)).not.toContain(gone);
  });
  it('indexes new extracted text when a blob is announced', () => {
    const id = cat.ids.get('cay-bang')!;
    const sha = 'a'.repeat(64);
    db.sqlite.prepare("INSERT INTO blobs(sha256, size, media_type, kind) VALUES (?, 10, 'application/pdf', 'pdf')").run(sha);
    db.sqlite.prepare("INSERT INTO product_files(product_id, sha256, original_name) VALUES (?, ?, 'anh.pdf')").run(id, sha);
    search.indexProduct(id);
    expect(search.search({ q: 'phuong bac son' }, null).hits.map((h) => h.id)).not.toContain(id);
    db.sqlite.prepare('INSERT INTO blob_texts(sha256, page, text) VALUES (?, 1, ?), (?, 2, ?)').run(sha, 'Trang đầu.', sha, 'Cây bàng ở phường Bắc Sơn được trồng năm 1960.');
    search.indexBlob(sha);
    const hit = search.search({ q: 'phuong bac son' }, null).hits[0];
    expect(hit.id).toBe(id);
    expect(hit.snippets.find((s) => s.field === 'text')?.page).toBe(2);
    // Re-extracted text replaces the old one at once (the per-token text lists are dropped).
    db.sqlite.prepare('DELETE FROM blob_texts WHERE sha256 = ?').run(sha);
    db.sqlite.prepare('INSERT INTO blob_texts(sha256, page, text) VALUES (?, 1, ?)').run(sha, 'Thác Bản Giốc mùa thu.');
    search.indexBlob(sha);
    expect(search.search({ q: 'phuong bac son' }, null).hits.map((h) => h.id)).not.toContain(id);
    expect(search.search({ q: 'thac ban gioc' }, null).hits.map((h) => h.id)).toContain(id);
  });

  it('indexes a long extracted text in slices: other callbacks run meanwhile, and calls apply in the order made', async () => {
    const id = cat.ids.get('cay-bang')!;
    const sha = 'b'.repeat(64);
    db.sqlite.prepare("INSERT INTO blobs(sha256, size, media_type, kind) VALUES (?, 10, 'text/plain', 'text')").run(sha);
    db.sqlite.prepare("INSERT INTO product_files(product_id, sha256, original_name) VALUES (?, ?, 'van-ban.txt')").run(id, sha);
    search.indexProduct(id);
    // 30 pages of 100,000 characters, the last one naming a place no other record has.
    const filler = 'Nhân dân các dân tộc tỉnh Cao Bằng đoàn kết xây dựng quê hương. '.repeat(1600);
    const ins = db.sqlite.prepare('INSERT INTO blob_texts(sha256, page, text) VALUES (?, ?, ?)');
    for (let page = 1; page <= 30; page++) ins.run(sha, page, page === 30 ? `${filler} Hang Ngườm Ngao ở Trùng Khánh.` : filler);
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 0);
    const first = search.indexBlobSoon(sha);
    // A second extraction of the same file, announced before the first is written, wins.
    const second = search.indexBlobSoon(sha).then(() => search.search({ q: 'bac son thanh pho' }, null).hits.map((h) => h.id));
    db.sqlite.prepare('DELETE FROM blob_texts WHERE sha256 = ? AND page = 30').run(sha);
    ins.run(sha, 30, 'Phường Bắc Sơn, thành phố Cao Bằng.');
    await first;
    const ticksDuringFirst = ticks;
    clearInterval(ticker);
    // Other callbacks ran while the 3 MB text was folded (a synchronous pass runs none).
    expect(ticksDuringFirst).toBeGreaterThan(1);
    // The first call read the text before it changed; the second read the new one and applied last.
    expect(await second).toContain(id);
    expect(search.search({ q: 'nguom ngao trung khanh' }, null).hits.map((h) => h.id)).not.toContain(id);
  });

  it('locates at most MAX_BLOB_TERMS distinct words of one file on its pages: the first ones are searchable, the rest are not listed', () => {
    const id = cat.ids.get('cay-bang')!;
    const sha = 'c'.repeat(64);
    db.sqlite.prepare("INSERT INTO blobs(sha256, size, media_type, kind) VALUES (?, 10, 'text/plain', 'text')").run(sha);
    db.sqlite.prepare("INSERT INTO product_files(product_id, sha256, original_name) VALUES (?, ?, 'ngau-nhien.txt')").run(id, sha);
    // Distinct made-up words (base-26 letters), more than the cap, after a real sentence.
    const word = (n: number) => { let w = ''; for (let i = 0; i < 5; i++, n = Math.floor(n / 26)) w += String.fromCharCode(97 + (n % 26)); return `q${w}`; };
    const words = Array.from({ length: MAX_BLOB_TERMS + 5_000 }, (_, i) => word(i));
    const text = `Lễ hội Lồng tồng xã Quốc Toản. ${words.join(' ')}`;
    db.sqlite.prepare('INSERT INTO blob_texts(sha256, page, text) VALUES (?, 1, ?)').run(sha, text);
    search.indexBlob(sha);
    const ids = (q: string) => search.search({ q }, null).hits.map((h) => h.id);
    expect(ids('quoc toan')).toContain(id);
    expect(ids(words[100])).toContain(id);
    const pageTerms = db.sqlite.prepare('SELECT count(*) FROM search_page_terms WHERE blob_id = (SELECT id FROM search_blob_ids WHERE sha256 = ?)').pluck().get(sha) as number;
    expect(pageTerms).toBe(MAX_BLOB_TERMS);
  });

  it('answers the same after a restart as before it, once records were added, edited and removed while it ran', () => {
    const add = (title: string, description: string) =>
      Number(db.sqlite.prepare("INSERT INTO products(title, description, type, state, access) VALUES (?, ?, 'book', 'published', 'public')").run(title, description).lastInsertRowid);
    const added = [
      add('Hương thơm núi rừng Thạch An', 'Thơm ngát mùa hồi chín'),
      add('Chè thơm Phia Đén', 'Thơm thảo tấm lòng người Tày'),
      add('Lúa thơm ruộng bậc thang', 'Thơm hương lúa mới'),
      add('Thơm thảo bánh trứng kiến', 'Món ăn của người Tày'),
      add('Thịt treo gác bếp', 'Thành phẩm thơm ngon'),
    ];
    for (const id of added) search.indexProduct(id);
    db.sqlite.prepare("UPDATE products SET title = 'Thác Thăm Thiên mùa thu', version = version + 1 WHERE id = ?").run(added[4]);
    search.indexProduct(added[4]);
    db.sqlite.prepare('DELETE FROM products WHERE id = ?').run(cat.ids.get('thuc-luc'));
    search.removeProduct(cat.ids.get('thuc-luc')!);
    const probe = ['th', 'cao th', 'lúa th', 'huong th', 'thm', 'thom thao', 'thuc luc', 'tha'];
    const answers = (s: SearchService) =>
      probe.map((q) => {
        const r = s.search({ q, limit: 50 }, null);
        return { q, total: r.total, hits: r.hits.map((h) => [h.id, h.score]), corrections: r.corrections, expansions: r.expansions };
      });
    const before = answers(search);
    search.close();
    search = createSearchService({ sqlite: db.sqlite });
    expect(search.ensureReady().rebuilt).toBe(false);
    expect(answers(search)).toEqual(before);
  });

  it('reloads without rebuilding after a clean close, rebuilds after unindexed changes or a new format', () => {
    // Incremental changes before the close must survive the snapshot.
    const extra = Number(db.sqlite.prepare("INSERT INTO products(title, type, state) VALUES ('Sơ đồ hang Ngườm Ngao', 'map', 'published')").run().lastInsertRowid);
    search.indexProduct(extra);
    const probe = ['cao bang', 'giáo dục truyền thống', 'bằng', 'thuc lucc', 'bao va', 'nguom ngao', '"quê hương cách mạng"'];
    const before = probe.map((q) => search.search({ q, limit: 50 }, null).hits.map((h) => [h.id, h.score]));
    search.close();
    const again = createSearchService({ sqlite: db.sqlite });
    expect(again.ensureReady().rebuilt).toBe(false);
    expect(probe.map((q) => again.search({ q, limit: 50 }, null).hits.map((h) => [h.id, h.score]))).toEqual(before);
    expect(again.search({ q: 'cao bang thuc luc' }, null).hits[0].id).toBe(cat.ids.get('thuc-luc'));
    again.close();
    db.sqlite.prepare("UPDATE products SET title = 'Cao Bằng thực lục (tái bản)', version = version + 1 WHERE id = ?").run(cat.ids.get('thuc-luc'));
    const third = createSearchService({ sqlite: db.sqlite });
    expect(third.ensureReady().rebuilt).toBe(true);
    expect(third.search({ q: 'tai ban' }, null).hits[0].id).toBe(cat.ids.get('thuc-luc'));
    third.close();
    db.sqlite.prepare("UPDATE meta SET value = 'old' WHERE key = 'search_index_version'").run();
    const fourth = createSearchService({ sqlite: db.sqlite });
    expect(fourth.ensureReady().rebuilt).toBe(true);
    // A change indexed incrementally and no clean close (a crash): the next start rebuilds, to be safe.
    db.sqlite.prepare("UPDATE products SET title = 'Cao Bằng thực lục', version = version + 1 WHERE id = ?").run(cat.ids.get('thuc-luc'));
    fourth.indexProduct(cat.ids.get('thuc-luc')!);
    const fifth = createSearchService({ sqlite: db.sqlite });
    expect(fifth.ensureReady().rebuilt).toBe(true);
    search = fifth;
  });

  it('rebuild reports counts and keeps answers the same', () => {
    const before = search.search({ q: 'giáo dục truyền thống' }, null);
    const r = search.rebuild();
    expect(r.products).toBe(cat.ids.size);
    expect(r.pages).toBeGreaterThan(352);
    const after = search.search({ q: 'giáo dục truyền thống' }, null);
    expect(after.hits.map((h) => h.id)).toEqual(before.hits.map((h) => h.id));
  });
});

describe('hostile queries', () => {
  const hostile = [
    '"', '""', '"""', '*', '**', 'cao*', '"cao bang', 'NEAR(cao bang)', 'cao AND OR NOT bang', 'title:cao', '{title}: x', '^cao', '-bang',
    "'; DROP TABLE products; --", '\u0000\u0001\u001f\u007f', '\u202e\u200b\ufeff', 'a'.repeat(5000), 'cao '.repeat(3000), '😀 🇻🇳', '%', '_', '\\', '(', ')', '[', ']',
    'x'.repeat(45), 'Đ'.repeat(200),
  ];
  it.each(hostile.map((q) => [JSON.stringify(q).slice(0, 40), q]))('%s is plain text', (_label, q) => {
    const r = search.search({ q }, null);
    expect(r.total).toBeGreaterThanOrEqual(0);
    expect(Array.isArray(search.suggest(q, null))).toBe(true);
  });
});

describe('suggestions', () => {
  it('completes titles, agencies and subjects without leaking hidden records', () => {
    const s = search.suggest('bao va', null);
    expect(s.find((x) => x.kind === 'title')?.productId).toBe(cat.ids.get('bao-vat'));
    expect(search.suggest('so van hoa', null).some((x) => x.kind === 'agency' && x.text === 'Sở Văn hóa, Thể thao và Du lịch' && x.agency === 'so-vhttdl')).toBe(true);
    expect(search.suggest('du li', null).some((x) => x.kind === 'subject' && x.text === 'du lịch')).toBe(true);
    expect(search.suggest('ban thao', null).some((x) => x.productId === cat.ids.get('ban-thao'))).toBe(false);
    expect(search.suggest('ban thao', archivist).some((x) => x.productId === cat.ids.get('ban-thao'))).toBe(true);
    expect(search.suggest('', null)).toEqual([]);
  });

  it('puts what fits the typed syllables best first, whatever its kind', () => {
    const add = (title: string, text?: string) => {
      const id = Number(db.sqlite.prepare("INSERT INTO products(title, type, state, access) VALUES (?, 'map', 'published', 'public')").run(title).lastInsertRowid);
      search.indexProduct(id);
      return id;
    };
    const map = add('Bản đồ du lịch huyện Trùng Khánh');
    const other = add('Sổ tay hướng dẫn viên: bản làng và đồi chè');
    const s = search.suggest('bản đ', null);
    // The title typed from its start, syllables side by side, before scattered fits (agencies included).
    const at = s.findIndex((x) => x.productId === map);
    expect(at).toBeGreaterThanOrEqual(0);
    expect(s.slice(0, at).every((x) => fold(x.text).startsWith('ban do'))).toBe(true);
    expect(s.findIndex((x) => x.kind === 'agency')).toBeGreaterThan(at);
    expect(s.findIndex((x) => x.productId === other)).toBeGreaterThan(at);
    // A title that does not contain what was typed is not suggested while others do.
    expect(search.suggest('trung khan', null).map((x) => x.productId)).toEqual([map]);
    // A typo still suggests through the search's spelling correction.
    expect(search.suggest('trùng khánhh', null).map((x) => x.productId)).toContain(map);
  });
});
