/**
 * Text of the XML parts of office files, read in one pass (xml-scan.ts): ODF content (ODT text,
 * ODP pages with their notes), DOCX footnotes, endnotes and comments, DrawingML (PPTX slides and
 * notes pages), and a PPTX's slide order from its package relationships.
 */
import { XML_ENTITY, decodeEntity, elementsOf, isTagAt, withoutElements, withoutTags, xmlText } from '../xml-scan.ts';

const strFromU8 = xmlText;

/** Text of an ODF content.xml: paragraphs/headings on lines, tabs, line breaks and repeated spaces kept. */
export function odfText(contentXml: Uint8Array): string {
  const s = strFromU8(contentXml);
  return odfMarkupText(s.slice(Math.max(0, s.indexOf('<office:body'))));
}

/**
 * Text of each page (slide) of an ODP content.xml, in order: the text of the page's frames, and its
 * speaker notes (`presentation:notes`, which sits inside the page) apart.
 */
export function odpPageTexts(contentXml: Uint8Array): Array<{ text: string; notes: string }> {
  const s = strFromU8(contentXml);
  const pages: Array<{ text: string; notes: string }> = [];
  for (const page of elementsOf(s, 'draw:page')) {
    // Page-number fields (a notes page's slide number) are not text of the slide.
    const inner = withoutElements(withoutElements(s.slice(page.inner, page.innerEnd), 'text:page-number'), 'text:page-count');
    let notes = '';
    for (const n of elementsOf(inner, 'presentation:notes')) notes += odfMarkupText(inner.slice(n.inner, n.innerEnd));
    pages.push({ text: odfMarkupText(withoutElements(inner, 'presentation:notes')).trim(), notes: notes.trim() });
  }
  return pages;
}

function odfMarkupText(markup: string): string {
  // A note's citation (its number) is no text. Its body, and a comment (office:annotation, without its
  // author, date and initials), sit inside the paragraph: each starts a line, not glued to the word
  // before it ("chú thíchChú thích").
  // Tracked changes: the record of each change keeps the text a deletion removed (and who made it, when); the
  // document's text is what stands in the paragraphs, insertions included.
  let body = withoutElements(withoutElements(markup, 'text:tracked-changes'), 'text:note-citation');
  for (const name of ['dc:creator', 'dc:date', 'meta:creator-initials']) body = withoutElements(body, name);
  return withoutTags(body
    .replace(/<(?:text:note-body|office:annotation)(?=[\s>])/g, '\n$&')
    .replace(/<text:tab\s*\/>/g, '\t')
    .replace(/<text:line-break\s*\/>/g, '\n')
    .replace(/<text:s(?:\s+text:c="(\d+)")?\s*\/>/g, (_, n: string | undefined) => ' '.repeat(Math.min(Number(n ?? 1), 1000)))
    .replace(/<\/text:(p|h)>/g, '\n')).replace(XML_ENTITY, decodeEntity);
}

/**
 * Text of a DrawingML part (a PPTX slide or notes page): the runs of each paragraph (`<a:t>`) on one
 * line, line breaks and tabs kept. Slide-number fields are left out (a notes page repeats the number).
 */
export function drawingMLText(xmlBytes: Uint8Array): string {
  const s = withoutElements(strFromU8(xmlBytes), 'a:fld', (startTag) => /\btype="slidenum"/.test(startTag));
  return markupRunsText(s, { text: 'a:t', paragraphEnd: '</a:p>', breaks: ['a:br'], tab: 'a:tab' }).replace(/\n{2,}/g, '\n').trim();
}

/**
 * The text of a run-based markup (DrawingML, WordprocessingML): each text element's content
 * (entities decoded), a line break at each paragraph's end and break element, a tab at each tab.
 */
function markupRunsText(s: string, tags: { text: string; paragraphEnd: string; breaks: string[]; tab: string }): string {
  const close = `</${tags.text}>`;
  let out = '';
  for (let i = s.indexOf('<'); i >= 0; i = s.indexOf('<', i + 1)) {
    if (isTagAt(s, i, tags.text)) {
      const gt = s.indexOf('>', i);
      if (gt < 0) break;
      if (s[gt - 1] === '/') continue;
      const end = s.indexOf(close, gt + 1);
      if (end < 0) break;
      out += s.slice(gt + 1, end).replace(XML_ENTITY, decodeEntity);
      i = end;
    } else if (s.startsWith(tags.paragraphEnd, i) || tags.breaks.some((b) => isTagAt(s, i, b))) out += '\n';
    else if (isTagAt(s, i, tags.tab)) out += '\t';
  }
  return out;
}

// ---------- Word (DOCX) notes and comments ----------

/** Text of WordprocessingML markup: the runs' text (`<w:t>`), tabs and line breaks kept, a line per paragraph (tab stops of paragraph properties left out). */
function wordprocessingText(xml: string): string {
  return markupRunsText(withoutElements(xml, 'w:tabs'), { text: 'w:t', paragraphEnd: '</w:p>', breaks: ['w:br', 'w:cr'], tab: 'w:tab' });
}

/**
 * The footnotes, endnotes and comments of a DOCX (the text of each `w:footnote`, `w:endnote`,
 * `w:comment` of word/footnotes.xml, word/endnotes.xml, word/comments.xml), in that order, each kind
 * in the order the document refers to them (its `w:footnoteReference`… elements), any it does not
 * refer to after those in the part's order. The separator pseudo-notes Word writes first (w:type
 * separator, continuationSeparator, continuationNotice) and empty ones are left out. `parts` are the
 * archive entries, word/document.xml among them.
 */
export function docxNotes(parts: Map<string, Uint8Array>): string[] {
  const kinds = (['footnote', 'endnote', 'comment'] as const).filter((k) => parts.has(`word/${k}s.xml`));
  const documentXml = parts.get('word/document.xml');
  if (!kinds.length || !documentXml) return [];
  const doc = strFromU8(documentXml);
  return kinds.flatMap((kind) => {
    const rank = new Map<string, number>();
    for (const r of elementsOf(doc, `w:${kind}Reference`)) {
      const id = /\sw:id="([^"]*)"/.exec(doc.slice(r.start, r.inner))?.[1];
      if (id !== undefined && !rank.has(id)) rank.set(id, rank.size);
    }
    const s = strFromU8(parts.get(`word/${kind}s.xml`)!);
    const notes: Array<{ rank: number; text: string }> = [];
    for (const e of elementsOf(s, `w:${kind}`)) {
      const tag = s.slice(e.start, e.inner);
      if (/\sw:type="(separator|continuationSeparator|continuationNotice)"/.test(tag)) continue;
      const text = wordprocessingText(s.slice(e.inner, e.innerEnd)).trim();
      if (text) notes.push({ rank: rank.get(/\sw:id="([^"]*)"/.exec(tag)?.[1] ?? '') ?? Number.MAX_SAFE_INTEGER, text });
    }
    // A stable sort: notes the document does not refer to keep the part's order.
    return notes.sort((a, b) => a.rank - b.rank).map((n) => n.text);
  });
}

const SLIDE_PART = /^ppt\/slides\/slide(\d+)\.xml$/;

/** Targets of a relationships part by relationship id, each resolved against `base` (the folder of the part they belong to). */
function relationships(relsXml: Uint8Array | undefined, base: string): Map<string, { type: string; target: string }> {
  const out = new Map<string, { type: string; target: string }>();
  if (!relsXml) return out;
  const s = strFromU8(relsXml);
  for (const e of elementsOf(s, 'Relationship')) {
    const tag = s.slice(e.start, e.inner);
    const attr = (n: string) => new RegExp(`\\s${n}="([^"]*)"`).exec(tag)?.[1];
    const id = attr('Id');
    const target = attr('Target');
    if (id === undefined || target === undefined || attr('TargetMode') === 'External') continue;
    const parts = (target.startsWith('/') ? target.slice(1) : `${base}/${target}`).split('/');
    const path: string[] = [];
    for (const p of parts) {
      if (p === '..') path.pop();
      else if (p !== '.' && p !== '') path.push(p);
    }
    out.set(id, { type: attr('Type') ?? '', target: path.join('/') });
  }
  return out;
}

/**
 * The slides of a PPTX (or PPSX), in the order the presentation shows them (its slide list; slide
 * parts it does not list follow in name order), each with its text and its speaker notes' text.
 * `parts` are the archive entries read with `pptxWanted`.
 */
export function pptxSlides(parts: Map<string, Uint8Array>): Array<{ part: string; text: string; notes: string }> {
  const rels = relationships(parts.get('ppt/_rels/presentation.xml.rels'), 'ppt');
  const order: string[] = [];
  const pres = parts.get('ppt/presentation.xml');
  if (pres) {
    const xml = strFromU8(pres);
    const lst = elementsOf(xml, 'p:sldIdLst').next().value;
    const list = lst !== undefined ? xml.slice(lst.inner, lst.innerEnd) : '';
    for (const e of elementsOf(list, 'p:sldId')) {
      const rid = /\sr:id="([^"]+)"/.exec(list.slice(e.start, e.inner))?.[1];
      const target = rid !== undefined ? rels.get(rid)?.target : undefined;
      if (target !== undefined && parts.has(target) && !order.includes(target)) order.push(target);
    }
  }
  const rest = [...parts.keys()].filter((n) => SLIDE_PART.test(n) && !order.includes(n));
  rest.sort((a, b) => Number(SLIDE_PART.exec(a)![1]) - Number(SLIDE_PART.exec(b)![1]));
  return [...order, ...rest].map((part) => {
    const name = part.slice(part.lastIndexOf('/') + 1);
    const slideRels = relationships(parts.get(`ppt/slides/_rels/${name}.rels`), 'ppt/slides');
    const notesPart = [...slideRels.values()].find((r) => r.type.endsWith('/notesSlide'))?.target;
    const notesXml = notesPart !== undefined ? parts.get(notesPart) : undefined;
    return { part, text: drawingMLText(parts.get(part)!), notes: notesXml ? drawingMLText(notesXml) : '' };
  });
}

/** The archive entries `pptxSlides` and the document properties need. */
export const pptxWanted = (name: string): boolean =>
  name === 'ppt/presentation.xml' ||
  name === 'ppt/_rels/presentation.xml.rels' ||
  name === 'docProps/core.xml' ||
  name === 'docProps/app.xml' ||
  SLIDE_PART.test(name) ||
  /^ppt\/slides\/_rels\/slide\d+\.xml\.rels$/.test(name) ||
  /^ppt\/notesSlides\/notesSlide\d+\.xml$/.test(name);

// ---------- Spreadsheets (XLSX, ODS) ----------

/** Sheets past this many rows or cells are cut (a sheet is a page of text; hostile files repeat rows by the million). */
const MAX_SHEET_CELLS = 1_000_000;

/** The archive entries `xlsxSheets` reads. */
export const xlsxWanted = (name: string): boolean =>
  name === 'xl/workbook.xml' || name === 'xl/_rels/workbook.xml.rels' || name === 'xl/sharedStrings.xml' || name === 'docProps/core.xml' || name === 'docProps/app.xml' || /^xl\/worksheets\/[^/]+\.xml$/.test(name);

/** Text of a run-bearing element (a shared string, an inline string): its <t> texts joined. */
function runsText(xml: string): string {
  let out = '';
  for (const t of elementsOf(xml, 't')) out += xml.slice(t.inner, t.innerEnd);
  return out.replace(XML_ENTITY, decodeEntity);
}

/**
 * The sheets of an XLSX workbook in the workbook's order, each as text: one line per row, cells
 * separated by tabs (shared and inline strings, numbers and booleans as stored, formulas by their
 * cached value). Empty rows are left out.
 */
export function xlsxSheets(parts: Map<string, Uint8Array>): Array<{ name: string; text: string }> {
  return xlsxSheetCells(parts).map(({ name, rows }) => {
    const lines: string[] = [];
    for (const r of rows) {
      const values = r.cells.map((c) => c.v);
      while (values.length > 0 && values[values.length - 1] === '') values.pop();
      if (values.length > 0) lines.push(values.join('\t'));
    }
    return { name, text: lines.join('\n') };
  });
}

/**
 * The rows of a workbook's first worksheet as cells in column order (by each cell's reference, an
 * empty string where a row has no cell), with their row numbers; empty rows left out. For reading
 * tables (import manifests).
 */
export function xlsxRows(parts: Map<string, Uint8Array>): Array<{ row: number; cells: string[] }> {
  const first = xlsxSheetCells(parts)[0];
  if (first === undefined) return [];
  const out: Array<{ row: number; cells: string[] }> = [];
  for (const r of first.rows) {
    const cells: string[] = [];
    for (const c of r.cells) {
      // A table's columns: the first MAX_TABLE_COLUMNS.
      if (c.col >= MAX_TABLE_COLUMNS) continue;
      while (cells.length < c.col) cells.push('');
      cells[c.col] = c.v;
    }
    if (cells.some((v) => v !== '')) out.push({ row: r.row, cells });
  }
  return out;
}

/** Columns read by xlsxRows (a manifest has a few dozen). */
export const MAX_TABLE_COLUMNS = 1000;

/** Column index (0-based) of a cell reference such as "AB12", or -1. */
function columnOf(ref: string): number {
  let col = 0;
  let i = 0;
  for (; i < ref.length && i < 4; i++) {
    const c = ref.charCodeAt(i);
    if (c < 65 || c > 90) break;
    col = col * 26 + (c - 64);
  }
  return i === 0 ? -1 : col - 1;
}

/** Each sheet's rows: row number and cells (column, value as XLSX text), in the workbook's order. */
function xlsxSheetCells(parts: Map<string, Uint8Array>): Array<{ name: string; rows: Array<{ row: number; cells: Array<{ col: number; v: string }> }> }> {
  const shared: string[] = [];
  const sst = parts.get('xl/sharedStrings.xml');
  if (sst) {
    const x = strFromU8(sst);
    for (const si of elementsOf(x, 'si')) shared.push(runsText(x.slice(si.inner, si.innerEnd)));
  }
  const rels = relationships(parts.get('xl/_rels/workbook.xml.rels'), 'xl');
  const sheets: Array<{ name: string; part: string }> = [];
  const wb = parts.get('xl/workbook.xml');
  if (wb) {
    const x = strFromU8(wb);
    for (const e of elementsOf(x, 'sheet')) {
      const tag = x.slice(e.start, e.inner);
      const name = (/\sname="([^"]*)"/.exec(tag)?.[1] ?? '').replace(XML_ENTITY, decodeEntity);
      const rid = /\sr:id="([^"]*)"/.exec(tag)?.[1];
      const part = rid !== undefined ? rels.get(rid)?.target : undefined;
      if (part !== undefined && parts.has(part)) sheets.push({ name, part });
    }
  }
  return sheets.map(({ name, part }) => {
    const x = strFromU8(parts.get(part)!);
    const rows: Array<{ row: number; cells: Array<{ col: number; v: string }> }> = [];
    let cells = 0;
    let rowNo = 0;
    for (const row of elementsOf(x, 'row')) {
      const rowTag = x.slice(row.start, row.inner);
      const rAttr = Number(/\sr="(\d+)"/.exec(rowTag)?.[1]);
      rowNo = Number.isInteger(rAttr) && rAttr > rowNo ? rAttr : rowNo + 1;
      const r = x.slice(row.inner, row.innerEnd);
      const out: Array<{ col: number; v: string }> = [];
      let next = 0;
      for (const c of elementsOf(r, 'c')) {
        if (++cells > MAX_SHEET_CELLS) break;
        const tag = r.slice(c.start, c.inner);
        const inner = r.slice(c.inner, c.innerEnd);
        const type = /\st="([^"]*)"/.exec(tag)?.[1] ?? 'n';
        let v: string;
        if (type === 'inlineStr') v = runsText(inner);
        else {
          const ve = elementsOf(inner, 'v').next().value;
          const raw = ve !== undefined ? inner.slice(ve.inner, ve.innerEnd).replace(XML_ENTITY, decodeEntity) : '';
          v = type === 's' ? (shared[Number(raw)] ?? '') : type === 'b' ? (raw === '1' ? 'TRUE' : 'FALSE') : raw;
        }
        const ref = /\sr="([A-Z]{1,3})\d+"/.exec(tag)?.[1];
        const col = ref !== undefined ? columnOf(ref) : next;
        next = Math.max(next, col + 1);
        out.push({ col, v: v.replace(/[\t\r\n]+/g, ' ') });
      }
      rows.push({ row: rowNo, cells: out });
      if (cells > MAX_SHEET_CELLS) break;
    }
    return { name, rows };
  });
}

/**
 * The tables (sheets) of an ODS content.xml, in order, each as text: one line per row, cells
 * separated by tabs; a cell repeated N times (number-columns-repeated) counts N times only when it
 * has text (LibreOffice pads rows with a million repeated empty cells), empty rows left out.
 */
/**
 * The rows of an ODS document's first table as cells in column order (repeated cells counted, an
 * empty string for an empty cell), with their row numbers (repeated rows counted); empty rows left
 * out. Numbers and dates are read from their values (`office:value`, `office:date-value`), not from
 * their formatted text ("5.000", "30/03/2023"). For reading tables (import manifests).
 */
export function odsRows(contentXml: Uint8Array): Array<{ row: number; cells: string[] }> {
  const x = strFromU8(contentXml);
  const table = elementsOf(x, 'table:table').next().value;
  if (table === undefined) return [];
  const t = x.slice(table.inner, table.innerEnd);
  const out: Array<{ row: number; cells: string[] }> = [];
  let rowNo = 0;
  let cells = 0;
  for (const row of elementsOf(t, 'table:table-row')) {
    const rtag = t.slice(row.start, row.inner);
    const rowRepeat = Math.max(1, Number(/\stable:number-rows-repeated="(\d+)"/.exec(rtag)?.[1] ?? 1));
    // The cells a merged cell covers hold their columns: counted as empty cells.
    const r = t.slice(row.inner, row.innerEnd).replace(/<(\/?)table:covered-table-cell\b/g, '<$1table:table-cell');
    const values: string[] = [];
    for (const c of elementsOf(r, 'table:table-cell')) {
      const ctag = r.slice(c.start, c.inner);
      const type = /\soffice:value-type="([^"]*)"/.exec(ctag)?.[1];
      const text = odfMarkupText(r.slice(c.inner, c.innerEnd)).trim().replace(/[\t\r\n]+/g, ' ');
      const v =
        type === 'float' || type === 'percentage' || type === 'currency'
          ? (/\soffice:value="([^"]*)"/.exec(ctag)?.[1] ?? text)
          : type === 'date'
            ? (/\soffice:date-value="(\d{4}-\d{2}-\d{2})/.exec(ctag)?.[1] ?? text)
            : text;
      const repeat = Math.max(1, Number(/\stable:number-columns-repeated="(\d+)"/.exec(ctag)?.[1] ?? 1));
      for (let k = 0; k < repeat && values.length < MAX_TABLE_COLUMNS && cells < MAX_SHEET_CELLS; k++, cells++) values.push(v);
    }
    rowNo += 1;
    while (values.length > 0 && values[values.length - 1] === '') values.pop();
    if (values.length > 0) out.push({ row: rowNo, cells: values });
    rowNo += Math.min(rowRepeat, 1_048_576) - 1;
    if (cells >= MAX_SHEET_CELLS) break;
  }
  return out;
}

export function odsSheets(contentXml: Uint8Array): Array<{ name: string; text: string }> {
  const x = strFromU8(contentXml);
  const out: Array<{ name: string; text: string }> = [];
  for (const table of elementsOf(x, 'table:table')) {
    const tag = x.slice(table.start, table.inner);
    const name = (/\stable:name="([^"]*)"/.exec(tag)?.[1] ?? '').replace(XML_ENTITY, decodeEntity);
    const t = x.slice(table.inner, table.innerEnd);
    const lines: string[] = [];
    let cells = 0;
    for (const row of elementsOf(t, 'table:table-row')) {
      const r = t.slice(row.inner, row.innerEnd);
      const values: string[] = [];
      for (const c of elementsOf(r, 'table:table-cell')) {
        const ctag = r.slice(c.start, c.inner);
        const text = odfMarkupText(r.slice(c.inner, c.innerEnd)).trim().replace(/[\t\r\n]+/g, ' ');
        const repeat = text === '' ? 1 : Math.min(Number(/\stable:number-columns-repeated="(\d+)"/.exec(ctag)?.[1] ?? 1), 1000);
        for (let k = 0; k < repeat && cells < MAX_SHEET_CELLS; k++, cells++) values.push(text);
      }
      while (values.length > 0 && values[values.length - 1] === '') values.pop();
      if (values.length > 0) lines.push(values.join('\t'));
      if (cells >= MAX_SHEET_CELLS) break;
    }
    out.push({ name, text: lines.join('\n') });
  }
  return out;
}
