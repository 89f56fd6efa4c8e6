/**
 * The search service: catalogue fields in memory (FieldIndex), extracted file text in SQLite FTS5
 * (document level to match and rank, page level to locate the passage), a folded syllable vocabulary
 * for typo correction and prefix expansion. See docs/search.md for the design and measurements.
 */
import type Database from 'better-sqlite3';
import { isStaff, type Principal } from '../auth/principal.ts';
import { canSee } from '../catalogue/visibility.ts';
import { pageUnitOf, type PageUnit } from '../ingest/media-types.ts';
import { canonicalTone, completesMarked, fold, foldForIndex, titleSortKey, tokenize } from './fold.ts';
import { FieldIndex, createFoldMemo, viewOf, type Alt, type FieldMatch, type FieldSnapshot, type StoredDoc } from './field-index.ts';
import { parseQuery, ftsQuote, type Excluded, type ParsedQuery } from './query.ts';
import { makeSnippet, escapeHtml, type TermMatcher } from './snippets.ts';
import { INDEX_VERSION, createTables, dropTables, fingerprint, getMeta, loadSnapshot, loadSnapshotFile, saveSnapshot, saveSnapshotFile, setMeta, snapshotFileOf, withPairs } from './store.ts';
import type { HitAgency, SearchHit, SearchParams, SearchResponse, Snippet, Suggestion } from './types.ts';
import { Vocabulary, type Candidate as VocabCandidate } from './vocabulary.ts';
import { ABBREVIATION_WORDS, abbreviationOf, abbreviationsWithPair, contractionsIn, type Abbreviation } from './abbreviations.ts';
import { FacetTable } from './facets.ts';
import { grownTo } from './typed-arrays.ts';
import { QueryWorkers } from './query-workers.ts';
import { decodeTyping, spellsTyped } from './typing.ts';

export interface SearchService {
  /**
   * Re-read one product (fields, agency name, its files' texts) from the DB and (re)index it, called
   * right after the write commits (or inside the same transaction). Deferred: the product joins a
   * batch that is indexed, in one transaction, before the next search or suggestion is answered,
   * before any other index change, or after `INDEX_BATCH_MS` at the latest — so a change is still
   * searchable as soon as the call that made it returns.
   */
  indexProduct(productId: number): void;
  removeProduct(productId: number): void;
  /** A blob's extracted text has just been stored: reindex every product holding it. */
  indexBlob(sha256: string): void;
  /**
   * `indexBlob` for a text just extracted, without holding the event loop for the whole text: the
   * folding and word lists are made in slices of a few milliseconds between other requests, then
   * written in one step. Calls apply in the order made. (A 30 MB text held the server ~40 s.)
   */
  indexBlobSoon(sha256: string): Promise<void>;
  /** An agency's name, short name or code changed: re-read the agencies and reindex the products naming it. */
  indexAgency(agencyId: number): void;
  search(params: SearchParams, viewer: Principal | null): SearchResponse;
  /** `search` on a query worker thread when there is one with room (deps.workers), else here. */
  searchAsync(params: SearchParams, viewer: Principal | null, useCache?: boolean): Promise<SearchResponse>;
  suggest(q: string, viewer: Principal | null, limit?: number): Suggestion[];
  /** Drop and rebuild everything from the DB. */
  rebuild(onProgress?: (done: number, total: number) => void): { products: number; pages: number; ms: number };
  /** At start-up: cheap check (index version + a fingerprint) and rebuild only when needed. */
  ensureReady(): { rebuilt: boolean; ms: number };
  close(): void;
}

export interface SearchDeps {
  sqlite: Database.Database;
  logger?: { info: Function; warn: Function };
  /** Accumulate per-phase timings (see `phaseTimings`); for benchmarks. */
  profile?: boolean;
  /** Answers kept for repeated identical queries (cleared by every index change); 0 disables. Default 1000. */
  cacheSize?: number;
  /**
   * Query worker threads to start once the index is ready (see query-workers.ts); 0 or absent: none.
   * Only for a database file (a worker opens its own read-only connection to it).
   */
  workers?: number;
  /** Searches one worker may have queued before the next one runs on the calling thread instead. Default 8. */
  workerInflight?: number;
  /**
   * Replica mode (inside a query worker): the field index comes from this snapshot (its postings in
   * shared memory), nothing is written to the database, and changes arrive through `applyChange`.
   */
  replica?: { snapshot: FieldSnapshot };
}

/** A change to replay in a query worker's copy of the in-memory index (see `applyChange`). */
/** A write the query workers replay; `vocab`: how many more (or fewer) records' fields hold each word. */
export type IndexChange =
  | { op: 'products'; ids: number[]; vocab?: Array<[string, number]> }
  | { op: 'remove'; id: number; vocab?: Array<[string, number]> }
  | { op: 'blob'; sha: string }
  | { op: 'agencies' };

/** Vietnamese labels of product types and languages, indexed with the record so `sách` or `Tày` find them. */
const TYPE_LABELS: Record<string, string> = {
  book: 'sách', leaflet: 'tờ rơi', flyer: 'tờ gấp', map: 'bản đồ', video: 'phim video clip', audio: 'âm thanh phát thanh',
  photo: 'ảnh', document: 'tài liệu văn bản', other: '',
};
/** The Vietnamese words of each type the API names in English (`audio`, `leaflet`), searched for the English name. */
const TYPE_NAMES_VI = new Map<string, readonly string[]>([
  ['book', ['sách']], ['leaflet', ['tờ rơi']], ['flyer', ['tờ gấp']], ['map', ['bản đồ']], ['audio', ['phát thanh', 'âm thanh']], ['photo', ['ảnh']], ['document', ['tài liệu', 'văn bản']],
]);
/** The type names of the API: words typed on purpose (`book hồ chí minh`), never pieces of a word cut off by a copy. */
const TYPE_CODES = new Set([...TYPE_NAMES_VI.keys(), 'video']);
// Nùng is stored as its ISO 639-3 code `nut` (the only form the record fields accept); `nung` is kept for old rows.
// Languages are indexed by their names without the generic "tiếng", and Vietnamese — the language of
// nearly every record — not at all: as "tiếng Việt" it made `việt` and `tiếng` match almost every record
// (and `vịt` a typo of `viet`). The language facet and filter serve it.
const LANGUAGE_LABELS: Record<string, string> = { vi: '', tay: 'Tày', nut: 'Nùng', nung: 'Nùng', hmn: "H'Mông Mông", dao: 'Dao', en: 'Anh' };
/** Folded word of a language's name → the language codes it names (`dao` → dao, `mong` → hmn), Vietnamese too. */
const LANGUAGE_WORDS = new Map<string, string[]>([['viet', ['vi']]]);
for (const [code, label] of Object.entries(LANGUAGE_LABELS)) {
  for (const w of fold(label).split(/[^a-z0-9]+/)) {
    if (w.length < 2) continue;
    const list = LANGUAGE_WORDS.get(w) ?? [];
    if (!list.includes(code)) list.push(code);
    LANGUAGE_WORDS.set(w, list);
  }
}
LANGUAGE_WORDS.set('hmong', ['hmn']);
/** The language codes a query names as `tiếng X` (`tiếng Dao`, `tieng tay`): "tiếng" then a language's name. */
function languagesNamed(terms: ReadonlyArray<{ folded: string; quoted: boolean }>): string[] {
  const out: string[] = [];
  terms.forEach((t, i) => {
    const next = terms[i + 1];
    if (t.folded !== 'tieng' || t.quoted || next === undefined) return;
    for (const c of LANGUAGE_WORDS.get(next.folded) ?? []) if (!out.includes(c)) out.push(c);
  });
  return out;
}

const TOKEN_RE = /[\p{L}\p{M}\p{N}]+/gu;
const tokensOf = (s: string | null | undefined): string => (s ? (s.normalize('NFC').toLowerCase().match(TOKEN_RE) ?? []).join(' ') : '');
const joinParts = (parts: Array<string | null | undefined>): string => parts.map(tokensOf).filter((s) => s.length > 0).join(' | ');

/**
 * The field index's analysis format, part of the snapshot's key: a snapshot written by another format
 * is not restored, and the field index is re-analysed from search_docs instead (no text re-indexing).
 * 2: exact spellings with canonical tone placement (fold.ts canonicalTone); 3: posting weights as
 * 16-bit doubled integers (FieldIndex.pW).
 */
const FIELD_FORMAT = '3';
const snapshotKey = (fp: string): string => `${FIELD_FORMAT}:${fp}`;

const MAX_LIMIT = 100;
/** How long a product may wait for its batch to be indexed when no search comes first (SearchService.indexProduct). */
const INDEX_BATCH_MS = 25;
/** search_blob_ids.paged codes: 0 for a text stored as one page, else what its numbered pages are. */
const UNIT_CODES: ReadonlyArray<PageUnit | null> = [null, 'page', 'slide', 'section', 'sheet'];
const unitOfCode = (code: number): PageUnit | null => (code === 0 ? null : (UNIT_CODES[code] ?? 'page'));
const codeOfUnit = (unit: PageUnit | null): number => (unit === null ? 0 : UNIT_CODES.indexOf(unit));
/** Text hits per response whose page passage is looked up (see snippetsFor). */
const MAX_PAGE_LOOKUPS = 5;
/** Weight of a full-text bm25 score relative to the catalogue-field score. */
const TEXT_WEIGHT = 0.6;
const PHRASE_BOOST = 1.5;
const EXACT_BOOST = 2;
/** The longest Vietnamese syllable, folded (`nghieng`): segmentation looks no further. */
const SYLLABLE_MAX = 7;
/** Pair look-ups allowed per run-together word (segmentJoined): bounded cost for long junk. */
const SEGMENT_PAIR_CHECKS = 300;
/** Variants of a run-together word with one letter mistyped that are read (joinedWithTypo). */
const JOINED_TYPO_TRIES = 6;
/** Completions kept for the syllable being typed at the end of a run-together word (`hochimi` → minh). */
const TYPING_TAILS = 5;
/** Pair look-ups allowed for the completions of that syllable, per word. */
const TYPING_TAIL_CHECKS = 600;
/** Letters a whole Vietnamese syllable can have (folded): an onset, one to three vowels, a final. */
const SYLLABLE_SHAPE = /^(?:ngh|ng|nh|ch|gh|gi|kh|ph|th|tr|[bcdghklmnpqrstvx])?[aeiouy]{1,3}(?:ng|nh|ch|[cmnpt])?$/;
/** Onsets commonly written for one another (northern d/gi/r, southern v/d, s/x, ch/tr, l/n; b/p in names; spelling rules c/k/q, g/gh, ng/ngh). */
const CONFUSED_ONSETS: ReadonlyArray<readonly string[]> = [['d', 'gi', 'r'], ['d', 'v'], ['s', 'x'], ['ch', 'tr'], ['l', 'n'], ['b', 'p'], ['c', 'k', 'q'], ['g', 'gh'], ['ng', 'ngh']];
const ONSET = /^(?:ngh|ng|nh|ch|gh|gi|kh|ph|th|tr|qu|[bcdghklmnpqrstvx])/;
/** The rhyme of a folded syllable: what follows its onset (`gioc` → `oc`, `po` → `o`). */
const rhymeOf = (f: string): string => f.slice(ONSET.exec(f)?.[0].length ?? 0);
/** Spellings of a folded syllable with a commonly confused onset, rhyme kept (`doc` → gioc, roc, voc). */
export function confusedSpellings(f: string): string[] {
  const onset = ONSET.exec(f)?.[0] ?? '';
  const rhyme = f.slice(onset.length);
  if (onset === '' || rhyme === '' || !/^[aeiouy]/.test(rhyme)) return [];
  const out: string[] = [];
  for (const set of CONFUSED_ONSETS) if (set.includes(onset)) for (const o of set) if (o !== onset && !out.includes(o + rhyme)) out.push(o + rhyme);
  return out;
}
const ROMAN = /^(?:xc|xl|l?x{0,3})(?:ix|iv|v?i{0,3})$/;
const ROMAN_VALUES: ReadonlyArray<[string, number]> = [['xc', 90], ['l', 50], ['xl', 40], ['x', 10], ['ix', 9], ['v', 5], ['iv', 4], ['i', 1]];
/** 2–89 in lower-case Roman numerals (`19` → xix). */
export function toRoman(n: number): string {
  let out = '';
  for (const [r, v] of ROMAN_VALUES) while (n >= v) {
    out += r;
    n -= v;
  }
  return out;
}
/** Roman numerals that are also Vietnamese words (hành vi, xi măng, lí luận): never read as numbers. */
const ROMAN_WORDS = new Set(['vi', 'xi', 'li']);
/**
 * Other ways of writing the number a folded query word is: digits as Roman numerals (2–89, letters i v x l
 * only: `cd`, `mc`, `cm` are words) and back, but for the numerals that are words (`vi`, `xi`, `li`), and
 * 4–6 digits with a thousands separator, as the pair of tokens a record writing "1.000" or "10 000" holds
 * (`1 000`).
 */
export function numberSpellings(folded: string): string[] {
  const out: string[] = [];
  if (/^[1-9]\d?$/.test(folded)) {
    const n = Number(folded);
    if (n >= 2 && n <= 89 && !ROMAN_WORDS.has(toRoman(n))) out.push(toRoman(n));
  } else if (/^[1-9]\d{3,5}$/.test(folded)) {
    out.push(`${folded.slice(0, -3)} ${folded.slice(-3)}`);
  } else if (folded.length >= 2 && ROMAN.test(folded) && !ROMAN_WORDS.has(folded)) {
    let n = 0;
    let rest = folded;
    for (const [r, v] of ROMAN_VALUES) while (rest.startsWith(r)) {
      n += v;
      rest = rest.slice(r.length);
    }
    if (rest === '' && n >= 2 && toRoman(n) === folded) out.push(String(n));
  }
  return out;
}
/**
 * Names of the peoples of Cao Bằng of one syllable whose folded form is also a common word (Dao: đạo, đào;
 * Tày: tay, tây; Mông: mong, móng; Hoa: hoá, hoà; Kinh: kinh tế; Nùng, Ngái), and the words a record
 * naming the people writes before the name ("người Dao", "dân tộc Dao").
 */
const PEOPLE_NAMES = new Map([['dao', 'dao'], ['tay', 'tày'], ['nung', 'nùng'], ['mong', 'mông'], ['hoa', 'hoa'], ['kinh', 'kinh'], ['ngai', 'ngái']]);
const PEOPLE_CONTEXT = ['nguoi', 'toc'];
/** What a spelling read from context scores, of what the word typed would. */
const CONTEXT_FACTOR = 0.9;
/** Records holding the far word's pair beyond which a typed pair held somewhere is not read again from a chain. */
const CHAIN_MAX_DF = 256;
/** Pair look-ups of the context rule per query (a few per word at most). */
const CONTEXT_PAIR_CHECKS = 24;
/** Words of a query that looks pasted from a passage (see the edge-word rule in plan). */
const PASTED_MIN_TERMS = 4;
/**
 * Words of a query long enough that an edge word shaped like a syllable may still be a piece of a word
 * cut off by the copy (`ông` of "thông", `truy` of "truyền"): it is read so when no record holds it side
 * by side with its neighbour.
 */
const PASSAGE_MIN_TERMS = 6;
/**
 * Question and linking words of a query typed as a sentence (exact spellings, with their marks: unmarked,
 * `co` is also cổ, `ve` vẽ), not required when two other words are left (see plan). Plus "tài liệu".
 */
const QUERY_FILLERS = new Set(['về', 'những', 'các', 'có', 'không', 'nào', 'tìm', 'gì', 'xin', 'hãy', 'muốn', 'cần', 'giúp', 'tôi', 'đâu', 'ạ']);
/** What the form not typed scores, of what the form typed would (abbreviations). */
const OTHER_FORM_FACTOR = 0.8;
const TEXT_PHRASE_BONUS = 6;
const TEXT_NEAR_BONUS = 3;
const TEXT_SCATTERED = 0.3;

interface Attr {
  title: string;
  type: string;
  agencyId: number | null;
  year: number | null;
  langs: string[];
  state: string;
  access: string;
  /** Sort key for `date` (dateKey): release date, else year, then creation time. */
  date: string;
  /** Vietnamese alphabetical sort key of the title for `sort=title` (fold.ts titleSortKey), computed on first use. */
  titleKey?: string;
  thumb: string | null;
}

interface ProductTextRow {
  id: number;
  title: string;
  alt_title: string | null;
  description: string | null;
  subjects: string;
  agency: string | null;
}

interface BlobInfo {
  sha: string;
  paged: boolean;
  /** What its pages are (search_blob_ids.paged: 0 none, 1 page, 2 slide, 3 section, 4 sheet). */
  unit: PageUnit | null;
  pages: number;
}

interface ProductRow {
  id: number;
  title: string;
  alt_title: string | null;
  type: string;
  description: string | null;
  agency_id: number | null;
  co_issuers: string;
  release_date: string | null;
  year: number | null;
  publisher: string | null;
  identifier: string | null;
  isbn: string | null;
  languages: string;
  subjects: string;
  plan_task_title: string | null;
  access: string;
  state: string;
  created_at: string;
}

const PRODUCT_SELECT = `SELECT p.id, p.title, p.alt_title, p.type, p.description, p.agency_id, p.co_issuers, p.release_date, p.year,
  p.publisher, p.identifier, p.isbn, p.languages, p.subjects, t.title AS plan_task_title, p.access, p.state, p.created_at
  FROM products p LEFT JOIN plan_tasks t ON t.id = p.plan_task_id`;

function jsonArray(s: string | null): unknown[] {
  if (!s) return [];
  try {
    const v = JSON.parse(s);
    return Array.isArray(v) ? v : [];
  } catch {
    return [];
  }
}

/**
 * A boolean question for the text index: every group must match, a group matches when any of its
 * tokens (folded syllables, `a_b` pair tokens) is in the file. Evaluated over cached per-token blob
 * lists (see `blobsOf`), with the same rows as the equivalent FTS5 expression `("a" OR "b") AND "c"`.
 */
type TextExpr = string[][];

/** Plan of one query: which syllables, with which alternatives, and what the text index is asked. */
interface QueryPlan {
  parsed: ParsedQuery;
  groups: Alt[][];
  boosts: Alt[];
  /** Questions for the text index (AND of groups, each an OR of FTS tokens), null when there is nothing to ask. */
  ftsAnd: TextExpr | null;
  ftsOr: TextExpr | null;
  ftsPhrase: TextExpr | null;
  /** At least one consecutive pair of the query syllables standing together in the text. */
  ftsNear: TextExpr | null;
  /** Query syllables that take part in matching (unknown ones are left out). */
  nTerms: number;
  matcher: TermMatcher;
  corrections: Array<{ from: string; to: string }>;
  ignored: string[];
  /** Abbreviations searched for in both forms (`ubnd` ↔ `uy ban nhan dan`): the form typed and the other. */
  expansions: Array<{ from: string; to: string; display: string }>;
  /** Edge words of a pasted passage read as cut off: they score where they occur but are not required. */
  optional: string[];
  /** A quoted phrase holds a syllable left out (found nowhere, or over-long): the phrase occurs nowhere. */
  impossible: boolean;
}

/** Distinct words indexed per file's text (see textTerms). */
export const MAX_BLOB_TERMS = 50_000;

export function createSearchService(deps: SearchDeps): SearchService {
  const { sqlite } = deps;
  const log = deps.logger ?? { info: () => {}, warn: () => {} };
  const fields = new FieldIndex();
  let vocab = new Vocabulary();
  let attrs: Array<Attr | undefined> = [];
  let facetTable = new FacetTable();
  let agencies = new Map<number, HitAgency>();
  let agencyByCode = new Map<string, number>();
  let agencyFold = new Map<number, string>();
  /** Deactivated agencies: listed to staff only (GET /api/agencies), so suggested to staff only. */
  let inactiveAgencies = new Set<number>();
  const blobIdBySha = new Map<string, number>();
  const blobInfo = new Map<number, BlobInfo>();
  const blobProducts = new Map<number, Set<number>>();
  const productBlobs = new Map<number, number[]>();
  /** Subject (as written) → products carrying it, for suggestions. */
  let subjects = new Map<string, { folded: string; ids: Set<number> }>();
  /** The subject map is only needed by suggestions: built on their first use. */
  let subjectsReady = false;
  function ensureSubjects(): void {
    if (subjectsReady) return;
    subjects = new Map();
    for (const p of sqlite.prepare('SELECT id, subjects FROM products').iterate() as Iterable<{ id: number; subjects: string }>) addSubjects(p.id, p);
    subjectsReady = true;
  }
  const foldTok = createFoldMemo();
  let ready = false;

  const replica = deps.replica;
  if (replica === undefined) createTables(sqlite);
  const snapshotFile = snapshotFileOf(sqlite);
  // The text index reads long doclists; SQLite's default 2 MB page cache thrashes on them.
  const cache = Number(sqlite.pragma('cache_size', { simple: true }));
  if (cache > -65536 && cache < 16384) sqlite.pragma('cache_size = -65536');

  const st = {
    product: sqlite.prepare(`${PRODUCT_SELECT} WHERE p.id = ?`),
    productFiles: sqlite.prepare('SELECT sha256 FROM product_files WHERE product_id = ? ORDER BY position, id'),
    upsertDoc: sqlite.prepare(
      'INSERT INTO search_docs(product_id, title, agency, subjects, meta) VALUES (@id, @title, @agency, @subjects, @meta) ON CONFLICT(product_id) DO UPDATE SET title = excluded.title, agency = excluded.agency, subjects = excluded.subjects, meta = excluded.meta',
    ),
    deleteDoc: sqlite.prepare('DELETE FROM search_docs WHERE product_id = ?'),
    docWords: sqlite.prepare('SELECT title, agency, subjects, meta FROM search_docs WHERE product_id = ?'),
    blobMeta: sqlite.prepare('SELECT media_type FROM blobs WHERE sha256 = ?'),
    blobPages: sqlite.prepare('SELECT page, text FROM blob_texts WHERE sha256 = ? ORDER BY page'),
    blobHasText: sqlite.prepare('SELECT 1 FROM blob_texts WHERE sha256 = ? LIMIT 1'),
    blobId: sqlite.prepare('SELECT id, paged, pages FROM search_blob_ids WHERE sha256 = ?'),
    insBlobId: sqlite.prepare('INSERT INTO search_blob_ids(sha256, paged, pages) VALUES (?, ?, ?)'),
    updBlobId: sqlite.prepare('UPDATE search_blob_ids SET paged = ?, pages = ? WHERE id = ?'),
    insBlob: sqlite.prepare('INSERT INTO search_blob(rowid, body) VALUES (?, ?)'),
    delBlob: sqlite.prepare('DELETE FROM search_blob WHERE rowid = ?'),
    insPageTerm: sqlite.prepare('INSERT INTO search_page_terms(blob_id, term, pages) VALUES (?, ?, ?)'),
    delPageTerms: sqlite.prepare('DELETE FROM search_page_terms WHERE blob_id = ?'),
    pageTerm: sqlite.prepare('SELECT pages FROM search_page_terms WHERE blob_id = ? AND term = ?').pluck(),
    blobTerms: sqlite.prepare('SELECT term FROM search_page_terms WHERE blob_id = ?').pluck(),
    holders: sqlite.prepare('SELECT DISTINCT product_id FROM product_files WHERE sha256 = ?'),
    matchBlobIds: sqlite.prepare('SELECT rowid FROM search_blob WHERE search_blob MATCH ?').pluck(),
    vocabGet: sqlite.prepare('SELECT df FROM search_text_vocab WHERE term = ?').pluck(),
    vocabBump: sqlite.prepare('INSERT INTO search_text_vocab(term, df) VALUES (?, ?) ON CONFLICT(term) DO UPDATE SET df = df + excluded.df'),
    pageText: sqlite.prepare('SELECT text FROM blob_texts WHERE sha256 = ? AND page = ?').pluck(),
    beginRead: sqlite.prepare('BEGIN'),
    endRead: sqlite.prepare('COMMIT'),
    // A PDF page's label ("ii" for physical page 5), kept in the blob's metadata only when the PDF has labels.
    pageLabel: sqlite.prepare("SELECT json_extract(metadata, '$.pageLabels[' || CAST(? AS INTEGER) || ']') FROM blobs WHERE sha256 = ? AND json_valid(metadata)").pluck(),
    productText: sqlite.prepare(
      'SELECT p.title, p.alt_title, p.description, p.subjects, a.name AS agency FROM products p LEFT JOIN agencies a ON a.id = p.agency_id WHERE p.id = ?',
    ),
  };

  // ---------- loading ----------

  function loadAgencies(): void {
    agencies = new Map();
    agencyByCode = new Map();
    agencyFold = new Map();
    inactiveAgencies = new Set();
    const rows = sqlite.prepare('SELECT id, code, name, short_name, active FROM agencies').all() as Array<{ id: number; code: string; name: string; short_name: string | null; active: number }>;
    for (const r of rows) {
      if (r.active === 0) inactiveAgencies.add(r.id);
      agencies.set(r.id, { id: r.id, code: r.code, name: r.name });
      agencyByCode.set(r.code.toLowerCase(), r.id);
      agencyFold.set(r.id, foldForIndex(`${r.name} ${r.short_name ?? ''} ${r.code}`));
    }
  }

  function storedDoc(p: ProductRow): StoredDoc {
    const a = p.agency_id !== null ? agencies.get(p.agency_id) : undefined;
    const aRow = p.agency_id !== null ? agencyShort.get(p.agency_id) : undefined;
    const co = jsonArray(p.co_issuers)
      .map((x) => agencies.get(Number(x))?.name)
      .filter((x): x is string => typeof x === 'string');
    const langs = jsonArray(p.languages).map((l) => LANGUAGE_LABELS[String(l)] ?? String(l));
    return {
      id: p.id,
      title: joinParts([p.title, p.alt_title]),
      agency: joinParts([a?.name, aRow, a?.code.replace(/-/g, ' '), ...co]),
      subjects: joinParts(jsonArray(p.subjects).map(String)),
      meta: joinParts([p.description, p.publisher, p.identifier, p.isbn, TYPE_LABELS[p.type] ?? p.type, ...langs, p.plan_task_title, p.year !== null ? String(p.year) : null]),
    };
  }

  let agencyShort = new Map<number, string>();
  function loadAgencyShort(): void {
    agencyShort = new Map();
    for (const r of sqlite.prepare('SELECT id, short_name FROM agencies WHERE short_name IS NOT NULL').all() as Array<{ id: number; short_name: string }>) {
      agencyShort.set(r.id, r.short_name);
    }
  }

  const titleKeyOf = (a: Attr): string => (a.titleKey ??= titleSortKey(a.title));
  const langMemo = new Map<string, string[]>();
  const langsOf = (s: string): string[] => {
    let l = langMemo.get(s);
    if (l === undefined) {
      l = jsonArray(s).map(String);
      if (langMemo.size < 10_000) langMemo.set(s, l);
    }
    return l;
  };

  /** A product's attributes from its row (one product) or its slim row as an array (the load of them all). */
  function attrOf(p: Pick<ProductRow, 'title' | 'type' | 'agency_id' | 'year' | 'languages' | 'state' | 'access' | 'release_date' | 'created_at'>, thumb: string | null): Attr {
    return attrOfSlim([0, p.title, p.type, p.agency_id, p.year, p.languages, p.state, p.access, p.release_date, p.created_at], thumb);
  }

  /** `SELECT …` of SLIM_COLUMNS, raw. */
  type Slim = [number, string, string, number | null, number | null, string, string, string, string | null, string];
  const SLIM_COLUMNS = 'id, title, type, agency_id, year, languages, state, access, release_date, created_at';
  /** The few code words (types, states, access levels) as one string each, not one per record. */
  const codeWords = new Map<string, string>();
  const codeWord = (w: string): string => {
    const k = codeWords.get(w);
    if (k !== undefined) return k;
    if (codeWords.size < 1000) codeWords.set(w, w);
    return w;
  };

  function attrOfSlim(r: Slim, thumb: string | null): Attr {
    return {
      title: r[1],
      type: codeWord(r[2]),
      agencyId: r[3],
      year: r[4],
      langs: langsOf(r[5]),
      state: codeWord(r[6]),
      access: codeWord(r[7]),
      date: dateKey(r[8], r[4], r[9]),
      thumb,
    };
  }

  /**
   * Whether a record's statistics score every query (FieldIndex.setScoring): the records anyone may see,
   * published and public. Document frequencies, their count and average length over these only, for
   * every viewer, so a draft or internal record changes no score of a viewer who may not see it (it
   * did: adding a submitted record moved an anonymous top score from 4.955 to 4.603).
   */
  const scoresAll = (a: { state: string; access: string; agencyId: number | null } | undefined): boolean => a !== undefined && canSee(null, a);

  const thumbUrl = (sha: string | undefined): string | null => (sha ? `/api/files/${sha}/thumbnail?size=256` : null);

  function addSubjects(id: number, p: { subjects: string }): void {
    for (const s of jsonArray(p.subjects)) {
      const text = String(s).normalize('NFC').trim();
      if (!text) continue;
      let e = subjects.get(text);
      if (e === undefined) subjects.set(text, (e = { folded: foldForIndex(text), ids: new Set() }));
      e.ids.add(id);
    }
  }

  function dropSubjects(id: number): void {
    for (const [k, e] of subjects) {
      if (e.ids.delete(id) && e.ids.size === 0) subjects.delete(k);
    }
  }

  function linkBlob(productId: number, blobId: number): void {
    let s = blobProducts.get(blobId);
    if (s === undefined) blobProducts.set(blobId, (s = new Set()));
    s.add(productId);
    const list = productBlobs.get(productId) ?? [];
    if (!list.includes(blobId)) list.push(blobId);
    productBlobs.set(productId, list);
  }

  function unlinkProduct(productId: number): void {
    for (const b of productBlobs.get(productId) ?? []) blobProducts.get(b)?.delete(productId);
    productBlobs.delete(productId);
  }

  /** Load every in-memory structure from the search tables and the catalogue (no re-analysis of texts). */
  function loadMemory(fp?: string, given?: FieldSnapshot): void {
    clearTokenBlobs();
    // The field index first when it comes from a snapshot: query workers (if any) can then start
    // loading their replicas while this thread loads the rest. With workers, the postings are read
    // straight into shared memory (see startWorkers).
    const shareable = replica === undefined && (deps.workers ?? 0) > 0 && !sqlite.memory;
    const snap = given !== undefined || fp === undefined ? null : readSnapshot(snapshotKey(fp), shareable ? ['off', 'docs', 'w'] : []);
    if (given !== undefined) fields.restore(given);
    else if (snap !== null) {
      fields.restore({ ...(snap as unknown as FieldSnapshot), meta: snap.meta.toString('utf8') });
      if (shareable) launchWorkers();
    }
    loadAgencies();
    loadAgencyShort();
    attrs = [];
    facetTable = new FacetTable();
    subjects = new Map();
    const firstFile = new Map<number, string>();
    for (const r of sqlite.prepare('SELECT product_id, sha256 FROM product_files ORDER BY product_id, position, id').raw().iterate() as Iterable<[number, string]>) {
      if (!firstFile.has(r[0])) firstFile.set(r[0], r[1]);
    }
    // Rows as arrays: no object with named keys per row (100,000 at start-up).
    for (const r of sqlite.prepare(`SELECT ${SLIM_COLUMNS} FROM products`).raw().iterate() as Iterable<Slim>) {
      const a = attrOfSlim(r, thumbUrl(firstFile.get(r[0])));
      attrs[r[0]] = a;
      facetTable.set(r[0], a);
    }
    subjectsReady = false;
    if (given === undefined && snap === null) fields.load(
      (function* () {
        for (const r of sqlite.prepare('SELECT product_id AS id, title, agency, subjects, meta FROM search_docs ORDER BY product_id').iterate() as Iterable<StoredDoc>) {
          if (attrs[r.id] !== undefined) yield r;
        }
      })(),
    );
    fields.setScoring((id) => scoresAll(attrs[id]));
    blobIdBySha.clear();
    blobInfo.clear();
    blobProducts.clear();
    productBlobs.clear();
    for (const r of sqlite.prepare('SELECT id, sha256, paged, pages FROM search_blob_ids').all() as Array<{ id: number; sha256: string; paged: number; pages: number }>) {
      blobIdBySha.set(r.sha256, r.id);
      blobInfo.set(r.id, { sha: r.sha256, paged: r.paged !== 0, unit: unitOfCode(r.paged), pages: r.pages });
    }
    for (const [pid, sha] of sqlite.prepare('SELECT DISTINCT product_id, sha256 FROM product_files').raw().iterate() as Iterable<[number, string]>) {
      const b = blobIdBySha.get(sha);
      if (b !== undefined) linkBlob(pid, b);
    }
    vocab = new Vocabulary();
    for (const [t, n] of fields.unigrams()) vocab.add(t, n);
    for (const [t, n] of sqlite.prepare('SELECT term, df FROM search_text_vocab').raw().iterate() as Iterable<[string, number]>) vocab.add(t, n);
    vocab.seal();
    ready = true;
  }

  // ---------- writing ----------

  /** A blob's pages folded into the words the FTS tables store (see textTerms). */
  interface BlobTerms {
    pages: number;
    /** Every token and adjacent pair, once: the document-level row (detail=none keeps presence only). */
    blobTokens: Set<string>;
    /** Each syllable → the pages holding it, in page order. */
    termPages: Map<string, number[]>;
    /** Some words were left out (MAX_BLOB_TERMS). */
    capped?: boolean;
  }

  /**
   * Fold a blob's pages into `out`, one page per step (so a caller may pause between pages). A file
   * brings at most MAX_BLOB_TERMS distinct words (and four times as many words and pairs to its
   * document row): the corpus's 117-page book has about 2,000, while a file of random strings had
   * millions, and writing them held the server for minutes. Words past the cap are neither located
   * on a page nor offered as corrections; the document row stops taking new ones at four times it.
   */
  function* textTerms(pages: Array<{ page: number; text: string }>, out: BlobTerms): Generator<void> {
    for (const p of pages) {
      if (p.page < 1 || p.page > 65535) continue;
      const folded = foldForIndex(p.text);
      if (folded.length === 0) continue;
      for (const t of withPairs(folded).split(' ')) {
        if (out.blobTokens.size < MAX_BLOB_TERMS * 4) out.blobTokens.add(t);
      }
      for (const t of folded.split(' ')) {
        if (t.length > 40) continue;
        const list = out.termPages.get(t);
        if (list === undefined) {
          if (out.termPages.size < MAX_BLOB_TERMS) out.termPages.set(t, [p.page]);
          else out.capped = true;
        } else if (list[list.length - 1] !== p.page) list.push(p.page);
      }
      yield;
    }
  }

  /** A blob's stored pages, and the steps that fold them into `terms` (one page per step). */
  function blobTermSteps(sha: string): { terms: BlobTerms; steps: Generator<void> } {
    const pages = st.blobPages.all(sha) as Array<{ page: number; text: string }>;
    const terms: BlobTerms = { pages: pages.length, blobTokens: new Set(), termPages: new Map() };
    return { terms, steps: textTerms(pages, terms) };
  }

  function readBlobTerms(sha: string): BlobTerms {
    const { terms, steps } = blobTermSteps(sha);
    for (const _ of steps);
    return terms;
  }

  /**
   * (Re)index the text of one blob in the FTS tables. Returns its search id, or null when it has no
   * text. `prepared`: its terms already made (indexBlobSoon), else they are made here.
   */
  function indexBlobText(sha: string, force: boolean, prepared?: BlobTerms): number | null {
    const existing = st.blobId.get(sha) as { id: number; paged: number; pages: number } | undefined;
    if (existing !== undefined && !force) return existing.id;
    const terms = prepared ?? readBlobTerms(sha);
    if (terms.pages === 0 && existing === undefined) return null;
    const media = (st.blobMeta.get(sha) as { media_type: string } | undefined)?.media_type ?? '';
    // PDF pages, slides, sections and sheets are numbered for the reader; other texts are stored as page 1 of 1.
    const paged = codeOfUnit(pageUnitOf(media));
    let id: number;
    if (existing !== undefined) {
      id = existing.id;
      st.delBlob.run(id);
      st.delPageTerms.run(id);
      st.updBlobId.run(paged, terms.pages, id);
    } else {
      id = Number(st.insBlobId.run(sha, paged, terms.pages).lastInsertRowid);
    }
    st.insBlob.run(id, [...terms.blobTokens].join(' '));
    clearTokenBlobs();
    for (const [t, list] of terms.termPages) st.insPageTerm.run(id, t, Buffer.from(Uint16Array.from(list).buffer));
    // Re-indexing the same blob counts its syllables again: harmless for a typo vocabulary; rebuild resets it.
    for (const t of terms.termPages.keys()) {
      st.vocabBump.run(t, 1);
      vocab.add(t, 1);
    }
    blobIdBySha.set(sha, id);
    blobInfo.set(id, { sha, paged: paged !== 0, unit: unitOfCode(paged), pages: terms.pages });
    return id;
  }

  const indexProductTx = sqlite.transaction((productId: number) => {
    const p = st.product.get(productId) as ProductRow | undefined;
    if (p === undefined) {
      removeProductNow(productId);
      return;
    }
    applyProduct(productId, p, true, (sha) => {
      const b = indexBlobText(sha, false);
      if (b !== null) linkBlob(productId, b);
    });
  });

  /**
   * (Re)index a product's fields in memory — and, with `persist`, its stored document — then link
   * each of its files' text with `linkFile`. Shared by the main index (indexProductTx) and its
   * replicas (replayProduct), so both apply a change in the same order.
   */
  function applyProduct(productId: number, p: ProductRow, persist: boolean, linkFile: (sha256: string) => void): void {
    if (agencies.size === 0 || (p.agency_id !== null && !agencies.has(p.agency_id))) {
      loadAgencies();
      loadAgencyShort();
    }
    const doc = storedDoc(p);
    if (persist) {
      countFieldWords(st.docWords.get(productId) as StoredWords | undefined, doc);
      st.upsertDoc.run(doc);
    }
    fields.upsert(doc, scoresAll({ state: p.state, access: p.access, agencyId: p.agency_id }));
    const files = st.productFiles.all(productId) as Array<{ sha256: string }>;
    const a = attrOf(p, thumbUrl(files[0]?.sha256));
    attrs[productId] = a;
    facetTable.set(productId, a);
    if (subjectsReady) {
      dropSubjects(productId);
      addSubjects(productId, p);
    }
    unlinkProduct(productId);
    for (const f of files) linkFile(f.sha256);
  }

  function removeProductNow(productId: number): void {
    countFieldWords(st.docWords.get(productId) as StoredWords | undefined, undefined);
    st.deleteDoc.run(productId);
    removeFromMemory(productId);
  }

  /** The stored fields a record's words are counted from. */
  type StoredWords = Pick<StoredDoc, 'title' | 'agency' | 'subjects' | 'meta'>;

  /** A stored document's folded words, once each: what the vocabulary counts per record (fields.unigrams()). */
  function fieldWords(doc: StoredWords | undefined): Set<string> {
    const out = new Set<string>();
    if (doc === undefined) return out;
    for (const f of ['title', 'agency', 'subjects', 'meta'] as const) {
      for (const tok of doc[f].split(' ')) {
        if (tok === '|' || tok === '') continue;
        out.add(foldTok(tok));
      }
    }
    return out;
  }

  /**
   * The vocabulary's record counts follow a record's words from `before` to `after`, as a start-up
   * would count them (fields.unigrams()). Before, a word already known was not counted again and
   * nothing was ever taken off, so completions and corrections (the most frequent first) changed
   * order at the next start: the same query scored differently after a restart. The changes go to the
   * query workers with the write (`vocab` of the change), as they cannot read the replaced row.
   */
  let vocabDelta: Map<string, number> | null = null;
  function countFieldWords(before: StoredWords | undefined, after: StoredWords | undefined): void {
    const was = fieldWords(before);
    const now = fieldWords(after);
    const bump = (t: string, d: number) => {
      vocab.add(t, d);
      if (vocabDelta !== null) vocabDelta.set(t, (vocabDelta.get(t) ?? 0) + d);
    };
    for (const t of now) if (!was.has(t)) bump(t, 1);
    for (const t of was) if (!now.has(t)) bump(t, -1);
  }

  /** Run a write, collecting its vocabulary changes for the query workers. */
  function withVocabDelta(write: () => void): Array<[string, number]> {
    vocabDelta = new Map();
    try {
      write();
      return [...vocabDelta].filter(([, d]) => d !== 0);
    } finally {
      vocabDelta = null;
    }
  }

  function removeFromMemory(productId: number): void {
    fields.remove(productId);
    attrs[productId] = undefined;
    facetTable.clear(productId);
    if (subjectsReady) dropSubjects(productId);
    unlinkProduct(productId);
  }

  function maybeCompact(): void {
    // Re-indexed documents live in a delta map; fold them into the typed arrays once it grows.
    if (fields.deltaSize > 5_000) {
      const t0 = performance.now();
      fields.compact();
      log.info({ ms: Math.round(performance.now() - t0) }, 'search: compacted in-memory index');
    }
  }

  function ensureLoaded(): void {
    if (!ready) ensureReady();
  }

  function noWrites(): void {
    if (replica !== undefined) throw new Error('search: a query worker does not write the index');
  }

  /**
   * Products waiting to be indexed (see SearchService.indexProduct). Indexing each upload on its own
   * cost a transaction and a worker message per record on the upload's path; a batch costs one
   * transaction for the lot.
   */
  const pendingProducts = new Set<number>();
  let pendingTimer: NodeJS.Timeout | null = null;

  function indexProduct(productId: number): void {
    noWrites();
    pendingProducts.add(productId);
    if (pendingTimer === null) {
      pendingTimer = setTimeout(flushPending, INDEX_BATCH_MS);
      pendingTimer.unref();
    }
  }

  /**
   * Index the waiting products now. A failure is logged, not thrown: the writes have committed, and
   * the records are found again by the start-up check (as when indexing right after the write failed).
   */
  function flushPending(): void {
    if (pendingTimer !== null) {
      clearTimeout(pendingTimer);
      pendingTimer = null;
    }
    if (pendingProducts.size === 0) return;
    const ids = [...pendingProducts];
    pendingProducts.clear();
    try {
      indexProducts(ids);
    } catch (e) {
      log.warn({ err: e, products: ids.length }, 'search index update failed (products)');
    }
  }

  function removeProduct(productId: number): void {
    noWrites();
    flushPending();
    ensureLoaded();
    invalidate();
    let vocabChange: Array<[string, number]> = [];
    try {
      vocabChange = withVocabDelta(() => removeProductNow(productId));
    } finally {
      propagate({ op: 'remove', id: productId, vocab: vocabChange });
    }
  }

  function indexBlob(sha256: string, prepared?: BlobTerms): void {
    noWrites();
    flushPending();
    ensureLoaded();
    invalidate();
    try {
      sqlite.transaction(() => {
        const id = indexBlobText(sha256, true, prepared);
        if (id === null) return;
        for (const r of st.holders.all(sha256) as Array<{ product_id: number }>) linkBlob(r.product_id, id);
      })();
      if (vocab.recentCount > 5_000) vocab.seal();
    } finally {
      propagate({ op: 'blob', sha: sha256 });
    }
  }

  /** Pause for other work once a slice has run this long (ms). */
  const SLICE_MS = 10;
  let blobsSoon: Promise<void> = Promise.resolve();
  /** Set by close(): a text still being sliced is left to close()'s catch-up or the next start's check. */
  let closing = false;
  function indexBlobSoon(sha256: string): Promise<void> {
    const run = blobsSoon.then(async () => {
      if (closing) return;
      const { terms: prepared, steps } = blobTermSteps(sha256);
      let sliceStart = performance.now();
      for (const _ of steps) {
        if (performance.now() - sliceStart < SLICE_MS) continue;
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (closing) return;
        sliceStart = performance.now();
      }
      if (prepared.capped) log.warn({ sha256, words: MAX_BLOB_TERMS }, 'search: a text with more distinct words than are indexed per file; the rest are left out');
      // Written with the texts read above; a newer extraction queues its own call after this one.
      indexBlob(sha256, prepared);
    });
    blobsSoon = run.catch(() => undefined);
    return run;
  }

  /**
   * An agency was renamed (name, short name or code): hits, facets and the agency filter read the
   * agency table held in memory, and its products' agency field holds the old words. Re-read the
   * table (here and in every replica, before the products' changes reach them) and reindex every
   * product that has it as its agency or a co-issuer.
   */
  function indexAgency(agencyId: number): void {
    noWrites();
    flushPending();
    ensureLoaded();
    invalidate();
    try {
      loadAgencies();
      loadAgencyShort();
    } finally {
      propagate({ op: 'agencies' });
    }
    const ids = sqlite
      .prepare(`SELECT id FROM products WHERE agency_id = ? OR EXISTS (SELECT 1 FROM json_each(products.co_issuers) WHERE json_each.value = ?)`)
      .pluck()
      .all(agencyId, agencyId) as number[];
    indexProducts(ids);
  }

  /**
   * (Re)index many products in one transaction: one commit instead of one per record (an agency's
   * 3,447 records took 2.0 s one by one, 0.97 s together); the query workers replay them once it has
   * committed.
   */
  function indexProducts(ids: number[]): void {
    noWrites();
    ensureLoaded();
    if (ids.length === 0) return;
    invalidate();
    let vocabChange: Array<[string, number]> = [];
    try {
      vocabChange = withVocabDelta(() => sqlite.transaction(() => {
        for (const id of ids) indexProductTx(id);
      })());
      maybeCompact();
    } finally {
      propagate({ op: 'products', ids, vocab: vocabChange });
    }
  }

  // ---------- writes from other connections ----------

  /**
   * Records written while this index is open by another connection — `npm run import` or a script
   * while the server runs — never pass through indexProduct. SQLite's `data_version` of this
   * connection changes exactly when another connection commits, so it is checked (at most once a
   * second, before a search, and at close) and then `catchUp` indexes the records that have no
   * search document yet, drops those whose record is gone, and indexes file texts that were never
   * indexed. Without it the index stored at a clean close would vouch, at the next start, for
   * records it never saw. (A record *edited* by another connection is not noticed: no operator
   * command edits records; the next rebuild or `npm run reindex` covers it.)
   */
  let seenDataVersion: number | null = null;
  let seenMaxProduct = 0;
  let seenMaxTextRow = 0;
  let lastOutsideCheck = 0;
  const dataVersion = (): number => Number(sqlite.pragma('data_version', { simple: true }));
  const outsideSt = {
    maxProduct: sqlite.prepare('SELECT coalesce(max(id), 0) FROM products').pluck(),
    maxTextRow: sqlite.prepare('SELECT coalesce(max(rowid), 0) FROM blob_texts').pluck(),
    // Since the last look (ids and rowids only grow): index lookups, cheap enough before a search.
    newProducts: sqlite.prepare('SELECT id FROM products WHERE id > ? AND id <= ? AND id NOT IN (SELECT product_id FROM search_docs) ORDER BY id').pluck(),
    newTexts: sqlite.prepare('SELECT DISTINCT sha256 FROM blob_texts WHERE rowid > ? AND rowid <= ? AND sha256 NOT IN (SELECT sha256 FROM search_blob_ids) ORDER BY sha256').pluck(),
    // Everything (about 0.17 s at 100,000 records): at close only, before the index is stored.
    missing: sqlite.prepare('SELECT id FROM products WHERE id NOT IN (SELECT product_id FROM search_docs) ORDER BY id').pluck(),
    gone: sqlite.prepare('SELECT product_id FROM search_docs WHERE product_id NOT IN (SELECT id FROM products) ORDER BY product_id').pluck(),
    texts: sqlite.prepare('SELECT DISTINCT sha256 FROM blob_texts WHERE sha256 NOT IN (SELECT sha256 FROM search_blob_ids) ORDER BY sha256').pluck(),
  };

  /** Where the index stands: later records and texts are looked at by the next catchUp. */
  function markSeen(): void {
    seenDataVersion = dataVersion();
    seenMaxProduct = outsideSt.maxProduct.get() as number;
    seenMaxTextRow = outsideSt.maxTextRow.get() as number;
  }

  /**
   * Index what other connections wrote since the last look; returns how many changes were applied.
   * `full` also finds records deleted by them and rows below the last look (at close).
   */
  function catchUp(full = false): number {
    if (replica !== undefined || !ready) return 0;
    flushPending();
    const v = dataVersion();
    if (v === seenDataVersion) return 0;
    // The bounds first: rows committed after them are left for the next look.
    const maxProduct = outsideSt.maxProduct.get() as number;
    const maxTextRow = outsideSt.maxTextRow.get() as number;
    const gone = full ? (outsideSt.gone.all() as number[]) : [];
    const missing = (full ? outsideSt.missing.all() : outsideSt.newProducts.all(seenMaxProduct, maxProduct)) as number[];
    const texts = (full ? outsideSt.texts.all() : outsideSt.newTexts.all(seenMaxTextRow, maxTextRow)) as string[];
    seenDataVersion = v;
    seenMaxProduct = maxProduct;
    seenMaxTextRow = maxTextRow;
    for (const id of gone) removeProduct(id);
    indexProducts(missing);
    for (const sha of texts) indexBlob(sha);
    const n = gone.length + missing.length + texts.length;
    if (n > 0) log.info({ added: missing.length, removed: gone.length, texts: texts.length }, 'search: indexed records written by another connection');
    return n;
  }

  /** catchUp at most once a second, before a search (a pragma read when nothing changed). */
  function catchUpSoon(): void {
    if (replica !== undefined || !ready) return;
    flushPending();
    const now = performance.now();
    if (now - lastOutsideCheck < 1000) return;
    lastOutsideCheck = now;
    catchUp();
  }

  // ---------- query workers ----------

  let workers: QueryWorkers | null = null;

  /**
   * Every query worker applies a change before the write that made it returns (the workers read the
   * committed rows through their own connections). Inside an open transaction they could not see the
   * rows yet: then the workers are stopped and every search runs here, which is slower but correct.
   */
  function propagate(change: IndexChange): void {
    if (workers === null) return;
    if (sqlite.inTransaction) {
      log.warn({ change }, 'search: index change inside an open transaction; query workers stopped');
      stopWorkers();
      return;
    }
    workers.apply(change);
    if (workers.live === 0) stopWorkers();
  }

  /** Workers spawned but not yet waited for (see loadMemory), and when they were. */
  let launching: QueryWorkers | null = null;
  let launchedAt = 0;

  /** Spawn the query workers on the current field index (they load in parallel; startWorkers waits). */
  function launchWorkers(): void {
    const n = Math.floor(deps.workers ?? 0);
    if (n <= 0 || replica !== undefined || workers !== null || launching !== null) return;
    const file = sqlite.name;
    if (!file || file === ':memory:' || sqlite.memory) return;
    launchedAt = performance.now();
    const shared = fields.shareArrays();
    launching = new QueryWorkers({ file, snapshot: shared, count: n, inflight: deps.workerInflight ?? 8, log });
  }

  function startWorkers(): void {
    if (replica !== undefined || workers !== null) return;
    if (launching === null) launchWorkers();
    const w = launching;
    launching = null;
    if (w === null) return;
    if (w.waitReady() > 0) {
      workers = w;
      log.info({ workers: w.live, ms: Math.round(performance.now() - launchedAt) }, 'search: query workers ready');
    } else {
      w.close();
      log.warn('search: no query worker could start; searches run on the main thread');
    }
  }

  function stopWorkers(): void {
    workers?.close();
    workers = null;
    launching?.close();
    launching = null;
  }

  /** Replica mode: replay a change the main index has just made (reads the committed rows, writes nothing). */
  function applyChange(change: IndexChange): void {
    if (replica === undefined) throw new Error('search: applyChange is for query workers');
    ensureLoaded();
    invalidate();
    for (const [t, d] of (change.op === 'products' || change.op === 'remove' ? change.vocab : undefined) ?? []) vocab.add(t, d);
    if (change.op === 'remove') removeFromMemory(change.id);
    else if (change.op === 'agencies') {
      loadAgencies();
      loadAgencyShort();
    } else if (change.op === 'products') {
      for (const id of change.ids) replayProduct(id);
      maybeCompact();
    } else {
      const row = st.blobId.get(change.sha) as { id: number; paged: number; pages: number } | undefined;
      if (row === undefined) return;
      registerBlob(change.sha, row);
      for (const r of st.holders.all(change.sha) as Array<{ product_id: number }>) linkBlob(r.product_id, row.id);
      if (vocab.recentCount > 5_000) vocab.seal();
    }
  }

  /** Replica mode: what indexBlobText changed in memory for a blob it (re)indexed. */
  function registerBlob(sha: string, row: { id: number; paged: number; pages: number }): void {
    clearTokenBlobs();
    for (const t of st.blobTerms.all(row.id) as string[]) vocab.add(t, 1);
    blobIdBySha.set(sha, row.id);
    blobInfo.set(row.id, { sha, paged: row.paged !== 0, unit: unitOfCode(row.paged), pages: row.pages });
  }

  /** Replica mode: the in-memory part of indexProductTx (applyProduct without persisting). */
  function replayProduct(productId: number): void {
    const p = st.product.get(productId) as ProductRow | undefined;
    if (p === undefined) {
      removeFromMemory(productId);
      return;
    }
    applyProduct(productId, p, false, (sha) => {
      const row = st.blobId.get(sha) as { id: number; paged: number; pages: number } | undefined;
      if (row === undefined) return;
      // Not known here yet: the main index has just indexed its text (indexBlobText, not forced).
      if (blobIdBySha.get(sha) !== row.id) registerBlob(sha, row);
      linkBlob(productId, row.id);
    });
  }

  function rebuild(onProgress?: (done: number, total: number) => void): { products: number; pages: number; ms: number } {
    // The rebuild reads every product from the database, the waiting ones included.
    pendingProducts.clear();
    noWrites();
    const t0 = performance.now();
    const hadWorkers = workers !== null;
    stopWorkers();
    let products = 0;
    let pages = 0;
    invalidate();
    // A crash half-way through must not leave a fingerprint that vouches for half-built tables.
    sqlite.prepare("DELETE FROM meta WHERE key IN ('search_fingerprint', 'search_index_version')").run();
    dropTables(sqlite);
    createTables(sqlite);
    loadAgencies();
    loadAgencyShort();
    const total = (sqlite.prepare('SELECT count(*) AS n FROM products').get() as { n: number }).n;
    const read = sqlite.prepare(PRODUCT_SELECT + ' ORDER BY p.id');
    // Read fully before writing: better-sqlite3 forbids writes while an iterator is open on the connection.
    const all = read.all() as ProductRow[];
    const batch = 5000;
    for (let i = 0; i < all.length; i += batch) {
      sqlite.transaction(() => {
        for (const p of all.slice(i, i + batch)) {
          st.upsertDoc.run(storedDoc(p));
          products++;
        }
      })();
      onProgress?.(products, total);
    }
    const shas = sqlite.prepare('SELECT DISTINCT t.sha256 FROM blob_texts t').pluck().all() as string[];
    let inTx = 0;
    sqlite.exec('BEGIN');
    try {
      for (const sha of shas) {
        indexBlobText(sha, true);
        pages += (blobInfo.get(blobIdBySha.get(sha)!)?.pages ?? 0);
        if (++inTx >= 200) {
          sqlite.exec('COMMIT');
          sqlite.exec('BEGIN');
          inTx = 0;
        }
      }
      sqlite.exec('COMMIT');
    } catch (e) {
      if (sqlite.inTransaction) sqlite.exec('ROLLBACK');
      throw e;
    }
    sqlite.exec("INSERT INTO search_blob(search_blob) VALUES('optimize');");
    loadMemory();
    setMeta(sqlite, 'search_index_version', INDEX_VERSION);
    writeSnapshot();
    if (hadWorkers) startWorkers();
    const ms = Math.round(performance.now() - t0);
    log.info({ products, pages, ms }, 'search: index rebuilt');
    return { products, pages, ms };
  }

  function ensureReady(): { rebuilt: boolean; ms: number } {
    const t0 = performance.now();
    if (replica !== undefined) {
      loadMemory(undefined, replica.snapshot);
      return { rebuilt: false, ms: Math.round(performance.now() - t0) };
    }
    const version = getMeta(sqlite, 'search_index_version');
    const fp = getMeta(sqlite, 'search_fingerprint');
    if (version !== INDEX_VERSION || fp === null || fp !== fingerprint(sqlite)) {
      rebuild();
      markSeen();
      startWorkers();
      return { rebuilt: true, ms: Math.round(performance.now() - t0) };
    }
    loadMemory(fp);
    markSeen();
    startWorkers();
    return { rebuilt: false, ms: Math.round(performance.now() - t0) };
  }

  /** Persist the field index with the fingerprint of the catalogue it reflects. */
  function writeSnapshot(): void {
    const fp = fingerprint(sqlite);
    const snap = fields.snapshot();
    if (snapshotFile !== null) {
      saveSnapshotFile(snapshotFile, { ...snap }, snapshotKey(fp));
      // One written by an earlier version inside the database is stale now.
      sqlite.prepare('DELETE FROM search_snapshot').run();
    } else saveSnapshot(sqlite, { ...snap }, snapshotKey(fp));
    setMeta(sqlite, 'search_fingerprint', fp);
  }

  /** The stored field index for `key`: from its file, or from the database (an in-memory one, or a data dir from before the file). */
  function readSnapshot(key: string, shared: readonly string[]): Record<string, Buffer> | null {
    return (snapshotFile !== null ? loadSnapshotFile(snapshotFile, key, shared) : null) ?? loadSnapshot(sqlite, key, shared);
  }

  function close(): void {
    closing = true;
    // Indexed here before the index is stored (catchUp below), or found by the next start-up's check.
    if (pendingTimer !== null) clearTimeout(pendingTimer);
    pendingTimer = null;
    if (ready && replica === undefined && sqlite.open) flushPending();
    pendingProducts.clear();
    stopWorkers();
    if (!ready) return;
    if (replica !== undefined) {
      ready = false;
      return;
    }
    try {
      if (sqlite.open) {
        catchUp(true);
        writeSnapshot();
      }
    } catch (e) {
      log.warn({ err: e }, 'search: could not store the index fingerprint');
    }
    ready = false;
  }

  // ---------- querying ----------

  /**
   * Whether a folded term occurs in a record `sees` accepts (catalogue fields or file text): stops at the
   * first such record, so a term held by visible records costs a posting or two.
   */
  function termSeen(term: string, sees: (id: number) => boolean, textToken = term): boolean {
    if (fields.anyDoc(term, sees)) return true;
    if (blobInfo.size === 0) return false;
    const e = blobsOf(textToken);
    const held = (b: number): boolean => {
      const holders = blobProducts.get(b);
      if (holders !== undefined) for (const pid of holders) if (sees(pid)) return true;
      return false;
    };
    if (e.ids !== null) {
      for (const b of e.ids) if (held(b)) return true;
    } else {
      const bits = e.bits!;
      for (let w = 0; w < bits.length; w++) for (let x = bits[w]; x !== 0; x &= x - 1) if (held((w << 5) + 31 - Math.clz32(x & -x))) return true;
    }
    return false;
  }

  /**
   * A record that exists. The vocabulary only grows (an edit or a delete does not take a word out of
   * it), so a syllable counts as known, a correction or a completion only when some existing record
   * still holds it (termSeen): a word no record holds any more is unknown like any other.
   */
  const exists = (id: number): boolean => attrs[id] !== undefined;

  /**
   * An unknown folded word read as two known syllables that some record `sees` accepts holds side by
   * side (`hmong` → `h mong`, `ede` → `e de`, `caobang` → `cao bang`), as a field-index pair term; null
   * when there is no such reading. The first split point from the left that works.
   */
  function splitJoined(word: string, sees: (id: number) => boolean): string | null {
    if (word.length < 3 || /\d/.test(word)) return null;
    // A one-letter first syllable (H'Mông, Ê-đê, K'Ho), never a one-letter last one: `cuaa` is a typo of
    // `cua`, not "của A".
    for (let k = 1; k < word.length - 1; k++) {
      const a = word.slice(0, k);
      const b = word.slice(k);
      if (!vocab.has(a) || !vocab.has(b)) continue;
      if (termSeen(`${a} ${b}`, sees, `${a}_${b}`)) return `${a} ${b}`;
    }
    return null;
  }

  /**
   * An unknown folded word of words run together with one letter mistyped (`khuyennnong` → khuyen nong,
   * `dongngummngao` → dong nguom ngao): its variants with a doubled letter taken out, then with one letter
   * replaced by a vowel, then with any letter taken out, read as splitJoined or segmentJoined would; only
   * variants the vocabulary's syllables tile whole are tried (hash look-ups), at most JOINED_TYPO_TRIES of
   * them, so junk costs little.
   */
  function joinedWithTypo(word: string, sees: (id: number) => boolean): string[] | null {
    const L = word.length;
    if (L < 8 || L > 24 || /\d/.test(word)) return null;
    const tiles = (v: string): boolean => {
      const ok = new Uint8Array(v.length + 1);
      ok[0] = 1;
      for (let i = 0; i < v.length; i++) {
        if (ok[i] === 0) continue;
        // (Syllables of two letters or more, but for a first one of one letter, as in segmentJoined.)
        for (let k = i === 0 ? 1 : 2; k <= SYLLABLE_MAX && i + k <= v.length; k++) if (vocab.has(v.slice(i, i + k))) ok[i + k] = 1;
      }
      return ok[v.length] === 1;
    };
    const tried = new Set<string>();
    let tries = 0;
    const read = (v: string): string[] | null => {
      if (tried.has(v) || tries >= JOINED_TYPO_TRIES || !tiles(v)) return null;
      tried.add(v);
      tries++;
      const split = splitJoined(v, sees);
      if (split !== null) return split.split(' ');
      return segmentJoined(v, sees)?.words ?? null;
    };
    // A key pressed twice first (`nnn`, `ii`), then a vowel mistyped, then any letter too many.
    for (let i = 1; i < L; i++) {
      if (word[i] !== word[i - 1]) continue;
      const r = read(word.slice(0, i) + word.slice(i + 1));
      if (r !== null) return r;
    }
    for (let i = 0; i < L; i++) {
      for (const c of 'aeiouy') {
        if (c === word[i]) continue;
        const r = read(word.slice(0, i) + c + word.slice(i + 1));
        if (r !== null) return r;
      }
    }
    for (let i = 0; i < L; i++) {
      const r = read(word.slice(0, i) + word.slice(i + 1));
      if (r !== null) return r;
    }
    return null;
  }

  /**
   * An unknown folded word read as three or more known syllables (`hochiminh` → ho chi minh), each
   * adjacent pair of which some record `sees` accepts holds side by side: fewest syllables first, then
   * the pairs most records hold. Dynamic programming over (end, last syllable's start), syllables of at
   * most 7 letters (the longest Vietnamese syllable, `nghieng`); a one-letter syllable only first, as in
   * `splitJoined`. At most SEGMENT_PAIR_CHECKS pair look-ups per word, so long junk costs little.
   */
  function segmentJoined(word: string, sees: (id: number) => boolean, typing = false): { words: string[]; tails: string[] } | null {
    const L = word.length;
    if (L < (typing ? 4 : 5) || L > 40 || /\d/.test(word)) return null;
    // best[i][k]: best segmentation of word[0, i) whose last syllable has k letters.
    type Cell = { n: number; w: number; prevK: number } | null;
    const best: Cell[][] = Array.from({ length: L + 1 }, () => new Array<Cell>(SYLLABLE_MAX + 1).fill(null));
    const syl = (from: number, to: number): boolean => {
      const k = to - from;
      if (!((k >= 2 || (k === 1 && from === 0)) && k <= SYLLABLE_MAX)) return false;
      const w = word.slice(from, to);
      return vocab.has(w) || ABBREVIATION_WORDS.has(w);
    };
    let checks = 0;
    const pairMemo = new Map<string, number>();
    /** How many records hold the pair in their fields (1 for one found only in a file's text), 0 for none. */
    const pairWeight = (a: string, b: string): number => {
      const key = `${a} ${b}`;
      let v = pairMemo.get(key);
      if (v === undefined) {
        if (checks++ >= SEGMENT_PAIR_CHECKS) return 0;
        v = termSeen(key, sees, `${a}_${b}`) ? Math.max(1, fields.df(key)) : 0;
        // Two words of an abbreviation some record writes (`nhan dan` of UBND): they may stand together
        // nowhere else (`uybannhandan` in a catalogue writing only "UBND").
        if (v === 0 && abbreviationsWithPair(key).some((ab) => termSeen(ab.abbr, sees))) v = 1;
        pairMemo.set(key, v);
      }
      return v;
    };
    for (let k = 1; k <= Math.min(SYLLABLE_MAX, L); k++) if (syl(0, k)) best[k][k] = { n: 1, w: 0, prevK: 0 };
    for (let i = 1; i < L; i++) {
      for (let k = 1; k <= SYLLABLE_MAX; k++) {
        const cell = best[i][k];
        if (cell === null) continue;
        const prev = word.slice(i - k, i);
        for (let k2 = 2; k2 <= SYLLABLE_MAX && i + k2 <= L; k2++) {
          if (!syl(i, i + k2)) continue;
          const w = pairWeight(prev, word.slice(i, i + k2));
          if (w === 0) continue;
          const cand = { n: cell.n + 1, w: cell.w + w, prevK: k };
          const old = best[i + k2][k2];
          if (old === null || cand.n < old.n || (cand.n === old.n && cand.w > old.w)) best[i + k2][k2] = cand;
        }
      }
    }
    let endK = -1;
    for (let k = 2; k <= SYLLABLE_MAX; k++) {
      const c = best[L][k];
      if (c === null || c.n < 3) continue;
      const b = endK < 0 ? null : best[L][endK]!;
      if (b === null || c.n < b.n || (c.n === b.n && c.w > b.w)) endK = k;
    }
    const path = (end: number, endK: number): string[] => {
      const out: string[] = [];
      for (let i = end, k = endK; i > 0; ) {
        out.unshift(word.slice(i - k, i));
        const pk = best[i][k]!.prevK;
        i -= k;
        k = pk;
      }
      return out;
    };
    if (endK >= 0) return { words: path(L, endK), tails: [] };
    if (!typing) return null;
    // Still being typed (`hochimi`): whole syllables, then the start of one (`mi`) that some record holds
    // (in its fields) next to the last whole syllable: ho chi + minh. The piece has two letters or more,
    // or follows two syllables or more (`caob` is not yet read). Fewest syllables first, then the pairs
    // most records hold; up to TYPING_TAILS completions of the piece, most held first.
    let bestRead: { n: number; w: number; end: number; k: number; tails: string[] } | null = null;
    const tailMemo = new Map<string, Array<[string, number]>>();
    const pieceMemo = new Map<string, VocabCandidate[]>();
    let tailChecks = 0;
    for (let i = L - 1; i >= 1 && L - i <= SYLLABLE_MAX; i--) {
      const piece = word.slice(i);
      for (let k = 1; k <= SYLLABLE_MAX && k <= i; k++) {
        const cell = best[i][k];
        if (cell === null || (cell.n < 2 && piece.length < 2)) continue;
        const prev = word.slice(i - k, i);
        const key = `${prev} ${piece}`;
        let tails = tailMemo.get(key);
        if (tails === undefined) {
          tails = [];
          let cands = pieceMemo.get(piece);
          if (cands === undefined) {
            cands = vocab.expansions(piece, 200);
            if (vocab.has(piece)) cands.unshift({ term: piece, df: vocab.frequency(piece), distance: 0 });
            pieceMemo.set(piece, cands);
          }
          for (const c of cands) {
            // Bounded work: long junk (`anhanhanh…`) stops here.
            if (tailChecks++ >= TYPING_TAIL_CHECKS) break;
            const pair = `${prev} ${c.term}`;
            const df = fields.df(pair);
            if (df > 0 && fields.anyDoc(pair, sees)) tails.push([c.term, df]);
          }
          tails.sort((a, b) => b[1] - a[1]);
          tailMemo.set(key, tails);
        }
        if (tails.length === 0) continue;
        const n = cell.n + 1;
        const w = cell.w + tails[0][1];
        if (bestRead === null || n < bestRead.n || (n === bestRead.n && w > bestRead.w)) bestRead = { n, w, end: i, k, tails: tails.slice(0, TYPING_TAILS).map((x) => x[0]) };
      }
    }
    return bestRead === null ? null : { words: path(bestRead.end, bestRead.k), tails: bestRead.tails };
  }

  /** Whether a folded word can be a whole Vietnamese syllable by its letters (`c`, `nh`, `iem` cannot). */
  const syllableShaped = (folded: string): boolean => SYLLABLE_SHAPE.test(folded);

  /**
   * `sees` (null: the viewer sees every record) keeps records the viewer may not see out of what the
   * answer tells: typo corrections are spellings found in visible records; `strict` (a second plan, when
   * nothing the viewer may see matched) also takes a syllable, or a prefix expansion, held only by hidden
   * records as unknown. `loose` (for a plan made when a query of PASTED_MIN_TERMS words or more matched
   * nothing) lists edge words (indexes into the terms) to read as cut off: they score but are not required.
   */
  function plan(parsed: ParsedQuery, sees: ((id: number) => boolean) | null = null, strict = false, loose: readonly number[] = []): QueryPlan {
    const groups: Alt[][] = [];
    const boosts: Alt[] = [];
    const corrections: Array<{ from: string; to: string }> = [];
    const matcher: TermMatcher = { terms: new Set(), prefixes: [], exact: new Set(), phrases: [] };
    const ftsGroups: string[][] = [];
    const primary: string[] = [];
    // Over-long tokens (a pasted hash or URL) are in no index: left out like unknown syllables.
    const dropped: string[] = [...parsed.tooLong];
    const kept: ParsedQuery['terms'] = [];
    /** Index in `kept` (and `groups`) of each parsed term, -1 for one left out. */
    const keptAt: number[] = [];
    // A pair of syllables standing together in some record (the viewer may see).
    const pairSeen = (pair: string): boolean => fields.anyDoc(pair, sees ?? exists);
    // Who must hold a syllable for it to be known: an existing record, and in the strict plan a visible one.
    const heldBy = strict && sees !== null ? sees : exists;
    const seen = sees ?? exists;
    /** Per group: it continues the previous group's word (pairs of one expanded or segmented word). */
    const bound: boolean[] = [];
    /** Per group: one of the pairs of such a word. */
    const chained: boolean[] = [];
    const expansions: QueryPlan['expansions'] = [];
    const optional: string[] = [];
    const nq = parsed.terms.length;
    // A passage pasted with a stray piece of a word at either end ("c nhiệm vụ tuyên truyền…"): in a query
    // of PASTED_MIN_TERMS words or more, an edge word whose letters no Vietnamese syllable has (`c`, `nh`;
    // not a number, an abbreviation or a word in capitals) is read as cut off, and so are the edge words
    // `loose` lists. Such a word scores where it occurs but is not required.
    const optionalAt = new Set<number>();
    /** Of those, the record types named in English: chosen by the reader, so not reported as `optional`. */
    const typeLoose = new Set<number>();
    if (nq >= PASTED_MIN_TERMS) {
      for (const i of [0, nq - 1]) {
        const t = parsed.terms[i];
        if (t.quoted) continue;
        let cut = !/\d/.test(t.folded) && !t.upper && abbreviationOf(t.folded) === undefined && !TYPE_CODES.has(t.folded) && !(t.prefix && i === nq - 1);
        // A word shaped like a syllable is cut off only in a passage (PASSAGE_MIN_TERMS words or more) and
        // only when no record holds it next to its neighbour (`ông tin`: the record says "thông tin"): a
        // whole word of a passage some record holds stands there beside the next one.
        if (cut && syllableShaped(t.folded)) {
          const nb = parsed.terms[i === 0 ? 1 : nq - 2];
          const held = (a: string, b: string): boolean => {
            const pair = i === 0 ? [a, b] : [b, a];
            return termSeen(pair.join(' '), seen, pair.join('_'));
          };
          const nbOther = otherSpelling(nb.folded);
          cut = nq >= PASSAGE_MIN_TERMS && !nb.quoted && !held(t.folded, nb.folded) && (nbOther === null || !held(t.folded, nbOther));
        }
        if (loose.includes(i) || cut) optionalAt.add(i);
      }
    }
    // A question typed as a sentence ("có tài liệu nào về Pác Bó không", "những tờ gấp về thác Bản Giốc"):
    // its question and linking words, typed with their marks, are not required when at least two other words
    // are left. They still score where they occur; a record about Pác Bó that never writes "về" is found.
    if (nq >= 3) {
      const filler = parsed.terms.map((t, i) => !t.quoted && t.marked && (QUERY_FILLERS.has(t.exact) || (t.exact === 'tài' && parsed.terms[i + 1]?.exact === 'liệu') || (t.exact === 'liệu' && parsed.terms[i - 1]?.exact === 'tài')));
      const left = filler.filter((f) => !f).length;
      if (left >= 2 && left < nq) filler.forEach((f, i) => f && optionalAt.add(i));
    }
    // A record type named in English beside other words (`book lịch sử Đảng`, `audio Tày`): the reader wants
    // that type first, not nothing when no record of the type is on the subject. The type word lifts the
    // records of the type (their type label) and titles naming it, but is not required. Alone it stays required.
    if (nq >= 2) {
      const typeAt = parsed.terms.map((t) => !t.quoted && !t.joined && TYPE_CODES.has(t.folded));
      if (typeAt.some((x, i) => !x && !optionalAt.has(i))) typeAt.forEach((x, i) => x && (optionalAt.add(i), typeLoose.add(i)));
    }
    // Words written out whose abbreviation some record writes (`ủy ban nhân dân` → UBND): each of the
    // words also matches the abbreviation, so a record writing "UBND" matches them all (a OR (b AND c) =
    // (a OR b) AND (a OR c)); in each group it scores OTHER_FORM_FACTOR of what the word would, and it
    // earns no pair boost. Abbreviations of two letters are not looked for this way (a record's "NQ/TW"
    // is a document number).
    // An abbreviation written in halves (`KT-XH`) is looked for as the pair of its halves when no record
    // the viewer may see writes it whole.
    const contractedForm = (ab: Abbreviation): { term: string; display: string } | null =>
      termSeen(ab.abbr, seen) ? { term: ab.abbr, display: ab.written } : ab.halves !== undefined && termSeen(ab.halves.pair, seen, ab.halves.pair.replace(' ', '_')) ? { term: ab.halves.pair, display: ab.halves.written } : null;
    const contracted = new Map<number, Alt[]>();
    for (const [at, ab] of contractionsIn(parsed.terms.map((t, i) => (t.quoted || optionalAt.has(i) ? '' : t.folded)))) {
      const form = contractedForm(ab);
      if (form === null) continue;
      for (let k = 0; k < ab.words.length; k++) {
        const list = contracted.get(at + k) ?? [];
        list.push({ term: form.term, factor: OTHER_FORM_FACTOR });
        contracted.set(at + k, list);
      }
      if (!expansions.some((e) => e.to === ab.abbr)) expansions.push({ from: ab.words.join(' '), to: ab.abbr, display: form.display });
    }
    // A number typed with thousands separators (`1.000`, `2.500.000`, `10 000`: its groups are words of their
    // own, as in a record writing it so) is also the number written without them, when some record holds
    // that: each group's word also takes it (a OR (b AND c) = (a OR b) AND (a OR c)), sharing its score, so
    // `1.000 bản` finds "in 1000 bản" too (the reverse, `1000` → "1.000", is numberSpellings).
    const grouped = new Map<number, Alt>();
    for (let i = 0; i < nq; i++) {
      const first = parsed.terms[i];
      if (first.quoted || first.joined || !/^[1-9]\d{0,2}$/.test(first.folded)) continue;
      let j = i + 1;
      while (j < nq && !parsed.terms[j].quoted && !parsed.terms[j].joined && /^\d{3}$/.test(parsed.terms[j].folded)) j++;
      if (j === i + 1) continue;
      const whole = parsed.terms.slice(i, j).map((t) => t.folded).join('');
      if (vocab.has(whole) && termSeen(whole, heldBy)) for (let k = i; k < j; k++) grouped.set(k, { term: whole, factor: 1 / (j - i) });
      i = j - 1;
    }
    /**
     * One typed word searched as several syllables standing together (`words`): one group per adjacent
     * pair (pairs are indexed terms, so the syllables must be side by side), each also matched by the
     * word as typed (`typed`, an abbreviation some record writes) when there is one.
     */
    const pushChain = (t: ParsedQuery['terms'][number], words: string[], typed: string | null, pairFactor: number, extra?: Alt[][], tails: string[] = []): void => {
      keptAt.push(kept.length);
      const m = words.length - 1 + (tails.length > 0 ? 1 : 0);
      for (let k = 0; k < m; k++) {
        // The last pair of a word still being typed: the last whole syllable with any of the completions.
        const alts: Alt[] =
          k < words.length - 1
            ? [{ term: `${words[k]} ${words[k + 1]}`, factor: pairFactor / m }]
            : tails.map((c, j) => ({ term: `${words[k]} ${c}`, factor: ((j === 0 ? 1 : 0.8) * pairFactor) / m }));
        if (typed !== null) alts.push({ term: typed, factor: 1 / m });
        if (extra?.[k] !== undefined) for (const a of extra[k]) alts.push({ term: a.term, factor: a.factor / m });
        groups.push(alts);
        bound.push(k > 0);
        chained.push(true);
        kept.push(t);
        primary.push(alts[0].term);
        ftsGroups.push(alts.map((a) => a.term.replace(' ', '_')));
      }
      // Snippets mark the syllables only where they stand together (not "Ban" of "Ban Tuyên giáo" for UBND).
      if (tails.length === 0) matcher.phrases!.push(words);
      for (const c of tails) matcher.phrases!.push([...words, c]);
      // The form typed scores in full over the groups, the words written out pairFactor of their pairs' score.
      if (typed !== null) (typed.includes(' ') ? matcher.phrases!.push(typed.split(' ')) : matcher.terms.add(typed));
      // Another form: an abbreviation (marked wherever it stands), or one next to a syllable (`ubnd tinh`).
      for (const list of extra ?? []) for (const a of list ?? []) (a.term.includes(' ') ? matcher.phrases!.push(a.term.split(' ')) : matcher.terms.add(a.term));
    };
    /**
     * A word typed without spaces whose syllables spell out an abbreviation some record writes
     * (`uybannhandan` → UBND), as the typed words would: each pair group inside the abbreviation's words
     * also takes the abbreviation, and a pair across its edge the abbreviation next to the neighbouring
     * syllable (`uybannhandantinh` → `ubnd tinh`), each at OTHER_FORM_FACTOR.
     */
    const chainContractions = (words: string[]): Alt[][] | undefined => {
      let extra: Alt[][] | undefined;
      for (const [at, ab] of contractionsIn(words)) {
        // (Written whole only: the halves' pair (`kt xh`), rarer than the words' pairs, would outscore them here.)
        if (!termSeen(ab.abbr, seen)) continue;
        extra ??= [];
        const add = (k: number, term: string): void => {
          if (k < 0 || k >= words.length - 1) return;
          (extra![k] ??= []).push({ term, factor: OTHER_FORM_FACTOR });
        };
        const end = at + ab.words.length - 1;
        for (let k = at; k < end; k++) add(k, ab.abbr);
        add(at - 1, `${words[at - 1]} ${ab.abbr}`);
        add(end, `${ab.abbr} ${words[end + 1]}`);
        if (!expansions.some((e) => e.to === ab.abbr)) expansions.push({ from: ab.words.join(' '), to: ab.abbr, display: ab.written });
      }
      return extra;
    };
    // Pair look-ups of the context rule (contextSpelling), memoised and bounded per query.
    const pairMemo = new Map<string, boolean>();
    let contextChecks = 0;
    const pairHeld = (a: string, b: string): boolean => {
      const key = `${a} ${b}`;
      let v = pairMemo.get(key);
      if (v === undefined) {
        if (contextChecks++ >= CONTEXT_PAIR_CHECKS) return false;
        v = termSeen(key, seen, `${a}_${b}`);
        pairMemo.set(key, v);
      }
      return v;
    };
    /** Visible records whose fields hold `term` (a pair: a short list), as a set. */
    const docsOf = (term: string): Set<number> => {
      const set = new Set<number>();
      fields.anyDoc(term, (d) => {
        if (seen(d)) set.add(d);
        return false;
      });
      return set;
    };
    /** Whether some record holds the three syllables side by side (both pairs), in its fields or a file's text. */
    const chainHeld = (a: string, b: string, c: string): boolean => {
      if (contextChecks++ >= CONTEXT_PAIR_CHECKS) return false;
      // The rarer pair's records as a set, the other's probed until one is found (a common pair's list is long).
      const [rare, common] = fields.df(`${a} ${b}`) <= fields.df(`${b} ${c}`) ? [`${a} ${b}`, `${b} ${c}`] : [`${b} ${c}`, `${a} ${b}`];
      const first = fields.df(rare) > 0 ? docsOf(rare) : null;
      if (first !== null && first.size > 0 && fields.anyDoc(common, (d) => first.has(d))) return true;
      if (blobInfo.size === 0) return false;
      for (const blob of evalText([[`${a}_${b}`], [`${b}_${c}`]])) {
        const holders = blobProducts.get(blob);
        if (holders !== undefined) for (const pid of holders) if (seen(pid)) return true;
      }
      return false;
    };
    /**
     * Whether the word typed stands next to a neighbour as typed: folded, the pair; when either was typed
     * with marks and some record's fields hold the pair, a record whose fields also spell the marked ones so
     * (`bản dốc` is not the "bạn đọc" of "phục vụ bạn đọc", folded alike). File text is folded: a pair held
     * only there counts as typed.
     */
    const typedPairHeld = (x: ParsedQuery['terms'][number], y: ParsedQuery['terms'][number]): boolean => {
      if (!pairHeld(x.folded, y.folded)) return false;
      const marked = [x, y].filter((z) => z.marked).map((z) => '=' + z.exact);
      if (marked.length === 0) return true;
      const pair = `${x.folded} ${y.folded}`;
      if (!fields.anyDoc(pair, seen)) return true;
      // Some visible record holding the pair and the marked spellings (the rarest list's records looked up
      // in the others, stopping at the first; a common word's postings run to tens of thousands).
      return fields.anyDocHoldingAll([pair, ...marked], seen);
    };
    /**
     * A spelling to read the word at `i` as, from its context: another spelling with a commonly confused
     * onset (d/gi/r, s/x, ch/tr, l/n, b/p, c/k/q, g/gh, ng/ngh; its rhyme and, typed with marks, its marks
     * kept) that some record holds next to each typed neighbour (known syllables), when no record holds the
     * word itself (nor `also`, its other i/y spelling) next to any of them as typed. With a neighbour on
     * each side, one side is enough when that side is a longer chain some record holds — the word before
     * the neighbour, the neighbour and the spelling (`thác bản dốc trùng khánh`: "thác Bản Giốc") — and the
     * other side holds neither the spelling nor the word typed. Null otherwise. A few dictionary probes:
     * the vocabulary is not scanned.
     */
    const contextSpelling = (i: number, t: ParsedQuery['terms'][number], also: string | null): string | null => {
      const nbs: Array<[string, boolean, ParsedQuery['terms'][number]]> = [];
      const prev = parsed.terms[i - 1];
      const next = parsed.terms[i + 1];
      if (prev !== undefined && vocab.has(prev.folded)) nbs.push([prev.folded, true, prev]);
      if (next !== undefined && vocab.has(next.folded)) nbs.push([next.folded, false, next]);
      if (nbs.length === 0 || /\d/.test(t.folded)) return null;
      const heldWith = ([nb, before]: [string, boolean, unknown], w: string): boolean => (before ? pairHeld(nb, w) : pairHeld(w, nb));
      let best: string | null = null;
      let bestDf = -1;
      for (const c of confusedSpellings(t.folded)) {
        if (!vocab.has(c) || !termSeen(c, seen)) continue;
        if (t.marked) {
          const rhyme = t.exact.slice(t.folded.length - rhymeOf(t.folded).length);
          const spellings = fields.exactSpellings(c);
          if (spellings.length > 0 && !spellings.some((sp) => sp.slice(sp.length - rhyme.length) === rhyme && sp.length - rhyme.length === c.length - rhymeOf(c).length)) continue;
        }
        // Next to every neighbour, or next to one as part of a longer chain (above). One side alone is weak
        // evidence: `người Dao đỏ` would also search "giao" ("người giao" is held, "giao đỏ" is not, and no
        // word stands before "người").
        // (Both sides are looked up only when one side could be enough: a word stands beyond a neighbour.)
        const oneSide = nbs.length === 2 && (parsed.terms[i - 2] !== undefined || parsed.terms[i + 2] !== undefined);
        const support = oneSide ? nbs.filter((nb) => heldWith(nb, c)) : nbs.every((nb) => heldWith(nb, c)) ? nbs : [];
        if (support.length === 0) continue;
        if (support.length < nbs.length) {
          const [nb, before] = support[0];
          const far = before ? parsed.terms[i - 2] : parsed.terms[i + 2];
          if (far === undefined || !vocab.has(far.folded) || !(before ? chainHeld(far.folded, nb, c) : chainHeld(c, nb, far.folded))) continue;
        }
        const df = support.reduce((sum, [nb, before]) => sum + fields.df(before ? `${nb} ${c}` : `${c} ${nb}`), 0);
        if (df > bestDf) {
          best = c;
          bestDf = df;
        }
      }
      if (best === null) return null;
      // The word as typed stands next to a neighbour somewhere: it is what was meant — unless the word beyond
      // that neighbour tells them apart. Typed without marks, `thac ban doc` holds the pair "ban doc" of "bạn
      // đọc" (folded alike: pairs are indexed folded); but when some record holds the chain with the spelling
      // ("thác Bản Giốc") and none the chain typed ("thác bạn đọc"), the spelling is read (as an alternative).
      for (const [nb, before, nt] of nbs) {
        if (before ? typedPairHeld(nt, t) : typedPairHeld(t, nt)) {
          const far = before ? parsed.terms[i - 2] : parsed.terms[i + 2];
          // (Both chains are looked up, or neither: a budget spent half-way reads nothing.)
          if (far === undefined || far.quoted || !vocab.has(far.folded) || contextChecks + 2 > CONTEXT_PAIR_CHECKS) return null;
          // A pair of the far word and the neighbour written in many records tells little, and its records
          // cost the most to intersect: past CHAIN_MAX_DF the word is read as typed (as before this rule).
          if (fields.df(before ? `${far.folded} ${nb}` : `${nb} ${far.folded}`) > CHAIN_MAX_DF) return null;
          const chain = (w: string): boolean => (before ? chainHeld(far.folded, nb, w) : chainHeld(w, nb, far.folded));
          // (The chain typed first: in most queries some record holds it, and that ends the look-ups.)
          if (chain(t.folded) || !chain(best)) return null;
        }
        if (also !== null && heldWith([nt.folded, before, nt], also)) return null;
      }
      return best;
    };
    for (const [i, t] of parsed.terms.entries()) {
      // An abbreviation typed on its own (not in a document number such as `QĐ-UBND`): also its words,
      // side by side (`UBND` → "Ủy ban nhân dân"), when some record holds them so.
      const ab = !t.quoted && !t.joined && !optionalAt.has(i) ? abbreviationOf(t.folded) : undefined;
      if (ab !== undefined) {
        const w = ab.words;
        if (w.slice(1).every((b, k) => termSeen(`${w[k]} ${b}`, seen, `${w[k]}_${b}`))) {
          const typedForm = termSeen(ab.abbr, heldBy) ? ab.abbr : t.halves !== undefined && termSeen(t.halves, heldBy, t.halves.replace(' ', '_')) ? t.halves : null;
          pushChain(t, w, typedForm, OTHER_FORM_FACTOR);
          if (!expansions.some((e) => e.from === ab.abbr)) expansions.push({ from: ab.abbr, to: w.join(' '), display: ab.display });
          continue;
        }
      }
      const alts: Alt[] = [];
      const known = vocab.has(t.folded) && termSeen(t.folded, heldBy);
      if (known) alts.push({ term: t.folded, factor: 1 });
      // An abbreviation typed in halves (`KT-XH`) whose words no record holds side by side: the halves as written.
      if (t.halves !== undefined && termSeen(t.halves, heldBy, t.halves.replace(' ', '_'))) alts.push({ term: t.halves, factor: 1 });
      // A word some record holds that no syllable is written as, and that reads as two syllables records
      // hold side by side (`caobang`, held by a web address, for "Cao Bằng"): also that pair.
      if (known && !t.quoted && t.folded.length >= 4 && !syllableShaped(t.folded)) {
        const split = splitJoined(t.folded, seen);
        if (split !== null) {
          alts.push({ term: split, factor: 1 });
          corrections.push({ from: t.folded, to: split });
        }
      }
      // The other spelling of a syllable ending in i or y (kĩ / kỹ, lí / lý, mĩ / mỹ, quí / quý): both are
      // correct and both are written, so each finds the other, as the same word. And a day or month
      // number written with or without its leading zero (5/1/2023, 05/01/2023).
      const iy = !t.quoted ? otherSpelling(t.folded) : null;
      const iyKnown = iy !== null && vocab.has(iy) && termSeen(iy, heldBy);
      if (iyKnown) {
        alts.push({ term: iy, factor: 1 });
        if (!known) corrections.push({ from: t.folded, to: iy });
      }
      // A number in digits and in Roman numerals (`đại hội 19` finds "lần thứ XIX", `khoá XVIII` "khoá 18"),
      // and one of 4 to 6 digits as written with a thousands separator (`1000 bản` finds "in 1.000 bản",
      // indexed as the pair `1 000`): the same number, when some record holds that form.
      if (!t.quoted && !t.joined) {
        for (const other of numberSpellings(t.folded)) {
          const pair = other.includes(' ');
          if (pair ? !termSeen(other, heldBy, other.replace(' ', '_')) : !(vocab.has(other) && termSeen(other, heldBy))) continue;
          alts.push({ term: other, factor: 1 });
          if (!known && !iyKnown) corrections.push({ from: t.folded, to: other });
        }
      }
      const number = grouped.get(i);
      if (number !== undefined) alts.push(number);
      // A record type named in English, as the API names it (`audio Tày`, `leaflet H'Mông`): also the type's
      // Vietnamese words, which every record of the type holds (its type label) and titles write.
      // (A word of one syllable also earns its spelling's boost: `photo` is "ảnh", not "anh hùng".)
      const typeWords = !t.quoted && !t.joined ? TYPE_NAMES_VI.get(t.folded) : undefined;
      for (const w of typeWords ?? []) {
        const term = fold(w);
        if (!termSeen(term, seen, term.replace(' ', '_'))) continue;
        alts.push({ term, factor: OTHER_FORM_FACTOR });
        if (!term.includes(' ')) {
          boosts.push({ term: '=' + w, factor: EXACT_BOOST });
          matcher.exact!.add(w);
        }
        if (!expansions.some((e) => e.from === t.folded && e.to === term)) expansions.push({ from: t.folded, to: term, display: w });
      }
      // A real word that is a typo in its context (`thác bản dốc`, "Bản Giốc"): no record holds it next to a
      // typed neighbour, while one holds a spelling with a commonly confused onset there. That spelling is
      // searched too, as an alternative (the word typed still matches: it may be what was meant).
      if (known && !t.quoted && !t.upper && !t.joined && ab === undefined && !optionalAt.has(i) && contracted.get(i) === undefined) {
        const c = contextSpelling(i, t, iyKnown ? iy : null);
        if (c !== null) {
          alts.push({ term: c, factor: CONTEXT_FACTOR });
          corrections.push({ from: t.folded, to: c });
        }
      }
      if (t.prefix && (t.folded.length >= 2 || parsed.terms.length >= 2)) {
        // The 20 most frequent completions still held by a record (the vocabulary may hold a few gone ones).
        // Typed with marks (`đỏ`, `bà`), a completion must keep them: one of its marked spellings in the
        // fields starts with the typed letters and carries the typed tone (`đỏ` → đỏng, not đông or đốc).
        // A completion scores at most as the typed syllable itself would (0.8 of its idf): a rarer word
        // that merely starts with it (`to` → tốt) does not outrank the records holding the syllable typed.
        // (Only when the fields hold the typed syllable: one found only in file texts caps nothing.)
        const typedIdf = known ? fields.idfOf(t.folded) : 0;
        let n = 0;
        for (const c of vocab.expansions(t.folded, t.marked ? 400 : 40)) {
          if (n >= 20) break;
          if (t.marked && !fields.exactSpellings(c.term).some((sp) => completesMarked(t.exact, sp))) continue;
          if (!termSeen(c.term, heldBy)) continue;
          const idf = typedIdf > 0 ? fields.idfOf(c.term) : 0;
          alts.push({ term: c.term, factor: idf > typedIdf ? (0.8 * typedIdf) / idf : 0.8 });
          n++;
        }
        // Snippets mark any word starting with an unmarked prefix; a marked one marks its completions only.
        if (!t.marked) matcher.prefixes.push(t.folded);
      }
      // A word of an abbreviation written out (`đảng` of `Đảng Cộng sản`) that no record holds is not a
      // typo when some record writes the abbreviation: it is matched by that alone.
      const other = contracted.get(i);
      // Two syllables typed as one word, as names of peoples often are (`hmong` for H'Mông, `ede` for
      // Ê-đê) or a phrase typed without its space (`caobang`): the pair, when some record holds the two
      // side by side, rather than a typo correction to another word (`hmong` → hướng).
      // A word typed with an input method's keys left in it (telex `vieetj`, `dduwowngf`; VNI `vie6t5`):
      // the syllable they spell, when some record holds it, with the marks typed (an exact-spelling boost).
      const typedWith = alts.length === 0 && !t.quoted && other === undefined ? decodeTyping(t.exact) : null;
      if (typedWith !== null) {
        const f = fold(typedWith.skeleton);
        if (f !== t.folded && vocab.has(f) && termSeen(f, seen)) {
          alts.push({ term: f, factor: 1 });
          corrections.push({ from: t.folded, to: f });
          const exact = fields.exactSpellings(f).find((sp) => spellsTyped(sp, typedWith));
          if (exact !== undefined) {
            boosts.push({ term: '=' + exact, factor: EXACT_BOOST });
            matcher.exact!.add(exact);
          }
        }
      }
      if (alts.length === 0 && !t.quoted && other === undefined) {
        const split = splitJoined(t.folded, sees ?? exists);
        if (split !== null) {
          alts.push({ term: split, factor: 1 });
          corrections.push({ from: t.folded, to: split });
        } else {
          // Letters run into a number (`muc1499`, `trang12`, `ocop4sao`) that no record holds as one word: the
          // words and numbers side by side, as `mục 1499` finds them, when some record holds each pair so.
          const words = /\d/.test(t.folded) && /[a-z]/.test(t.folded) ? t.folded.match(/[a-z]+|\d+/g) : null;
          if (words !== null && words.length <= 6 && words.every((w, k) => k === 0 || termSeen(`${words[k - 1]} ${w}`, sees ?? exists, `${words[k - 1]}_${w}`))) {
            pushChain(t, words, null, 1);
            corrections.push({ from: t.folded, to: words.join(' ') });
            continue;
          }
          // Three or more syllables run together (`hochiminh`): searched as those syllables side by side.
          // While typing (`hochimi`), the last syllable may be the start of one (Hồ Chí Minh).
          const segs = segmentJoined(t.folded, seen, t.prefix && i === nq - 1);
          if (segs !== null) {
            const { words, tails } = segs;
            pushChain(t, words, null, 1, tails.length === 0 ? chainContractions(words) : undefined, tails);
            corrections.push({ from: t.folded, to: [...words, ...tails.slice(0, 1)].join(' ') });
            continue;
          }
          // Words run together with one letter mistyped (`khuyennnong`, `dongngummngao`): the same reads
          // after one letter taken out or one vowel put in another letter's place.
          const typo = t.quoted ? null : joinedWithTypo(t.folded, seen);
          if (typo !== null) {
            pushChain(t, typo, null, 1);
            corrections.push({ from: t.folded, to: typo.join(' ') });
            continue;
          }
        }
      }
      // "tiếng" before a language's name (`tiếng Dao`) introduces the language, whose records are indexed by
      // its name alone: when no record holds the word it is left out, never read as a typo (`miệng`).
      const namesLanguage = t.folded === 'tieng' && !t.quoted && LANGUAGE_WORDS.has(parsed.terms[i + 1]?.folded ?? '');
      if (alts.length === 0 && other === undefined && !namesLanguage) {
        let cands = vocab.corrections(t.folded, 10);
        cands = cands.filter((c) => termSeen(c.term, sees ?? exists));
        // A spelling that stands next to a typed neighbour somewhere comes before more frequent ones that
        // do not: `dec tho cam` is "dệt thổ cẩm", though `de` and `den` are far more common than `det`.
        const prev = parsed.terms[i - 1]?.folded;
        const next = parsed.terms[i + 1]?.folded;
        const paired = cands.map((c) => (prev !== undefined && pairSeen(`${prev} ${c.term}`)) || (next !== undefined && pairSeen(`${c.term} ${next}`)));
        cands = [...cands.filter((_, k) => paired[k]), ...cands.filter((_, k) => !paired[k])].slice(0, 3);
        for (const c of cands) alts.push({ term: c.term, factor: c.distance === 1 ? 0.7 : 0.45 });
        if (cands.length > 0) corrections.push({ from: t.folded, to: cands[0].term });
        // A syllable of one or two letters found nowhere (`Pác Pó`) is too short to guess from its letters
        // alone: corrected only to a spelling some record holds next to a typed neighbour (Pác Bó).
        if (cands.length === 0 && t.folded.length <= 2 && !t.quoted && !/\d/.test(t.folded)) {
          const c = contextSpelling(i, t, null);
          if (c !== null) {
            alts.push({ term: c, factor: 0.7 });
            corrections.push({ from: t.folded, to: c });
          }
        }
      }
      // Second, so the text index (which takes the first few alternatives) asks for it too.
      if (other !== undefined) alts.splice(Math.min(1, alts.length), 0, ...other);
      // An edge word read as cut off: it adds score where it occurs, nothing requires it.
      if (optionalAt.has(i) && alts.length > 0) {
        for (const a of alts) {
          boosts.push(a);
          for (const part of a.term.split(' ')) matcher.terms.add(part);
        }
        if (!typeLoose.has(i)) optional.push(t.folded);
        keptAt.push(-1);
        continue;
      }
      // A syllable found nowhere (and with no close spelling) cannot match: it is left out of the AND.
      if (alts.length === 0) {
        dropped.push(t.folded);
        keptAt.push(-1);
        continue;
      }
      keptAt.push(kept.length);
      for (const a of alts) for (const part of a.term.split(' ')) matcher.terms.add(part);
      groups.push(alts);
      bound.push(false);
      chained.push(false);
      kept.push(t);
      primary.push(alts[0].term);
      if (t.marked) {
        boosts.push({ term: '=' + t.exact, factor: EXACT_BOOST });
        matcher.exact!.add(t.exact);
        if (iyKnown) {
          const other = iyVariant(t.exact, true)!;
          boosts.push({ term: '=' + other, factor: EXACT_BOOST });
          matcher.exact!.add(other);
        }
      }
      // The text index has no prefix index: only the few most frequent expansions go there.
      // (A split word is its pair token there: `h_mong`.)
      ftsGroups.push(alts.slice(0, 6).map((a) => a.term.replace(' ', '_')));
    }
    // The name of a people of the province typed without a word beside it that it stands next to in some
    // record (`Dao` alone, `video Dao`): its folded form is also a common word (đạo of "lãnh đạo", đào of "đào
    // tạo", tay, hoá…), so the records naming the people — "người Dao", "dân tộc Dao" — earn a pair's boost
    // and come first; beside a word it stands with (`lãnh đạo`, `đào tạo`, `cầm tay`) the pair decides.
    for (const [i, t] of parsed.terms.entries()) {
      // (Typed with marks, only as the people's name is spelt: `đảo` is an island, not the Dao.)
      const spelt = PEOPLE_NAMES.get(t.folded);
      if (t.quoted || spelt === undefined || (t.marked && t.exact !== spelt) || keptAt[i] === undefined || keptAt[i] < 0) continue;
      // A neighbour in the forms it is searched in: as typed, corrected, or completed while typed (`kinh doa`
      // is "kinh doanh").
      const forms = (j: number): string[] => {
        const g = keptAt[j] !== undefined && keptAt[j] >= 0 ? groups[keptAt[j]] : undefined;
        return g === undefined ? (parsed.terms[j] === undefined ? [] : [parsed.terms[j].folded]) : g.slice(0, 5).map((a) => a.term);
      };
      if (forms(i - 1).some((w) => pairHeld(lastSyllable(w), t.folded)) || forms(i + 1).some((w) => pairHeld(t.folded, firstSyllable(w)))) continue;
      for (const before of PEOPLE_CONTEXT) {
        const pair = `${before} ${t.folded}`;
        if (fields.df(pair) > 0) boosts.push({ term: pair, factor: PHRASE_BOOST });
      }
    }
    // Adjacent syllables standing together (Vietnamese words are mostly two syllables) earn a boost.
    const terms = kept;
    for (let i = 0; i + 1 < terms.length; i++) {
      if (bound[i + 1]) continue;
      const a = groups[i];
      const b = groups[i + 1];
      // Every alternative pair that actually occurs as a pair (prefix expansions included): `bao va` → `bao vat`.
      for (const x of a.slice(0, 3)) {
        for (const y of b) {
          const pair = `${lastSyllable(x.term)} ${firstSyllable(y.term)}`;
          if (fields.df(pair) > 0) boosts.push({ term: pair, factor: PHRASE_BOOST * x.factor * y.factor });
        }
      }
    }
    // Quoted phrases are required: each adjacent pair of the phrase must be present.
    const phraseFts: string[][] = [];
    let impossible = false;
    parsed.phrases.forEach((ph, p) => {
      const at = parsed.phraseAt[p];
      const gi = ph.map((_, k) => (at < 0 ? -1 : (keptAt[at + k] ?? -1)));
      if (gi.some((g) => g < 0)) {
        impossible = true;
        return;
      }
      // Each word in its spellings of full weight (a number with or without its leading zero, i or y: the
      // same word), at most two: `5/1/2023` is also "05/01/2023".
      const forms = gi.map((g) => {
        const same = groups[g].filter((a) => a.factor === 1 && !a.term.includes(' ')).slice(0, 2).map((a) => a.term);
        return same.length > 0 ? same : [groups[g][0].term];
      });
      for (let k = 0; k + 1 < forms.length; k++) {
        const pairs: string[] = [];
        for (const x of forms[k]) for (const y of forms[k + 1]) pairs.push(`${x} ${y}`);
        groups.push(pairs.map((term) => ({ term, factor: 0.5 / pairs.length })));
        phraseFts.push(pairs.map((x) => x.replace(' ', '_')));
      }
    });
    const hasTerms = ftsGroups.length > 0;
    const ftsAnd = hasTerms ? [...ftsGroups, ...phraseFts] : null;
    const ftsOr = hasTerms ? [ftsGroups.flat()] : null;
    // Text adjacency: every consecutive pair present (≈ the phrase), or at least one pair.
    // (Next to an expanded word, either of its forms: `UBND tỉnh` → ubnd_tinh or dan_tinh. The pairs of
    // such a word are required already; they count towards the phrase too.)
    const pairs: string[][] = [];
    const sides = (g: number): string[] => (chained[g] ? groups[g].map((a) => a.term) : [primary[g]]);
    for (let i = 0; i + 1 < primary.length; i++) {
      if (bound[i + 1]) continue;
      const alts: string[] = [];
      for (const x of sides(i)) for (const y of sides(i + 1)) alts.push(`${lastSyllable(x)}_${firstSyllable(y)}`);
      pairs.push(alts);
    }
    // One word typed (`HĐND`, `hochiminh`): its own syllables standing together are no phrase of the
    // query's words, so a file's text holding it earns no phrase bonus — as for any single word (before, a
    // text merely holding "HĐND" scored 6 and ranked above the record titled "Nghị quyết của Hội đồng nhân
    // dân tỉnh…", 4.9).
    const phraseGroups = parsed.terms.length >= 2 ? [...pairs, ...ftsGroups.filter((_, g) => chained[g])] : pairs;
    const ftsPhrase = phraseGroups.length > 0 ? phraseGroups : null;
    const ftsNear = pairs.length > 1 ? [pairs.flat()] : null;
    // Syllables typed with marks and never without (`năm 1930`, not `Việt Nam năm`): snippets prefer the spelling typed.
    for (const t of parsed.terms) if (t.marked) (matcher.strict ??= new Set()).add(t.folded);
    if (matcher.strict !== undefined) for (const t of parsed.terms) if (!t.marked) matcher.strict.delete(t.folded);
    return { parsed, groups, boosts, ftsAnd, ftsOr, ftsPhrase, ftsNear, matcher, corrections, ignored: dropped, expansions, optional, nTerms: kept.length, impossible };
  }

  /**
   * Blob ids holding one FTS token, ascending. Every text query asks about a handful of tokens, and
   * with few thousand distinct syllables the same tokens come back in most queries; FTS5 itself
   * answers a token held by 1,000 files in ~0.1 ms, most of it handing the rows to JS, so the lists
   * are kept (LRU, bounded by their total size: 16 MB, a bitset for a token held by many files) and
   * dropped whenever the text index changes.
   */
  /** One token's files: ascending ids, or a bitset over blob ids when that is smaller (common syllables). */
  interface TokenBlobs {
    ids: Int32Array | null;
    bits: Uint32Array | null;
    bytes: number;
  }
  const tokenBlobs = new Map<string, TokenBlobs>();
  let tokenBlobsBytes = 0;
  const TOKEN_BLOBS_MAX_BYTES = 16 * 2 ** 20;
  function clearTokenBlobs(): void {
    tokenBlobs.clear();
    tokenBlobsBytes = 0;
    pageLists.clear();
    pageListsBytes = 0;
  }

  /**
   * The pages of a file holding a folded syllable (ascending), or null when none does. Page passages
   * ask for the same files and syllables query after query (the long texts that match common words),
   * and each answer is a primary-key read of the page map; they are kept in an LRU bounded at 8 MB and
   * dropped with the token lists whenever the text index changes.
   */
  const pageLists = new Map<string, Uint16Array | null>();
  let pageListsBytes = 0;
  const PAGE_LISTS_MAX_BYTES = 8 * 2 ** 20;
  function pagesOf(blobId: number, term: string): Uint16Array | null {
    const key = `${blobId} ${term}`;
    let e = pageLists.get(key);
    if (e !== undefined) {
      pageLists.delete(key);
      pageLists.set(key, e);
      return e;
    }
    const buf = st.pageTerm.get(blobId, term) as Buffer | undefined;
    // A copy of its own: a view would keep the driver's whole buffer alive.
    e = buf === undefined ? null : new Uint16Array(viewOf(buf, Uint16Array));
    const bytes = 64 + key.length * 2 + (e === null ? 0 : e.byteLength);
    while (pageListsBytes + bytes > PAGE_LISTS_MAX_BYTES && pageLists.size > 0) {
      const [k, v] = pageLists.entries().next().value!;
      pageLists.delete(k);
      pageListsBytes -= 64 + k.length * 2 + (v === null ? 0 : v.byteLength);
    }
    pageLists.set(key, e);
    pageListsBytes += bytes;
    return e;
  }
  function blobsOf(token: string): TokenBlobs {
    let e = tokenBlobs.get(token);
    if (e !== undefined) {
      tokenBlobs.delete(token);
      tokenBlobs.set(token, e);
      return e;
    }
    const rows = st.matchBlobIds.all(ftsQuote(token)) as number[];
    let max = 0;
    let min = 0;
    for (const b of rows) {
      if (b > max) max = b;
      if (b < min) min = b;
    }
    const words = Math.floor(max / 32) + 1;
    if (rows.length > 0 && min >= 0 && words < rows.length) {
      const bits = new Uint32Array(words);
      for (const b of rows) if (b >= 0) bits[b >>> 5] |= 1 << (b & 31);
      e = { ids: null, bits, bytes: words * 4 };
    } else {
      const a = Int32Array.from(rows);
      // FTS5 returns rowids in ascending order; keep the lists sorted whatever it does.
      for (let i = 1; i < a.length; i++) if (a[i] < a[i - 1]) {
        a.sort();
        break;
      }
      e = { ids: a, bits: null, bytes: a.length * 4 };
    }
    while (tokenBlobsBytes + e.bytes > TOKEN_BLOBS_MAX_BYTES && tokenBlobs.size > 0) {
      const [k, v] = tokenBlobs.entries().next().value!;
      tokenBlobs.delete(k);
      tokenBlobsBytes -= v.bytes;
    }
    tokenBlobs.set(token, e);
    tokenBlobsBytes += e.bytes;
    return e;
  }

  let exprCount = new Int32Array(0);
  /** Blob ids (ascending) matching every group of `expr` (a group: any of its tokens). */
  function evalText(expr: TextExpr): Int32Array {
    if (expr.length === 0) return new Int32Array(0);
    let maxId = 0;
    for (const b of blobInfo.keys()) if (b > maxId) maxId = b;
    if (exprCount.length <= maxId) exprCount = new Int32Array(maxId + 1);
    const count = exprCount;
    const cand: number[] = [];
    for (let g = 0; g < expr.length; g++) {
      for (const tok of expr[g]) {
        const e = blobsOf(tok);
        if (e.bits !== null) {
          const bits = e.bits;
          for (let w = 0; w < bits.length; w++) {
            for (let x = bits[w]; x !== 0; x &= x - 1) {
              const b = (w << 5) + 31 - Math.clz32(x & -x);
              if (b > maxId || count[b] !== g) continue;
              if (g === 0) cand.push(b);
              count[b] = g + 1;
            }
          }
        } else {
          const list = e.ids!;
          for (let i = 0; i < list.length; i++) {
            const b = list[i];
            if (b > maxId || count[b] !== g) continue;
            if (g === 0) cand.push(b);
            count[b] = g + 1;
          }
        }
      }
    }
    const ng = expr.length;
    let n = 0;
    for (const b of cand) if (count[b] === ng) n++;
    const out = new Int32Array(n);
    n = 0;
    for (const b of cand) {
      if (count[b] === ng) out[n++] = b;
      count[b] = 0;
    }
    if (expr[0].length > 1) out.sort();
    return out;
  }

  /** Full-text matches: product → score, and product → best blob. */
  function idSet(expr: TextExpr | null): Uint8Array | null {
    if (expr === null) return null;
    try {
      const ids = evalText(expr);
      const flags = new Uint8Array(ids.length > 0 ? ids[ids.length - 1] + 1 : 0);
      for (let i = 0; i < ids.length; i++) flags[ids[i]] = 1;
      return flags;
    } catch {
      return null;
    }
  }

  /**
   * Text matches of the current query: products in first-seen order, with their best text score and
   * the file it came from, in typed arrays indexed by product id (scratch reused by every query,
   * cleared by `textMatches`); `has[pid]` is 1 for a text match.
   */
  interface TextHits {
    n: number;
    pids: Int32Array;
    score: Float64Array;
    blob: Int32Array;
    has: Uint8Array;
  }
  const th: TextHits = { n: 0, pids: new Int32Array(0), score: new Float64Array(0), blob: new Int32Array(0), has: new Uint8Array(0) };
  function growTextHits(pid: number): void {
    const cap = Math.max(pid + 1, th.has.length * 2, 1024);
    th.pids = grownTo(th.pids, cap);
    th.score = grownTo(th.score, cap);
    th.blob = grownTo(th.blob, cap);
    th.has = grownTo(th.has, cap);
  }
  const textBlobOf = (pid: number): number | undefined => (pid < th.has.length && th.has[pid] !== 0 ? th.blob[pid] : undefined);
  /** Whether the product's text hit is this file and holds every adjacent pair of the query (its phrase bonus). */
  const textPhrase = (pid: number, blobId: number): boolean => textBlobOf(pid) === blobId && th.score[pid] >= TEXT_PHRASE_BONUS;
  /** Pages a response may read beyond the first candidates of each text hit, looking for a phrase (snippetsFor). */
  const EXTRA_PAGE_BUDGET = 24;
  let extraPages = EXTRA_PAGE_BUDGET;

  function textMatches(expr: TextExpr | null, phrase: TextExpr | null, near: TextExpr | null): TextHits {
    for (let i = 0; i < th.n; i++) th.has[th.pids[i]] = 0;
    th.n = 0;
    if (expr === null || blobInfo.size === 0) return th;
    // bm25() over this detail=none table is always 0: FTS5 keeps no instance data, so bm25 sees a
    // frequency of 0 for every phrase (checked on the 100k bench data: 557,355 matching rows, none
    // non-zero). Calling it cost ~0.8 ms per query (1,000 matching files) for nothing; the text score
    // is its bonuses below. `bm` stays in the formula so the scores are the same numbers (-0 included).
    let rows: Int32Array;
    try {
      rows = evalText(expr);
    } catch (e) {
      log.warn({ err: e, expr }, 'search: text query refused');
      return th;
    }
    const bm = 0;
    const phraseSet = rows.length > 0 ? idSet(phrase) : null;
    const nearSet = rows.length > 0 ? idSet(near) : null;
    for (const id of rows) {
      // Syllables scattered over a long text are weak evidence; together (NEAR) or as a phrase, strong.
      let s = -bm * TEXT_WEIGHT;
      if (phraseSet !== null && phraseSet[id] === 1) s += TEXT_PHRASE_BONUS;
      else if (nearSet !== null && nearSet[id] === 1) s += TEXT_NEAR_BONUS;
      else if (phrase !== null) s *= TEXT_SCATTERED;
      const holders = blobProducts.get(id);
      if (holders === undefined) continue;
      for (const pid of holders) {
        if (pid >= th.has.length) growTextHits(pid);
        if (th.has[pid] === 0) {
          th.has[pid] = 1;
          th.pids[th.n++] = pid;
          th.score[pid] = s;
          th.blob[pid] = id;
        } else if (s > th.score[pid]) {
          th.score[pid] = s;
          th.blob[pid] = id;
        }
      }
    }
    return th;
  }

  function parseList(s: string | undefined): string[] {
    if (s === undefined || s === null) return [];
    return String(s)
      .split(',')
      .map((x) => x.trim())
      .filter((x) => x.length > 0)
      .slice(0, 50);
  }

  interface Candidate {
    id: number;
    score: number;
  }

  /** Rank, filter and facet. Shared by search() and title suggestions. */
  /** Optional phase timings (deps.profile), for the benchmark's breakdown. */
  const phases = new Map<string, number>();
  let lastMark = 0;
  const prof = {
    start: () => {
      if (deps.profile) lastMark = performance.now();
    },
    mark: (name: string) => {
      if (!deps.profile) return;
      const now = performance.now();
      phases.set(name, (phases.get(name) ?? 0) + now - lastMark);
      lastMark = now;
    },
  };

  /**
   * matchQuery's field matches with the text-only matches appended, when there are some: scratch reused
   * by every query (valid for its first `n` entries until the next match, like the field index's).
   */
  let mergedIds = new Int32Array(0);
  let mergedScores = new Float64Array(0);

  /** Whether a field or text match of the query is a record `sees` accepts. */
  function anyMatchSeen(fm: FieldMatch, text: TextHits, sees: (id: number) => boolean): boolean {
    for (let i = 0; i < fm.n; i++) if (sees(fm.ids[i])) return true;
    for (let k = 0; k < text.n; k++) if (sees(text.pids[k])) return true;
    return false;
  }

  /**
   * Match one query (one alternative of an OR): the field and text matches merged, with the fall-backs
   * (a plan without records the viewer may not see, a pasted passage's edge words, `or`). The text hits
   * are left in `th`.
   */
  function matchQuery(parsed: ParsedQuery, sees: ((d: number) => boolean) | null): { qp: QueryPlan; mode: 'and' | 'or'; ids: Int32Array; scores: Float64Array; n: number } {
    let qp = plan(parsed, sees);
    let mode: 'and' | 'or' = 'and';
    let ids: Int32Array;
    let scores: Float64Array;
    let n: number;
    let text = textMatches(null, null, null);
    if (parsed.terms.length > 0 && (qp.nTerms === 0 || qp.impossible)) {
      // Something was typed and none of it can match: no hits (not the browsing list of an empty q).
      return { qp, mode, ids: new Int32Array(0), scores: new Float64Array(0), n: 0 };
    }
    prof.mark('plan');
    let fm = fields.match(qp.groups, qp.boosts, 'and');
    prof.mark('fields');
    text = textMatches(qp.ftsAnd, qp.ftsPhrase, qp.ftsNear);
    prof.mark('text');
    let none = fm.n === 0 && text.n === 0;
    // Only records the viewer may not see match, or none at all (the first visible match ends the
    // look): plan again without them, so that they decide neither which syllables are known nor the
    // fall-back to `or`. (With no match at all, a syllable only hidden records hold would otherwise
    // stay required and turn the answer into `or`, where an unknown word is left out.)
    let strictPlan = false;
    if (sees !== null && !anyMatchSeen(fm, text, sees)) {
      strictPlan = true;
      qp = plan(parsed, sees, true);
      const any = qp.nTerms > 0 && !qp.impossible;
      fm = any ? fields.match(qp.groups, qp.boosts, 'and') : { ids: new Int32Array(0), scores: new Float64Array(0), n: 0 };
      text = textMatches(any ? qp.ftsAnd : null, qp.ftsPhrase, qp.ftsNear);
      none = !anyMatchSeen(fm, text, sees);
    }
    // A long query (a passage pasted, perhaps with a piece of a word at either end) that matched nothing:
    // again with its first and last words not required, before any half of its syllables will do.
    // (When this finds nothing either, `or` below matches again: the scratch arrays are not read.)
    // The last word alone first (a passage copied up to the middle of a word), then the first, then both.
    const nq = parsed.terms.length;
    if (none && qp.groups.length >= 2 && parsed.phrases.length === 0 && nq >= PASTED_MIN_TERMS) {
      for (const edges of [[nq - 1], [0], [0, nq - 1]]) {
        const lq = plan(parsed, sees, strictPlan, edges);
        if (lq.nTerms === 0 || lq.impossible || lq.optional.length === 0) continue;
        const lfm = fields.match(lq.groups, lq.boosts, 'and');
        const ltext = textMatches(lq.ftsAnd, lq.ftsPhrase, lq.ftsNear);
        if (sees === null ? lfm.n > 0 || ltext.n > 0 : anyMatchSeen(lfm, ltext, sees)) {
          qp = lq;
          fm = lfm;
          text = ltext;
          none = false;
          break;
        }
      }
    }
    // Quoted phrases are required: a query holding one does not fall back to any half of its syllables.
    if (none && qp.groups.length >= 2 && parsed.phrases.length === 0) {
      mode = 'or';
      const k = qp.nTerms;
      fm = fields.match(qp.groups.slice(0, k), qp.boosts, 'or', Math.max(1, Math.ceil(k / 2)));
      text = textMatches(qp.ftsOr, null, null);
    }
    ids = fm.ids;
    scores = fm.scores;
    n = fm.n;
    if (text.n > 0) {
      // Text scores are read from the per-product arrays; `has` marks the merged ones with 2.
      const { pids, score: tS, has } = text;
      for (let i = 0; i < n; i++) {
        const d = ids[i];
        if (d < has.length && has[d] !== 0) {
          scores[i] += tS[d];
          has[d] = 2;
        }
      }
      const extra: number[] = [];
      for (let k = 0; k < text.n; k++) {
        const pid = pids[k];
        if (has[pid] !== 2 && attrs[pid] !== undefined) extra.push(pid);
        has[pid] = 1;
      }
      if (extra.length > 0) {
        // Into scratch kept for the next queries (as the field index's own): fresh arrays of the
        // matches' size each time cost more than the copy (memory touched for the first time).
        const total = n + extra.length;
        if (mergedIds.length < total) {
          const cap = Math.max(total, mergedIds.length * 2);
          mergedIds = new Int32Array(cap);
          mergedScores = new Float64Array(cap);
        }
        mergedIds.set(ids.subarray(0, n));
        mergedScores.set(scores.subarray(0, n));
        for (let k = 0; k < extra.length; k++) {
          mergedIds[n + k] = extra[k];
          mergedScores[n + k] = tS[extra[k]];
        }
        ids = mergedIds;
        scores = mergedScores;
        n = total;
      }
    }
    return { qp, mode, ids, scores, n };
  }

  /** `a OR b`: the union of the alternatives' matches (see run). */
  function matchBranches(parsed: ParsedQuery, branches: ParsedQuery[], sees: ((d: number) => boolean) | null) {
    const plans: QueryPlan[] = [];
    const total = new Map<number, number>();
    const best = new Map<number, [number, number]>();
    const textHit = new Map<number, [number, number]>();
    let mode: 'and' | 'or' = 'and';
    // An alternative's own exclusions (`(a -b) OR c`), flagged before the matching (scratch of the field index).
    const own = branches.map((bp) => excludedSet(bp.excluded));
    // Each alternative's matches and text hits, copied out of the scratch arrays the next one reuses.
    const matched = branches.map((bp, b) => {
      const m = matchQuery(bp, sees);
      plans.push(m.qp);
      const out = own[b];
      const hits: Array<[number, number]> = [];
      for (let i = 0; i < m.n; i++) if (out === null || out[m.ids[i]] !== 1) hits.push([m.ids[i], m.scores[i]]);
      const texts: Array<[number, number, number]> = [];
      for (let k = 0; k < th.n; k++) {
        const pid = th.pids[k];
        if (out === null || out[pid] !== 1) texts.push([pid, th.blob[pid], th.score[pid]]);
      }
      return { mode: m.mode, hits, texts };
    });
    // An alternative that nothing matches as a whole adds nothing when another does: its fall-back to `or`
    // (records holding half of its words) is no answer to `(giốc OR bó) (cao OR đồ)` when "giốc đồ" is held
    // nowhere. Only when every alternative fell back is the answer the union of their fall-backs.
    const anyAnd = matched.some((m) => m.mode === 'and' && m.hits.length > 0);
    matched.forEach((m, b) => {
      if (anyAnd && m.mode === 'or') return;
      if (m.mode === 'or') mode = 'or';
      for (const [d, sc] of m.hits) {
        total.set(d, (total.get(d) ?? 0) + sc);
        const old = best.get(d);
        if (old === undefined || sc > old[1]) best.set(d, [b, sc]);
      }
      for (const [pid, blob, sc] of m.texts) {
        const old = textHit.get(pid);
        if (old === undefined || sc > old[1]) textHit.set(pid, [blob, sc]);
      }
    });
    // The merged text hits, where snippets and page look-ups read them.
    textMatches(null, null, null);
    for (const [pid, [blob, sc]] of textHit) {
      if (pid >= th.has.length) growTextHits(pid);
      th.has[pid] = 1;
      th.pids[th.n++] = pid;
      th.score[pid] = sc;
      th.blob[pid] = blob;
    }
    const ids = new Int32Array(total.size);
    const scores = new Float64Array(total.size);
    let n = 0;
    for (const [d, sc] of total) {
      ids[n] = d;
      scores[n++] = sc;
    }
    const branchOf = new Map<number, number>();
    for (const [d, [b]] of best) branchOf.set(d, b);
    // What the answer reports: every alternative's corrections, left-out words, expansions and optional words.
    const uniq = <T>(xs: T[], key: (x: T) => string): T[] => {
      const seen = new Set<string>();
      return xs.filter((x) => !seen.has(key(x)) && (seen.add(key(x)), true));
    };
    const qp: QueryPlan = {
      ...plans[0],
      parsed,
      nTerms: plans.reduce((s, p) => s + p.nTerms, 0),
      corrections: uniq(plans.flatMap((p) => p.corrections), (c) => `${c.from}>${c.to}`),
      ignored: uniq([...parsed.tooLong, ...plans.flatMap((p) => p.ignored)], (x) => x),
      expansions: uniq(plans.flatMap((p) => p.expansions), (e) => `${e.from}>${e.to}`),
      optional: uniq(plans.flatMap((p) => p.optional), (x) => x),
    };
    return { qp, mode, ids, scores, n, branchOf, plans };
  }

  /**
   * Records holding any of the excluded words or phrases, in their fields or a file's text: a word in
   * any spelling folded alike (and its other i/y or leading-zero spelling, as a search takes it), a
   * phrase as its chain of adjacent pairs (as a quoted phrase is matched); an excluded group (`-(a b)`)
   * where a record holds every word of one of its alternatives and none of that alternative's own
   * exclusions. Null when nothing is excluded.
   */
  function excludedSet(excluded: readonly Excluded[]): Uint8Array | null {
    if (excluded.length === 0) return null;
    const flags = new Uint8Array(attrs.length);
    for (const ex of excluded) {
      if (Array.isArray(ex)) {
        holdersInto(ex, flags);
        continue;
      }
      for (const alt of ex.any) {
        // Every word of the alternative (an intersection), then none of its exclusions.
        let acc: Uint8Array | null = null;
        for (const words of alt.all) {
          const h = holdersInto(words, new Uint8Array(attrs.length));
          if (acc === null) acc = h;
          else for (let d = 0; d < acc.length; d++) acc[d] &= h[d];
        }
        if (acc === null) continue;
        const not = excludedSet(alt.none);
        for (let d = 0; d < acc.length; d++) if (acc[d] === 1 && (not === null || not[d] !== 1)) flags[d] = 1;
      }
    }
    return flags;
  }

  /** Flags (in `flags`) the records holding one word or phrase (folded tokens), as an exclusion reads it. */
  function holdersInto(words: string[], flags: Uint8Array): Uint8Array {
    let groups: string[][];
    if (words.length === 1) {
      const other = otherSpelling(words[0]);
      groups = [other === null ? [words[0]] : [words[0], other]];
    } else groups = words.slice(1).map((b, k) => [`${words[k]} ${b}`]);
    const fm = fields.match(groups.map((g) => g.map((term) => ({ term, factor: 1 }))), [], 'and');
    for (let i = 0; i < fm.n; i++) if (fm.ids[i] < flags.length) flags[fm.ids[i]] = 1;
    if (blobInfo.size === 0) return flags;
    let blobs: Int32Array;
    try {
      blobs = evalText(groups.map((g) => g.map((t) => t.replace(' ', '_'))));
    } catch {
      return flags;
    }
    for (const b of blobs) {
      const holders = blobProducts.get(b);
      if (holders !== undefined) for (const pid of holders) if (pid < flags.length) flags[pid] = 1;
    }
    return flags;
  }

  let keptIdsScratch = new Int32Array(0);
  let keptScoresScratch = new Float64Array(0);

  /**
   * `forSuggest`: the query is being typed into the suggestion box, where a number typed so far completes
   * too (`Kỷ niệm 9` → 95). A search takes a number as typed: `199` is not 1990, `2/9` not 2/95.
   */
  function run(params: SearchParams, viewer: Principal | null, withFacets: boolean, forSuggest = false) {
    prof.start();
    const ft = facetTable;
    const { agency: agArr, year: yArr, langs: lArr, packed } = ft;
    // Visibility through the one rule (canSee), tabulated per (state, access) for the viewer's own
    // agency and for any other agency.
    const nA = ft.accesses.size;
    const visOther = new Uint8Array(ft.states.size * nA);
    const visOwn = new Uint8Array(ft.states.size * nA);
    const ownAgency = viewer?.agencyId ?? null;
    let seesAll = true;
    for (let si = 0; si < ft.states.size; si++) {
      for (let ai = 0; ai < nA; ai++) {
        const rec = { state: ft.states.names[si], access: ft.accesses.names[ai] };
        visOther[si * nA + ai] = canSee(viewer, { ...rec, agencyId: null }) ? 1 : 0;
        visOwn[si * nA + ai] = ownAgency !== null && canSee(viewer, { ...rec, agencyId: ownAgency }) ? 1 : 0;
        if (visOther[si * nA + ai] !== 1) seesAll = false;
      }
    }
    const sees = seesAll
      ? null
      : (d: number): boolean => {
          if (d >= packed.length) return false;
          const pk = packed[d];
          if (pk >>> 24 !== 1) return false;
          const k = ((pk >>> 8) & 0xff) * nA + ((pk >>> 16) & 0xff);
          return (ownAgency !== null && agArr[d] === ownAgency ? visOwn[k] : visOther[k]) === 1;
        };
    const parsed = parseQuery(params.q ?? '', true, (t) => vocab.has(t) && termSeen(t, sees ?? exists));
    const last = parsed.terms[parsed.terms.length - 1];
    if (!forSuggest && last !== undefined && last.prefix && /^\d+$/.test(last.folded)) last.prefix = false;
    // Records holding an excluded word or phrase (`-word`, `-"a phrase"`, `NOT word`), flagged before the
    // matching (whose arrays are scratch of the field index).
    const excl = excludedSet(parsed.excluded);
    const branches = parsed.branches ?? [parsed];
    let qp: QueryPlan;
    let mode: 'and' | 'or' | 'all' = 'all';
    let ids: Int32Array;
    let scores: Float64Array;
    let n: number;
    let text = textMatches(null, null, null);
    /** For a query with OR: the alternative (index into `plans`) whose match gave each record its score. */
    let branchOf: Map<number, number> | null = null;
    let plans: QueryPlan[] | null = null;
    if (parsed.unsearchable || (parsed.terms.length === 0 && parsed.tooLong.length > 0 && parsed.excluded.length === 0)) {
      // Something was typed and none of it can match — characters none of which can be searched (`%00%01`,
      // `-`, `***`: `unsearchable`), or only over-long tokens: no hits, not the browsing list of an empty q.
      qp = plan(parsed, sees);
      mode = 'and';
      ids = new Int32Array(0);
      scores = new Float64Array(0);
      n = 0;
    } else if (parsed.terms.length === 0) {
      // Nothing to search for (an empty q, or only exclusions): every record, newest first.
      qp = plan(parsed, sees);
      const all: number[] = [];
      for (let i = 0; i < attrs.length; i++) if (attrs[i] !== undefined) all.push(i);
      ids = Int32Array.from(all);
      scores = new Float64Array(all.length);
      n = all.length;
    } else if (branches.length === 1) {
      const m = matchQuery(parsed, sees);
      ({ qp, mode, ids, scores, n } = m);
      text = th;
    } else {
      // `a OR b`: each alternative is matched as a query of its own; a record matching several scores their
      // sum, its snippets come from the alternative that scored it best, and the text hits are merged.
      ({ qp, mode, ids, scores, n, branchOf, plans } = matchBranches(parsed, branches, sees));
      text = th;
    }

    prof.mark('merge');
    // `tiếng Dao`, `tiếng Tày`: the language named first. Its records hold only its name (`dao`, also the
    // folded "đạo" of "lãnh đạo"), as a language label of weight 1, so they ranked among every record
    // holding the syllable; they now come before them (their own order kept), other records after.
    const named = mode === 'all' ? [] : languagesNamed(parsed.terms);
    if (named.length > 0 && n > 0) {
      const sel = ft.langSelection(named);
      if (sel.mask !== 0 || sel.more.size > 0) {
        let top = 0;
        for (let i = 0; i < n; i++) if (scores[i] > top) top = scores[i];
        for (let i = 0; i < n; i++) if (ids[i] < lArr.length && ft.hasLang(ids[i], lArr[ids[i]], sel)) scores[i] += top;
      }
    }
    // Filters, as code tables over the typed attribute arrays.
    const typeList = parseList(params.type);
    const typeSel = new Uint8Array(256);
    for (const t of typeList) {
      const c = ft.types.find(t);
      if (c !== undefined) typeSel[c] = 1;
    }
    const typeAll = typeList.length === 0;
    const agencyParam = parseList(params.agency);
    const agencySel = new Set<number>();
    for (const a of agencyParam) {
      const byCode = agencyByCode.get(a.toLowerCase());
      if (byCode !== undefined) agencySel.add(byCode);
      else if (/^\d+$/.test(a)) agencySel.add(Number(a));
    }
    const agencyAll = agencyParam.length === 0;
    const langList = parseList(params.language);
    const langSel = ft.langSelection(langList);
    const langAll = langList.length === 0;
    const stateList = parseList(params.state);
    const stateSel = new Uint8Array(256);
    for (const x of stateList) {
      const c = ft.states.find(x);
      if (c !== undefined) stateSel[c] = 1;
    }
    const stateAll = stateList.length === 0;
    const year = params.year ?? null;
    const yFrom = params.yearFrom ?? null;
    const yTo = params.yearTo ?? null;
    const yearAll = year === null && yFrom === null && yTo === null;
    const yLo = Math.max(year ?? -Infinity, yFrom ?? -Infinity);
    const yHi = Math.min(year ?? Infinity, yTo ?? Infinity);
    // The year facet ignores `year` (its own filter) but keeps the range: a year outside it would
    // offer a count that choosing it (`year` within the range) never gives.
    const rangeAll = yFrom === null && yTo === null;
    const rLo = yFrom ?? -Infinity;
    const rHi = yTo ?? Infinity;

    let maxAgencyId = 0;
    for (const id of agencies.keys()) if (id > maxAgencyId) maxAgencyId = id;
    if (maxAgencyId > 1_000_000) maxAgencyId = 1_000_000;
    const cType = new Int32Array(256);
    const cLang = new Int32Array(ft.languages.size);
    const cAgency = new Int32Array(maxAgencyId + 1);
    const cYear = new Int32Array(10_000);
    // The agency filter as a table by agency id (a set lookup per match cost more than the rest of the loop).
    const agencyOk = new Uint8Array(agencyAll ? 0 : maxAgencyId + 1);
    for (const a of agencySel) if (a >= 0 && a <= maxAgencyId) agencyOk[a] = 1;
    if (keptIdsScratch.length < n) {
      keptIdsScratch = new Int32Array(Math.max(n, keptIdsScratch.length * 2));
      keptScoresScratch = new Float64Array(keptIdsScratch.length);
    }
    // Scratch reused by every query (read by `order` before the next query runs).
    const keptIds = keptIdsScratch;
    const keptScores = keptScoresScratch;
    let nk = 0;
    if (withFacets && typeAll && agencyAll && yearAll && langAll) {
      // No filter but visibility (and state): the loop below with every `ok…` true, written out so the
      // per-match work is only the counting (the usual case: a query without filters).
      for (let i = 0; i < n; i++) {
        const d = ids[i];
        if (d >= packed.length) continue;
        if (excl !== null && excl[d] === 1) continue;
        const pk = packed[d];
        if (pk >>> 24 !== 1) continue;
        const sc = (pk >>> 8) & 0xff;
        const k = sc * nA + ((pk >>> 16) & 0xff);
        const ag = agArr[d];
        if ((ownAgency !== null && ag === ownAgency ? visOwn[k] : visOther[k]) !== 1) continue;
        if (!stateAll && stateSel[sc] !== 1) continue;
        cType[pk & 0xff]++;
        if (ag >= 0 && ag <= maxAgencyId) cAgency[ag]++;
        const y = yArr[d];
        if (y > 0 && y < 10_000) cYear[y]++;
        ft.countLangs(d, lArr[d], cLang);
        keptIds[nk] = d;
        keptScores[nk] = scores[i];
        nk++;
      }
    } else for (let i = 0; i < n; i++) {
      const d = ids[i];
      if (d >= packed.length) continue;
      if (excl !== null && excl[d] === 1) continue;
      const pk = packed[d];
      if (pk >>> 24 !== 1) continue;
      const sc = (pk >>> 8) & 0xff;
      const tc = pk & 0xff;
      const k = sc * nA + ((pk >>> 16) & 0xff);
      const ag = agArr[d];
      if ((ownAgency !== null && ag === ownAgency ? visOwn[k] : visOther[k]) !== 1) continue;
      if (!stateAll && stateSel[sc] !== 1) continue;
      const okType = typeAll || typeSel[tc] === 1;
      const okAgency = agencyAll || (ag >= 0 && ag <= maxAgencyId ? agencyOk[ag] === 1 : agencySel.has(ag));
      const y = yArr[d];
      const okYear = yearAll || (y !== 0 && y >= yLo && y <= yHi);
      const lm = lArr[d];
      const okLang = langAll || ft.hasLang(d, lm, langSel);
      if (withFacets) {
        if (okAgency && okYear && okLang) cType[tc]++;
        if (okType && okYear && okLang && ag >= 0 && ag <= maxAgencyId) cAgency[ag]++;
        if (okType && okAgency && okLang && y > 0 && y < 10_000 && (rangeAll || (y >= rLo && y <= rHi))) cYear[y]++;
        if (okType && okAgency && okYear && lm !== 0) {
          ft.countLangs(d, lm, cLang);
        }
      }
      if (okType && okAgency && okYear && okLang) {
        keptIds[nk] = d;
        keptScores[nk] = scores[i];
        nk++;
      }
    }
    const kept = { ids: keptIds, scores: keptScores, n: nk };
    const fType: Record<string, number> = {};
    const fAgency: Record<string, number> = {};
    const fYear: Record<string, number> = {};
    const fLang: Record<string, number> = {};
    if (withFacets) {
      for (let c = 1; c < ft.types.size; c++) if (cType[c] > 0) fType[ft.types.names[c]] = cType[c];
      const agList: Array<[number, number]> = [];
      for (let ag = 0; ag <= maxAgencyId; ag++) if (cAgency[ag] > 0) agList.push([ag, cAgency[ag]]);
      for (const [ag, cnt] of agList.sort((a, b) => b[1] - a[1])) fAgency[agencies.get(ag)?.code ?? String(ag)] = cnt;
      for (let y = 9999; y > 0; y--) if (cYear[y] > 0) fYear[String(y)] = cYear[y];
      for (let c = 1; c < ft.languages.size; c++) if (cLang[c] > 0) fLang[ft.languages.names[c]] = cLang[c];
    }
    prof.mark('facets');
    return { parsed, qp, mode, kept, text, branchOf, plans, facets: { type: fType, agency: fAgency, year: fYear, language: fLang } };
  }

  function order(kept: { ids: Int32Array; scores: Float64Array; n: number }, sort: string, need: number): Candidate[] {
    const { ids, scores, n } = kept;
    if (sort === 'relevance') {
      // Top `need` by score with a bounded selection over the typed arrays (no per-match objects).
      const k = Math.min(need, n);
      const heapIdx: number[] = [];
      const worse = (a: number, b: number) => scores[a] < scores[b] || (scores[a] === scores[b] && ids[a] > ids[b]);
      const siftUp = (i: number) => {
        while (i > 0) {
          const p = (i - 1) >> 1;
          if (worse(heapIdx[i], heapIdx[p])) {
            [heapIdx[i], heapIdx[p]] = [heapIdx[p], heapIdx[i]];
            i = p;
          } else break;
        }
      };
      const siftDown = (i: number) => {
        for (;;) {
          const l = 2 * i + 1;
          const r = l + 1;
          let m = i;
          if (l < heapIdx.length && worse(heapIdx[l], heapIdx[m])) m = l;
          if (r < heapIdx.length && worse(heapIdx[r], heapIdx[m])) m = r;
          if (m === i) return;
          [heapIdx[i], heapIdx[m]] = [heapIdx[m], heapIdx[i]];
          i = m;
        }
      };
      let i = 0;
      for (; i < n && heapIdx.length < k; i++) {
        heapIdx.push(i);
        siftUp(heapIdx.length - 1);
      }
      if (k > 0) {
        // Most matches score below the worst kept one: one comparison each.
        let floor = scores[heapIdx[0]];
        for (; i < n; i++) {
          const s = scores[i];
          if (s < floor || (s === floor && !worse(heapIdx[0], i))) continue;
          heapIdx[0] = i;
          siftDown(0);
          floor = scores[heapIdx[0]];
        }
      }
      return heapIdx.map((i) => ({ id: ids[i], score: scores[i] })).sort((x, y) => y.score - x.score || x.id - y.id);
    }
    const items: Candidate[] = new Array(n);
    for (let i = 0; i < n; i++) items[i] = { id: ids[i], score: scores[i] };
    const byScore = (x: Candidate, y: Candidate) => y.score - x.score || x.id - y.id;
    const byDate = (x: Candidate, y: Candidate) => {
      const a = attrs[x.id]!.date;
      const b = attrs[y.id]!.date;
      return a < b ? 1 : a > b ? -1 : byScore(x, y);
    };
    const byTitle = (x: Candidate, y: Candidate) => {
      const a = titleKeyOf(attrs[x.id]!);
      const b = titleKeyOf(attrs[y.id]!);
      return a < b ? -1 : a > b ? 1 : byScore(x, y);
    };
    return topK(items, need, sort === 'date' ? byDate : byTitle);
  }

  /** Scratch of snippetsFor: per page (page numbers are 16-bit), the query groups it holds and the last group counted. */
  const pageGroups = new Uint8Array(65536);
  const pageStamp = new Int32Array(65536);
  let pageStampNext = 0;

  /**
   * Locating the page inside a long text costs an FTS range query (1–5 ms over 170,000 pages for
   * common syllables), so only the best MAX_PAGE_LOOKUPS text hits of a response get page passages;
   * the others show their catalogue-field passage.
   */
  function snippetsFor(id: number, qp: QueryPlan, blobId: number | undefined, rows?: Map<number, ProductTextRow>): Snippet[] {
    const out: Snippet[] = [];
    if (qp.parsed.terms.length === 0) return out;
    const want = qp.nTerms;
    const row = rows !== undefined ? rows.get(id) : (st.productText.get(id) as ProductTextRow | undefined);
    if (row !== undefined) {
      const candidates: Array<[Snippet['field'], string | null | (() => string)]> = [
        ['description', row.description],
        ['altTitle', row.alt_title],
        ['subjects', () => jsonArray(row.subjects).map(String).join('; ')],
        ['agency', row.agency],
        ['title', row.title],
      ];
      let best: { field: Snippet['field']; html: string; d: number } | null = null;
      const kept = qp.groups.slice(0, want);
      const wantSyllables = kept.some((g) => g[0].term.includes(' ')) ? Math.max(want, new Set(kept.flatMap((g) => g[0].term.split(' '))).size) : want;
      for (const [field, v] of candidates) {
        const value = typeof v === 'function' ? v() : v;
        if (!value) continue;
        const s = makeSnippet(value, qp.matcher, 30);
        // The field showing the most distinct query syllables wins, the first on a tie; one showing every
        // syllable of the groups' first forms ends the look (a word searched as syllables side by side, as
        // `KT-XH` → kinh tế - xã hội, is fewer groups than syllables: stopping at the number of groups
        // showed a description writing "kinh tế - xã hội" for `KT-XH 2023`, not the title holding 2023 too).
        if (s !== null && (best === null || s.distinct > best.d)) best = { field, html: s.html, d: s.distinct };
        if (best !== null && best.d >= wantSyllables) break;
      }
      if (best !== null) out.push({ text: best.html, field: best.field });
    }
    if (blobId !== undefined && qp.ftsAnd !== null) {
      const info = blobInfo.get(blobId);
      if (info !== undefined) {
        // Pages holding the most query syllables (any spelling alternative), from the page map: counted
        // per page in scratch arrays (a stamp per group so a page counts once per group), then the pages
        // holding `most` in page order (only those are read).
        const touchedPages: number[] = [];
        let most = 0;
        for (const g of qp.groups.slice(0, qp.nTerms)) {
          if (pageStampNext === 0x7fffffff) {
            pageStamp.fill(0);
            pageStampNext = 0;
          }
          const stamp = ++pageStampNext;
          for (const alt of g.slice(0, 4)) {
            const pages = pagesOf(blobId, lastSyllable(alt.term));
            if (pages === null) continue;
            for (let i = 0; i < pages.length; i++) {
              const page = pages[i];
              if (pageStamp[page] === stamp) continue;
              pageStamp[page] = stamp;
              if (pageGroups[page] === 0) touchedPages.push(page);
              if (++pageGroups[page] > most) most = pageGroups[page];
            }
          }
        }
        const sorted: number[] = [];
        for (const page of touchedPages) {
          if (pageGroups[page] === most) sorted.push(page);
          pageGroups[page] = 0;
        }
        sorted.sort((a, b) => a - b);
        const scored: Array<{ page: number; html: string; rank: number; together: boolean }> = [];
        const read = (page: number) => {
          const txt = st.pageText.get(info.sha, page) as string | undefined;
          if (txt === undefined) return;
          const s = makeSnippet(txt, qp.matcher, 36);
          if (s !== null) scored.push({ page, html: s.html, rank: s.score, together: s.together >= want });
        };
        // The first pages holding the most query syllables.
        let next = 0;
        for (; next < Math.min(4, sorted.length); next++) read(sorted[next]);
        // When the file holds the query's syllables side by side (its pairs are all in the text index) but
        // none of those pages does, look further among the pages holding them all, within a budget: a phrase
        // of common syllables is on a few of the many pages that hold each of them.
        if (want >= 2 && most === want && textPhrase(id, blobId) && !scored.some((c) => c.together)) {
          for (; next < sorted.length && extraPages > 0; next++, extraPages--) {
            read(sorted[next]);
            if (scored[scored.length - 1]?.together) break;
          }
        }
        scored.sort((a, b) => Number(b.together) - Number(a.together) || b.rank - a.rank || a.page - b.page);
        for (const c of scored.slice(0, 2)) {
          if (!info.paged) {
            out.push({ text: c.html, sha256: info.sha, field: 'text' });
            continue;
          }
          const unit = info.unit ?? 'page';
          const label = unit === 'page' ? (st.pageLabel.get(Math.trunc(c.page) - 1, info.sha) as unknown) : null;
          out.push({ text: c.html, page: c.page, ...(typeof label === 'string' && label ? { pageLabel: label } : {}), unit, sha256: info.sha, field: 'text' });
        }
      }
    }
    return out;
  }

  const productTextStmts = new Map<number, Database.Statement>();
  function productTexts(ids: number[]): Map<number, ProductTextRow> {
    let stmt = productTextStmts.get(ids.length);
    if (stmt === undefined) {
      stmt = sqlite.prepare(
        `SELECT id, title, alt_title, description, subjects, agency_id FROM products WHERE id IN (${ids.map(() => '?').join(',')})`,
      ).raw(true);
      productTextStmts.set(ids.length, stmt);
    }
    // The agency's name from the agency table held in memory (the one hits show), not a join per row.
    const out = new Map<number, ProductTextRow>();
    for (const r of stmt.all(...ids) as Array<[number, string, string | null, string | null, string, number | null]>) {
      out.set(r[0], { id: r[0], title: r[1], alt_title: r[2], description: r[3], subjects: r[4], agency: r[5] === null ? null : (agencies.get(r[5])?.name ?? null) });
    }
    return out;
  }

  // Repeated identical queries (the front page, popular searches, paging back and forth) are answered
  // from a small LRU. Any index change clears it, so an answer never outlives a write.
  const cacheMax = deps.cacheSize ?? 1000;
  const answers = new Map<string, SearchResponse>();
  /** Bumped by every index change: an answer computed by a worker before a change is not cached after it. */
  let generation = 0;
  const invalidate = () => {
    answers.clear();
    generation++;
  };
  const viewerKey = (v: Principal | null) => (v === null ? 'anon' : `${v.role}|${v.agencyId ?? ''}|${v.canSeeInternal ? 1 : 0}`);
  const cacheKey = (params: SearchParams, viewer: Principal | null): string =>
    `${viewerKey(viewer)}\u0001${params.q ?? ''}\u0001${params.type ?? ''}\u0001${params.agency ?? ''}\u0001${params.year ?? ''}\u0001${params.yearFrom ?? ''}\u0001${params.yearTo ?? ''}\u0001${params.language ?? ''}\u0001${params.state ?? ''}\u0001${params.page ?? ''}\u0001${params.limit ?? ''}\u0001${params.sort ?? ''}`;
  function cached(key: string): SearchResponse | undefined {
    const hit = answers.get(key);
    if (hit === undefined) return undefined;
    answers.delete(key);
    answers.set(key, hit);
    return { ...hit, tookMs: 0 };
  }
  function remember(key: string, r: SearchResponse): void {
    answers.set(key, r);
    if (answers.size > cacheMax) answers.delete(answers.keys().next().value!);
  }

  function search(params: SearchParams, viewer: Principal | null): SearchResponse {
    catchUpSoon();
    if (cacheMax <= 0) return searchUncached(params, viewer);
    const key = cacheKey(params, viewer);
    const hit = cached(key);
    if (hit !== undefined) return hit;
    const r = searchUncached(params, viewer);
    remember(key, r);
    return r;
  }

  /**
   * `search` that may run on a query worker thread (when there are workers and one has room), so
   * searches use more than one core; otherwise, or when the worker fails, on this thread.
   * `useCache: false` bypasses the answer cache (the benchmark's uncached route).
   */
  async function searchAsync(params: SearchParams, viewer: Principal | null, useCache = true): Promise<SearchResponse> {
    catchUpSoon();
    const caching = useCache && cacheMax > 0;
    const key = caching ? cacheKey(params, viewer) : '';
    if (caching) {
      const hit = cached(key);
      if (hit !== undefined) return hit;
    }
    const w = workers;
    if (w !== null && w.hasRoom()) {
      const gen = generation;
      const plain: SearchParams = {
        q: params.q, type: params.type, agency: params.agency, year: params.year, yearFrom: params.yearFrom, yearTo: params.yearTo,
        language: params.language, state: params.state, page: params.page, limit: params.limit, sort: params.sort,
      };
      let r: SearchResponse | null = null;
      try {
        r = await w.search(plain, viewer === null ? null : { ...viewer });
      } catch (e) {
        log.warn({ err: e }, 'search: query worker failed; searching on the main thread');
      }
      if (r !== null) {
        if (caching && gen === generation) remember(key, r);
        return r;
      }
    }
    if (!caching) return searchUncached(params, viewer);
    const r = searchUncached(params, viewer);
    remember(key, r);
    return r;
  }

  /**
   * One search's reads (a file's text rows, page lists and page texts, the hits' catalogue rows: some
   * 15–20 statements) share one read transaction. Each statement on its own begins and ends one, and
   * that costs ~5 µs here (WAL read locks), against ~0.6 µs for a primary-key read inside one.
   */
  function searchUncached(params: SearchParams, viewer: Principal | null): SearchResponse {
    flushPending();
    ensureLoaded();
    if (sqlite.inTransaction) return searchNow(params, viewer);
    st.beginRead.run();
    try {
      return searchNow(params, viewer);
    } finally {
      if (sqlite.inTransaction) st.endRead.run();
    }
  }

  function searchNow(params: SearchParams, viewer: Principal | null): SearchResponse {
    const t0 = performance.now();
    const limit = Math.min(Math.max(1, Math.floor(params.limit ?? 20)), MAX_LIMIT);
    const page = Math.max(1, Math.floor(params.page ?? 1));
    const offset = (page - 1) * limit;
    const r = run(params, viewer, true);
    let rowsSeen: Map<number, ProductTextRow> | undefined;
    const sort = params.sort ?? (r.parsed.terms.length === 0 ? 'date' : 'relevance');
    prof.start();
    const hits: SearchHit[] = [];
    // Any page of the matching set can be asked for (the API allows page ≤ 10,000): a deep page costs
    // one bounded selection over the matches (tens of milliseconds at 100,000 matches), not a refusal.
    if (offset < r.kept.n) {
      const top = order(r.kept, sort, offset + limit);
      let lookups = 0;
      const pageOf = top.slice(offset, offset + limit);
      extraPages = EXTRA_PAGE_BUDGET;
      // The catalogue text of every hit of the page in one statement rather than one per hit.
      const rows = r.parsed.terms.length > 0 && pageOf.length > 0 ? productTexts(pageOf.map((c) => c.id)) : undefined;
      rowsSeen = rows;
      for (const c of pageOf) {
        const a = attrs[c.id]!;
        let blob = textBlobOf(c.id);
        if (blob !== undefined && lookups++ >= MAX_PAGE_LOOKUPS) blob = undefined;
        hits.push({
          id: c.id,
          title: a.title,
          type: a.type,
          agency: a.agencyId !== null ? (agencies.get(a.agencyId) ?? null) : null,
          year: a.year,
          score: Math.round(c.score * 1000) / 1000,
          thumbnail: a.thumb,
          snippets: snippetsFor(c.id, r.plans !== null && r.branchOf !== null ? r.plans[r.branchOf.get(c.id) ?? 0] : r.qp, blob, rows),
        });
      }
    }
    prof.mark('hits+snippets');
    return {
      total: r.kept.n,
      page,
      limit,
      hits,
      facets: r.facets,
      corrections: r.qp.corrections.map((c) => ({ ...c, display: spellingOf(c.to, hits, rowsSeen) })),
      ignored: r.qp.ignored,
      expansions: r.qp.expansions,
      optional: r.qp.optional,
      ...(r.parsed.unsearchable ? { unsearchable: true } : {}),
      mode: r.mode,
      tookMs: Math.round((performance.now() - t0) * 100) / 100,
    };
  }

  /**
   * How a correction's folded syllables (`h mong`) are written, for a reader: as one of the first hits'
   * title, other title, subjects, description or snippet (a passage of its file's text) writes them side
   * by side (`H'Mông`, `Hồ Chí Minh`: at most one character between two syllables; a single syllable in
   * lower case), else as folded: marks guessed syllable by syllable would often be wrong
   * (`chutichhochiminh` → "chủ tịch hỗ chì mình").
   */
  function spellingOf(to: string, hits: SearchHit[], rows: Map<number, ProductTextRow> | undefined): string {
    const want = to.split(' ');
    const find = (raw: string | null): string | null => {
      if (raw === null || raw === '') return null;
      const text = raw.normalize('NFC');
      const toks = tokenize(text);
      for (let i = 0; i + want.length <= toks.length; i++) {
        let k = 0;
        while (k < want.length && toks[i + k].folded === want[k] && (k === 0 || toks[i + k].start - toks[i + k - 1].end <= 1)) k++;
        // One syllable in lower case (it stands in the reader's query); a name keeps its capitals.
        if (k === want.length) return k === 1 ? toks[i].text.toLowerCase() : text.slice(toks[i].start, toks[i + k - 1].end);
      }
      return null;
    };
    for (const h of hits.slice(0, 5)) {
      const row = rows?.get(h.id);
      const texts = row === undefined ? [] : [row.title, row.alt_title, row.subjects, row.description];
      for (const sn of h.snippets) texts.push(unmark(sn.text));
      for (const raw of texts) {
        const found = find(raw);
        if (found !== null) return found;
      }
    }
    return to;
  }

  function suggest(q: string, viewer: Principal | null, limit = 8): Suggestion[] {
    ensureLoaded();
    catchUpSoon();
    const lim = Math.min(Math.max(1, Math.floor(limit)), 20);
    const parsed = parseQuery(q ?? '', true);
    if (parsed.terms.length === 0) return [];
    // The search first: a word typed without spaces (`hochimi`) is fitted as the syllables it was read as.
    const r = run({ q }, viewer, false, true);
    const readAs = new Map<string, string[]>();
    for (const c of r.qp.corrections) if (c.to.includes(' ')) readAs.set(c.from, c.to.split(' '));
    const qt: string[] = [];
    // The spellings typed with marks (lower case, canonical tone placement), null for unmarked syllables.
    const qx: Array<string | null> = [];
    const qPrefix: boolean[] = [];
    for (const t of parsed.terms) {
      const parts = readAs.get(t.folded) ?? [t.folded];
      for (const p of parts) {
        qt.push(p);
        qx.push(t.marked && parts.length === 1 ? t.exact : null);
        qPrefix.push(t.prefix);
      }
    }
    const anyMarked = qx.some((x) => x !== null);
    // Pairs the search boosts beyond what was typed (`Dao` alone: "người Dao", "dân tộc Dao"): a candidate
    // holding one fits as if the syllables stood as typed, so suggestions agree with the search's first hits.
    const typedSet = new Set(qt);
    const contextPairs = r.qp.boosts
      .map((b) => b.term)
      .filter((t) => !t.startsWith('=') && t.split(' ').length === 2 && t.split(' ').some((w) => !typedSet.has(w)) && t.split(' ').some((w) => typedSet.has(w)))
      .map((t) => ` ${t} `);
    /**
     * How well the typed syllables fit a candidate (folded; `text`, as written, when the query has marks),
     * or -1 when one of them starts none of its syllables. Each syllable typed in full counts 2, a prefix
     * 1; typed in order side by side earns 3 more, and starting at the candidate's first syllable 2 more:
     * `bản đ` fits "Bản đồ du lịch" (8) better than "Ban cán sự đảng" (5). A syllable typed with marks
     * that the candidate's spelling does not have (`Đăn` against "Dân") counts a quarter, so "Đăng ký"
     * comes before "Dân tộc".
     */
    const fits = (folded: string, text?: string): number => {
      const toks = folded.split(' ');
      let ex: string[] | null = null;
      if (anyMarked && text !== undefined) {
        ex = (text.normalize('NFC').toLowerCase().match(TOKEN_RE) ?? []).map(canonicalTone);
        if (ex.length !== toks.length) ex = null;
      }
      let score = 0;
      let prev = -1;
      let together = true;
      let first = -1;
      for (let k = 0; k < qt.length; k++) {
        const q1 = qt[k];
        let i = k > 0 && prev + 1 < toks.length && toks[prev + 1].startsWith(q1) ? prev + 1 : -1;
        if (i < 0) i = toks.findIndex((t) => t.startsWith(q1));
        if (i < 0) return -1;
        if (k === 0) first = i;
        else if (i !== prev + 1) together = false;
        const full = toks[i] === q1;
        let points = full ? 2 : 1;
        const typed = qx[k];
        if (typed !== null && ex !== null) {
          const spelt = ex[i];
          const kept = spelt === typed || ((!full || qPrefix[k]) && completesMarked(typed, spelt));
          if (!kept) points /= 4;
        }
        score += points;
        prev = i;
      }
      if (qt.length > 1 && together) score += 3;
      else if (contextPairs.length > 0 && contextPairs.some((p) => ` ${folded} `.includes(p))) score += 3;
      if (first === 0) score += 2;
      return score;
    };
    const ranked: Array<{ s: Suggestion; fit: number; rank: number }> = [];
    const agencyHits: Array<[number, HitAgency]> = [];
    const staff = isStaff(viewer);
    for (const [id, f] of agencyFold) {
      if (!staff && inactiveAgencies.has(id)) continue;
      const a = agencies.get(id)!;
      const s = fits(f, anyMarked ? `${a.name} ${agencyShort.get(id) ?? ''} ${a.code}` : undefined);
      if (s >= 0) agencyHits.push([s, a]);
    }
    agencyHits.sort((a, b) => b[0] - a[0] || a[1].name.length - b[1].name.length);
    // An agency suggestion carries the agency's code: choosing it can apply the agency filter.
    for (const [fit, a] of agencyHits.slice(0, 2)) ranked.push({ s: { text: a.name, kind: 'agency', agency: a.code }, fit, rank: ranked.length });
    ensureSubjects();
    const subjectHits: Array<[number, number, string]> = [];
    for (const [text, e] of subjects) {
      const s = fits(e.folded, text);
      if (s < 0) continue;
      let visible = 0;
      for (const id of e.ids) {
        const a = attrs[id];
        if (a !== undefined && canSee(viewer, { state: a.state, access: a.access, agencyId: a.agencyId })) visible++;
        if (visible >= 50) break;
      }
      if (visible > 0) subjectHits.push([s, visible, text]);
    }
    subjectHits.sort((a, b) => b[0] - a[0] || b[1] - a[1] || a[2].localeCompare(b[2]));
    for (const [fit, , text] of subjectHits.slice(0, 3)) ranked.push({ s: { text, kind: 'subject' }, fit, rank: ranked.length });
    // Titles: the best search matches (typos and all), those whose title fits what was typed first.
    for (const c of order(r.kept, 'relevance', Math.max(lim * 4, 40))) {
      ranked.push({ s: { text: attrs[c.id]!.title, productId: c.id, kind: 'title' }, fit: fits(foldForIndex(attrs[c.id]!.title), attrs[c.id]!.title), rank: ranked.length });
    }
    // Best fit first; on a tie agencies, then subjects, then titles by relevance (the order pushed).
    // Titles that do not fit (found through a file's text, say) only when no title fits: a typo.
    ranked.sort((a, b) => b.fit - a.fit || a.rank - b.rank);
    const titleFits = ranked.some((x) => x.fit >= 0 && x.s.kind === 'title');
    const out = ranked.filter((x) => x.fit >= 0 || !titleFits).map((x) => x.s);
    return out.slice(0, lim);
  }

  const service: SearchService & { phaseTimings(): Record<string, number>; searchUncached: typeof searchUncached; applyChange: typeof applyChange; workersLive(): number; workersQueued(): number } = {
    searchUncached,
    searchAsync,
    applyChange,
    workersLive: () => workers?.live ?? 0,
    workersQueued: () => workers?.queuedTotal ?? 0,
    indexProduct,
    removeProduct,
    indexBlob: (sha256: string) => indexBlob(sha256),
    indexBlobSoon,
    indexAgency,
    search,
    suggest,
    rebuild,
    ensureReady,
    close,
    phaseTimings: () => Object.fromEntries([...phases].map(([k, v]) => [k, Math.round(v)])),
  };
  return service;
}

/**
 * Sort key of a record for `sort=date` (newest first = descending): the release date, else the year
 * (zero-padded), then the creation time. A year alone sorts below that year's dated records (`2024` <
 * `2024-05-02`) and a record with neither below every dated one: in newest-first order an undated
 * record comes last, not first (the separator \u0001 sorts below `-` and every digit).
 */
export function dateKey(releaseDate: string | null, year: number | null, createdAt: string): string {
  const main = releaseDate ?? (year !== null ? String(year).padStart(4, '0') : '');
  return `${main}\u0001${createdAt}`;
}

/** A snippet's text as written: its `<mark>` tags removed and what escapeHtml escapes restored. */
/**
 * The other spelling of a syllable whose only vowel is a final i or y after h, k, l, m, qu, s or t (the
 * syllables Vietnamese writes both ways: kỹ / kĩ, lý / lí, mỹ / mĩ, sỹ / sĩ, ty / ti, hy / hi, quý / quí),
 * folded or, with `marked`, as written in lower case (the tone kept on the vowel); null for any other.
 */
export function iyVariant(syllable: string, marked = false): string | null {
  const d = marked ? syllable.normalize('NFD') : syllable;
  const m = /^(h|k|l|m|qu|s|t)([iy])([\u0300-\u036f]*)$/.exec(d);
  if (m === null) return null;
  const out = m[1] + (m[2] === 'i' ? 'y' : 'i') + m[3];
  return marked ? out.normalize('NFC') : out;
}

/** The other way a folded query word is written: its i/y spelling, or a number of one digit with a leading zero and back (5 / 05). */
export function otherSpelling(folded: string): string | null {
  if (/^\d$/.test(folded)) return '0' + folded;
  if (/^0\d$/.test(folded)) return folded.slice(1);
  return iyVariant(folded);
}

const unmark = (html: string): string =>
  html.replace(/<\/?mark>/g, '').replace(/&(amp|lt|gt|quot|#39);/g, (_, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[e]!);

/** First and last syllable of a query term (a split word's term is a pair: `h mong`). */
const firstSyllable = (term: string): string => {
  const sp = term.indexOf(' ');
  return sp < 0 ? term : term.slice(0, sp);
};
const lastSyllable = (term: string): string => term.slice(term.lastIndexOf(' ') + 1);

/** The best `k` of `items` under `cmp` (ascending = better first), without sorting everything. */
export function topK<T>(items: T[], k: number, cmp: (a: T, b: T) => number): T[] {
  if (k <= 0) return [];
  if (items.length <= k * 4 || items.length < 256) return [...items].sort(cmp).slice(0, k);
  // Max-heap on "worst kept" of size k.
  const heap: T[] = [];
  const up = (i: number) => {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (cmp(heap[i], heap[p]) > 0) {
        [heap[i], heap[p]] = [heap[p], heap[i]];
        i = p;
      } else break;
    }
  };
  const down = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && cmp(heap[l], heap[m]) > 0) m = l;
      if (r < heap.length && cmp(heap[r], heap[m]) > 0) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m], heap[i]];
      i = m;
    }
  };
  for (const it of items) {
    if (heap.length < k) {
      heap.push(it);
      up(heap.length - 1);
    } else if (cmp(it, heap[0]) < 0) {
      heap[0] = it;
      down(0);
    }
  }
  return heap.sort(cmp);
}

export { escapeHtml };
