/** Writing XML by hand, safely: escaping and removal of characters XML 1.0 does not allow. */

// Characters not allowed in XML 1.0 documents: C0 controls except tab/LF/CR, lone surrogates, U+FFFE/U+FFFF.
// eslint-disable-next-line no-control-regex
const INVALID_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Escape text content (also safe inside double-quoted attribute values). */
export function xmlEscape(s: string): string {
  return s
    .replace(INVALID_XML, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** `<name attr="…">text</name>` with everything escaped; attributes with undefined values are left out. */
export function el(name: string, text: string | null | undefined, attrs: Record<string, string | number | undefined> = {}): string {
  const a = Object.entries(attrs)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${xmlEscape(String(v))}"`)
    .join('');
  return text === null || text === undefined || text === '' ? `<${name}${a}/>` : `<${name}${a}>${xmlEscape(text)}</${name}>`;
}
