/**
 * EPUB e-books (2 and 3): the package document named by META-INF/container.xml, its spine (reading
 * order), Dublin Core metadata and cover; each spine document's XHTML text, in one pass.
 */
import { decodeEntity, elementsOf, withoutElements, withoutTags, xmlText } from '../xml-scan.ts';
import { PermanentExtractError } from './types.ts';

const strFromU8 = xmlText;

/** An archive path resolved against a folder (`..` and `.` applied, percent-escapes decoded, fragment dropped). */
function zipPath(base: string, href: string): string {
  let h = href.split('#')[0];
  try {
    h = decodeURIComponent(h);
  } catch {
    /* keep it as written */
  }
  const parts = (h.startsWith('/') ? h.slice(1) : base === '' ? h : `${base}/${h}`).split('/');
  const out: string[] = [];
  for (const p of parts) {
    if (p === '..') out.pop();
    else if (p !== '.' && p !== '') out.push(p);
  }
  return out.join('/');
}

const attrOf = (tag: string, name: string): string | undefined => new RegExp(`\\s${name}\\s*=\\s*"([^"]*)"|\\s${name}\\s*=\\s*'([^']*)'`).exec(tag)?.slice(1).find((v) => v !== undefined);

/** Block-level XHTML elements: their ends (and <br>) end a line of text. */
const XHTML_BLOCK = /^(p|div|h[1-6]|li|tr|br|blockquote|section|article|aside|header|footer|dd|dt|figcaption|caption|pre|hr|table|ul|ol|title)$/i;

/** Text of an XHTML document: the body's text, one line per block, script/style left out, entities decoded. */
export function xhtmlText(bytes: Uint8Array): string {
  const s = strFromU8(bytes);
  const bodyAt = s.search(/<body[\s>]/i);
  let body = bodyAt >= 0 ? s.slice(bodyAt) : s;
  for (const name of ['script', 'style', 'svg:title']) body = withoutElements(body, name);
  let out = '';
  let from = 0;
  for (let i = body.indexOf('<'); i >= 0; i = body.indexOf('<', from)) {
    out += body.slice(from, i);
    const gt = body.indexOf('>', i);
    if (gt < 0) {
      from = body.length;
      break;
    }
    const name = /^<\/?\s*([A-Za-z][\w:.-]*)/.exec(body.slice(i, Math.min(gt + 1, i + 40)))?.[1]?.replace(/^\w+:/, '') ?? '';
    if (XHTML_BLOCK.test(name)) out += '\n';
    from = gt + 1;
  }
  out += body.slice(from);
  // Runs of spaces first (each run matched once), then the line ends around them: both linear.
  return decodeHtmlEntities(out)
    .replace(/[ \t\r\f\v\u00a0]+/g, ' ')
    .replace(/ ?\n[ \n]*/g, '\n')
    .trim();
}

const HTML_ENTITIES: Record<string, string> = { nbsp: '\u00a0', ndash: '–', mdash: '—', hellip: '…', laquo: '«', raquo: '»', lsquo: '‘', rsquo: '’', ldquo: '“', rdquo: '”', copy: '©', reg: '®', middot: '·', bull: '•', shy: '' };
function decodeHtmlEntities(s: string): string {
  return s.replace(/&([a-zA-Z]+|#\d+|#[xX][0-9a-fA-F]+);/g, (all, e: string) => {
    if (e[0] === '#') return decodeEntity(all, e);
    if (e === 'lt' || e === 'gt' || e === 'amp' || e === 'quot' || e === 'apos') return decodeEntity(all, e);
    return HTML_ENTITIES[e] ?? all;
  });
}

export interface EpubBook {
  /** Text of each document of the reading order (the spine), in order. */
  sections: string[];
  meta: { title?: string; author?: string; language?: string; publisher?: string; date?: string; identifier?: string; description?: string; subject?: string };
  /** Archive path of the cover image, when the package names one. */
  cover?: string;
}

/**
 * The package of an EPUB 2 or 3 e-book: META-INF/container.xml names the package document (OPF),
 * whose manifest and spine give the reading order; its Dublin Core metadata gives the book's facts.
 * `read(names)` returns the archive entries asked for (capped like every ZIP read here).
 */
export function epubBook(read: (wanted: (name: string) => boolean) => Map<string, Uint8Array>): EpubBook {
  const container = read((n) => n === 'META-INF/container.xml').get('META-INF/container.xml');
  if (!container) throw new PermanentExtractError('OFFICE_MALFORMED', 'The EPUB has no META-INF/container.xml');
  const c = strFromU8(container);
  const rootTag = elementsOf(c, 'rootfile').next().value;
  const opfPath = rootTag !== undefined ? attrOf(c.slice(rootTag.start, rootTag.inner), 'full-path') : undefined;
  if (opfPath === undefined) throw new PermanentExtractError('OFFICE_MALFORMED', 'The EPUB container names no package document');
  const opfName = zipPath('', opfPath);
  const opfBytes = read((n) => n === opfName).get(opfName);
  if (!opfBytes) throw new PermanentExtractError('OFFICE_MALFORMED', `The EPUB has no package document ${opfName}`);
  const opf = strFromU8(opfBytes);
  const base = opfName.includes('/') ? opfName.slice(0, opfName.lastIndexOf('/')) : '';
  const manifest = new Map<string, { href: string; type: string; props: string }>();
  for (const name of ['item', 'opf:item']) {
    for (const e of elementsOf(opf, name)) {
      const tag = opf.slice(e.start, e.inner);
      const id = attrOf(tag, 'id');
      const href = attrOf(tag, 'href');
      if (id !== undefined && href !== undefined) manifest.set(id, { href: zipPath(base, href), type: attrOf(tag, 'media-type') ?? '', props: attrOf(tag, 'properties') ?? '' });
    }
  }
  const order: string[] = [];
  for (const name of ['itemref', 'opf:itemref']) {
    for (const e of elementsOf(opf, name)) {
      const idref = attrOf(opf.slice(e.start, e.inner), 'idref');
      const item = idref !== undefined ? manifest.get(idref) : undefined;
      if (item !== undefined && /html|xml/i.test(item.type || 'xhtml') && !order.includes(item.href)) order.push(item.href);
    }
  }
  const docs = read((n) => order.includes(n));
  const dc = (name: string): string | undefined => {
    for (const e of elementsOf(opf, `dc:${name}`)) {
      const v = decodeHtmlEntities(withoutTags(opf.slice(e.inner, e.innerEnd))).normalize('NFC').trim();
      if (v !== '') return v;
    }
    return undefined;
  };
  const dcAll = (name: string): string | undefined => {
    const all: string[] = [];
    for (const e of elementsOf(opf, `dc:${name}`)) {
      const v = decodeHtmlEntities(withoutTags(opf.slice(e.inner, e.innerEnd))).normalize('NFC').trim();
      if (v !== '' && !all.includes(v)) all.push(v);
    }
    return all.length > 0 ? all.join('; ') : undefined;
  };
  // The cover: EPUB 3 names it by property, EPUB 2 by <meta name="cover" content="id">.
  let cover = [...manifest.values()].find((m) => /(^|\s)cover-image(\s|$)/.test(m.props))?.href;
  if (cover === undefined) {
    for (const e of elementsOf(opf, 'meta')) {
      const tag = opf.slice(e.start, e.inner);
      if (attrOf(tag, 'name') === 'cover') cover = manifest.get(attrOf(tag, 'content') ?? '')?.href;
    }
  }
  return {
    sections: order.map((href) => (docs.has(href) ? xhtmlText(docs.get(href)!) : '')),
    meta: { title: dc('title'), author: dcAll('creator'), language: dc('language'), publisher: dc('publisher'), date: dc('date'), identifier: dc('identifier'), description: dc('description'), subject: dcAll('subject') },
    cover,
  };
}
