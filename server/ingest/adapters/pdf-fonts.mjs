// Text of PDF fonts that do not say which letters their glyphs are.
//
// A composite (Type0) font with the Identity-H encoding and no /ToUnicode map gives pdf.js only
// glyph numbers: it then takes each number for a Unicode code point, and "Nội dung" comes out as
// "1ৗLGXQJ". When the embedded TrueType/OpenType font still carries its own `cmap` table (Unicode →
// glyph), that table read backwards says which letter each glyph draws. pdf-worker.mjs hooks
// `fontCmapToUnicode` into pdf.js's font loading (Font.checkAndRepair, before the composite font's
// glyph mapping) for exactly those fonts: composite, TrueType outlines or OpenType, and a ToUnicode
// that is absent or the identity.
//
// Plain JavaScript: it runs inside the pdf.js worker threads. Every read is bounds-checked and the
// number of code points looked at is capped, so a hostile font costs at most a few milliseconds.

/** Code points read from one font's cmap at most (a format-12 group may claim the whole of Unicode). */
export const MAX_CMAP_CODE_POINTS = 1 << 18;

const isPrivateUse = (cp) => (cp >= 0xe000 && cp <= 0xf8ff) || cp >= 0xf0000;
/** Code points no glyph should be read as: controls, surrogates, noncharacters. */
const isUnusable = (cp) => cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || (cp >= 0xd800 && cp <= 0xdfff) || (cp & 0xfffe) === 0xfffe || (cp >= 0xfdd0 && cp <= 0xfdef) || cp > 0x10ffff;

/**
 * Glyph id → the Unicode character the font's `cmap` maps to it, from the Unicode subtables only
 * (Windows 3/10 or Unicode-platform format 12, else Windows 3/1 or Unicode-platform format 4; a
 * symbol 3/0 or Macintosh table says nothing about letters). When several code points share a glyph,
 * the lowest one that is not private use wins (space before no-break space, hyphen-minus before
 * hyphen). Glyph 0 and glyphs at or past `numGlyphs` are left out. Malformed tables give what could be
 * read, or an empty map.
 */
export function cmapGlyphUnicodes(bytes, numGlyphs) {
  const out = new Map();
  if (!bytes || bytes.length < 4) return out;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const len = bytes.length;
  const u16 = (at) => (at >= 0 && at + 2 <= len ? view.getUint16(at) : -1);
  const u32 = (at) => (at >= 0 && at + 4 <= len ? view.getUint32(at) : -1);
  const numTables = u16(2);
  let best = null; // { offset, format, rank }
  for (let i = 0; i < numTables && 4 + i * 8 + 8 <= len; i++) {
    const rec = 4 + i * 8;
    const platform = u16(rec);
    const encoding = u16(rec + 2);
    const offset = u32(rec + 4);
    const format = u16(offset);
    let rank = 0;
    if (format === 12 && ((platform === 3 && encoding === 10) || (platform === 0 && (encoding === 4 || encoding === 6)))) rank = 2;
    else if (format === 4 && ((platform === 3 && encoding === 1) || (platform === 0 && encoding <= 3))) rank = 1;
    if (rank > (best?.rank ?? 0)) best = { offset, format, rank };
  }
  if (!best) return out;
  let budget = MAX_CMAP_CODE_POINTS;
  const add = (cp, gid) => {
    if (gid <= 0 || gid >= numGlyphs || isUnusable(cp)) return;
    const had = out.get(gid);
    if (had !== undefined) {
      const old = had.codePointAt(0);
      const better = isPrivateUse(old) ? !isPrivateUse(cp) || cp < old : !isPrivateUse(cp) && cp < old;
      if (!better) return;
    }
    out.set(gid, String.fromCodePoint(cp));
  };
  const t = best.offset;
  if (best.format === 4) {
    const segX2 = u16(t + 6);
    if (segX2 <= 0 || segX2 % 2) return out;
    const ends = t + 14;
    const starts = ends + segX2 + 2;
    const deltas = starts + segX2;
    const ranges = deltas + segX2;
    if (ranges + segX2 > len) return out;
    for (let s = 0; s < segX2 / 2; s++) {
      const end = u16(ends + s * 2);
      const start = u16(starts + s * 2);
      const delta = view.getInt16(deltas + s * 2);
      const rangeOffset = u16(ranges + s * 2);
      for (let c = start; c <= end && c !== 0xffff; c++) {
        if (--budget < 0) return out;
        let gid;
        if (rangeOffset === 0) gid = (c + delta) & 0xffff;
        else {
          gid = u16(ranges + s * 2 + rangeOffset + (c - start) * 2);
          if (gid < 0) break;
          if (gid !== 0) gid = (gid + delta) & 0xffff;
        }
        add(c, gid);
      }
    }
  } else {
    const groups = u32(t + 12);
    for (let g = 0; g < groups; g++) {
      const at = t + 16 + g * 12;
      if (at + 12 > len) break;
      const start = view.getUint32(at);
      const end = Math.min(view.getUint32(at + 4), 0x10ffff);
      const first = view.getUint32(at + 8);
      for (let c = start; c <= end; c++) {
        if (--budget < 0) return out;
        add(c, first + (c - start));
      }
    }
  }
  return out;
}

/**
 * A ToUnicode table for pdf.js (character code → string, sparse array) for a composite font without
 * one: each character code goes to its CID (`properties.cMap`), the CID to its glyph (`CIDToGIDMap`,
 * or the same number), the glyph to a letter by the font's own cmap. Null when the font's cmap names
 * no letter (no Unicode subtable, or only private-use code points): the text then stays as pdf.js reads
 * it, and the extractor's garbled-text check decides what to do with it.
 */
export function fontCmapToUnicode(cmapBytes, numGlyphs, properties) {
  const glyphs = cmapGlyphUnicodes(cmapBytes, numGlyphs);
  let letters = 0;
  for (const ch of glyphs.values()) if (!isPrivateUse(ch.codePointAt(0))) letters++;
  if (letters === 0 || !properties?.cMap) return null;
  const cidToGid = Array.isArray(properties.cidToGidMap) || ArrayBuffer.isView(properties.cidToGidMap) ? properties.cidToGidMap : [];
  const map = [];
  let n = 0;
  properties.cMap.forEach((charCode, cid) => {
    if (typeof cid !== 'number') return;
    const gid = cidToGid.length ? cidToGid[cid] : cid;
    const ch = gid === undefined ? undefined : glyphs.get(gid);
    if (ch !== undefined) {
      map[charCode] = ch;
      n++;
    }
  });
  return n ? map : null;
}
