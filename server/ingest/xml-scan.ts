/**
 * Reading XML-like text in one pass, for the parts the extractors read without an XML parser (office
 * slide and content parts, XMP packets): entities, elements by name, tags stripped. Every function
 * moves through the text with indexOf from positions that only advance, so a hostile part costs what
 * its length costs.
 */

export const XML_ENTITY = /&(lt|gt|amp|quot|apos|#\d+|#[xX][0-9a-fA-F]+);/g;
/** One XML entity's character; a numeric reference past Unicode is dropped (String.fromCodePoint would throw). */
export function decodeEntity(_: string, e: string): string {
  if (e === 'lt') return '<';
  if (e === 'gt') return '>';
  if (e === 'amp') return '&';
  if (e === 'quot') return '"';
  if (e === 'apos') return "'";
  const cp = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
  return cp > 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : '';
}

/** `s` with its XML entities decoded. */
export const decodeEntities = (s: string): string => s.replace(XML_ENTITY, decodeEntity);

// Regular expressions with a lazy `[\s\S]*?` up to a closing tag search to the end from every unclosed
// start: quadratic (80,000 unclosed tags, 0.5 MB, took 5 to 67 s in the office reader).

/** Whether the tag at `i` (a '<') is named `name` (followed by space, '/' or '>'). */
export function isTagAt(s: string, i: number, name: string): boolean {
  if (!s.startsWith(name, i + 1)) return false;
  const c = s.charCodeAt(i + 1 + name.length);
  return c === 0x3e || c === 0x2f || c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

/**
 * The `<name …>…</name>` (or `<name…/>`) elements of `s` in order, not nested in one another, with
 * the offsets of the whole element and of its content. An element whose start or end tag is not
 * closed ends the list.
 */
export function* elementsOf(s: string, name: string): Generator<{ start: number; inner: number; innerEnd: number; end: number }> {
  const close = `</${name}>`;
  for (let i = s.indexOf(`<${name}`); i >= 0; i = s.indexOf(`<${name}`, i)) {
    if (!isTagAt(s, i, name)) {
      i += name.length + 1;
      continue;
    }
    const gt = s.indexOf('>', i);
    if (gt < 0) return;
    if (s[gt - 1] === '/') {
      yield { start: i, inner: gt + 1, innerEnd: gt + 1, end: gt + 1 };
      i = gt + 1;
      continue;
    }
    const c = s.indexOf(close, gt + 1);
    if (c < 0) return;
    yield { start: i, inner: gt + 1, innerEnd: c, end: c + close.length };
    i = c + close.length;
  }
}

/** `s` without its `name` elements (only those whose start tag `remove` accepts, when given); an unclosed one is dropped with the rest of `s`. */
export function withoutElements(s: string, name: string, remove?: (startTag: string) => boolean): string {
  let out = '';
  let from = 0;
  let last = 0;
  for (const e of elementsOf(s, name)) {
    last = e.end;
    if (remove !== undefined && !remove(s.slice(e.start, e.inner))) continue;
    out += s.slice(from, e.start);
    from = e.end;
  }
  // After the last complete element: an unclosed start tag of `name` and what follows are dropped.
  const open = s.indexOf(`<${name}`, last);
  let tail = s.length;
  for (let i = open; i >= 0; i = s.indexOf(`<${name}`, i + 1)) {
    if (isTagAt(s, i, name)) {
      tail = i;
      break;
    }
  }
  return out + s.slice(from, tail);
}

/** `s` without its markup (every `<…>`; an unclosed `<` ends the text). */
export function withoutTags(s: string): string {
  let out = '';
  let from = 0;
  for (let i = s.indexOf('<'); i >= 0; i = s.indexOf('<', from)) {
    out += s.slice(from, i);
    const gt = s.indexOf('>', i);
    if (gt < 0) return out;
    from = gt + 1;
  }
  return out + s.slice(from);
}

/**
 * `s` without its first <!DOCTYPE …> declaration, internal subset ([…]) included; an unterminated
 * one is cut with the rest. (The lazy expression it replaces was quadratic on a declaration full
 * of brackets: 8,000 "[]" took 0.27 s, a 1 MB part about 20 minutes.)
 */
export function withoutDoctype(s: string): string {
  const at = s.search(/<!DOCTYPE/i);
  if (at < 0) return s;
  const gt = s.indexOf('>', at);
  const open = s.indexOf('[', at);
  let end: number;
  if (open >= 0 && (gt < 0 || open < gt)) {
    const close = s.indexOf(']', open);
    const after = close < 0 ? -1 : s.indexOf('>', close);
    end = after < 0 ? s.length : after + 1;
  } else end = gt < 0 ? s.length : gt + 1;
  return s.slice(0, at) + s.slice(end);
}

/**
 * An XML part's bytes as text: UTF-8 (its BOM dropped), or UTF-16 little- or big-endian when the part
 * starts with that byte order mark or, without one, with `<` as a 16-bit unit (some Word exporters
 * and converters write `encoding="UTF-16"` parts; XML requires a BOM there, but readers accept the
 * declaration's own bytes). Every reader of office, ODF and EPUB parts decodes through this.
 */
export function xmlText(bytes: Uint8Array): string {
  const b0 = bytes[0];
  const b1 = bytes[1];
  if (b0 === 0xff && b1 === 0xfe) return new TextDecoder('utf-16le').decode(bytes.subarray(2));
  if (b0 === 0xfe && b1 === 0xff) return new TextDecoder('utf-16be').decode(bytes.subarray(2));
  if (b0 === 0x3c && b1 === 0x00 && bytes[2] !== 0x00) return new TextDecoder('utf-16le').decode(bytes);
  if (b0 === 0x00 && b1 === 0x3c) return new TextDecoder('utf-16be').decode(bytes);
  // TextDecoder drops a UTF-8 BOM.
  return new TextDecoder().decode(bytes);
}
