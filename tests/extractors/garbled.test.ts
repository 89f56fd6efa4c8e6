import { describe, expect, it } from 'vitest';
import { garbledShare, isGarbled } from '../../server/ingest/extractors/garbled.ts';
// @ts-expect-error plain-JS module of the pdf.js worker thread (no type declarations)
import { cmapGlyphUnicodes, fontCmapToUnicode, MAX_CMAP_CODE_POINTS } from '../../server/ingest/adapters/pdf-fonts.mjs';

/**
 * What pdf.js gives for an Identity-H font without ToUnicode whose glyphs are in the usual TrueType
 * order (glyph = code point − 29 for ASCII, the space glyph a control character that is dropped):
 * an ASCII letter shifted down by 29, any other letter a glyph number far off in other scripts.
 */
function glyphNumbers(s: string, far: (ch: string) => string): string {
  return [...s].map((ch) => {
    const cp = ch.codePointAt(0)!;
    if (cp === 0x20) return '';
    if (cp < 0x80) return cp - 29 >= 0x20 ? String.fromCharCode(cp - 29) : '';
    return far(ch);
  }).join('');
}

const REAL = {
  vi: 'Kho tư liệu chung của Đề án: sản phẩm tuyên truyền, giáo dục truyền thống tỉnh Cao Bằng. Ngày 30 tháng 3 năm 2023 – Ban Tuyên giáo Tỉnh uỷ. CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM, số 115/QĐ-UBND, HĐND, TTXVN, CHXHCN.',
  en: 'The quick brown fox jumps over the lazy dog. See https://caobang.gov.vn/tin-tuc/le-hoi-long-tong-ngoc-con-2023.html for details.',
  fr: 'Le gouvernement français a annoncé une réforme de l’éducation nationale ; les élèves « apprennent » à lire dès l’âge de cinq ans.',
  de: 'Die Donaudampfschifffahrtsgesellschaftskapitänsmütze ist ein Beispiel: ∆n ist die konvexe Hülle von (e0, . . . , en) in Rn+1, χ(∆n) = 1.',
  zh: '中华人民共和国成立于一九四九年十月一日，首都北京。高平省位于越南北部，与中国广西接壤。',
  ja: '日本語のテキストとTシャツ、そしてカタカナとひらがなが混ざった文です。',
  ar: 'habibi يبيبَح مرحبا بالعالم هذا نص عربي للتجربة',
  math: 'Sei f: X → Y stetig und αx + βy = γ mit xα ∈ ℝ; dann gilt ˜γ1 ≤ ε.',
  tay: 'Slư̱ cáu Tày Nùng: pỉ noọng, pây slao, mừa rườn.',
};

describe('garbled text check', () => {
  it('real text in Vietnamese, English, French, German, Chinese, Japanese, Arabic and formulas passes', () => {
    for (const [lang, text] of Object.entries(REAL)) {
      expect({ lang, ...garbledShare(text) }).toMatchObject({ lang, bad: 0 });
      expect(isGarbled(text)).toBe(false);
    }
  });

  it('glyph numbers read as letters are caught, with or without the word spaces', () => {
    // pdf.js's reading of DejaVu Sans glyph numbers (seen: VI_TEXT and an English line).
    const seen = [
      '.KRWŲOL৅XFKXQJF৥DÒি£QVডQSKধPWX\\¬QWUX\\িQJL£RGৣFWUX\\িQWK৏QJWেQK&DR%যQJ\n1J¢\\WK£QJQÅP૶%DQ7X\\¬QJL£R7েQKX৵',
      '1ৗLGXQJ\n7KHTXLFNEURZQIR[MXPSVRYHUWKHOD]\\GRJ',
    ];
    for (const s of seen) expect(isGarbled(s)).toBe(true);
    // The same shift with the spaces kept (a writer that moves between words instead of drawing a
    // space): Vietnamese letters with marks land in other scripts, Cyrillic or Armenian here.
    let n = 0;
    const far = (cycle: number[]) => () => String.fromCodePoint(cycle[n++ % cycle.length]);
    for (const cycle of [[0x0431, 0x0436, 0x0449], [0x0562, 0x0571], [0x09d7, 0x0985], [0x0254, 0x0283, 0x01c6]]) {
      const spaced = REAL.vi.split(' ').map((w) => glyphNumbers(w, far(cycle))).join(' ');
      expect({ cycle, share: garbledShare(spaced).share }).toMatchObject({ share: expect.any(Number) });
      expect(garbledShare(spaced).share).toBeGreaterThanOrEqual(0.5);
      expect(isGarbled(spaced)).toBe(true);
    }
  });

  it('private-use characters and U+FFFD in place of letters are caught; a few among real words are not', () => {
    expect(isGarbled('\ue001\ue002\ue003 \ue004\ue005 \ue006\ue007\ue008\ue009')).toBe(true);
    expect(isGarbled('\ufffd\ufffd\ufffd \ufffd\ufffd\ufffd\ufffd \ufffd\ufffd')).toBe(true);
    // Bullets of a symbol font (U+F0B7) before real lines, as Word writes them.
    expect(isGarbled('\uf0b7 Tờ gấp tuyên truyền về Lễ hội Lồng tồng\n\uf0b7 Sách ảnh về Thác Bản Giốc và Pác Bó')).toBe(false);
  });

  it('short pages are not judged', () => {
    expect(isGarbled('1ৗL')).toBe(false);
    expect(isGarbled('')).toBe(false);
  });
});

/** A cmap table with one subtable: (platform, encoding) and the subtable's bytes. */
function cmapTable(platform: number, encoding: number, sub: Buffer): Uint8Array {
  const head = Buffer.alloc(12);
  head.writeUInt16BE(0, 0);
  head.writeUInt16BE(1, 2);
  head.writeUInt16BE(platform, 4);
  head.writeUInt16BE(encoding, 6);
  head.writeUInt32BE(12, 8);
  return new Uint8Array(Buffer.concat([head, sub]));
}

/** Format 4 from (code point → glyph) pairs, one segment per pair, with the closing 0xFFFF segment. */
function format4(pairs: Array<[number, number]>): Buffer {
  const segs = [...pairs, [0xffff, 0] as [number, number]];
  const n = segs.length;
  const b = Buffer.alloc(16 + n * 8);
  b.writeUInt16BE(4, 0);
  b.writeUInt16BE(b.length, 2);
  b.writeUInt16BE(n * 2, 6);
  segs.forEach(([cp, gid], i) => {
    b.writeUInt16BE(cp, 14 + i * 2); // end
    b.writeUInt16BE(cp, 16 + n * 2 + i * 2); // start
    b.writeInt16BE(cp === 0xffff ? 1 : ((gid - cp) << 16) >> 16, 16 + n * 4 + i * 2); // delta
  });
  return b;
}

function format12(groups: Array<[number, number, number]>): Buffer {
  const b = Buffer.alloc(16 + groups.length * 12);
  b.writeUInt16BE(12, 0);
  b.writeUInt32BE(b.length, 4);
  b.writeUInt32BE(groups.length, 12);
  groups.forEach(([start, end, gid], i) => {
    b.writeUInt32BE(start, 16 + i * 12);
    b.writeUInt32BE(end, 20 + i * 12);
    b.writeUInt32BE(gid, 24 + i * 12);
  });
  return b;
}

describe('font cmap read backwards', () => {
  it('maps glyphs to letters from a Windows Unicode subtable, the lowest ordinary code point winning', () => {
    const t = cmapTable(3, 1, format4([[0x20, 3], [0xa0, 3], [0x4e, 49], [0x1ed9, 2519], [0xe000, 49], [0x2d, 16], [0x2010, 16]]));
    const m = cmapGlyphUnicodes(t, 3000);
    expect(Object.fromEntries(m)).toEqual({ 3: ' ', 49: 'N', 2519: 'ộ', 16: '-' });
    // Glyphs past the font's count are left out.
    expect(cmapGlyphUnicodes(t, 100).has(2519)).toBe(false);
  });

  it('a symbol (3,0) table says nothing about letters, so no map is made', () => {
    const t = cmapTable(3, 0, format4([[0xf041, 36], [0xf042, 37]]));
    expect(cmapGlyphUnicodes(t, 100).size).toBe(0);
    expect(fontCmapToUnicode(t, 100, { cMap: { forEach: (cb: (c: number, cid: number) => void) => cb(36, 36) } })).toBeNull();
  });

  it('goes from character code through the CID and CIDToGIDMap to the letter', () => {
    const t = cmapTable(3, 1, format4([[0x4e, 49], [0x1ed9, 2519]]));
    const cMap = { forEach: (cb: (c: number, cid: number) => void) => { for (let c = 0; c < 8; c++) cb(c, c); } };
    const map = fontCmapToUnicode(t, 3000, { cMap, cidToGidMap: [, 49, 2519] });
    expect(map?.[1]).toBe('N');
    expect(map?.[2]).toBe('ộ');
    expect(map?.[3]).toBeUndefined();
  });

  it('a hostile table (a format-12 group over all of Unicode, a truncated table) is bounded and does not throw', () => {
    const huge = cmapTable(3, 10, format12([[0, 0x10ffff, 1], [0, 0x10ffff, 1]]));
    const t0 = process.cpuUsage();
    const m = cmapGlyphUnicodes(huge, 65535);
    const cpuMs = (process.cpuUsage(t0).user + process.cpuUsage(t0).system) / 1000;
    expect(m.size).toBeLessThanOrEqual(MAX_CMAP_CODE_POINTS);
    expect(cpuMs).toBeLessThan(2000);
    const cut = cmapTable(3, 1, format4([[0x41, 36], [0x42, 37]])).subarray(0, 24);
    expect(() => cmapGlyphUnicodes(cut, 100)).not.toThrow();
    expect(cmapGlyphUnicodes(new Uint8Array([0, 0, 0xff, 0xff]), 100).size).toBe(0);
  });
});
