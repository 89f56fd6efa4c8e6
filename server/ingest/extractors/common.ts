/** Small helpers shared by the extractors. */
import { stat } from 'node:fs/promises';
import { readLegacyVietnamese, repairLegacyVietnamese } from '../adapters/text-encoding.ts';
import { PermanentExtractError, type ExtractedPage, type ExtractInput } from './types.ts';

/** Fails with EMPTY_FILE for a zero-byte blob (nothing to extract, never worth a retry). */
export async function assertNotEmpty(input: ExtractInput): Promise<number> {
  const s = await stat(input.path);
  if (s.size === 0) throw new PermanentExtractError('EMPTY_FILE', 'The file is empty (0 bytes)');
  return s.size;
}

/** Throws TIMEOUT once the soft deadline has passed. */
export function checkDeadline(input: Pick<ExtractInput, 'limits'>, what: string): void {
  if (Date.now() > input.limits.deadline) {
    throw new PermanentExtractError('TIMEOUT', `Time limit reached while ${what}`);
  }
}

/** NFC, no NULs, unified line ends, trailing spaces trimmed per line. */
export function cleanText(s: string): string {
  return s
    .normalize('NFC')
    .replace(/\r\n?/g, '\n')
    // C0/C1 controls other than tab and newline are glyph-mapping debris, not text.
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '')
    // Only from the start of a run of blanks (not preceded by one): `/[ \t]+\n/g` alone is tried from
    // every blank of a long run that no newline ends, each try scanning the rest of the run (quadratic).
    .replace(/(?<![ \t])[ \t]+\n/g, '\n')
    .trim();
}

/** Which legacy font a document's lines were typed in (see documentTexts); empty when none. */
export type LegacyFontFacts = { legacyFont?: 'tcvn3' | 'vni'; legacyLines?: number };

/**
 * The pages of a document (Office, PDF): lines typed in a TCVN3 or VNI font, which come out as their
 * Windows-1252 reading ("Céng hoµ", "Coäng hoøa"), read in that encoding ("Cộng hoà"; see
 * readLegacyVietnamese), then cleanText; and the facts for the metadata (the font most lines were
 * read in, how many lines).
 */
export function documentTexts(pages: string[]): { texts: string[]; legacy: LegacyFontFacts } {
  let tcvn3 = 0;
  let vni = 0;
  const texts = pages.map((p) => {
    const r = readLegacyVietnamese(p.normalize('NFC'));
    tcvn3 += r.tcvn3;
    vni += r.vni;
    return cleanText(r.text);
  });
  return { texts, legacy: tcvn3 + vni > 0 ? { legacyFont: vni > tcvn3 ? 'vni' : 'tcvn3', legacyLines: tcvn3 + vni } : {} };
}

/** A document's properties with their strings (and lists of strings) through repairLegacyVietnamese, NFC. */
export function documentProps<T extends object>(props: T): T {
  const fix = (v: unknown): unknown => (typeof v === 'string' ? repairLegacyVietnamese(v.normalize('NFC')) : Array.isArray(v) ? v.map(fix) : v);
  return Object.fromEntries(Object.entries(props).map(([k, v]) => [k, fix(v)])) as T;
}

/** Drops undefined/null/'' values so metadata JSON stays small and stable. */
export function compact<T extends Record<string, unknown>>(o: T): Partial<T> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined || v === null || v === '') continue;
    if (typeof v === 'object' && !Array.isArray(v) && Object.keys(v as object).length === 0) continue;
    out[k] = v;
  }
  return out as Partial<T>;
}

/**
 * The words a sound or video file carries about itself (its title, artist, album, comment… tags and
 * its tracks' titles) as the file's text, one value per line, so that search finds the recording by
 * them; no text when there are none. (Only text: dates, numbers and ratings stay in the metadata.)
 */
export function tagText(values: Array<unknown>): ExtractedPage[] {
  const lines: string[] = [];
  for (const v of values.flat()) {
    if (typeof v !== 'string') continue;
    const t = v.normalize('NFC').replace(/\s+/g, ' ').trim();
    if (t !== '' && /\p{L}/u.test(t) && !lines.includes(t)) lines.push(t);
  }
  return lines.length ? [{ page: 1, text: lines.join('\n') }] : [];
}
