/**
 * Rich Text Format (RTF) reader for the office extractor: the document's text and its {\info}
 * properties, in one pass over the file.
 *
 * - Unicode escapes (\uN with \ucN fallback characters skipped) and 8-bit bytes (\'hh or raw) decoded
 *   in the encoding of the current font: its \fcharset (163 = Windows-1258, Vietnamese), a TCVN3 font
 *   (.VnTime, .VnArial…: the legacy Vietnamese encoding of the 1990s–2000s), else the document's
 *   \ansicpg (Windows-1252 by default).
 * - Paragraphs, line breaks, table cells and rows become new lines and tabs; footnotes and comments
 *   ({\*\annotation}) are kept apart and appended after the text, one per line; font, colour and style
 *   tables, pictures (and \binN data), field instructions, headers and footers, and every \*
 *   destination not read here are skipped.
 */
import { decodeBytes } from '../adapters/text-encoding.ts';

export interface RtfDocument {
  text: string;
  footnotes: string;
  info: { title?: string; subject?: string; author?: string; keywords?: string; description?: string; lastModifiedBy?: string; company?: string; createdAt?: string; modifiedAt?: string; pageCount?: number; wordCount?: number };
}

const CHARSET_ENCODING: Record<number, string> = {
  0: '', 1: '', 2: '', 77: 'macintosh', 128: 'cp932', 129: 'cp949', 134: 'cp936', 136: 'cp950', 161: 'windows-1253', 162: 'windows-1254',
  163: 'windows-1258', 177: 'windows-1255', 178: 'windows-1256', 186: 'windows-1257', 204: 'windows-1251', 222: 'windows-874', 238: 'windows-1250',
};

/** Destinations whose content is not document text. */
const SKIP = new Set([
  'colortbl', 'stylesheet', 'listtable', 'listoverridetable', 'revtbl', 'rsidtbl', 'generator', 'pict', 'object', 'objdata', 'themedata',
  'colorschememapping', 'latentstyles', 'datastore', 'xmlnstbl', 'fldinst', 'header', 'headerl', 'headerr', 'headerf', 'footer', 'footerl',
  'footerr', 'footerf', 'nonshppict', 'shpinst', 'template', 'filetbl', 'pgdsctbl', 'private', 'userprops', 'xe', 'tc', 'bkmkstart', 'bkmkend',
]);
const INFO_FIELDS: Record<string, keyof RtfDocument['info']> = {
  title: 'title', subject: 'subject', author: 'author', keywords: 'keywords', doccomm: 'description', operator: 'lastModifiedBy', company: 'company',
};
const SYMBOLS: Record<string, string> = {
  par: '\n', line: '\n', sect: '\n', page: '\n', row: '\n', tab: '\t', cell: '\t', emdash: '—', endash: '–', bullet: '•', lquote: '‘', rquote: '’',
  ldblquote: '“', rdblquote: '”', emspace: ' ', enspace: ' ', qmspace: ' ', zwj: '\u200d', zwnj: '\u200c', ltrmark: '', rtlmark: '',
};

/** Where the group's characters go: the text, a footnote, an {\info} field, nowhere ({\info} itself, skipped destinations), the font table. */
/** Groups nested deeper than this are skipped without keeping a state each (a file of a million '{'). */
const MAX_DEPTH = 1000;

type Target = 'text' | 'footnote' | 'info' | 'infoGroup' | 'font' | 'skip';
interface GroupState {
  target: Target;
  uc: number;
  font: number;
  /** The info field being read (target 'info'). */
  field: string;
  /** This group is a \upr group: its first child is the ANSI form, skipped for the \*\ud (Unicode) form after it. */
  upr: boolean;
  /** This group is a child of a \upr group. */
  uprChild: boolean;
}

export function parseRtf(data: Uint8Array): RtfDocument {
  // RTF is 7-bit text with escapes; raw 8-bit bytes (some writers) are read as bytes of the current font.
  const s = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('latin1');
  const n = s.length;
  const fonts = new Map<number, { charset: number; name: string }>();
  let ansi = 'windows-1252';
  let defaultFont = 0;
  let state: GroupState = { target: 'text', uc: 1, font: 0, field: '', upr: false, uprChild: false };
  const stack: GroupState[] = [];
  let text = '';
  let foot = '';
  const info: Record<string, string> = {};
  const dates: Record<string, Record<string, number>> = {};
  let dateField = '';
  let fontNo = -1;
  let fontName = '';
  let fontCharset = 0;
  let pending: number[] = [];
  let skipChars = 0;
  /** True right after a group opens: its first control word may name a destination. */
  let groupStart = false;
  let starred = false;
  let deep = 0;
  let deepFrom = state;

  const encodingOf = (font: number): string => {
    const f = fonts.get(font) ?? fonts.get(defaultFont);
    if (f !== undefined && /^\.vn/i.test(f.name)) return 'tcvn';
    return (f !== undefined && CHARSET_ENCODING[f.charset]) || ansi;
  };
  const emit = (t: string): void => {
    if (t === '') return;
    switch (state.target) {
      case 'text':
        text += t;
        break;
      case 'footnote':
        foot += t;
        break;
      case 'info':
        info[state.field] = (info[state.field] ?? '') + t;
        break;
      case 'font':
        fontName += t;
        break;
      default:
    }
  };
  const flush = (): void => {
    if (pending.length === 0) return;
    const bytes = Uint8Array.from(pending);
    pending = [];
    emit(decodeBytes(bytes, encodingOf(state.font)));
  };
  const saveFont = (): void => {
    if (fontNo >= 0) fonts.set(fontNo, { charset: fontCharset, name: fontName.replace(/;\s*$/, '').trim() });
    fontNo = -1;
    fontName = '';
    fontCharset = 0;
  };

  let i = 0;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c === 0x7b) {
      flush();
      if (stack.length >= MAX_DEPTH) {
        // Deeper groups (no real document nests this far) are counted, not kept, and their text dropped.
        if (deep++ === 0) deepFrom = state;
        state = { ...state, target: 'skip' };
        i++;
        continue;
      }
      stack.push(state);
      state = { ...state, upr: false, uprChild: state.upr };
      groupStart = true;
      starred = false;
      i++;
      continue;
    }
    if (c === 0x7d) {
      flush();
      if (deep > 0) {
        if (--deep === 0) state = deepFrom;
        i++;
        continue;
      }
      if (state.target === 'font' && fontNo >= 0 && (stack[stack.length - 1]?.target === 'font')) saveFont();
      state = stack.pop() ?? state;
      groupStart = false;
      i++;
      continue;
    }
    if (c === 0x5c) {
      const d = s.charCodeAt(i + 1);
      if ((d >= 0x61 && d <= 0x7a) || (d >= 0x41 && d <= 0x5a)) {
        let j = i + 1;
        while (j < n && j - i <= 32 && ((s.charCodeAt(j) >= 0x61 && s.charCodeAt(j) <= 0x7a) || (s.charCodeAt(j) >= 0x41 && s.charCodeAt(j) <= 0x5a))) j++;
        const word = s.slice(i + 1, j);
        let k = j;
        if (s[k] === '-') k++;
        while (k < n && k - j <= 10 && s.charCodeAt(k) >= 0x30 && s.charCodeAt(k) <= 0x39) k++;
        const hasParam = k > j && !(k === j + 1 && s[j] === '-');
        const param = hasParam ? Number.parseInt(s.slice(j, k), 10) : NaN;
        i = s[k] === ' ' ? k + 1 : hasParam ? k : j;
        const atStart = groupStart;
        const wasStarred = starred;
        groupStart = false;
        starred = false;
        if (word === 'bin' && hasParam) {
          // Raw binary data of the given length: skipped whole (it may hold braces and backslashes).
          i += Math.max(0, Math.min(param, n - i));
          continue;
        }
        if (state.target === 'skip') continue;
        if (word === 'u' && hasParam) {
          flush();
          emit(String.fromCharCode(param < 0 ? param + 65536 : param & 0xffff));
          skipChars = state.uc;
          continue;
        }
        if (word !== 'f' || state.target !== 'font') flush();
        if (atStart) {
          // {\upr{ANSI form}{\*\ud{Unicode form}}}: the Unicode form only.
          if (word === 'upr') {
            state.upr = true;
            continue;
          }
          if (state.uprChild) {
            if (word !== 'ud') state.target = 'skip';
            continue;
          }
          if (word === 'fonttbl') {
            state.target = 'font';
            continue;
          }
          if (word === 'info') {
            state.target = 'infoGroup';
            continue;
          }
          // Footnotes (endnotes too: \footnote\ftnalt) and comments ({\*\annotation}, whose author sits
          // in a {\*\atnauthor} skipped before it), each on a line of its own.
          if (word === 'footnote' || word === 'annotation') {
            if (foot !== '' && !foot.endsWith('\n')) foot += '\n';
            state.target = 'footnote';
            continue;
          }
          if (state.target === 'infoGroup' && INFO_FIELDS[word] !== undefined) {
            state.target = 'info';
            state.field = INFO_FIELDS[word];
            continue;
          }
          if (state.target === 'infoGroup' && (word === 'creatim' || word === 'revtim')) {
            dateField = word;
            dates[word] = {};
            continue;
          }
          if (SKIP.has(word) || wasStarred) {
            state.target = 'skip';
            continue;
          }
        }
        if (state.target === 'infoGroup') {
          if (dateField !== '' && hasParam && ['yr', 'mo', 'dy', 'hr', 'min'].includes(word)) dates[dateField][word] = param;
          else if ((word === 'nofpages' || word === 'nofwords') && hasParam) info[word] = String(param);
          continue;
        }
        if (state.target === 'font') {
          if (word === 'f' && hasParam) {
            saveFont();
            fontNo = param;
          } else if (word === 'fcharset' && hasParam) fontCharset = param;
          continue;
        }
        if (word === 'uc' && hasParam) state.uc = Math.max(0, Math.min(param, 10));
        else if (word === 'f' && hasParam) state.font = param;
        else if (word === 'ansicpg' && hasParam) ansi = param === 1258 || param === 1252 || (param >= 1250 && param <= 1257) ? `windows-${param}` : `cp${param}`;
        else if (word === 'deff' && hasParam) defaultFont = param;
        else if (SYMBOLS[word] !== undefined) emit(SYMBOLS[word]);
        continue;
      }
      if (d === 0x27) {
        // \'hh: one byte in the current font's encoding (a fallback character of \u when pending).
        const byte = Number.parseInt(s.slice(i + 2, i + 4), 16);
        i += 4;
        groupStart = false;
        if (skipChars > 0) {
          skipChars--;
          continue;
        }
        if (state.target !== 'skip' && Number.isFinite(byte)) pending.push(byte);
        continue;
      }
      i += 2;
      groupStart = groupStart && d === 0x2a;
      if (d === 0x2a) {
        starred = true;
        continue;
      }
      if (state.target === 'skip') continue;
      flush();
      if (skipChars > 0) {
        skipChars--;
        continue;
      }
      if (d === 0x5c || d === 0x7b || d === 0x7d) emit(s[i - 1]);
      else if (d === 0x7e) emit('\u00a0');
      else if (d === 0x5f) emit('\u2011');
      else if (d === 0x0a || d === 0x0d) emit('\n');
      continue;
    }
    if (c === 0x0d || c === 0x0a) {
      i++;
      continue;
    }
    // A run of plain characters.
    let j = i;
    while (j < n) {
      const e = s.charCodeAt(j);
      if (e === 0x5c || e === 0x7b || e === 0x7d || e === 0x0d || e === 0x0a) break;
      j++;
    }
    groupStart = false;
    starred = false;
    let from = i;
    if (skipChars > 0) {
      const drop = Math.min(skipChars, j - i);
      skipChars -= drop;
      from += drop;
    }
    if (state.target !== 'skip' && from < j) {
      if (state.target === 'font') {
        flush();
        fontName += s.slice(from, j);
        if (fontName.includes(';')) saveFont();
      } else {
        let ascii = true;
        for (let x = from; x < j && ascii; x++) ascii = s.charCodeAt(x) < 0x80;
        if (ascii) {
          flush();
          emit(s.slice(from, j));
        } else for (let x = from; x < j; x++) pending.push(s.charCodeAt(x));
      }
    }
    i = j;
  }
  flush();
  const iso = (d: Record<string, number> | undefined): string | undefined => {
    if (d === undefined || !d.yr) return undefined;
    const p2 = (v: number | undefined) => String(v ?? 0).padStart(2, '0');
    return `${String(d.yr).padStart(4, '0')}-${p2(d.mo || 1)}-${p2(d.dy || 1)}T${p2(d.hr)}:${p2(d.min)}:00`;
  };
  const clean = (t: string) => t.replace(/[ \t]+\n/g, '\n').replace(/\n{3,}/g, '\n\n').trim();
  const field = (k: string) => (info[k] !== undefined && info[k].trim() !== '' ? info[k].trim() : undefined);
  return {
    text: clean(text),
    // A note starts with the blank Word puts after its mark ({\chftn}{ Chú thích…}).
    footnotes: clean(foot.replace(/\n[ \t]+/g, '\n')),
    info: {
      title: field('title'), subject: field('subject'), author: field('author'), keywords: field('keywords'), description: field('description'),
      lastModifiedBy: field('lastModifiedBy'), company: field('company'), createdAt: iso(dates.creatim), modifiedAt: iso(dates.revtim),
      pageCount: info.nofpages !== undefined ? Number(info.nofpages) : undefined, wordCount: info.nofwords !== undefined ? Number(info.nofwords) : undefined,
    },
  };
}
