import { describe, expect, it } from 'vitest';
// @ts-expect-error plain-JS module of the pdf.js worker thread (no type declarations)
import { hasLateGlyphs, reorderLateGlyphs } from '../../server/ingest/adapters/pdf-lines.mjs';

type Item = { str: string; transform: number[]; width: number; height: number; hasEOL: boolean; fontName: string; dir: string };
const item = (str: string, x: number, y: number, width: number, fontName = 'f1'): Item => ({ str, transform: [10, 0, 0, 10, x, y], width, height: str.trim() ? 10 : 0, hasEOL: false, fontName, dir: 'ltr' });
const text = (items: Item[]) => items.filter((i) => i.str.trim()).map((i) => i.str).join('|');

describe('late glyphs (pdf-lines.mjs)', () => {
  // pdf.js's first reading of a LibreOffice line in a monospace font whose fallback font drew ả, ố
  // and ở afterwards: the gaps they fill are plain spaces inside the first item (no positions).
  const line = [
    item('Thác B n Gi c', 56.8, 776.8, 78),
    item(' ', 134.8, 776.8, 18),
    item('huy n', 152.8, 776.8, 30),
    item('ả', 92.8, 776.8, 6, 'f2'),
    item(' ', 98.8, 776.8, 24, 'f2'),
    item('ố', 122.8, 776.8, 6, 'f2'),
    item(' ', 128.8, 776.8, 12, 'f2'),
    item('ở', 140.8, 776.8, 6, 'f2'),
    item(' ', 146.8, 776.8, 24, 'f2'),
    item('ệ', 170.8, 776.8, 6, 'f2'),
  ];

  it('found, and placed by estimated character positions when gaps have none', () => {
    expect(hasLateGlyphs(line)).toBe(true);
    const out = reorderLateGlyphs(line, { f1: { fontFamily: 'monospace' } }) as Item[];
    expect(text(out)).toBe('Thác Bản Giốc ở huyện');
  });

  it('a page drawn in order, a same-font step back, a superscript or an accent is left as it was', () => {
    const inOrder = [item('Cao', 10, 700, 18), item(' ', 28, 700, 3), item('Bằng', 31, 700, 24), item('Pác Bó', 10, 680, 36)];
    expect(reorderLateGlyphs(inOrder)).toBe(inOrder);
    // TeX: "L", then a raised small "A" set back over it, then "TEX" (same font family, other size).
    const latex = [item('L', 10, 700, 6), { ...item('A', 12, 702, 5, 'f7'), height: 7 }, item('TEX', 15, 700, 18)];
    expect(hasLateGlyphs(latex)).toBe(false);
    // An accent drawn first and the letter under it from another font: worth a second reading, but
    // with the gaps positioned the letter lands on ink, not in a gap, and stays where it was.
    const accent = [item('ˆ', 20, 700, 5), item('P', 20, 700, 7, 'f3')];
    expect(hasLateGlyphs(accent)).toBe(true);
    expect(reorderLateGlyphs(accent, {}, { gapsPositioned: true })).toBe(accent);
    const same = [item('Tờ gấp', 10, 700, 36), item('ờ', 16, 700, 6)];
    expect(hasLateGlyphs(same)).toBe(false);
  });

  it('with positioned gaps, a glyph over ink is not moved, one in a gap is', () => {
    const split = [
      item('ch', 225.4, 746.4, 11.4), item(' ', 236.8, 746.4, 6.8), item('đ', 243.6, 746.4, 6), item(' ', 249.6, 746.4, 7.2), item('o', 256.8, 746.4, 6),
      item('ỉ', 236.8, 746.4, 3.3, 'f2'), item('ạ', 249.6, 746.4, 7.2, 'f2'), item('ự', 225.6, 746.4, 6, 'f2'),
    ];
    const out = reorderLateGlyphs(split, {}, { gapsPositioned: true }) as Item[];
    expect(text(out)).toBe('chỉ đạo|ự');
  });
});
