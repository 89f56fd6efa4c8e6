/**
 * Queries and records at the edges found by probing the running service: a query made only of
 * tokens no index can hold, and records in a language stored under its ISO 639-3 code.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Database_ } from '../../server/db/client.ts';
import type { SearchService } from '../../server/search/index.ts';
import { openMemorySearch, type MemorySearch } from '../helpers/memory-search.ts';

let m: MemorySearch;
let db: Database_;
let search: SearchService;
const add: MemorySearch['add'] = (title, fields) => m.add(title, fields);
const attachPdfText: MemorySearch['attachPdfText'] = (...args) => m.attachPdfText(...args);
beforeEach(() => {
  m = openMemorySearch();
  ({ db, search } = m);
});
afterEach(() => m.close());

describe('a query of over-long tokens only', () => {
  it('finds nothing and says so, instead of listing the whole catalogue as an empty query does', () => {
    add('Lịch sử Đảng bộ huyện Hà Quảng');
    add('Bản đồ du lịch Cao Bằng');
    expect(search.search({ q: '' }, null).total).toBe(2);
    // A pasted SHA-256 or URL-like word is one token longer than any syllable.
    const sha = 'ab'.repeat(32);
    const r = search.search({ q: sha }, null);
    expect(r.total).toBe(0);
    expect(r.hits).toEqual([]);
    expect(r.mode).toBe('and');
    expect(r.ignored).toEqual([sha]);
    // Next to real syllables it is left out like any unknown syllable.
    const mixed = search.search({ q: `cao bang ${sha}` }, null);
    expect(mixed.hits.map((h) => h.title)).toEqual(['Bản đồ du lịch Cao Bằng']);
    expect(mixed.ignored).toEqual([sha]);
  });
});

describe('language names', () => {
  it('finds a record in Nùng (code nut, the one the record fields accept) by "tiếng Nùng"', () => {
    const nung = add('Truyện cổ dân gian', { languages: ['nut'] });
    add('Truyện cổ dân gian', { languages: ['vi'] });
    expect(search.search({ q: 'tiếng Nùng' }, null).hits.map((h) => h.id)).toEqual([nung]);
    expect(search.search({ q: 'truyen co tieng nung' }, null).hits.map((h) => h.id)).toEqual([nung]);
  });
});

describe('language labels', () => {
  it('do not make việt or tiếng match every Vietnamese record, and tày still finds Tày records', () => {
    const others = ['Bản đồ du lịch Cao Bằng', 'Lễ hội Nàng Hai', 'Thác Bản Giốc'].map((t) => add(t, { languages: ['vi'] }));
    const tay = add('Truyện cổ dân gian', { languages: ['tay'] });
    const hmong = add('Tờ rơi phòng chống dịch', { languages: ['hmn', 'vi'] });
    // No record holds việt or tiếng (only the labels did): unknown words, and no typo is corrected to them.
    for (const q of ['Việt', 'tiếng', 'tiếng Việt']) expect(search.search({ q }, null), q).toMatchObject({ total: 0, corrections: [] });
    expect(search.search({ q: 'vịt' }, null).corrections).toEqual([]);
    const vietBac = add('Chiến khu Việt Bắc', { languages: ['vi'] });
    expect(search.search({ q: 'Việt' }, null).hits.map((h) => h.id)).toEqual([vietBac]);
    expect(search.search({ q: 'tiếng Việt' }, null)).toMatchObject({ total: 1, ignored: ['tieng'] });
    // The other languages are found by their names.
    expect(search.search({ q: 'tày' }, null).hits.map((h) => h.id)).toEqual([tay]);
    expect(search.search({ q: 'truyen co tay' }, null).hits.map((h) => h.id)).toEqual([tay]);
    expect(search.search({ q: 'hmong' }, null).hits.map((h) => h.id)).toEqual([hmong]);
    expect(search.search({ q: "H'Mông" }, null).hits.map((h) => h.id)).toEqual([hmong]);
    // The language filter serves Vietnamese.
    expect(search.search({ q: '', language: 'vi' }, null).hits.map((h) => h.id).sort((x, y) => x - y)).toEqual([...others, hmong, vietBac].sort((x, y) => x - y));
  });
});

describe('the Dao people and the Dao language', () => {
  it('reads `tiếng Dao` as the language: records in Dao first, and "tiếng" never a typo of miệng', () => {
    const dao = add('Truyện cổ dân gian', { languages: ['dao'] });
    const oral = add('Sổ tay công tác tuyên truyền miệng'); // "miệng", one letter from "tiếng"
    const leaders = ['Lãnh đạo tỉnh thăm hỏi đồng bào vùng cao', 'Chỉ đạo công tác tuyên truyền', 'Đạo đức cách mạng của cán bộ'].map((t) => add(t));
    const red = add('Trang phục người Dao đỏ');
    for (const q of ['tiếng Dao', 'tieng dao', 'Tiếng Dao']) {
      const r = search.search({ q }, null);
      expect(r.corrections, q).toEqual([]);
      expect(r.ignored, q).toEqual(['tieng']);
      expect(r.hits[0]?.id, q).toBe(dao);
      expect(r.hits.map((h) => h.id), q).not.toContain(oral);
      expect(r.total, q).toBe(2 + leaders.length);
    }
    // The people, typed beside a word: the records writing "người Dao" (the pair), not "đạo".
    expect(search.search({ q: 'người Dao' }, null).hits.map((h) => h.id)).toEqual([red]);
    // Where "tiếng" is held, `tiếng Tày` matches the records holding both words, then the language comes first.
    const tay = add('Dân ca', { languages: ['tay'] });
    const said = add('Hát then bằng tiếng Tày');
    const r = search.search({ q: 'tiếng Tày' }, null);
    expect(r.hits.map((h) => h.id)).toEqual([said]);
    void tay;
  });
});

describe('snippets of a syllable typed with marks', () => {
  it('show the field writing the spelling typed and mark only it there: `năm 1930` is not "Nặm"', () => {
    const cell = add('Chi bộ Đảng đầu tiên của tỉnh Cao Bằng năm 1930', { description: 'Tháng 4/1930 chi bộ được thành lập tại Nặm Lìn, xã Hoàng Tung.' });
    const r = search.search({ q: 'năm 1930' }, null);
    expect(r.hits[0].id).toBe(cell);
    const snip = r.hits[0].snippets.map((s) => s.text).join(' ');
    expect(snip).toContain('<mark>năm</mark> <mark>1930</mark>');
    expect(snip).not.toContain('<mark>Nặm</mark>');
    // Where only another spelling is written, it is still marked (that is what matched).
    const lake = add('Suối Nặm Lìn', { description: 'Tư liệu ảnh về suối Nặm Lìn' });
    const only = search.search({ q: 'năm' }, null).hits.find((h) => h.id === lake)!;
    expect(only.snippets.map((s) => s.text).join(' ')).toContain('<mark>Nặm</mark>');
    // Typed without marks too (`Việt Nam năm 1945`), every spelling is marked.
    const vn = add('Việt Nam năm 1945', { description: 'Nước Việt Nam ra đời năm 1945' });
    const both = search.search({ q: 'Việt Nam năm 1945' }, null).hits.find((h) => h.id === vn)!;
    const text = both.snippets.map((s) => s.text).join(' ');
    expect(text).toContain('<mark>Nam</mark>');
    expect(text).toContain('<mark>năm</mark>');
  });
});

describe('records the viewer may not see tell nothing through the query plan', () => {
  const archivist = { userId: 1, username: 'luu-tru', role: 'archivist', agencyId: null, canSeeInternal: true, via: 'session' } as const;

  it('corrects typos only to spellings of visible records, and ignores syllables held only by hidden ones', () => {
    add('Bản thảo Khuổi Nặm Zyxquor', { state: 'submitted', description: 'Chưa duyệt: Wompelt' });
    add('Báo cáo nội bộ Quazzle', { access: 'internal' });
    const leaflet = add('Tờ gấp du lịch suối Khuổi Nặm');
    // A typo one letter from a word found only in a draft is not corrected to it for the public…
    for (const [typo, word] of [['zyxquox', 'zyxquor'], ['wompelx', 'wompelt'], ['quazzlo', 'quazzle']]) {
      const anon = search.search({ q: typo }, null);
      expect(anon.corrections, typo).toEqual([]);
      expect(anon.ignored, typo).toEqual([typo]);
      // …but is for staff, who see the draft.
      expect(search.search({ q: typo }, archivist).corrections, typo).toEqual([{ from: typo, to: word, display: word }]);
    }
    // A syllable (or a prefix) held only by hidden records is unknown to the public: left out like any
    // unknown syllable, so the answer is the one it would be without the hidden records.
    for (const q of ['zyxquor', 'zyxq', 'quazzle']) {
      const r = search.search({ q }, null);
      expect(r.total, q).toBe(0);
      expect(r.ignored, q).toEqual([q]);
    }
    const withHidden = search.search({ q: 'khuoi nam zyxquor' }, null);
    expect(withHidden.hits.map((h) => h.id)).toEqual([leaflet]);
    expect(withHidden.ignored).toEqual(['zyxquor']);
    expect(withHidden).toMatchObject({ total: 1, mode: 'and' });
    expect(search.search({ q: 'khuoi nam zyxquor' }, archivist).hits.map((h) => h.title)).toEqual(['Bản thảo Khuổi Nặm Zyxquor']);
    expect(search.suggest('zyxq', null)).toEqual([]);
  });

  it('falls back to "or" when only hidden records hold every syllable', () => {
    add('Bản thảo lễ hội Nàng Hai ở Phục Hoà', { state: 'in_review' });
    const a = add('Lễ hội Nàng Hai');
    const b = add('Hội chợ Phục Hoà');
    const r = search.search({ q: 'le hoi nang hai phuc hoa' }, null);
    expect(r.mode).toBe('or');
    expect(r.hits.map((h) => h.id)).toEqual([a, b]);
    expect(search.search({ q: 'le hoi nang hai phuc hoa' }, archivist).mode).toBe('and');
  });

  it('leaves out a syllable only hidden records hold also when no record holds the whole query', () => {
    add('Đĩa phát thanh Xylophrax', { state: 'submitted' });
    add('Báo cáo nội bộ Grommetic', { access: 'internal', description: 'Bản đồ nội bộ' });
    const map = add('Bản đồ du lịch Cao Bằng');
    // Neither the draft nor the map holds all three words: the public must get the answer it gets for
    // a word no record holds (the word left out, the rest required), not a fall-back to "or" that
    // tells it some hidden record holds the word.
    for (const hidden of ['xylophrax', 'grommetic']) {
      const withHidden = search.search({ q: `${hidden} du lịch` }, null);
      const withUnknown = search.search({ q: 'qwzrtplk du lịch' }, null);
      expect(withHidden, hidden).toMatchObject({ mode: 'and', total: 1, ignored: [hidden] });
      expect(withHidden.hits.map((h) => h.id)).toEqual([map]);
      expect({ ...withHidden, ignored: [], tookMs: 0 }).toEqual({ ...withUnknown, ignored: [], tookMs: 0 });
    }
    // Staff see the draft: its word is known, nothing holds all three, so half of them will do.
    const staff = search.search({ q: 'xylophrax du lịch' }, archivist);
    expect(staff.mode).toBe('or');
    expect(staff.ignored).toEqual([]);
  });
});

describe('typo corrections', () => {
  it('prefer a spelling that stands next to a typed neighbour to a more frequent one that does not', () => {
    const target = add('Chị Thúy và nghề dệt thổ cẩm');
    // `de`, `den` and `dec`'s other neighbours are far more frequent than `det`.
    for (let k = 0; k < 5; k++) add(`Đề nghị số ${k} đến Sở, Đế chế, Dễ dàng, Dế mèn, Đệ tử, Đen trắng, Đền Kỳ Sầm, Đức độ, Dọc đường, Đắc lực, Đêm trăng, Đẹp đẽ`);
    const r = search.search({ q: 'dec tho cam' }, null);
    expect(r.hits.map((h) => h.id)).toEqual([target]);
    expect(r.mode).toBe('and');
    expect(r.corrections).toEqual([{ from: 'dec', to: 'det', display: 'dệt' }]);
    // Without a neighbour the most frequent close spelling still comes first.
    expect(search.search({ q: 'dec' }, null).corrections[0].to).not.toBe('det');
  });
});

describe('quoted phrases', () => {
  it('stay required: a quoted phrase found nowhere finds nothing rather than half of its syllables', () => {
    const nhaSan = add('Đề án bảo tồn nhà sàn truyền thống');
    add('Di sản văn hoá phi vật thể');
    expect(search.search({ q: '"nhà sàn"' }, null).hits.map((h) => h.id)).toEqual([nhaSan]);
    const reversed = search.search({ q: '"sàn nhà"' }, null);
    expect(reversed).toMatchObject({ total: 0, mode: 'and' });
    expect(search.search({ q: '"nhà sàn" di sản' }, null).total).toBe(0);
    // Unquoted, the same syllables in either order still find the record.
    expect(search.search({ q: 'sàn nhà' }, null).hits.map((h) => h.id)).toEqual([nhaSan]);
  });
});

describe('agency suggestions', () => {
  it('offer a deactivated agency to staff only, as GET /api/agencies lists it', () => {
    const archivist = { userId: 1, username: 'luu-tru', role: 'archivist', agencyId: null, canSeeInternal: true, via: 'session' } as const;
    db.sqlite.prepare("INSERT INTO agencies(code, name, active) VALUES ('ban-cu', 'Ban Chỉ đạo Xylorent cũ', 0), ('ban-moi', 'Ban Chỉ đạo Xylorent mới', 1)").run();
    search.indexAgency(Number(db.sqlite.prepare("SELECT id FROM agencies WHERE code = 'ban-cu'").pluck().get()));
    const names = (viewer: typeof archivist | null) => search.suggest('xylorent', viewer).filter((x) => x.kind === 'agency').map((x) => x.text);
    expect(names(null)).toEqual(['Ban Chỉ đạo Xylorent mới']);
    expect(names(archivist).sort()).toEqual(['Ban Chỉ đạo Xylorent cũ', 'Ban Chỉ đạo Xylorent mới']);
  });
});

describe('quoted phrases with a syllable found nowhere', () => {
  it('occur nowhere, whatever the other syllables of the query hold', () => {
    const tree = add('Cây bàng cổ thụ ở đình Nà Giàng');
    add('Lễ hội Nàng Hai', { description: 'Cây cổ thụ trước đình' });
    // The phrase's own syllables standing together is what is required, wherever the phrase is.
    expect(search.search({ q: 'lễ hội "cây cổ"' }, null).total).toBe(1);
    expect(search.search({ q: 'đình "cây bàng cổ"' }, null).hits.map((h) => h.id)).toEqual([tree]);
    // An unknown syllable inside quotes: the quoted phrase cannot occur (it used to be checked against
    // the query's first syllables instead: `cây bàng "qqqq cổ"` required "cây bàng").
    for (const q of ['cây bàng "qqqq cổ"', 'lễ hội "qqqq cổ thụ"', '"cây qqqq bàng"', `cây bàng "${'x'.repeat(41)} cổ"`]) {
      const r = search.search({ q }, null);
      expect(r.total, q).toBe(0);
      expect(r.mode, q).toBe('and');
    }
    expect(search.search({ q: 'cây bàng "qqqq cổ"' }, null).ignored).toEqual(['qqqq']);
  });
});

describe('ISBNs', () => {
  it('typed with hyphens, as printed, find the record whose ISBN field holds them (stored without hyphens)', () => {
    const book = add('Địa chí Cao Bằng', { isbn: '9780306406157' });
    const old = add('Sổ tay cũ', { isbn: '080442957X' });
    // Hyphenated digit groups elsewhere in a record are still matched in parts.
    const colophon = add('Tạp chí', { description: 'Số đăng ký 978-0-306-40615-7 in tại Hà Nội; điện thoại 0206-385-2123' });
    expect(search.search({ q: '9780306406157' }, null).hits.map((h) => h.id)).toEqual([book]);
    expect(search.search({ q: '978-0-306-40615-7' }, null).hits.map((h) => h.id)).toEqual([book]);
    expect(search.search({ q: 'ISBN 0-8044-2957-X' }, null).hits.map((h) => h.id)).toEqual([old]);
    expect(search.search({ q: '0206-385-2123' }, null).hits.map((h) => h.id)).toEqual([colophon]);
    // A valid ISBN no record holds whole is left in parts (a colophon in a file's text is indexed so).
    expect(search.search({ q: '0-306-40615-2' }, null).hits.map((h) => h.id)).toEqual([colophon]);
  });
});

describe('filter values and deep pages', () => {
  it('takes type, language and state codes in any case', () => {
    const book = add('Sách ảnh Non nước Cao Bằng', { languages: ['vi'] });
    const tay = add('Sách ảnh Non nước Cao Bằng', { languages: ['tay'] });
    for (const [params, ids] of [
      [{ type: 'Book' }, [book, tay]],
      [{ type: 'BOOK,leaflet' }, [book, tay]],
      [{ language: 'VI' }, [book]],
      [{ language: 'Tay' }, [tay]],
    ] as const) {
      const r = search.search({ q: 'non nuoc', ...params }, null);
      expect(r.hits.map((h) => h.id).sort((a, b) => a - b), JSON.stringify(params)).toEqual([...ids].sort((a, b) => a - b));
    }
    expect(search.search({ q: 'non nuoc', type: 'Leaflet' }, null).total).toBe(0);
  });

  it('answers every page of a large matching set, past the first 2,000 hits too', () => {
    const ids = new Set<number>();
    db.sqlite.transaction(() => {
      for (let i = 0; i < 2_130; i++) ids.add(add(`Bản tin phát thanh số ${i + 1}`));
    })();
    const seen: number[] = [];
    for (const sort of ['relevance', 'title'] as const) {
      seen.length = 0;
      for (let page = 1; page <= 22; page++) {
        const r = search.search({ q: 'ban tin', page, limit: 100, sort }, null);
        expect(r.total).toBe(2_130);
        expect(r.hits.length, `${sort} page ${page}`).toBe(page < 22 ? 100 : 30);
        seen.push(...r.hits.map((h) => h.id));
      }
      expect(new Set(seen).size).toBe(2_130);
      expect(seen.every((id) => ids.has(id))).toBe(true);
      expect(search.search({ q: 'ban tin', page: 23, limit: 100, sort }, null).hits).toEqual([]);
    }
  });
});

describe('the page of a phrase of common syllables', () => {
  it('points at the page where the syllables stand together, not the first pages that hold each of them', () => {
    const id = add('Tuyển tập án lệ');
    const sha = 'c'.repeat(64);
    db.sqlite.prepare("INSERT INTO blobs(sha256, size, media_type, kind) VALUES (?, 10, 'application/pdf', 'pdf')").run(sha);
    db.sqlite.prepare("INSERT INTO product_files(product_id, sha256, original_name) VALUES (?, ?, 'an-le.pdf')").run(id, sha);
    // Every page holds ngân, hàng, với and bà apart; only page 9 holds "ngân hàng với bà" as a phrase.
    const scattered = (p: number) => `Trang ${p}. Bà Lan gửi tiền vào ngân quỹ. Cửa hàng của ông Minh. Làm việc với cơ quan thuế.`;
    const insert = db.sqlite.prepare('INSERT INTO blob_texts(sha256, page, text) VALUES (?, ?, ?)');
    for (let p = 1; p <= 12; p++) insert.run(sha, p, p === 9 ? `${scattered(p)} Hợp đồng tín dụng giữa ngân hàng với bà Lan được ký năm 2015.` : scattered(p));
    search.indexBlob(sha);
    for (const q of ['ngan hang voi ba', 'ngân hàng với bà', '"ngân hàng với bà"']) {
      const hit = search.search({ q }, null).hits.find((h) => h.id === id);
      const text = hit?.snippets.find((s) => s.field === 'text');
      expect(text?.page, q).toBe(9);
      expect(text?.text, q).toContain('<mark>ngân</mark> <mark>hàng</mark> <mark>với</mark> <mark>bà</mark>');
    }
    // Scattered syllables (no page holds them side by side) still name a page that holds them all.
    const apart = search.search({ q: 'ba ngan voi' }, null).hits.find((h) => h.id === id);
    expect(apart?.snippets.find((s) => s.field === 'text')?.page).toBe(1);
  });
});

describe('words no record holds any more', () => {
  const archivist = { userId: 1, username: 'luu-tru', role: 'archivist', agencyId: null, canSeeInternal: true, via: 'session' } as const;
  const setDescription = (id: number, description: string) => {
    db.sqlite.prepare('UPDATE products SET description = ?, version = version + 1 WHERE id = ?').run(description, id);
    search.indexProduct(id);
  };
  /** The word is unknown: left out (in `ignored`) next to other syllables, never a correction. */
  const expectUnknown = (word: string, typo: string, hits: number[]) => {
    for (const viewer of [null, archivist]) {
      const who = viewer === null ? 'anonymous' : 'archivist';
      const r = search.search({ q: `"cao bang" ${word}` }, viewer);
      expect(r.hits.map((h) => h.id), `${who} ${word}`).toEqual(hits);
      expect(r.ignored, `${who} ${word}`).toEqual([word]);
      const alone = search.search({ q: word }, viewer);
      expect(alone).toMatchObject({ total: 0, ignored: [word], corrections: [] });
      const typed = search.search({ q: typo }, viewer);
      expect(typed.corrections, `${who} ${typo}`).toEqual([]);
      expect(typed.ignored, `${who} ${typo}`).toEqual([typo]);
      // Nor is it a completion of what is being typed.
      const prefix = word.slice(0, 6);
      const typing = search.search({ q: `cao bang ${prefix}` }, viewer);
      expect(typing, `${who} ${prefix}`).toMatchObject({ mode: 'and', ignored: [prefix], corrections: [] });
      expect(typing.hits.map((h) => h.id), `${who} ${prefix}`).toEqual(hits);
    }
  };

  it('are unknown once an edit has removed them', () => {
    const id = add('Bản đồ du lịch Cao Bằng', { description: 'Bản in lần đầu.' });
    setDescription(id, 'Bản in lần đầu, mã zyxwoldtoken.');
    expect(search.search({ q: '"cao bang" zyxwoldtoken' }, null).hits.map((h) => h.id)).toEqual([id]);
    expect(search.search({ q: 'zyxwoldtokem' }, null).corrections).toEqual([{ from: 'zyxwoldtokem', to: 'zyxwoldtoken', display: 'zyxwoldtoken' }]);
    setDescription(id, 'Bản in lần đầu.');
    expectUnknown('zyxwoldtoken', 'zyxwoldtokem', [id]);
  });

  it('are unknown once the only record holding them is deleted, in its fields or in its file text', () => {
    const keep = add('Bản đồ du lịch Cao Bằng');
    const gone = add('Tờ gấp Cao Bằng zyxdeltoken');
    const sha = attachPdfText(gone, 'd', 'to-gap.pdf', 'Trang có chữ zyxfiletoken.');
    expect(search.search({ q: 'zyxfiletoken' }, null).hits.map((h) => h.id)).toEqual([gone]);
    db.sqlite.prepare('DELETE FROM product_files WHERE product_id = ?').run(gone);
    db.sqlite.prepare('DELETE FROM products WHERE id = ?').run(gone);
    search.removeProduct(gone);
    expectUnknown('zyxdeltoken', 'zyxdeltokem', [keep]);
    expectUnknown('zyxfiletoken', 'zyxfiletokem', [keep]);
  });

  it('are unknown once a file text is extracted again without them', () => {
    const id = add('Bản đồ du lịch Cao Bằng');
    const sha = 'e'.repeat(64);
    db.sqlite.prepare("INSERT INTO blobs(sha256, size, media_type, kind) VALUES (?, 10, 'application/pdf', 'pdf')").run(sha);
    db.sqlite.prepare("INSERT INTO product_files(product_id, sha256, original_name) VALUES (?, ?, 'ban-do.pdf')").run(id, sha);
    search.indexProduct(id);
    db.sqlite.prepare('INSERT INTO blob_texts(sha256, page, text) VALUES (?, 1, ?)').run(sha, 'Chú giải zyxoldtext.');
    search.indexBlob(sha);
    expect(search.search({ q: 'zyxoldtext' }, null).hits.map((h) => h.id)).toEqual([id]);
    db.sqlite.prepare('DELETE FROM blob_texts WHERE sha256 = ?').run(sha);
    db.sqlite.prepare('INSERT INTO blob_texts(sha256, page, text) VALUES (?, 1, ?)').run(sha, 'Chú giải mới.');
    search.indexBlob(sha);
    expectUnknown('zyxoldtext', 'zyxoldtexy', [id]);
  });
});

describe('sort=title', () => {
  it('orders titles by the Vietnamese alphabet: ă â after a, đ after d (not folded into it), tones after the letter', () => {
    const titles = [
      'Ưu đãi người có công', 'Đăng ký nghĩa vụ quân sự', 'Ăn Tết cổ truyền', 'Bác Hồ với thiếu nhi', '“Non nước Cao Bằng” – tập ảnh',
      'Dân ca H’Mông', 'Ơn Đảng, ơn Bác', 'Em yêu Cao Bằng', 'Âm vang Pác Bó', 'Bà mẹ Việt Nam anh hùng', 'Đang cập nhật',
      'Uống nước nhớ nguồn', 'Căn cứ Đề án', 'Ô Quy Hồ', 'Án lệ số 43/2021/AL', 'Ê-đê và Tày', 'Ba bể mùa thu', 'Cao Bằng miền non nước',
      'Dang dở ước mơ', 'A Páo giữ rừng',
    ];
    for (const t of titles) add(t);
    const got = search.search({ q: '', sort: 'title', limit: 50 }, null).hits.map((h) => h.title);
    expect(got).toEqual([
      'A Páo giữ rừng', 'Án lệ số 43/2021/AL', 'Ăn Tết cổ truyền', 'Âm vang Pác Bó', 'Ba bể mùa thu', 'Bà mẹ Việt Nam anh hùng',
      'Bác Hồ với thiếu nhi', 'Cao Bằng miền non nước', 'Căn cứ Đề án', 'Dang dở ước mơ', 'Dân ca H’Mông', 'Đang cập nhật',
      'Đăng ký nghĩa vụ quân sự', 'Em yêu Cao Bằng', 'Ê-đê và Tày', '“Non nước Cao Bằng” – tập ảnh', 'Ô Quy Hồ', 'Ơn Đảng, ơn Bác',
      'Uống nước nhớ nguồn', 'Ưu đãi người có công',
    ]);
    // Paging in title order: every record once.
    const paged = [1, 2, 3, 4, 5, 6, 7].flatMap((page) => search.search({ q: '', sort: 'title', limit: 3, page }, null).hits.map((h) => h.title));
    expect(paged).toEqual(got);
  });

  it('orders the tones of one letter none, huyền, hỏi, ngã, sắc, nặng, as a dictionary does', () => {
    for (const t of ['Bạ', 'Bá', 'Bã', 'Bả', 'Bà', 'Ba']) add(t);
    expect(search.search({ q: '', sort: 'title' }, null).hits.map((h) => h.title)).toEqual(['Ba', 'Bà', 'Bả', 'Bã', 'Bá', 'Bạ']);
  });
});

describe('the last syllable as a prefix', () => {
  it('keeps the marks typed: `Dao Đỏ` completes đỏ to đỏng, not to đôn or đốc, and `bà` not to bằng', () => {
    const daoDo = add('Nghề dệt thổ cẩm của người Dao Đỏ', { description: 'Ảnh tư liệu xóm Nà Rẻo, huyện Nguyên Bình.' });
    add('Theo dõi, đôn đốc việc thực hiện', { description: 'Tiếp tục chỉ đạo các đơn vị.' });
    const bank = add('Án lệ về hợp đồng thế chấp', { description: 'Hợp đồng tín dụng giữa Ngân hàng với bà L.' });
    add('Tờ trình của Ngân hàng', { description: 'Báo cáo với Ban chỉ đạo bằng văn bản.' });
    expect(search.search({ q: 'Dao Đỏ' }, null).hits.map((h) => h.id)).toEqual([daoDo]);
    expect(search.search({ q: 'Ngân hàng với bà' }, null).hits.map((h) => h.id)).toEqual([bank]);
    // Marks typed so far still complete: a vowel mark without its tone, or the tone of a longer syllable.
    const dang = add('Lịch sử Đảng bộ huyện Hà Quảng');
    const tuyen = add('Tờ gấp tuyên truyền bầu cử');
    expect(search.search({ q: 'Lịch sử Đả' }, null).hits.map((h) => h.id)).toEqual([dang]);
    expect(search.search({ q: 'tờ gấp tuyê' }, null).hits.map((h) => h.id)).toEqual([tuyen]);
    // Unmarked, the prefix still completes to every spelling.
    expect(search.search({ q: 'lich su da' }, null).hits.map((h) => h.id)).toEqual([dang]);
  });

  it('does not rank a completion above the records holding the syllable typed (`to` → tờ, tổ before tốt)', () => {
    for (let i = 0; i < 6; i++) add(`Hội nghị tổ chức lần ${i + 1}`, { description: 'Các đơn vị tổ chức thực hiện.' });
    const good = [add('Thực hiện tốt công tác lưu trữ'), add('Làm tốt công tác quản lý di tích')];
    const to = [add('Tờ rơi phòng chống ma tuý'), add('Tổ quốc nơi cực Bắc')];
    const r = search.search({ q: 'to' }, null);
    expect(r.hits.map((h) => h.id)).toEqual(expect.arrayContaining([...good, ...to]));
    // Records holding `to` itself (tờ, tổ) first, then the completions (tốt).
    const firstTot = r.hits.findIndex((h) => good.includes(h.id));
    expect(r.hits.slice(0, firstTot).length).toBe(8);
    expect(r.hits.slice(firstTot).map((h) => h.id).sort()).toEqual([...good].sort());
  });
});

describe('two syllables typed as one word', () => {
  it('reads `hmong` as H’Mông and `ede` as Ê-đê (a pair some record holds) instead of correcting them to another word', () => {
    const hmong = add("Dân ca H'Mông ở Bảo Lạc", { description: "Chương trình phát thanh tiếng H'Mông." });
    const ede = add('Sử thi Đăm San của người Ê-đê');
    const caoBang = add('Bản đồ du lịch Cao Bằng');
    add('Hướng dẫn tuyên truyền', { description: 'Định hướng công tác năm 2024.' });
    add('Đề án số 19-ĐA/TU', { description: 'Để thực hiện Đề án.' });
    add('Của A và của B');
    const r = search.search({ q: 'hmong' }, null);
    expect(r.hits.map((h) => h.id)).toEqual([hmong]);
    // Shown as the record writes it, not as the folded pair searched.
    expect(r.corrections).toEqual([{ from: 'hmong', to: 'h mong', display: "H'Mông" }]);
    expect(r.hits[0].snippets[0].text).toContain('<mark>H</mark>&#39;<mark>Mông</mark>');
    expect(search.search({ q: 'HMông Bảo Lạc' }, null).hits.map((h) => h.id)).toEqual([hmong]);
    expect(search.search({ q: 'su thi ede' }, null).hits.map((h) => h.id)).toEqual([ede]);
    expect(search.search({ q: 'caobang' }, null).hits.map((h) => h.id)).toEqual([caoBang]);
    // A typo is still a typo: no one-letter last syllable (`cuaa` is not "của A").
    expect(search.search({ q: 'cuaa' }, null).corrections).toEqual([{ from: 'cuaa', to: 'cua', display: 'của' }]);
  });

  it('does not read a word from the pair of a record the viewer may not see', () => {
    add('Tài liệu nội bộ về người K’Ho', { state: 'submitted' });
    const r = search.search({ q: 'kho' }, null);
    expect(r.corrections).toEqual([]);
    expect(r.total).toBe(0);
  });
});

describe('suggestions for a syllable typed with marks', () => {
  const addWithSubjects = (title: string, subjects: string[]) => {
    const id = Number(
      db.sqlite
        .prepare("INSERT INTO products(title, type, subjects, languages, state, access) VALUES (?, 'book', ?, '[\"vi\"]', 'published', 'public')")
        .run(title, JSON.stringify(subjects)).lastInsertRowid,
    );
    search.indexProduct(id);
    return id;
  };
  it('offers what keeps the marks first: `Đăn` → "Đăng ký…" before "Dân tộc…" and "Đang…"', () => {
    addWithSubjects("Dân ca H'Mông ở Bảo Lạc", ["Dân tộc H'Mông"]);
    addWithSubjects('Dân ca Tày', ['Dân tộc Tày']);
    addWithSubjects('Đang cập nhật', []);
    const dang = addWithSubjects('Đăng ký nghĩa vụ quân sự', ['Quốc phòng']);
    addWithSubjects('Bà mẹ Việt Nam anh hùng', []);
    addWithSubjects('Ba bể mùa thu', []);
    const bao = addWithSubjects('Bảo tàng tỉnh Cao Bằng', ['Bảo tàng']);
    expect(search.suggest('Đăn', null)[0]).toMatchObject({ kind: 'title', productId: dang });
    expect(search.suggest('Đăng k', null)[0]).toMatchObject({ kind: 'title', productId: dang });
    const ba = search.suggest('Bả', null);
    expect(ba.findIndex((s) => s.productId === bao)).toBeLessThan(ba.findIndex((s) => s.text === 'Bà mẹ Việt Nam anh hùng'));
    // Typed without marks, a syllable typed in full still fits best: `Dan` → Dân … first.
    expect(search.suggest('Dan', null)[0].text.startsWith('Dân')).toBe(true);
  });
});

describe('sort=date', () => {
  it('lists newest first with a record of unknown date last, not first, and a year alone after that year’s dated records', () => {
    const addDated = (title: string, year: number | null, releaseDate: string | null) => {
      const id = Number(
        db.sqlite
          .prepare("INSERT INTO products(title, type, year, release_date, languages, state, access) VALUES (?, 'photo', ?, ?, '[\"vi\"]', 'published', 'public')")
          .run(title, year, releaseDate).lastInsertRowid,
      );
      search.indexProduct(id);
    };
    addDated('Ảnh cũ không rõ năm chụp', null, null);
    addDated('Ảnh năm 2024', 2024, null);
    addDated('Ảnh ngày 2/5/2024', 2024, '2024-05-02');
    addDated('Ảnh năm 950', 950, null);
    addDated('Ảnh năm 2023', 2023, null);
    addDated('Ảnh ngày 1/12/2024', 2024, '2024-12-01');
    const want = ['Ảnh ngày 1/12/2024', 'Ảnh ngày 2/5/2024', 'Ảnh năm 2024', 'Ảnh năm 2023', 'Ảnh năm 950', 'Ảnh cũ không rõ năm chụp'];
    expect(search.search({ q: 'ảnh', sort: 'date' }, null).hits.map((h) => h.title)).toEqual(want);
    // Browsing (empty query) is newest first too.
    expect(search.search({ q: '' }, null).hits.map((h) => h.title)).toEqual(want);
  });
});

describe('a number typed last', () => {
  it('is searched as typed (`199` is not 1990, `2/9` not 2/95) but still completes in suggestions', () => {
    const plan = add('Kế hoạch số 199-KH/TU năm 2023');
    add('Bộ luật Dân sự năm 1990');
    const quocKhanh = add('Chào mừng Quốc khánh 2/9');
    const kyNiem = add('Kỷ niệm 95 năm Ngày thành lập Đảng (3/2/1930 - 3/2/2025)');
    expect(search.search({ q: '199' }, null).hits.map((h) => h.id)).toEqual([plan]);
    expect(search.search({ q: '2/9' }, null).hits.map((h) => h.id)).toEqual([quocKhanh]);
    // Words still complete: `Kỷ niệm 95 nă` → năm.
    expect(search.search({ q: 'Kỷ niệm 95 nă' }, null).hits.map((h) => h.id)).toEqual([kyNiem]);
    expect(search.suggest('Kỷ niệm 9', null).map((s) => s.productId)).toContain(kyNiem);
  });
});

describe('completions of a syllable found only in file texts', () => {
  it('still score in the catalogue fields (no cap from a syllable the fields do not hold)', () => {
    const thong = add('Truyền thống cách mạng Cao Bằng');
    add('Truyền thông cơ sở');
    const withText = add('Tài liệu quét');
    attachPdfText(withText, 'e', 'quet.pdf', 'Xóm thôn bản vùng cao.');
    const score = (q: string) => search.search({ q }, null).hits.find((h) => h.id === thong)?.score ?? 0;
    // `thon` is a known syllable (thôn, in the file text only); its completion thống still counts.
    expect(score('truyen thon')).toBeGreaterThan(score('truyen ') + 1);
  });
});
