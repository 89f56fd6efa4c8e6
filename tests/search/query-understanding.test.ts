/**
 * Query understanding (issue 5, outside review): abbreviations of administrative text (UBND ↔ Ủy ban
 * nhân dân), words of three or more syllables typed without spaces (`hochiminh`), how a rewritten
 * query is shown (`display`), and a passage pasted with a piece of a word at either end.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Database_ } from '../../server/db/client.ts';
import type { SearchService } from '../../server/search/index.ts';
import { openMemorySearch, type MemorySearch } from '../helpers/memory-search.ts';
import { ABBREVIATIONS } from '../../server/search/abbreviations.ts';
import { readFileSync } from 'node:fs';

let m: MemorySearch;
let db: Database_;
let search: SearchService;
const add = (title: string, description: string | null = null, state = 'published') => m.add(title, { description, state });
const ids = (q: string) => search.search({ q }, null).hits.map((h) => h.id);
const sorted = (a: number[]) => [...a].sort((x, y) => x - y);

beforeEach(() => {
  m = openMemorySearch();
  ({ db, search } = m);
});
afterEach(() => m.close());

describe('abbreviations', () => {
  it('finds the words written out for `UBND tỉnh`, in both tone placements, and the abbreviation first', () => {
    const written = add('Báo cáo của Ủy ban nhân dân tỉnh Cao Bằng năm 2023');
    const newStyle = add('Chỉ thị của Uỷ ban nhân dân tỉnh về phòng chống thiên tai');
    const abbr = add('Công văn của UBND tỉnh Cao Bằng');
    add('Ủy ban kiểm tra gặp gỡ nhân dân tỉnh'); // the four syllables apart: not "Ủy ban nhân dân"
    add('Lịch sử Đảng bộ tỉnh Cao Bằng');
    const r = search.search({ q: 'UBND tỉnh' }, null);
    expect(sorted(r.hits.map((h) => h.id))).toEqual(sorted([written, newStyle, abbr]));
    expect(r.hits[0].id).toBe(abbr);
    expect(r.mode).toBe('and');
    expect(r.expansions).toEqual([{ from: 'ubnd', to: 'uy ban nhan dan', display: 'Ủy ban nhân dân' }]);
    // Typed in lower case, alone, or without marks the same.
    expect(sorted(ids('ubnd'))).toEqual(sorted([written, newStyle, abbr]));
    // Typed twice, reported once.
    expect(search.search({ q: 'UBND UBND tỉnh' }, null).expansions).toHaveLength(1);
    expect(sorted(ids('ubnd tinh cao bang'))).toEqual(sorted([written, abbr]));
  });

  it('finds a record writing UBND by `ủy ban nhân dân`, after the records writing the words', () => {
    const written = add('Quyết định của Ủy ban nhân dân tỉnh');
    const abbr = add('Công văn số 12 của UBND tỉnh');
    add('Nhân dân tỉnh Cao Bằng');
    for (const q of ['ủy ban nhân dân', 'Uỷ ban nhân dân', 'uy ban nhan dan', 'ủy ban nhân dân tỉnh']) {
      const r = search.search({ q }, null);
      expect(r.hits.map((h) => h.id), q).toEqual([written, abbr]);
      expect(r.expansions, q).toEqual([{ from: 'uy ban nhan dan', to: 'ubnd', display: 'UBND' }]);
    }
  });

  it('finds a record mixing the forms ("Ủy ban MTTQ") by the words written out, nested abbreviations included', () => {
    const mixed = add('Ủy ban MTTQ Việt Nam tỉnh phát động thi đua');
    const full = add('Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh Cao Bằng');
    add('Ủy ban kiểm tra phát động thi đua');
    expect(sorted(ids('Ủy ban Mặt trận Tổ quốc'))).toEqual(sorted([mixed, full]));
    const r = search.search({ q: 'uy ban mat tran to quoc' }, null);
    expect(r.hits[0].id).toBe(full);
    expect(r.expansions).toEqual([{ from: 'mat tran to quoc', to: 'mttq', display: 'MTTQ' }]);
    const dcs = add('Lịch sử ĐCS Việt Nam');
    expect(ids('Đảng Cộng sản Việt Nam')).toEqual([dcs]);
  });

  it('tells the public of no form that only records it may not see hold', () => {
    const pub = add('Công văn của UBND tỉnh');
    const draft = add('Báo cáo của Ủy ban nhân dân tỉnh', null, 'submitted');
    const archivist = { userId: 1, username: 'luu-tru', role: 'archivist', agencyId: null, canSeeInternal: true, via: 'session' } as const;
    expect(search.search({ q: 'UBND' }, null)).toMatchObject({ total: 1, expansions: [] });
    expect(search.search({ q: 'UBND' }, archivist).expansions).toHaveLength(1);
    expect(sorted(search.search({ q: 'UBND' }, archivist).hits.map((h) => h.id))).toEqual(sorted([pub, draft]));
    // The other way: HĐND is written only in a draft.
    const council = add('Nghị quyết của Hội đồng nhân dân huyện');
    const hdnd = add('Báo cáo của HĐND huyện', null, 'submitted');
    expect(search.search({ q: 'hội đồng nhân dân' }, null)).toMatchObject({ total: 1, expansions: [] });
    expect(search.search({ q: 'hội đồng nhân dân' }, archivist).hits.map((h) => h.id)).toEqual([council, hdnd]);
  });

  it('reads HĐND and HDND, MTTQ, THPT, CNXH and XHCN, and TW typed alone', () => {
    const hdnd = add('Nghị quyết của Hội đồng nhân dân tỉnh');
    const mttq = add('Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh Cao Bằng tuyên truyền bầu cử');
    const thpt = add('Tài liệu cho học sinh trung học phổ thông');
    const xhcn = add('Con đường đi lên chủ nghĩa xã hội, xây dựng nhà nước xã hội chủ nghĩa');
    const tw = add('Ban Chấp hành Trung ương Đảng khóa XIII');
    expect(ids('HĐND')).toEqual([hdnd]);
    expect(ids('HDND tỉnh')).toEqual([hdnd]);
    expect(ids('MTTQ')).toEqual([mttq]);
    expect(ids('THPT')).toEqual([thpt]);
    expect(ids('CNXH')).toEqual([xhcn]);
    expect(ids('XHCN')).toEqual([xhcn]);
    expect(ids('BCH TW')).toEqual([tw]);
  });

  it('does not expand a document number (QĐ-UBND, NQ/TW), nor contract words to an abbreviation of two letters', () => {
    const code = add('Quyết định số 12/QĐ-UBND về kế hoạch tuyên truyền');
    add('Quyết định của Ủy ban nhân dân tỉnh về tuyên truyền');
    expect(ids('12/QĐ-UBND')).toEqual([code]);
    expect(ids('QĐ-UBND')).toEqual([code]);
    // "trung ương" does not find every record citing a resolution numbered …-NQ/TW.
    add('Học tập Nghị quyết số 19-NQ/TW');
    const tw = add('Hội nghị Trung ương lần thứ tám');
    expect(ids('trung ương')).toEqual([tw]);
  });

  it('leaves ambiguous abbreviations as typed: KH is not kế hoạch, CT is not chỉ thị', () => {
    add('Kế hoạch tuyên truyền năm 2024');
    add('Chỉ thị về công tác tuyên truyền');
    expect(search.search({ q: 'KH' }, null).total).toBe(0);
    expect(search.search({ q: 'CT' }, null).total).toBe(0);
    expect(ABBREVIATIONS.map((a) => a.abbr)).not.toContain('kh');
    expect(ABBREVIATIONS.map((a) => a.abbr)).not.toContain('ct');
  });

  it('reads `uybannhandan` typed without spaces as the words of UBND and finds the records writing UBND', () => {
    // Only the abbreviation is written: the four syllables stand together nowhere.
    const abbr = add('Công văn của UBND tỉnh Cao Bằng');
    add('Nhân dân các dân tộc Cao Bằng');
    add('Ban Tuyên giáo Tỉnh ủy');
    const r = search.search({ q: 'uybannhandan' }, null);
    expect(r.hits.map((h) => h.id)).toEqual([abbr]);
    expect(r.corrections.map((c) => c.to)).toEqual(['uy ban nhan dan']);
    expect(r.expansions).toEqual([{ from: 'uy ban nhan dan', to: 'ubnd', display: 'UBND' }]);
    expect(r.hits[0].snippets[0].text).toContain('<mark>UBND</mark>');
    // Both forms, and a syllable after the words: `ubnd tinh` stands for "ủy ban nhân dân tỉnh".
    const written = add('Quyết định của Ủy ban nhân dân tỉnh về du lịch');
    expect(sorted(ids('uybannhandan'))).toEqual(sorted([abbr, written]));
    const tinh = search.search({ q: 'uybannhandantinh' }, null);
    expect(sorted(tinh.hits.map((h) => h.id))).toEqual(sorted([abbr, written]));
    expect(tinh.hits.find((h) => h.id === abbr)!.snippets[0].text).toContain('<mark>UBND</mark> <mark>tỉnh</mark>');
  });

  it('marks the words of an expansion only where they stand together', () => {
    const both = add('Ban Tuyên giáo hướng dẫn tuyên truyền', 'Ban Tuyên giáo Tỉnh ủy phối hợp với Ủy ban nhân dân tỉnh tổ chức');
    const abbr = add('Công văn của UBND tỉnh Cao Bằng');
    const r = search.search({ q: 'UBND tỉnh' }, null);
    const text = (id: number) => r.hits.find((h) => h.id === id)!.snippets.map((s) => s.text).join(' | ');
    expect(text(both)).toContain('<mark>Ủy</mark> <mark>ban</mark> <mark>nhân</mark> <mark>dân</mark> <mark>tỉnh</mark>');
    expect(text(both)).not.toContain('<mark>Ban</mark>');
    expect(text(both)).toContain('Tuyên giáo <mark>Tỉnh</mark> ủy');
    expect(text(abbr)).toContain('<mark>UBND</mark> <mark>tỉnh</mark>');
    // A word typed without spaces likewise: "Hồ" of "Hồ Ba Bể" is not marked for `hochiminh`.
    const lake = add('Hồ Ba Bể và Hồ Chí Minh', 'Hồ Ba Bể gần Pác Bó');
    const h = search.search({ q: 'hochiminh' }, null).hits.find((x) => x.id === lake)!;
    expect(h.snippets.map((s) => s.text).join(' | ')).toContain('Hồ Ba Bể và <mark>Hồ</mark> <mark>Chí</mark> <mark>Minh</mark>');
  });

  it('reads an abbreviation typed in halves (KT-XH, CNH-HĐH) as the abbreviation, not a document number', () => {
    const report = add('Báo cáo tình hình kinh tế - xã hội tỉnh Cao Bằng năm 2023');
    const short = add('Nghị quyết về phát triển KT-XH vùng biên giới');
    const farm = add('Đẩy mạnh công nghiệp hóa, hiện đại hóa nông nghiệp vùng cao');
    add('Kinh tế tập thể và xã hội hóa giáo dục'); // the words apart: not "kinh tế - xã hội"
    for (const q of ['KT-XH', 'kt-xh', 'KT/XH', 'KT-XH 2023']) {
      const r = search.search({ q }, null);
      expect(sorted(r.hits.map((h) => h.id)), q).toEqual(q.includes('2023') ? [report] : sorted([report, short]));
      expect(r.mode, q).toBe('and');
    }
    expect(search.search({ q: 'KT-XH' }, null).expansions).toEqual([{ from: 'ktxh', to: 'kinh te xa hoi', display: 'kinh tế - xã hội' }]);
    // The record writing "KT-XH" has it marked where the halves stand together.
    const marked = search.search({ q: 'KT-XH' }, null).hits.find((h) => h.id === short)!;
    expect(marked.snippets.map((x) => x.text).join(' ')).toContain('<mark>KT</mark>-<mark>XH</mark>');
    expect(ids('CNH-HĐH nông nghiệp')).toEqual([farm]);
    expect(ids('cnh-hdh')).toEqual([farm]);
    // A document number whose parts are no listed abbreviation stays a phrase.
    const decision = add('Quyết định số 12/QĐ-UBND');
    expect(ids('QĐ-UBND')).toEqual([decision]);
  });

  it('reads an abbreviation typed in halves with spaces or another dash between them (KT - XH, KT – XH) as KT-XH', () => {
    const report = add('Báo cáo tình hình kinh tế - xã hội tỉnh Cao Bằng năm 2023');
    const short = add('Nghị quyết về phát triển KT-XH vùng biên giới');
    const farm = add('Đẩy mạnh công nghiệp hóa, hiện đại hóa nông nghiệp vùng cao');
    add('Kinh tế tập thể và xã hội hóa giáo dục');
    const want = sorted(ids('KT-XH'));
    expect(want).toEqual(sorted([report, short]));
    for (const q of ['KT - XH', 'KT – XH', 'KT—XH', 'KT–XH', 'kt - xh', 'KT / XH', 'KT -XH']) {
      const r = search.search({ q }, null);
      expect(sorted(r.hits.map((h) => h.id)), q).toEqual(want);
      expect(r.expansions, q).toEqual([{ from: 'ktxh', to: 'kinh te xa hoi', display: 'kinh tế - xã hội' }]);
    }
    expect(ids('CNH - HĐH nông nghiệp')).toEqual([farm]);
    expect(ids('cnh – hdh')).toEqual([farm]);
    // Words around a spaced dash that are no listed abbreviation stay two words.
    expect(ids('kinh tế - xã hội 2023')).toEqual([report]);
  });

  it('finds a record writing only KT-XH or CNH-HĐH by the words written out, after the records writing the words', () => {
    const short = add('Nghị quyết về phát triển KT-XH vùng biên giới');
    const full = add('Nghị quyết về phát triển kinh tế - xã hội vùng biên giới');
    const farmShort = add('Đẩy mạnh CNH-HĐH nông nghiệp vùng cao');
    const farmFull = add('Đẩy mạnh công nghiệp hóa, hiện đại hóa nông nghiệp vùng cao');
    add('Kinh tế tập thể và xã hội hóa giáo dục'); // the words apart
    for (const q of ['kinh tế xã hội', 'kinh te xa hoi', 'kinh tế - xã hội vùng biên giới']) {
      const r = search.search({ q }, null);
      // (The record holding the four words apart is found too, by the words.)
      expect(r.hits[0].id, q).toBe(full);
      expect(r.hits.map((h) => h.id), q).toContain(short);
      expect(r.expansions, q).toContainEqual({ from: 'kinh te xa hoi', to: 'ktxh', display: 'KT-XH' });
    }
    for (const q of ['công nghiệp hóa hiện đại hóa', 'cong nghiep hoa hien dai hoa nong nghiep']) {
      expect(ids(q), q).toEqual([farmFull, farmShort]);
    }
    // The halves are marked in the snippet of the record writing them.
    const h = search.search({ q: 'kinh tế xã hội' }, null).hits.find((x) => x.id === short)!;
    expect(h.snippets.map((x) => x.text).join(' ')).toContain('<mark>KT</mark>-<mark>XH</mark>');
  });

  it('shows the snippet of the field holding more of the query (the title holding kinh tế - xã hội and 2023, not a description lacking 2023)', () => {
    const id = add('Báo cáo tình hình kinh tế - xã hội tỉnh Cao Bằng năm 2023', 'Đánh giá kết quả phát triển kinh tế - xã hội, quốc phòng, an ninh của tỉnh');
    for (const q of ['KT-XH 2023', 'kinh tế xã hội 2023']) {
      const hit = search.search({ q }, null).hits.find((h) => h.id === id)!;
      expect(hit.snippets[0].field, q).toBe('title');
      expect(hit.snippets[0].text, q).toContain('<mark>2023</mark>');
    }
    // A description holding all the query still comes first (the title is not preferred as such).
    const both = add('Báo cáo năm 2023', 'Tình hình kinh tế - xã hội năm 2023 của tỉnh');
    expect(search.search({ q: 'KT-XH 2023' }, null).hits.find((h) => h.id === both)!.snippets[0].field).toBe('description');
  });

  it('reads HCM as Hồ Chí Minh, in TP.HCM too', () => {
    const city = add('Hội thảo tuyên truyền tại TP.HCM');
    const museum = add('Bảo tàng Hồ Chí Minh chi nhánh Cao Bằng');
    const thought = add('Học tập tư tưởng HCM');
    add('Hàm Yên và Hà Quảng'); // `ham`: what `hcm` was corrected to
    expect(ids('tp hcm')).toEqual([city]);
    expect(ids('TP.HCM')).toEqual([city]);
    expect(sorted(ids('HCM'))).toEqual(sorted([city, museum, thought]));
    expect(sorted(ids('hồ chí minh'))).toEqual(sorted([museum, thought, city]));
    expect(search.search({ q: 'tp hcm' }, null).corrections).toEqual([]);
  });

  it('ranks a record writing the words of an abbreviation typed alone above a file text merely holding it', () => {
    const council = add('Nghị quyết của Hội đồng nhân dân tỉnh về phát triển du lịch');
    const front = add('Tài liệu tuyên truyền bầu cử của Ủy ban Mặt trận Tổ quốc tỉnh');
    const law = add('Thông tư hướng dẫn về lao động');
    m.attachPdfText(law, 'c', 'thong-tu.pdf', 'Gửi HĐND, UBND các tỉnh; MTTQ các cấp phối hợp thực hiện');
    for (const [q, want] of [['HĐND', council], ['hdnd', council], ['MTTQ', front]] as const) {
      const r = search.search({ q }, null);
      expect(r.hits.map((h) => h.id), q).toEqual([want, law]);
    }
    // Two words typed: a text holding them together still earns its phrase bonus.
    expect(ids('HĐND UBND')).toEqual([law]);
  });

  it('lists in docs/search.md every abbreviation it expands', () => {
    const doc = readFileSync(new URL('../../docs/search.md', import.meta.url), 'utf8');
    for (const a of ABBREVIATIONS) expect(doc, a.written).toContain(`${a.written} → ${a.display}`);
  });
});

describe('words of three or more syllables typed as one', () => {
  it('reads `hochiminh` as Hồ Chí Minh, side by side, and shows it so', () => {
    const hcm = add('Chủ tịch Hồ Chí Minh với Cao Bằng');
    add('Hồ Ba Bể, chí khí và Minh Khai'); // the syllables apart
    const r = search.search({ q: 'hochiminh' }, null);
    expect(r.hits.map((h) => h.id)).toEqual([hcm]);
    expect(r.corrections).toEqual([{ from: 'hochiminh', to: 'ho chi minh', display: 'Hồ Chí Minh' }]);
    expect(r.hits[0].snippets[0].text).toContain('<mark>Hồ</mark> <mark>Chí</mark> <mark>Minh</mark>');
    // With no hit on the page to read it from, the syllables as searched, not marks guessed one by one.
    expect(search.search({ q: 'hochiminh', page: 2 }, null).corrections).toEqual([{ from: 'hochiminh', to: 'ho chi minh', display: 'ho chi minh' }]);
    expect(ids('hochiminh cao bang')).toEqual([hcm]);
    expect(ids('tuyentruyenmieng')).toEqual([]);
    const mieng = add('Tài liệu tuyên truyền miệng tháng 5');
    expect(ids('tuyentruyenmieng')).toEqual([mieng]);
  });

  it('reads `caobang` as Cao Bằng even when a web address holds the word caobang', () => {
    const site = add('Trang thông tin điện tử lịch sử', 'Địa chỉ: lichsu.caobang.gov.vn');
    const map = add('Bản đồ du lịch Cao Bằng');
    const book = add('Đất và người Cao Bằng');
    add('Cao su và bằng khen'); // the syllables apart
    const r = search.search({ q: 'caobang' }, null);
    expect(sorted(r.hits.map((h) => h.id))).toEqual(sorted([site, map, book]));
    expect(r.corrections).toMatchObject([{ from: 'caobang', to: 'cao bang' }]);
    expect(ids('ban do du lich caobang')).toEqual([map]);
  });

  it('finds nothing for long junk and leaves it out', () => {
    add('Chủ tịch Hồ Chí Minh với Cao Bằng');
    for (const q of ['anhanhanhanhanhanhanhanhanhanhanhanhanh', 'hochiminhxqzvwhochiminh']) {
      const r = search.search({ q }, null);
      expect(r.total, q).toBe(0);
      expect(r.ignored, q).toEqual([q]);
    }
  });
});

describe('a passage pasted with a piece of a word at either end', () => {
  const passage = 'Tiếp tục thực hiện các nhiệm vụ tuyên truyền giáo dục truyền thống cách mạng trên quê hương Cao Bằng';
  it('does not require a first word no syllable is written as (`c`), and says so', () => {
    const plan = add('Kế hoạch thực hiện Đề án 19-ĐA/TU', passage);
    add('Phụ lục c) danh mục tài liệu tuyên truyền'); // holds `c`
    add('Giáo dục truyền thống cho đoàn viên');
    const r = search.search({ q: 'c nhiệm vụ tuyên truyền giáo dục truyền thống' }, null);
    expect(r.mode).toBe('and');
    expect(r.hits.map((h) => h.id)).toEqual([plan]);
    expect(r.optional).toEqual(['c']);
    // A short query keeps every word required, and so does a word in capitals.
    expect(search.search({ q: 'c tuyên truyền' }, null).optional ?? []).toEqual([]);
  });

  it('drops a cut-off last word (copied with a trailing space) only when the whole passage matched nothing', () => {
    const plan = add('Kế hoạch thực hiện Đề án 19-ĐA/TU', passage);
    add('Tập thơ về quê hương Cao Bằng'); // holds `thơ`, folded like the cut-off `thố`
    const r = search.search({ q: 'nhiệm vụ tuyên truyền giáo dục truyền thố ' }, null);
    expect(r.mode).toBe('and');
    expect(r.hits.map((h) => h.id)).toEqual([plan]);
    expect(r.optional).toEqual(['tho']);
    // Whole words that match stay required and nothing is reported.
    const whole = search.search({ q: 'nhiệm vụ tuyên truyền giáo dục truyền thống ' }, null);
    expect(whole.hits.map((h) => h.id)).toEqual([plan]);
    expect(whole.optional).toEqual([]);
  });

  it('does not require an edge word of a long passage that is a syllable but stands next to its neighbour nowhere', () => {
    const portal = add('Cổng thông tin điện tử tỉnh', 'Cổng thông tin đối ngoại của Ủy ban nhân dân tỉnh Cao Bằng giới thiệu tiềm năng du lịch');
    // Holds every word of the passage, `ông` included, but not as the passage.
    const other = add('Ông Nông Văn Dền kể chuyện', 'Ủy ban nhân dân xã trao đổi tin tức về công tác đối ngoại của huyện');
    const r = search.search({ q: 'ông tin đối ngoại của Ủy ban nhân dân' }, null);
    expect(r.mode).toBe('and');
    expect(r.hits[0].id).toBe(portal);
    expect(r.optional).toEqual(['ong']);
    // The same at the end of a passage copied with a trailing space (`truy` of "truyền").
    const plan = add('Kế hoạch tuyên truyền', 'Tiếp tục đẩy mạnh công tác tuyên truyền về biển đảo');
    add('Danh hiệu cao quý', 'Đẩy mạnh công tác truy tặng danh hiệu, tiếp tục tuyên dương gương tốt');
    const end = search.search({ q: 'Tiếp tục đẩy mạnh công tác tuyên truy ' }, null);
    expect(end.hits[0].id).toBe(plan);
    expect(end.optional).toEqual(['truy']);
    // A whole word standing next to its neighbour in some record stays required.
    const story = add('Ông Nông Văn Dền kể chuyện cách mạng');
    add('Nông Văn Dền kể chuyện cách mạng quê hương');
    const whole = search.search({ q: 'ông Nông Văn Dền kể chuyện' }, null);
    expect(sorted(whole.hits.map((h) => h.id))).toEqual(sorted([other, story]));
    expect(whole.optional).toEqual([]);
    // A short query keeps every word required: `ông bà` does not find "thông tin về bà".
    const grand = add('Ông bà kể chuyện cổ tích');
    add('Thông tin về bà mẹ Việt Nam anh hùng');
    expect(ids('ông bà')).toEqual([grand]);
    expect(search.search({ q: 'ông bà kể' }, null).optional).toEqual([]);
  });
});

describe('spellings of one word', () => {
  it('finds kỹ by kĩ, lí by lý, mỹ by mĩ and quý by quí, both ways, and nothing else', () => {
    const ky = add('Kỹ năng tuyên truyền miệng cho báo cáo viên');
    const ki = add('Rèn kĩ năng viết tin bài');
    const li = add('Giáo trình lí luận chính trị');
    const my = add('Mỹ thuật dân gian Tày');
    const quy = add('Những tấm gương quý');
    const ki2 = add('Kì thi học sinh giỏi'); // kì / kỳ likewise
    add('Lịch sử tỉnh Cao Bằng');
    expect(sorted(ids('kĩ năng'))).toEqual(sorted([ky, ki]));
    expect(sorted(ids('ky nang '))).toEqual(sorted([ky, ki]));
    expect(ids('lý luận')).toEqual([li]);
    expect(ids('mĩ thuật')).toEqual([my]);
    expect(ids('gương quí')).toEqual([quy]);
    const r = search.search({ q: 'lý luận chính trị' }, null);
    expect(r.corrections).toEqual([{ from: 'ly', to: 'li', display: 'lí' }]);
    expect(r.ignored).toEqual([]);
    expect(r.hits[0].snippets[0].text).toContain('<mark>lí</mark> <mark>luận</mark>');
    expect(ids('kỳ thi ')).toEqual([ki2]);
  });

  it('finds a date written with leading zeros by one typed without them, and back', () => {
    const padded = add('Quyết định số 12/QĐ-UBND ngày 05/01/2023 về tuyên truyền');
    const plain = add('Thông báo ngày 5/1/2023 của Ban Tuyên giáo');
    add('Kế hoạch số 199-KH/TU ngày 18/01/2023'); // holds 01 and 2023, not 5
    expect(sorted(ids('5/1/2023'))).toEqual(sorted([padded, plain]));
    expect(sorted(ids('05/01/2023'))).toEqual(sorted([padded, plain]));
    expect(search.search({ q: 'ngày 5/1/2023' }, null).ignored).toEqual([]);
    // Two digits are not padded further: 12 is not 012, nor 18 / 1.
    expect(ids('ngày 18 ')).toHaveLength(1);
  });
});

describe('what a researcher types around the words', () => {
  it('reads AND between words as what adjacent words mean anyway, and neither reports nor corrects it', () => {
    const book = add('Cao Bằng thực lục');
    add('Bản đồ du lịch Cao Bằng');
    add('Tài liệu về anh hùng Cao Bằng'); // holds `anh`, what `and` was corrected to
    const r = search.search({ q: 'cao AND bằng' }, null);
    expect(r.ignored).toEqual([]);
    expect(r.corrections).toEqual([]);
    expect(r.total).toBe(3);
    const quoted = search.search({ q: '"cao bằng" AND "thực lục"' }, null);
    expect(quoted.hits.map((h) => h.id)).toEqual([book]);
    // In lower case it is a word like any other; alone it is what was asked for.
    expect(search.search({ q: 'cao and bằng' }, null).ignored).toEqual([]);
    expect(search.search({ q: 'AND' }, null).ignored).not.toEqual(['and']);
  });

  it('excludes records holding a word typed with a minus, in their fields or file text, from hits, totals and facets', () => {
    const map = add('Bản đồ du lịch Cao Bằng (loại cầm tay)');
    const wall = add('Bản đồ hành chính tỉnh Cao Bằng');
    const atlas = m.add('Bản đồ địa hình huyện Trùng Khánh', { languages: ['tay'] });
    m.attachPdfText(atlas, 'a', 'atlas.pdf', 'Tập bản đồ in kèm tờ gấp cầm tay cho du khách');
    add('Lịch sử Đảng bộ tỉnh Cao Bằng');
    expect(sorted(ids('bản đồ'))).toEqual(sorted([map, wall, atlas]));
    const r = search.search({ q: 'bản đồ -cầm' }, null);
    expect(r.hits.map((h) => h.id)).toEqual([wall]);
    expect(r.total).toBe(1);
    expect(r.facets.language).toEqual({ vi: 1 });
    expect(r.ignored).toEqual([]);
    // Without marks, in capitals, at the start: the same; `NOT` in capitals before a word too.
    for (const q of ['ban do -cam', '-CẦM bản đồ', 'bản đồ NOT cầm']) expect(ids(q), q).toEqual([wall]);
    // A hyphen inside a word or a document number is no minus: `Ê-đê`, `199-KH/TU`.
    const plan = add('Kế hoạch số 199-KH/TU về tuyên truyền');
    expect(ids('199-KH/TU')).toContain(plan);
    // Lower-case `not` is a word: it excludes nothing.
    expect(ids('bản đồ not cầm')).not.toEqual([wall]);
    // A minus sign or an en dash before a word, as a phone may type it, is the minus; between words it is not.
    expect(ids('bản đồ \u2212cầm')).toEqual([wall]);
    expect(ids('bản đồ \u2013cầm')).toEqual([wall]);
    expect(sorted(ids('bản đồ \u2013 cầm'))).toEqual(sorted([map, atlas]));
  });

  it('excludes a quoted phrase only where its words stand together', () => {
    const hand = add('Bản đồ du lịch loại cầm tay');
    const apart = add('Bản đồ du lịch, tay cầm tờ gấp');
    const other = add('Bản đồ hành chính');
    expect(sorted(ids('bản đồ -"cầm tay"'))).toEqual(sorted([apart, other]));
    expect(sorted(ids('bản đồ NOT "cầm tay"'))).toEqual(sorted([apart, other]));
    expect(ids('bản đồ -"cầm tay" -tờ')).toEqual([other]);
    expect(ids('bản đồ -cầm -tay')).toEqual([other]);
    void hand;
  });

  it('lists everything but the excluded records for a query of exclusions only, newest first', () => {
    const a = add('Bản đồ du lịch Cao Bằng');
    const b = add('Lịch sử Đảng bộ tỉnh Cao Bằng');
    const c = add('Tờ gấp thác Bản Giốc');
    const r = search.search({ q: '-"bản đồ"' }, null);
    expect(r.mode).toBe('all');
    expect(sorted(r.hits.map((h) => h.id))).toEqual(sorted([b, c]));
    expect(sorted(ids('-đồ -giốc'))).toEqual([b]);
    void a;
  });

  it('matches either side of a capital OR, adjacent words binding first, with totals and facets of the union', () => {
    const waterfall = m.add('Tờ gấp giới thiệu thác Bản Giốc', { languages: ['tay'] });
    const cave = add('Khu di tích Pác Bó');
    const map = add('Bản đồ du lịch Cao Bằng');
    add('Thác nước và hang động'); // `thác` without `bản giốc`
    add('Giốc đá trong bản làng'); // `bản` and `giốc` apart
    const r = search.search({ q: 'thác bản giốc OR pác bó' }, null);
    expect(sorted(r.hits.map((h) => h.id))).toEqual(sorted([waterfall, cave]));
    expect(r.total).toBe(2);
    expect(r.facets.language).toEqual({ tay: 1, vi: 1 });
    expect(r.ignored).toEqual([]);
    // Each side keeps its own understanding: a phrase, a typo.
    expect(sorted(ids('"bản giốc" OR "pác bó" OR bản đồ'))).toEqual(sorted([waterfall, cave, map]));
    expect(sorted(ids('thác bản giốc OR pác bóo'))).toEqual(sorted([waterfall, cave]));
    // With an exclusion (it applies to the whole query) and a filter.
    expect(ids('thác bản giốc OR pác bó -tờ')).toEqual([cave]);
    expect(search.search({ q: 'thác bản giốc OR pác bó', language: 'tay' }, null).hits.map((h) => h.id)).toEqual([waterfall]);
    // Snippets mark the words of the side that matched.
    const snip = search.search({ q: 'giới thiệu OR pác bó' }, null).hits.find((h) => h.id === cave)!;
    expect(snip.snippets.map((s) => s.text).join(' ')).toContain('<mark>Pác</mark>');
    // Lower-case `or` is a word; `OR` at either end is a word too; several in a row are one.
    expect(ids('thác bản giốc or pác bó')).not.toContain(cave);
    expect(sorted(ids('thác bản giốc OR OR pác bó'))).toEqual(sorted([waterfall, cave]));
  });

  it('groups words in parentheses: OR inside a group, a minus or NOT before one, totals and facets following', () => {
    const waterfall = m.add('Tờ gấp giới thiệu thác Bản Giốc Cao Bằng', { languages: ['tay'] });
    const cave = add('Khu di tích Pác Bó Cao Bằng');
    const mapCave = add('Bản đồ du lịch Pác Bó');
    const history = add('Lịch sử Đảng bộ tỉnh Cao Bằng');
    const far = add('Thác Bản Giốc nhìn từ Trung Quốc'); // no `cao bằng`
    // `(a OR b) c`: c is required beside either side.
    const r = search.search({ q: '(thác bản giốc OR pác bó) cao bằng' }, null);
    expect(sorted(r.hits.map((h) => h.id))).toEqual(sorted([waterfall, cave]));
    expect(r.total).toBe(2);
    expect(r.facets.language).toEqual({ tay: 1, vi: 1 });
    expect(r.ignored).toEqual([]);
    expect(sorted(ids('cao bằng (thác OR pác)'))).toEqual(sorted([waterfall, cave]));
    // Multiplied out: giốc cao, giốc đồ, bó cao, bó đồ (bó folded is also the "bộ" of "Đảng bộ"). "giốc đồ"
    // is held nowhere: that alternative adds nothing (no fall-back to records holding half of it, `far`).
    expect(sorted(ids('(giốc OR bó) (cao OR đồ)'))).toEqual(sorted([waterfall, cave, mapCave, history]));
    // `c -(a b)`: leaves out the records holding both, not those holding one.
    expect(sorted(ids('cao bằng -(pác bó)'))).toEqual(sorted([waterfall, history]));
    expect(sorted(ids('cao bằng NOT (pác bó)'))).toEqual(sorted([waterfall, history]));
    expect(sorted(ids('cao bằng -(pác thác)'))).toEqual(sorted([waterfall, cave, history]));
    // `-(a OR b)` leaves out both.
    expect(ids('cao bằng -(pác OR thác)')).toEqual([history]);
    // An exclusion inside a group applies to that group: `(a -b) OR c`.
    expect(sorted(ids('(cao bằng -tờ) OR bản đồ'))).toEqual(sorted([cave, history, mapCave]));
    expect(sorted(ids('(pác bó -đồ) OR giốc'))).toEqual(sorted([cave, waterfall, far]));
    // Only exclusions: everything but.
    expect(sorted(ids('-(pác bó)'))).toEqual(sorted([waterfall, history, far]));
    // Unbalanced or empty parentheses are punctuation: no error, read as the words.
    for (const q of ['(cao bằng', 'cao bằng)', ')cao bằng(', '() cao bằng', 'cao (bằng', '((cao bằng)', 'cao -() bằng', '-(', '()']) {
      const res = search.search({ q }, null);
      if (q === '-(' || q === '()') expect(res.total, q).toBe(0);
      else expect(sorted(res.hits.map((h) => h.id)), q).toEqual(sorted([waterfall, cave, history]));
    }
    // Plain parentheses around words change nothing (`Bản đồ du lịch (Pác Bó)`).
    expect(search.search({ q: 'bản đồ (pác bó)' }, null).hits.map((h) => [h.id, h.score])).toEqual(search.search({ q: 'bản đồ pác bó' }, null).hits.map((h) => [h.id, h.score]));
    // Bounded: nested too deep or multiplied beyond MAX_BRANCHES, the parentheses are read as punctuation.
    expect(search.search({ q: '((((((cao))))))' }, null).total).toBe(3);
    expect(search.search({ q: '(a OR b) (c OR d) (e OR f) (g OR h)' }, null).total).toBeGreaterThanOrEqual(0);
  });

  it('keeps hostile operator input safe and meaningful', () => {
    add('Bản đồ du lịch Cao Bằng');
    add('Lịch sử Đảng bộ tỉnh Cao Bằng');
    for (const q of ['-', '--', '- -', 'OR', 'OR OR', 'NOT', '-"', '-""', 'cao -', 'cao OR', 'OR cao', 'NOT NOT cao', 'cao AND OR NOT bằng', '-cao -bằng -đồ']) {
      const r = search.search({ q }, null);
      expect(r.total, q).toBeGreaterThanOrEqual(0);
      expect(Array.isArray(search.suggest(q, null)), q).toBe(true);
    }
    // A lone minus or two: nothing searchable (no hits, said so), not the whole catalogue.
    for (const q of ['-', '--']) {
      const r = search.search({ q }, null);
      expect(r.total, q).toBe(0);
      expect(r.unsearchable, q).toBe(true);
    }
    // `cao -` is `cao`: the minus excludes nothing.
    expect(search.search({ q: 'cao -' }, null).total).toBe(2);
  });

  it('searches a document number as its parts side by side, not scattered over a text; a date stays words', () => {
    const decision = add('Quyết định số 12/QĐ-UBND ngày 05/01/2023 về tuyên truyền');
    const scattered = add('Báo cáo năm 2023', 'Mục 12 nêu các QĐ của UBND tỉnh');
    const plan = add('Kế hoạch 199-KH/TU', 'Cao Bằng, ngày 18 tháng 01 năm 2023');
    m.attachPdfText(scattered, 'b', 'bao-cao.pdf', 'Phụ lục 12 trang; các QĐ khác; UBND huyện');
    expect(ids('12/QĐ-UBND')).toEqual([decision]);
    expect(ids('số 12/QĐ-UBND')).toEqual([decision]);
    expect(ids('12/qd-ubnd')).toEqual([decision]);
    expect(ids('12/QĐ-UBND ')).toEqual([decision]);
    // Still being typed: the last part completes (outside the phrase), the parts before stand together.
    expect(ids('12/QĐ-UB')).toEqual([decision]);
    expect(ids('199-KH/T')).toEqual([plan]);
    expect(ids('12/Q')).toContain(decision);
    // A date typed with slashes still finds one written out ("ngày 18 tháng 01 năm 2023").
    expect(ids('18/01/2023')).toContain(plan);
    // Excluded as a whole.
    expect(ids('2023 -12/QĐ-UBND').sort()).toEqual([scattered, plan].sort());
  });

  it('reads full-width letters as the plain ones', () => {
    const map = add('Bản đồ du lịch Cao Bằng');
    add('Lịch sử Đảng bộ');
    expect(ids('Ｃａｏ Ｂằｎｇ')).toEqual([map]);
    expect(ids('ｂａｎ\u3000ｄｏ')).toEqual([map]);
    // Bold and italic letters pasted from social media (Mathematical Alphanumeric Symbols), marks combining.
    expect(ids('𝐂𝐚𝐨 𝐁𝐚\u0306\u0300𝐧𝐠')).toEqual([map]);
    expect(ids('𝘣𝘢̉𝘯 đ𝘰̂̀')).toEqual([map]);
  });
});

describe('corrections from context', () => {
  it('reads a real word as a commonly confused spelling when only that spelling stands next to its neighbour', () => {
    const waterfall = add('Tờ gấp giới thiệu thác Bản Giốc', 'Thác Bản Giốc là thắng cảnh nổi tiếng của huyện Trùng Khánh.');
    add('Đường dốc lên bản Khuổi Khon'); // `dốc` and `bản` held, never side by side
    add('Thác nước ở bản làng');
    for (const q of ['thác bản dốc', 'thac ban doc', 'thác bản dốc ']) {
      const r = search.search({ q }, null);
      expect(r.hits[0]?.id, q).toBe(waterfall);
      expect(r.corrections, q).toEqual([{ from: 'doc', to: 'gioc', display: 'giốc' }]);
    }
    // The word typed still matches (an alternative, not a replacement).
    const typed = add('Thác bản dốc đá');
    expect(ids('thác bản dốc')).toContain(typed);
  });

  it('corrects a syllable of one or two letters only when the pair is there', () => {
    const cave = add('Khu di tích Pác Bó', 'Nơi Chủ tịch Hồ Chí Minh trở về nước năm 1941');
    add('Pác Nặm và các huyện miền núi');
    const r = search.search({ q: 'Pác Pó' }, null);
    expect(r.hits[0]?.id).toBe(cave);
    expect(r.total).toBe(1);
    expect(r.corrections).toEqual([{ from: 'po', to: 'bo', display: 'bó' }]);
    expect(r.ignored).toEqual([]);
    // Alone, or next to a word no record holds beside Bó, it is left out as before.
    expect(search.search({ q: 'pó' }, null).ignored).toEqual(['po']);
    expect(search.search({ q: 'huyện pó' }, null).ignored).toEqual(['po']);
  });

  it('leaves valid phrases as typed', () => {
    add('Tờ gấp giới thiệu thác Bản Giốc');
    add('Người giao hàng ở chợ phiên'); // holds "người giao"
    add('Trang phục người Dao đỏ');
    const nung = add('Truyện cổ Tày Nùng', 'Lịch sử dụng chữ Nôm Tày'); // "sử dụng" held
    add('Sổ tay lịch sử Đảng bộ');
    for (const q of ['người Dao đỏ', 'thác Bản Giốc', 'lịch sử Nùng', 'Dao đỏ', 'truyện Tày']) {
      expect(search.search({ q }, null).corrections, q).toEqual([]);
    }
    expect(ids('truyện Nùng')).toEqual([nung]);
    // Typed with marks, the marks of the rhyme must be those of the spelling read: `dọc` is not Giốc.
    add('Đi dọc bờ sông Quây Sơn');
    expect(search.search({ q: 'thác bản dọc' }, null).corrections).toEqual([]);
    expect(search.search({ q: 'thác bản doc' }, null).corrections).toEqual([{ from: 'doc', to: 'gioc', display: 'giốc' }]);
  });
});

describe('corrections from context, with a catalogue of Cao Bằng places and people', () => {
  /** A catalogue where "bạn đọc" (readers) is written, the folded twin of `bản dốc`, and valid phrases abound. */
  const catalogue = (): Record<string, number> => ({
    waterfall: add('Tờ gấp giới thiệu thác Bản Giốc', 'Thác Bản Giốc là thắng cảnh nổi tiếng của huyện Trùng Khánh.'),
    readers: add('Sách phục vụ bạn đọc nhỏ tuổi', 'Tủ sách thư viện tỉnh dành cho bạn đọc ở vùng cao'),
    slope: add('Đường dốc lên bản Khuổi Khon'),
    dao: add('Trang phục người Dao đỏ'),
    courier: add('Người giao hàng ở chợ phiên'),
    nung: add('Truyện cổ Tày Nùng', 'Lịch sử dụng chữ Nôm Tày'),
    cave: add('Khu di tích Pác Bó', 'Hang Cốc Bó, suối Lê Nin, núi Các Mác'),
    forest: add('Rừng Trần Hưng Đạo và di tích lịch sử', 'Nơi thành lập Đội Việt Nam Tuyên truyền Giải phóng quân'),
    dongKhe: add('Chiến thắng Đông Khê năm 1950', 'Chiến dịch Biên giới 1950 trên đường số 4'),
    border: add('Cửa khẩu Tà Lùng và Trà Lĩnh'),
    festival: add('Lễ hội Lồng Tồng của người Tày', 'hát then, đàn tính, hát sli'),
    town: add('Phố cổ Phục Hòa và đền Kỳ Sầm'),
    river: add('Sông Bằng Giang chảy qua thành phố'),
    rural: add('Xây dựng nông thôn mới và giảm nghèo bền vững'),
    culture: add('Giữ gìn bản sắc văn hóa dân tộc thiểu số'),
    post: add('Đồn biên phòng trên biên giới Việt Trung'),
    oral: add('Tuyên truyền miệng về Nghị quyết đại hội Đảng bộ tỉnh'),
    geopark: add('Công viên địa chất toàn cầu Non nước Cao Bằng'),
    house: add('Nhà sàn người Tày ở Hà Quảng'),
    food: add('Ẩm thực Cao Bằng: bánh cuốn, vịt quay, hạt dẻ Trùng Khánh, lạp sườn'),
    heroes: add('Anh hùng Kim Đồng và Hoàng Văn Thụ'),
    elder: add('Già làng bản Nà Giàng'),
    mass: add('Dân vận khéo', 'thì việc gì cũng thành công'),
    reading: add('Đọc sách cùng con'),
    daoPeople: add('Đời sống đồng bào dân tộc Dao ở Nguyên Bình'),
    journey: add('Ra đi tìm đường cứu nước'),
  });

  it('reads `thác bản dốc` as Bản Giốc though a record writes "bạn đọc", folded alike', () => {
    const c = catalogue();
    for (const q of ['thác bản dốc', 'thác bản doc', 'Thác Bản Dốc']) {
      const r = search.search({ q }, null);
      expect(r.hits[0]?.id, q).toBe(c.waterfall);
      expect(r.corrections, q).toEqual([{ from: 'doc', to: 'gioc', display: 'giốc' }]);
    }
    // Without marks the pair typed is "ban doc", which "bạn đọc" holds; the word before it tells them apart:
    // "thác Bản Giốc" is a chain some record holds, "thác bạn đọc" none.
    for (const q of ['thac ban doc', 'thac ban doc trung khanh', 'to gap thac ban doc']) {
      const r = search.search({ q }, null);
      expect(r.hits[0]?.id, q).toBe(c.waterfall);
      expect(r.corrections.map((x) => `${x.from}>${x.to}`), q).toEqual(['doc>gioc']);
    }
    // The readers are still found as typed, and the word typed still matches (an alternative, not a replacement).
    for (const q of ['ban doc', 'phuc vu ban doc', 'ban doc nho tuoi', 'sach ban doc', 'thu vien ban doc']) {
      expect(search.search({ q }, null).corrections, q).toEqual([]);
      expect(ids(q), q).toContain(c.readers);
    }
  });

  it('reads `thác bản dốc trùng khánh` from the side that stands in a longer chain', () => {
    const c = catalogue();
    // (Typed without marks, `ban doc` is held by "bạn đọc" here: see above.)
    for (const q of ['thác bản dốc trùng khánh', 'thác bản doc trung khanh', 'thác bản dốc Trùng Khánh']) {
      const r = search.search({ q }, null);
      expect(r.hits.map((h) => h.id), q).toEqual([c.waterfall]);
      expect(r.corrections.map((x) => `${x.from}>${x.to}`), q).toEqual(['doc>gioc']);
    }
    // One side alone, with no longer chain behind it, is still not enough: `người Dao đỏ` is not "người giao".
    expect(search.search({ q: 'người Dao đỏ' }, null).corrections).toEqual([]);
  });

  it('leaves 50 valid queries of places, peoples and phrases as typed', () => {
    const c = catalogue();
    const valid = [
      'người Dao đỏ', 'Dao đỏ', 'người Dao', 'dân tộc Dao', 'đồng bào Dao', 'Dao Nguyên Bình', 'lịch sử Nùng', 'truyện Tày', 'Tày Nùng',
      'chữ Nôm Tày', 'sử dụng chữ Nôm', 'bạn đọc', 'phục vụ bạn đọc', 'bạn đọc nhỏ tuổi', 'đọc sách', 'thư viện tỉnh', 'đường dốc',
      'dốc lên bản', 'bản Khuổi Khon', 'thác Bản Giốc', 'Bản Giốc Trùng Khánh', 'hạt dẻ Trùng Khánh', 'Pác Bó', 'hang Cốc Bó',
      'suối Lê Nin', 'núi Các Mác', 'rừng Trần Hưng Đạo', 'Giải phóng quân', 'chiến thắng Đông Khê', 'chiến dịch biên giới 1950',
      'đường số 4', 'cửa khẩu Tà Lùng', 'Trà Lĩnh', 'lễ hội Lồng Tồng', 'hát then đàn tính', 'hát sli', 'phố cổ Phục Hòa',
      'đền Kỳ Sầm', 'sông Bằng Giang', 'nông thôn mới', 'giảm nghèo bền vững', 'bản sắc văn hóa', 'dân tộc thiểu số',
      'đồn biên phòng', 'biên giới Việt Trung', 'tuyên truyền miệng', 'Đảng bộ tỉnh', 'công viên địa chất', 'non nước Cao Bằng',
      'nhà sàn người Tày', 'bánh cuốn vịt quay', 'lạp sườn', 'Kim Đồng', 'Hoàng Văn Thụ', 'già làng Nà Giàng', 'dân vận khéo',
      'ra đi tìm đường cứu nước', 'người giao hàng', 'chợ phiên',
    ];
    expect(valid.length).toBeGreaterThanOrEqual(50);
    for (const q of valid) {
      const r = search.search({ q }, null);
      expect(r.corrections, q).toEqual([]);
      expect(r.total, q).toBeGreaterThan(0);
    }
    void c;
  });
});

describe('a question typed as a sentence', () => {
  it('does not require its question and linking words, typed with marks, and says so', () => {
    const leaflet = add('Tờ gấp giới thiệu thác Bản Giốc');
    const cave = add('Khu di tích Pác Bó', 'Nơi Bác Hồ sống và làm việc năm 1941');
    const battle = add('Chiến thắng Đông Khê năm 1950');
    const back = add('Kỷ niệm ngày Bác Hồ về nước');
    const works = add('Những công trình đang xây dựng ở thành phố');
    expect(ids('những tờ gấp về thác Bản Giốc')).toEqual([leaflet]);
    expect(search.search({ q: 'những tờ gấp về thác Bản Giốc' }, null).optional).toEqual(['nhung', 've']);
    expect(ids('có tài liệu nào về Pác Bó không')).toEqual([cave]);
    expect(ids('tài liệu về chiến thắng Đông Khê năm 1950')).toEqual([battle]);
    expect(ids('tôi cần tìm tài liệu về Pác Bó')).toEqual([cave]);
    // Still scored where they stand: "về" ranks the record holding it first.
    expect(ids('Bác Hồ về nước')[0]).toBe(back);
    expect(ids('Bác Hồ năm 1941')).toEqual([cave]);
    // Typed without marks they may be words (`co` is also cổ, `ve` vẽ): required as typed.
    expect(search.search({ q: 'nhung to gap ve thac ban gioc' }, null).optional).not.toContain('ve');
    // Alone, or with only one other word, they are what was asked for.
    expect(ids('những')).toHaveLength(1);
    expect(search.search({ q: 'về nước' }, null).optional).toEqual([]);
    expect(search.search({ q: 'những công' }, null).optional).toEqual([]);
    expect(ids('những công trình')[0]).toBe(works);
  });
});

describe('numbers written in other ways', () => {
  it('reads digits and Roman numerals as the same number, and 1000 as "1.000"', () => {
    const congress = add('Văn kiện Đại hội Đảng bộ tỉnh lần thứ XIX', 'Nhiệm kỳ 2020 - 2025');
    const term = add('Báo cáo của Ban Chấp hành Đảng bộ tỉnh khoá 18');
    const book = add('Pác Bó - nơi Bác về', 'Sách ảnh, 352 trang, in 1.000 bản');
    const wages = add('Quy định về hành vi vi phạm kỷ luật lao động', 'Chương VI: xử lý vi phạm; Điều 6');
    const map = add('Bản đồ hành chính 1000 xã');
    add('Đại hội Đoàn thanh niên lần thứ 5');
    add('Khoá học bồi dưỡng nghiệp vụ');
    add('Công văn số 19 và Điều 18 của Luật');
    expect(ids('đại hội 19')).toEqual([congress]);
    expect(ids('Đại hội XIX')).toEqual([congress]);
    expect(ids('đại hội xix')).toEqual([congress]);
    expect(ids('khóa XVIII')).toEqual([term]);
    expect(ids('khoá 18')).toEqual([term]);
    // A number of 4 to 6 digits also as written with a thousands separator (the tokens "1" "000" side by side).
    expect(sorted(ids('1000 bản'))).toEqual(sorted([book, map]));
    expect(ids('1000 xã')).toEqual([map]);
    expect(ids('in 1000 bản')).toEqual([book]);
    // And back: a number typed with a thousands separator also finds it written without one (the map
    // holds "1000" and "Bản"), below the record holding the words as typed and side by side.
    expect(ids('1.000 bản')).toEqual([book, map]);
    expect(sorted(ids('1.000'))).toEqual(sorted([book, map]));
    expect(ids('1.000 xã')).toEqual([map]);
    expect(ids('1 000 xã')).toEqual([map]);
    const hit = search.search({ q: '1.000 xã' }, null).hits[0];
    expect(JSON.stringify(hit.snippets)).toContain('<mark>1000</mark>');
    const fund = add('Quỹ khuyến học 2500000 đồng');
    const fund2 = add('Giải thưởng 2.500.000 đồng');
    expect(sorted(ids('2.500.000 đồng'))).toEqual(sorted([fund, fund2]));
    // Roman numerals that are words are words: `vi` is "hành vi", and 6 is not searched as "vi".
    expect(search.search({ q: 'hành vi' }, null).corrections).toEqual([]);
    expect(ids('Điều 6')).toEqual([wages]);
    expect(ids('điều vi phạm')).toEqual([wages]);
    // A date's parts are not Roman numerals (`9/1950` is no "ix").
    expect(search.search({ q: 'ngày 9/12' }, null).total).toBe(0);
  });
});

describe('words run together with one letter mistyped', () => {
  it('reads `dongngummngao` and `khuyennnong` as the words side by side, one letter put right', () => {
    const cave = add('Động Ngườm Ngao - hang động đẹp ở Trùng Khánh');
    const farm = add('Sổ tay khuyến nông viên cơ sở');
    add('Nông dân trồng ngô'); // "ngô", "nông" apart from the other words
    for (const [q, want, to] of [
      ['dongngummngao', cave, 'dong nguom ngao'],
      ['dongnguomngaoo', cave, 'dong nguom ngao'],
      ['khuyennnong', farm, 'khuyen nong'],
      ['khuyennongg', farm, 'khuyen nong'],
    ] as const) {
      const r = search.search({ q }, null);
      expect(r.hits.map((h) => h.id), q).toEqual([want]);
      expect(r.corrections, q).toEqual([expect.objectContaining({ from: q, to })]);
    }
    // Read with the words typed beside it too, and not for letters no record holds side by side.
    expect(ids('hang dongngummngao')).toEqual([cave]);
    expect(search.search({ q: 'qxzkhuyennnongqxz' }, null).total).toBe(0);
  });
});

describe('letters run into a number', () => {
  it('reads `muc1499` as the word and the number side by side when some record holds them so', () => {
    const book = add('Sổ tay nhiều mục');
    m.attachPdfText(book, 'a', 'so-tay.pdf', 'Mục 999 nội dung. Mục 1499 nội dung khác. Trang 1499.');
    const other = add('Phòng chống dịch');
    m.attachPdfText(other, 'b', 'dich.pdf', 'Phòng chống covid19 và cúm năm 2020.');
    expect(ids('muc1499')).toEqual([book]);
    expect(ids('Mục1499')).toEqual([book]);
    expect(ids('trang1499')).toEqual([book]);
    const r = search.search({ q: 'muc1499' }, null);
    expect(r.corrections).toEqual([expect.objectContaining({ from: 'muc1499', to: 'muc 1499' })]);
    expect(r.hits[0].snippets.some((s) => s.text.includes('<mark>Mục</mark> <mark>1499</mark>'))).toBe(true);
    // A pair no record holds is not invented: the word is left out as before.
    expect(search.search({ q: 'so tay muc14' }, null).ignored).toEqual(['muc14']);
    expect(ids('so tay muc14')).toEqual([book]);
    // A word some record holds whole is searched whole.
    expect(ids('covid19')).toEqual([other]);
  });

  it('reads words and numbers run together in more than two pieces (`ocop4sao`) likewise', () => {
    const ocop = add('HTX miến dong đạt OCOP 4 sao');
    add('Sản phẩm OCOP 3 sao, 4 mặt hàng'); // "OCOP" and "4" not side by side with "sao"
    const flu = add('Cúm gia cầm A/H5N1 ở Cao Bằng');
    expect(ids('ocop4sao')).toEqual([ocop]);
    expect(search.search({ q: 'ocop4sao' }, null).corrections).toEqual([expect.objectContaining({ from: 'ocop4sao', to: 'ocop 4 sao' })]);
    expect(ids('mien dong ocop4sao')).toEqual([ocop]);
    expect(ids('h5n1')).toEqual([flu]); // held whole: searched whole
    // A piece no record holds beside its neighbour: nothing invented.
    expect(search.search({ q: 'ocop5sao' }, null).total).toBe(0);
  });
});

describe('what a researcher means by a people or a type named alone', () => {
  it('lists the records naming the people first for `Dao` or `Tày` typed alone, while beside a word the pair decides', () => {
    const rite = add('Lễ cấp sắc', 'Nghi lễ trưởng thành của nam giới dân tộc Dao');
    const dress = add('Trang phục của người Dao đỏ');
    const training = add('Đào tạo nghề cho lao động nông thôn');
    const leaders = add('Lãnh đạo tỉnh thăm huyện Bảo Lâm');
    const guide = add('Chỉ đạo phòng chống thiên tai');
    const stilt = add('Nhà sàn của người Tày');
    const hand = add('Máy cầm tay và dụng cụ cầm tay', 'Dụng cụ cầm tay, bàn tay, tay nghề');
    for (const q of ['Dao', 'dao', 'Dao ']) {
      const top = ids(q);
      expect(sorted(top.slice(0, 2)), q).toEqual(sorted([rite, dress]));
      expect(top, q).toEqual(expect.arrayContaining([training, leaders, guide]));
    }
    expect(ids('Tay')[0]).toBe(stilt);
    expect(ids('tay')).toContain(hand);
    // Beside a word it stands with, the pair decides: "đào tạo", "lãnh đạo", "cầm tay" come first.
    expect(ids('dao tao')[0]).toBe(training);
    expect(ids('lanh dao')[0]).toBe(leaders);
    expect(ids('cam tay')[0]).toBe(hand);
    // Also beside a word still being typed, by its completions: `kinh doa` is "kinh doanh", not the Kinh people.
    const trade = add('Kinh doanh du lịch cộng đồng');
    add('Người Kinh và người Tày ở Hoà An', 'Hộ kinh doanh nhỏ');
    expect(ids('kinh doa')[0]).toBe(trade);
    // Typed with other marks it is another word: `đảo` (an island) earns the Dao records nothing.
    const island = add('Du lịch đảo Cô Tô');
    const isle = add('Hòn đảo nhỏ');
    expect(sorted(ids('đảo').slice(0, 2))).toEqual(sorted([island, isle]));
    const scoreOf = (q: string, id: number) => search.search({ q }, null).hits.find((h) => h.id === id)?.score;
    expect(scoreOf('đảo ', dress)).toBe(scoreOf('"đảo"', dress));
    expect(scoreOf('Dao ', dress)).toBeGreaterThan(scoreOf('"Dao"', dress)!);
    // Suggestions agree with the search: `Dao` offers the title about the people first (before: "Đào tạo
    // nghề…", which starts with the syllable), `dao tao` the training. ("Lễ cấp sắc" names no Dao in its title.)
    for (const q of ['Dao', 'dao', 'Dao ']) {
      const offered = search.suggest(q, null).map((x) => x.productId);
      expect(offered[0], q).toBe(dress);
      expect(offered, q).toContain(training);
    }
    expect(search.suggest('dao tao', null)[0].productId).toBe(training);
    expect(search.suggest('lanh dao', null)[0].productId).toBe(leaders);
  });

  it('reads a record type named in English as the type words of the catalogue', () => {
    const radio = m.add('Bản tin tiếng Tày', { languages: ['tay'], description: 'Chương trình phát thanh hằng tuần' });
    const leaflet = add('Tờ rơi tiếng H\u2019Mông về phòng chống dịch');
    const photo = add('Ảnh tư liệu trang phục người Dao đỏ');
    const hero = add('Anh hùng Kim Đồng', 'Người Dao đỏ kể chuyện');
    const map = add('Bản đồ du lịch Cao Bằng');
    const notebook = add('Sổ tay du lịch Cao Bằng');
    // The type word lifts the records of the type; it is not required (nor reported as optional).
    const audio = search.search({ q: 'audio Tày' }, null);
    expect(audio.hits.map((h) => h.id)).toEqual([radio, notebook]);
    expect(audio.expansions?.map((e) => e.display)).toContain('phát thanh');
    expect(audio.corrections).toEqual([]);
    expect(audio.optional).toEqual([]);
    expect(ids('leaflet Mông')).toEqual([leaflet]);
    // `photo` is "ảnh", not "anh hùng": the record spelling it so comes first.
    expect(ids('photo Dao đỏ')).toEqual([photo, hero]);
    expect(ids('map du lich')).toEqual([map, notebook]);
    // In a query of four words or more a type name is a word typed on purpose, not a piece cut off by a copy.
    const book = add('Sách ảnh Hồ Chí Minh với Cao Bằng');
    const film = add('Hồ Chí Minh với Cao Bằng', 'Phim tài liệu');
    db.sqlite.prepare("UPDATE products SET type = 'video' WHERE id = ?").run(film);
    search.indexProduct(film);
    const r = search.search({ q: 'book ho chi minh' }, null);
    expect(r.optional).toEqual([]);
    expect(r.hits.map((h) => h.id)).toEqual([book, film]);
    // A word no type is named by is left as typed.
    expect(search.search({ q: 'constructor du lịch' }, null).expansions).toEqual([]);
  });

  it('lifts the type named in English but finds the other records when none of the type is on the subject', () => {
    const cell = add('Chi bộ Đảng đầu tiên của tỉnh Cao Bằng năm 1930', 'Tài liệu lịch sử Đảng bộ tỉnh');
    const leaflet = add('Tờ gấp lịch sử Đảng bộ huyện Hà Quảng');
    const list = add('Danh sách đảng viên của chi bộ', 'Hồ sơ lưu trữ lịch sử');
    const sport = add('Sách hướng dẫn luyện tập thể thao');
    const asType = (id: number, type: string) => {
      db.sqlite.prepare('UPDATE products SET type = ? WHERE id = ?').run(type, id);
      search.indexProduct(id);
    };
    asType(cell, 'document');
    asType(leaflet, 'leaflet');
    asType(list, 'document');
    // No book on the Party history: the records on it (before: only the list, which writes "sách").
    const r = search.search({ q: 'book lich su dang' }, null);
    expect(sorted(r.hits.map((h) => h.id))).toEqual(sorted([cell, leaflet, list]));
    expect(r.optional).toEqual([]);
    expect(sorted(ids('audio lich su dang'))).toEqual(sorted([cell, leaflet, list]));
    // A book on it comes first once there is one.
    const book = add('Lịch sử Đảng bộ tỉnh Cao Bằng 1930 - 2020');
    expect(ids('book lich su dang')[0]).toBe(book);
    expect(ids('lich su dang book')[0]).toBe(book);
    // Alone, the type word is still required: the books (and a title writing "sách").
    expect(sorted(ids('book'))).toEqual(sorted([list, sport, book]));
  });
});

describe('a query with nothing searchable in it', () => {
  it('finds nothing and says so, while a blank query lists everything', () => {
    const a = add('Bản đồ du lịch Cao Bằng');
    const b = add('Lịch sử Đảng bộ tỉnh Cao Bằng');
    for (const q of ['\u0000\u0001', '\u0007', '-', '***', '""', '?!', '…']) {
      const r = search.search({ q }, null);
      expect(r.total, JSON.stringify(q)).toBe(0);
      expect(r.unsearchable, JSON.stringify(q)).toBe(true);
      expect(search.suggest(q, null), JSON.stringify(q)).toEqual([]);
    }
    for (const q of ['', '   ', '\u200b', '\t\n', '\ufeff']) {
      const r = search.search({ q }, null);
      expect(sorted(r.hits.map((h) => h.id)), JSON.stringify(q)).toEqual(sorted([a, b]));
      expect(r.mode).toBe('all');
      expect(r.unsearchable).toBeUndefined();
    }
    // Control characters around words are spaces.
    expect(ids('bản\u0000đồ')).toEqual([a]);
  });
});
