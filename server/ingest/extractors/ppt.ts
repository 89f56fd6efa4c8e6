/**
 * PowerPoint 97–2003 (.ppt) records ([MS-PPT]) and the SummaryInformation property set of compound
 * files ([MS-OLEPS], .doc and .ppt), read from the streams the office adapter hands over.
 */
import { compoundStreams } from '../adapters/office.ts';
import { decodeBytes } from '../adapters/text-encoding.ts';
import { PermanentExtractError } from './types.ts';

/** Record types of the binary PowerPoint format ([MS-PPT]) read here. */
const PPT = {
  document: 0x03e8,
  slide: 0x03ee,
  slideAtom: 0x03ef,
  notes: 0x03f0,
  slidePersistAtom: 0x03f3,
  slideListWithText: 0x0ff0,
  userEditAtom: 0x0ff5,
  persistDirectoryAtom: 0x1772,
  textCharsAtom: 0x0fa0,
  textBytesAtom: 0x0fa8,
} as const;

interface PptRecord {
  type: number;
  instance: number;
  container: boolean;
  /** Offset of the record's data (after its 8-byte header) and its end, in the stream. */
  start: number;
  end: number;
}

/** The records directly inside [from, to), each checked to lie inside it (a damaged length ends the list). */
function pptChildren(s: Buffer, from: number, to: number): PptRecord[] {
  const out: PptRecord[] = [];
  let at = from;
  while (at + 8 <= to && out.length < 100_000) {
    const r = pptRecordAt(s, at);
    if (r === null || r.end > to) break;
    out.push(r);
    at = r.end;
  }
  return out;
}

/** The record whose header starts at `at`, or null when it does not fit in the stream. */
function pptRecordAt(s: Buffer, at: number): PptRecord | null {
  if (!Number.isInteger(at) || at < 0 || at + 8 > s.length) return null;
  const len = s.readUInt32LE(at + 4);
  if (at + 8 + len > s.length) return null;
  const verInst = s.readUInt16LE(at);
  return { type: s.readUInt16LE(at + 2), instance: verInst >> 4, container: (verInst & 0xf) === 0xf, start: at + 8, end: at + 8 + len };
}

/** A text atom's text: UTF-16LE (TextCharsAtom) or one byte per character (TextBytesAtom); CR and VT end lines. */
function pptText(s: Buffer, r: PptRecord): string {
  const raw = r.type === PPT.textCharsAtom ? s.toString('utf16le', r.start, r.end - ((r.end - r.start) % 2)) : s.toString('latin1', r.start, r.end);
  return raw.replace(/[\r\v]/g, '\n');
}

/** Texts of every text atom inside a record, in order (containers searched to a bounded depth). */
function pptTexts(s: Buffer, r: PptRecord, out: string[] = [], depth = 0): string[] {
  if (r.type === PPT.textCharsAtom || r.type === PPT.textBytesAtom) out.push(pptText(s, r));
  else if (r.container && depth < 32) for (const c of pptChildren(s, r.start, r.end)) pptTexts(s, c, out, depth + 1);
  return out;
}

/**
 * The persist directory of the newest save: persist id → stream offset, following the chain of
 * user edits from the one the Current User stream names (newer entries win over older ones).
 */
function pptPersist(s: Buffer, currentUser: Buffer | undefined): { offsets: Map<number, number>; docRef: number } | null {
  let edit = currentUser !== undefined && currentUser.length >= 20 ? currentUser.readUInt32LE(16) : -1;
  const offsets = new Map<number, number>();
  let docRef = -1;
  const seen = new Set<number>();
  while (edit > 0 && !seen.has(edit) && seen.size < 1000) {
    seen.add(edit);
    const ue = pptRecordAt(s, edit);
    if (ue === null || ue.type !== PPT.userEditAtom || ue.end - ue.start < 20) return null;
    if (docRef < 0) docRef = s.readUInt32LE(ue.start + 16);
    const dir = pptRecordAt(s, s.readUInt32LE(ue.start + 12));
    if (dir === null || dir.type !== PPT.persistDirectoryAtom) return null;
    for (let at = dir.start; at + 4 <= dir.end; ) {
      const head = s.readUInt32LE(at);
      const first = head & 0xfffff;
      const count = head >>> 20;
      at += 4;
      for (let k = 0; k < count && at + 4 <= dir.end; k++, at += 4) if (!offsets.has(first + k)) offsets.set(first + k, s.readUInt32LE(at));
    }
    edit = s.readUInt32LE(ue.start + 8);
  }
  return docRef >= 0 ? { offsets, docRef } : null;
}

/** Lines of `extra` not already among `have` (a shape's text can be stored twice: in the slide list and in the drawing). */
function addNew(have: string[], extra: string[]): string[] {
  const seen = new Set(have.map((t) => t.trim()));
  return [...have, ...extra.filter((t) => t.trim() !== '' && !seen.has(t.trim()))];
}

/**
 * The slides of a PowerPoint 97–2003 file in the order the deck shows them (its slide list), each
 * with its text (placeholders from the slide list, then the text boxes of its drawing) and its
 * speaker notes. Master slides and their boilerplate are not read.
 */
export function pptSlides(file: Buffer): Array<{ text: string; notes: string }> {
  const streams = compoundStreams(file, ['PowerPoint Document', 'Current User']);
  const stream = streams.get('PowerPoint Document');
  if (stream === undefined) throw new PermanentExtractError('OFFICE_MALFORMED', 'The presentation could not be read: no PowerPoint Document stream');
  const currentUser = streams.get('Current User');
  const persist = pptPersist(stream, currentUser);
  // The document container: through the persist directory, else the first one in the stream (a file
  // whose edit chain is damaged still has its slide list).
  const at = (ref: number) => (persist?.offsets.has(ref) ? pptRecordAt(stream, persist.offsets.get(ref)!) : null);
  let docRec = persist !== null ? at(persist.docRef) : null;
  if (docRec?.type !== PPT.document) docRec = pptChildren(stream, 0, stream.length).find((r) => r.type === PPT.document) ?? null;
  if (docRec === null) throw new PermanentExtractError('OFFICE_MALFORMED', 'The presentation has no document record');
  const lists = pptChildren(stream, docRec.start, docRec.end).filter((r) => r.type === PPT.slideListWithText);
  /**
   * The entries of the slide lists of one kind (instance 0: slides, 2: notes) in order: each one's
   * persist id, slide id and the texts the list holds for it (writers keep the placeholder texts
   * there, in the drawing, or in both).
   */
  const listed = (instance: number) => {
    const out: Array<{ ref: number; id: number; texts: string[] }> = [];
    for (const list of lists.filter((l) => l.instance === instance)) {
      for (const r of pptChildren(stream, list.start, list.end)) {
        if (r.type === PPT.slidePersistAtom && r.end - r.start >= 16) out.push({ ref: stream.readUInt32LE(r.start), id: stream.readUInt32LE(r.start + 12), texts: [] });
        else if ((r.type === PPT.textCharsAtom || r.type === PPT.textBytesAtom) && out.length > 0) out[out.length - 1].texts.push(pptText(stream, r));
      }
    }
    return out;
  };
  // A slide names its notes by their notes id (the notes list's slide id), not by persist id.
  const notesById = new Map(listed(2).map((n) => [n.id, n]));
  return listed(0).map(({ ref, texts }) => {
    let own = texts;
    let notes: string[] = [];
    const slide = at(ref);
    if (slide?.type === PPT.slide) {
      const children = pptChildren(stream, slide.start, slide.end);
      for (const c of children) if (c.type !== PPT.slideAtom) own = addNew(own, pptTexts(stream, c));
      const atom = children.find((c) => c.type === PPT.slideAtom);
      const notesId = atom !== undefined && atom.end - atom.start >= 20 ? stream.readUInt32LE(atom.start + 16) : 0;
      const entry = notesId !== 0 ? notesById.get(notesId) : undefined;
      if (entry !== undefined) {
        notes = entry.texts;
        const n = at(entry.ref);
        if (n?.type === PPT.notes) notes = addNew(notes, pptTexts(stream, n));
      }
    }
    // A lone "*" is a field placeholder (slide number, date, footer), not text.
    const join = (parts: string[]) => parts.map((t) => t.trim()).filter((t) => t !== '' && t !== '*').join('\n');
    return { text: join(own), notes: join(notes) };
  });
}

export interface OleSummary {
  title?: string;
  subject?: string;
  author?: string;
  keywords?: string;
  description?: string;
  lastModifiedBy?: string;
  createdAt?: string;
  modifiedAt?: string;
  pageCount?: number;
  wordCount?: number;
  application?: string;
}

const SUMMARY_IDS: Record<number, keyof OleSummary> = {
  2: 'title', 3: 'subject', 4: 'author', 5: 'keywords', 6: 'description', 8: 'lastModifiedBy', 12: 'createdAt', 13: 'modifiedAt', 14: 'pageCount', 15: 'wordCount', 18: 'application',
};

/**
 * The SummaryInformation property set of a compound file ([MS-OLEPS]): title, subject, author,
 * keywords, comments, last author, creation and save times, page and word counts, application.
 * Strings in the set's code page (Windows-1258 on Vietnamese Windows); {} when absent or unreadable.
 */
export function oleSummary(file: Buffer): OleSummary {
  const out: OleSummary = {};
  try {
    const b = compoundStreams(file, ['\u0005SummaryInformation']).get('\u0005SummaryInformation');
    if (b === undefined || b.length < 48) return out;
    const section = b.readUInt32LE(44);
    if (section + 8 > b.length) return out;
    const count = Math.min(b.readUInt32LE(section + 4), 1000);
    const props = new Map<number, number>();
    for (let k = 0; k < count && section + 16 + k * 8 <= b.length; k++) props.set(b.readUInt32LE(section + 8 + k * 8), section + b.readUInt32LE(section + 12 + k * 8));
    const cpAt = props.get(1);
    const codePage = cpAt !== undefined && cpAt + 6 <= b.length && (b.readUInt32LE(cpAt) & 0xffff) === 2 ? b.readUInt16LE(cpAt + 4) : 1252;
    const encoding = codePage === 65001 ? 'utf8' : codePage === 1200 ? 'utf16le' : `windows-${codePage}`;
    for (const [id, at] of props) {
      const key = SUMMARY_IDS[id];
      if (key === undefined || at + 8 > b.length) continue;
      const type = b.readUInt32LE(at) & 0xffff;
      let v: string | number | undefined;
      if (type === 0x1e) {
        const len = Math.min(b.readUInt32LE(at + 4), b.length - at - 8);
        v = decodeBytes(b.subarray(at + 8, at + 8 + len), encoding).replace(/\0[\s\S]*$/, '').normalize('NFC').trim();
      } else if (type === 0x1f) {
        const chars = Math.min(b.readUInt32LE(at + 4), (b.length - at - 8) >> 1);
        v = b.toString('utf16le', at + 8, at + 8 + chars * 2).replace(/\0[\s\S]*$/, '').normalize('NFC').trim();
      } else if (type === 0x40 && at + 12 <= b.length) {
        // FILETIME: 100 ns ticks since 1601-01-01; a zero or absurd time is no date.
        const ms = Number(b.readBigUInt64LE(at + 4) / 10_000n) - 11_644_473_600_000;
        if (ms > 0 && ms < 4_102_444_800_000) v = new Date(ms).toISOString().replace(/\.000Z$/, 'Z');
      } else if (type === 3) v = b.readInt32LE(at + 4);
      if (v !== undefined && v !== '' && !(typeof v === 'number' && (key === 'pageCount' || key === 'wordCount') && v <= 0)) (out as Record<string, unknown>)[key] = v;
    }
  } catch {
    /* no summary */
  }
  return out;
}
