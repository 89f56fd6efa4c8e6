/**
 * The one place HTML is built from values: a tagged template that escapes every interpolated
 * value unless it was produced by `html` itself or wrapped in `raw()` (for markup that is already
 * safe, e.g. search snippets the search service escaped and marked).
 */

/** A string of markup known to be safe. */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

/** Escape text for element content and quoted attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"'`]/g, (c) => ESCAPES[c]);
}

/** Mark markup as safe. Only for strings that are escaped already. */
export const raw = (s: string): SafeHtml => new SafeHtml(s);

export type HtmlValue = SafeHtml | string | number | boolean | null | undefined | HtmlValue[];

function render(v: HtmlValue): string {
  if (v === null || v === undefined || v === false) return '';
  if (v instanceof SafeHtml) return v.value;
  if (Array.isArray(v)) return v.map(render).join('');
  return escapeHtml(String(v));
}

/** `html\`<p>${userText}</p>\`` — values are escaped; nested `html` fragments and arrays are kept. */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1];
  return new SafeHtml(out);
}

/** Join fragments. */
export const join = (parts: HtmlValue[], sep: HtmlValue = ''): SafeHtml => new SafeHtml(parts.map(render).join(render(sep)));

/** Snippets from the search service: allow only `<mark>` around escaped text; anything else is escaped again. */
export function markedSnippet(s: string): SafeHtml {
  const parts = s.split(/(<\/?mark>)/g);
  return new SafeHtml(
    parts
      .map((p) => (p === '<mark>' || p === '</mark>' ? p : escapeHtml(p.replace(/&(amp|lt|gt|quot|#39|#96);/g, (_m, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", '#96': '`' })[e]!))))
      .join(''),
  );
}
