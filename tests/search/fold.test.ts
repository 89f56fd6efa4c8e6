import { describe, expect, it } from 'vitest';
import { canonicalTone, exactTokensForIndex, fold, foldForIndex, hasMarks, tokenize } from '../../server/search/fold.ts';
import { parseQuery, MAX_QUERY_TOKENS } from '../../server/search/query.ts';
import { boundedDistance, Vocabulary } from '../../server/search/vocabulary.ts';
import { makeSnippet } from '../../server/search/snippets.ts';

describe('tone placement', () => {
  it('takes the old placement (hòa, khỏe, thủy) to the new one (hoà, khoẻ, thuỷ), and leaves every other syllable alone', () => {
    const pairs: Array<[string, string]> = [['hòa', 'hoà'], ['hóa', 'hoá'], ['khỏe', 'khoẻ'], ['thủy', 'thuỷ'], ['túy', 'tuý'], ['lũy', 'luỹ'], ['họa', 'hoạ'], ['ọe', 'oẹ']];
    for (const [oldStyle, newStyle] of pairs) {
      expect(canonicalTone(oldStyle)).toBe(newStyle);
      expect(canonicalTone(newStyle)).toBe(newStyle);
    }
    // Same in both styles: a final consonant or another vowel follows, qu- spellings, no tone, other vowels.
    for (const t of ['hoàng', 'thuyền', 'xoài', 'hoặc', 'quý', 'quỳnh', 'hoa', 'thuy', 'đảng', 'bằng', 'tòa', 'nguyễn', 'khuya', 'a', '']) {
      expect(canonicalTone(t), t).toBe(t === 'tòa' ? 'toà' : t);
    }
    expect(tokenize('Hòa bình THỦY').map((t) => t.exact)).toEqual(['hoà', 'bình', 'thuỷ']);
    expect(parseQuery('khỏe').terms[0].exact).toBe('khoẻ');
  });
});

describe('Vietnamese folding', () => {
  it('folds case, tone and vowel marks and đ/Đ', () => {
    expect(fold('Cao Bằng')).toBe('cao bang');
    expect(fold('Đảng')).toBe('dang');
    expect(fold('ĐỀ ÁN')).toBe('de an');
    expect(fold('Ủy ban Mặt trận Tổ quốc')).toBe('uy ban mat tran to quoc');
    expect(fold('ưu tiên, ơn nghĩa, ăn, ân, êm, ôm')).toBe('uu tien, on nghia, an, an, em, om');
  });

  it('treats NFD and NFC input the same', () => {
    const nfc = 'Giáo dục truyền thống Đảng bộ'.normalize('NFC');
    const nfd = nfc.normalize('NFD');
    expect(nfd).not.toBe(nfc);
    expect(fold(nfd)).toBe(fold(nfc));
    expect(tokenize(nfd).map((t) => t.text)).toEqual(tokenize(nfc).map((t) => t.text));
    expect(foldForIndex(nfd)).toBe('giao duc truyen thong dang bo');
  });

  it('tokenises with offsets into the NFC text and drops punctuation', () => {
    const s = 'Đề án số 19-ĐA/TU, “Đổi mới”';
    const toks = tokenize(s);
    expect(toks.map((t) => t.folded)).toEqual(['de', 'an', 'so', '19', 'da', 'tu', 'doi', 'moi']);
    for (const t of toks) expect(s.normalize('NFC').slice(t.start, t.end)).toBe(t.text);
  });

  it('keeps only marked tokens as exact forms', () => {
    expect(exactTokensForIndex('Cao Bằng và Hà Nội')).toBe('bằng và hà nội');
    expect(hasMarks('bang')).toBe(false);
    expect(hasMarks('bàng')).toBe(true);
    expect(hasMarks('đa')).toBe(true);
  });
});

describe('query parsing', () => {
  it('marks the last token as a prefix only while typing', () => {
    expect(parseQuery('truyen thon').terms.map((t) => t.prefix)).toEqual([false, true]);
    expect(parseQuery('truyen thon ').terms.map((t) => t.prefix)).toEqual([false, false]);
  });

  it('extracts quoted phrases (straight and typographic quotes)', () => {
    expect(parseQuery('"giáo dục truyền thống" cao').phrases).toEqual([['giao', 'duc', 'truyen', 'thong']]);
    expect(parseQuery('“quê hương cách mạng”').phrases).toEqual([['que', 'huong', 'cach', 'mang']]);
    // An unbalanced quote is just text.
    const p = parseQuery('"cao bang');
    expect(p.phrases).toEqual([]);
    expect(p.terms.map((t) => t.folded)).toEqual(['cao', 'bang']);
  });

  it('reduces hostile input to plain tokens', () => {
    const p = parseQuery('title:"x" OR NEAR(a b) * \u0000\u0007 DROP TABLE products; -- ^ {col} : "');
    for (const t of p.terms) expect(t.folded).toMatch(/^[\p{L}\p{N}]+$/u);
    expect(parseQuery('a '.repeat(5000)).terms.length).toBe(MAX_QUERY_TOKENS);
    expect(parseQuery('x'.repeat(100_000)).terms.length).toBe(0); // one over-long token: dropped
    expect(parseQuery('').terms).toEqual([]);
  });
});

describe('vocabulary', () => {
  it('computes a bounded edit distance with transpositions', () => {
    expect(boundedDistance('thong', 'thong', 2)).toBe(0);
    expect(boundedDistance('tya', 'tay', 1)).toBe(1);
    expect(boundedDistance('lihc', 'lich', 1)).toBe(1);
    expect(boundedDistance('abc', 'xyzuvw', 2)).toBe(3);
  });

  it('corrects unknown syllables to frequent close ones and expands prefixes', () => {
    const v = new Vocabulary();
    v.add('thong', 100);
    v.add('thon', 5);
    v.add('thang', 40);
    v.add('truyen', 80);
    v.seal();
    expect(v.corrections('thongg')[0].term).toBe('thong');
    expect(v.corrections('truyeen')[0].term).toBe('truyen');
    expect(v.expansions('tho').map((c) => c.term)).toEqual(['thong', 'thon']);
    v.add('thoai', 1);
    expect(v.expansions('tho').map((c) => c.term)).toContain('thoai');
  });
});

describe('snippets', () => {
  it('marks folded matches in the original spelling and escapes HTML', () => {
    const s = makeSnippet('<b>Tỉnh uỷ</b> Cao Bằng & "Đề án"', { terms: new Set(['cao', 'bang', 'de']), prefixes: [] });
    expect(s).not.toBeNull();
    expect(s!.html).toContain('<mark>Cao</mark> <mark>Bằng</mark>');
    expect(s!.html).toContain('&lt;b&gt;');
    expect(s!.html).toContain('&amp;');
    expect(s!.html).toContain('&quot;<mark>Đề</mark>');
    expect(s!.html).not.toContain('<b>');
  });

  it('returns null when nothing matches', () => {
    expect(makeSnippet('không có gì', { terms: new Set(['xyz']), prefixes: [] })).toBeNull();
  });
});
