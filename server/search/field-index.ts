/**
 * In-memory index of the catalogue fields (title, agency, subjects, other metadata) of every product.
 *
 * Why in memory and not FTS5: every query needs the whole matching set (exact totals and facet counts
 * with the other filters applied) plus a score for each match. FTS5 computes bm25 through its
 * auxiliary-function API at ~1 µs per matching row, which is 50–70 ms for a common syllable matching
 * half of 100,000 records; a typed-array accumulator does the same in well under a millisecond.
 *
 * Terms per field token stream (tokens are the lower-case NFC spelling; `|` breaks adjacency):
 *   `cao`          folded syllable
 *   `cao bang`     folded adjacent pair (phrase evidence: Vietnamese words are mostly two syllables)
 *   `=bằng`        exact spelling of a marked syllable (exact-diacritic preference)
 * Each posting carries the field-weighted term frequency; scoring is BM25F-like.
 */
import { canonicalTone, fold } from './fold.ts';
import { grownTo } from './typed-arrays.ts';

export const FIELD_WEIGHTS = { title: 6, subjects: 3, agency: 2.5, meta: 1 } as const;
export type FieldName = keyof typeof FIELD_WEIGHTS;
const FIELDS = Object.keys(FIELD_WEIGHTS) as FieldName[];

/** The stored, analysed form of one product: per field, lower-case NFC tokens joined by spaces. */
export type StoredDoc = { id: number } & Record<FieldName, string>;

export interface Alt {
  term: string;
  factor: number;
}

export interface FieldMatch {
  ids: Int32Array;
  scores: Float64Array;
  n: number;
}

const K1 = 1.2;
const B = 0.5;
/** A binary-search step against a step of walking a posting list (see `lookUpRather`). */
const LOOKUP_COST = 3;

export function createFoldMemo(): (tok: string) => string {
  const memo = new Map<string, string>();
  return (tok) => {
    let f = memo.get(tok);
    if (f === undefined) {
      f = fold(tok);
      if (memo.size < 500_000) memo.set(tok, f);
    }
    return f;
  };
}

/** Analyse a stored doc into weighted term frequencies and a weighted length. */
export function analyse(doc: StoredDoc, foldTok: (t: string) => string): { tf: Map<string, number>; len: number } {
  const tf = new Map<string, number>();
  let len = 0;
  const add = (t: string, w: number) => tf.set(t, (tf.get(t) ?? 0) + w);
  for (const field of FIELDS) {
    const w = FIELD_WEIGHTS[field];
    const s = doc[field];
    if (!s) continue;
    let prev: string | null = null;
    for (const tok of s.split(' ')) {
      if (tok === '' || tok === '|') {
        prev = null;
        continue;
      }
      const f = foldTok(tok);
      add(f, w);
      if (f !== tok) add('=' + canonicalTone(tok), w);
      if (prev !== null) add(prev + ' ' + f, w);
      prev = f;
      len += w;
    }
  }
  return { tf, len };
}

interface TokInfo {
  /** Term id of the folded syllable. */
  u: number;
  /** Term id of the exact marked spelling, or -1 when the token has no marks. */
  x: number;
}

/**
 * Postings are kept in CSR form (one offsets array, one doc-id array, one weight array for all
 * terms): a bulk load allocates three typed arrays instead of one pair per term, which keeps a
 * 100,000-record start-up in about a second. Documents changed afterwards live in a small delta.
 */
/** A posting weight as stored (see FieldIndex.pW). */
const twice = (w: number): number => Math.min(65535, Math.round(w * 2));

export class FieldIndex {
  private uniIds = new Map<string, number>();
  private uniNames: string[] = [];
  private uniTerm: number[] = [];
  private exactIds = new Map<string, number>();
  /** First syllable's term id → second syllable's term id → pair term id (small-integer keys only). */
  private pairIds = new Map<number, Map<number, number>>();
  private nTerms = 0;
  private tokInfo = new Map<string, TokInfo>();
  private off = new Int32Array(1);
  private pDocs = new Int32Array(0);
  /**
   * Posting weights, doubled: a weight is a sum of field weights (6, 3, 2.5, 1), always a multiple of
   * 0.5, so twice it is an exact integer and 16 bits halve the largest array of the index
   * (saturating at a weight of 32,767.5 in one document). Read as `pW[i] * 0.5`.
   */
  private pW = new Uint16Array(0);
  private mainTerms = 0;
  /**
   * Per main term: 0 not looked at yet, 1 its doc ids ascend, 2 they do not. A bulk load writes every
   * list in id order and `compact` merges in order, so lists ascend; checked once per term before a
   * match looks documents up in a list by binary search (`findDoc`). Reset whenever the lists change.
   */
  private ascends = new Uint8Array(0);
  private mainValid = new Uint8Array(0);
  private docLen = new Float32Array(0);
  private present = new Uint8Array(0);
  /** Documents (re)indexed since the last bulk load: term → doc → weight. */
  private deltaPost = new Map<number, Map<number, number>>();
  private deltaDocs = new Map<number, number[]>();
  private nDocs = 0;
  private totalLen = 0;
  private maxId = 0;
  /**
   * The documents whose statistics score every query: document frequencies, their count and their
   * average length are taken over these only (see `setScoring`; every document until told otherwise).
   * The service keeps the published public records here, so a record a viewer may not see changes
   * nothing in what that viewer's answers score.
   */
  private scoring = new Uint8Array(0);
  private nScoring = 0;
  private scoringLen = 0;
  /**
   * Document frequency over the scoring documents, per term id: counted over the term's postings on
   * first use, dropped whenever a scoring document comes or goes (a hidden record's edits keep it).
   */
  private scoringDf = new Map<number, number>();
  private foldTok = createFoldMemo();
  // Query scratch buffers, sized maxId + 1.
  private acc = new Float64Array(0);
  private cnt = new Uint8Array(0);
  private stamp = new Uint8Array(0);
  private touched = new Int32Array(0);
  // Match output, reused by every call (see `match`).
  private outIds = new Int32Array(0);
  private outScores = new Float64Array(0);

  get size(): number {
    return this.nDocs;
  }
  get deltaSize(): number {
    return this.deltaDocs.size;
  }

  private uni(f: string): number {
    let id = this.uniIds.get(f);
    if (id === undefined) {
      id = this.nTerms++;
      this.uniIds.set(f, id);
      this.uniNames.push(f);
      this.uniTerm.push(id);
    }
    return id;
  }

  private info(tok: string): TokInfo {
    let i = this.tokInfo.get(tok);
    if (i === undefined) {
      const f = this.foldTok(tok);
      let x = -1;
      if (f !== tok) {
        // Both tone placements (hòa / hoà) are one exact spelling.
        const key = canonicalTone(tok);
        let e = this.exactIds.get(key);
        if (e === undefined) {
          e = this.nTerms++;
          this.exactIds.set(key, e);
        }
        x = e;
      }
      i = { u: this.uni(f), x };
      if (this.tokInfo.size < 1_000_000) this.tokInfo.set(tok, i);
    }
    return i;
  }

  private pair(a: number, b: number): number {
    let m = this.pairIds.get(a);
    if (m === undefined) this.pairIds.set(a, (m = new Map()));
    let id = m.get(b);
    if (id === undefined) {
      id = this.nTerms++;
      m.set(b, id);
    }
    return id;
  }

  /** Term id of a query term (`cao`, `cao bang`, `=bằng`), or undefined when it never occurs. */
  private resolve(term: string): number | undefined {
    if (term.charCodeAt(0) === 61 /* = */) return this.exactIds.get(term.slice(1));
    const sp = term.indexOf(' ');
    if (sp < 0) return this.uniIds.get(term);
    const a = this.uniIds.get(term.slice(0, sp));
    const b = this.uniIds.get(term.slice(sp + 1));
    if (a === undefined || b === undefined) return undefined;
    return this.pairIds.get(a)?.get(b);
  }

  /** Weighted term frequencies of one document, by term id. */
  private scratch = new Float64Array(1 << 16);
  private scratchIds: number[] = [];

  private bump(t: number, w: number): void {
    if (t >= this.scratch.length) {
      const s2 = new Float64Array(Math.max(this.scratch.length * 2, t + 1));
      s2.set(this.scratch);
      this.scratch = s2;
    }
    if (this.scratch[t] === 0) this.scratchIds.push(t);
    this.scratch[t] += w;
  }

  private analyse(doc: StoredDoc): { tf: Map<number, number>; len: number } {
    const tf = new Map<number, number>();
    this.analyseScratch(doc, (t, w) => tf.set(t, w));
    return { tf, len: this.lastLen };
  }

  private lastLen = 0;

  /** Analyse into the scratch array, then hand each (term, weight) to `emit` and clear the scratch. */
  private analyseScratch(doc: StoredDoc, emit: (t: number, w: number) => void): void {
    let len = 0;
    for (const field of FIELDS) {
      const w = FIELD_WEIGHTS[field];
      const s = doc[field];
      if (!s) continue;
      let prev = -1;
      for (const tok of s.split(' ')) {
        if (tok === '' || tok === '|') {
          prev = -1;
          continue;
        }
        const i = this.info(tok);
        this.bump(i.u, w);
        if (i.x >= 0) this.bump(i.x, w);
        if (prev >= 0) this.bump(this.pair(prev, i.u), w);
        prev = i.u;
        len += w;
      }
    }
    for (const t of this.scratchIds) {
      emit(t, this.scratch[t]);
      this.scratch[t] = 0;
    }
    this.scratchIds.length = 0;
    this.lastLen = len;
  }

  private ensureCapacity(maxId: number): void {
    if (maxId < this.mainValid.length) return;
    const cap = Math.max(maxId + 1, Math.ceil(this.mainValid.length * 1.5), 1024);
    this.mainValid = grownTo(this.mainValid, cap);
    this.present = grownTo(this.present, cap);
    this.scoring = grownTo(this.scoring, cap);
    this.docLen = grownTo(this.docLen, cap);
    this.acc = new Float64Array(cap);
    this.cnt = new Uint8Array(cap);
    this.stamp = new Uint8Array(cap);
    this.touched = new Int32Array(cap);
  }

  /** Replace everything with `docs` (two passes: count, then fill the CSR arrays). */
  load(docs: Iterable<StoredDoc>): void {
    this.uniIds = new Map();
    this.uniNames = [];
    this.uniTerm = [];
    this.exactIds = new Map();
    this.pairIds = new Map();
    this.tokInfo = new Map();
    this.nTerms = 0;
    this.deltaPost = new Map();
    this.deltaDocs = new Map();
    this.mainValid = new Uint8Array(0);
    this.present = new Uint8Array(0);
    this.scoring = new Uint8Array(0);
    this.docLen = new Float32Array(0);
    this.nDocs = 0;
    this.totalLen = 0;
    this.maxId = 0;
    let entTerm = new Int32Array(1 << 20);
    let entW = new Float32Array(1 << 20);
    let nEnt = 0;
    let counts = new Int32Array(1 << 16);
    const docIds: number[] = [];
    const docEnd: number[] = [];
    const lens: number[] = [];
    const emit = (t: number, w: number) => {
      if (nEnt >= entTerm.length) {
        const t2 = new Int32Array(entTerm.length * 2);
        t2.set(entTerm);
        entTerm = t2;
        const w2 = new Float32Array(entW.length * 2);
        w2.set(entW);
        entW = w2;
      }
      if (t >= counts.length) {
        const c2 = new Int32Array(Math.max(counts.length * 2, t + 1));
        c2.set(counts);
        counts = c2;
      }
      counts[t]++;
      entTerm[nEnt] = t;
      entW[nEnt] = w;
      nEnt++;
    };
    for (const doc of docs) {
      this.analyseScratch(doc, emit);
      docIds.push(doc.id);
      docEnd.push(nEnt);
      lens.push(this.lastLen);
      if (doc.id > this.maxId) this.maxId = doc.id;
    }
    this.ensureCapacity(this.maxId);
    const T = this.nTerms;
    const off = new Int32Array(T + 1);
    for (let t = 0; t < T; t++) off[t + 1] = off[t] + counts[t];
    const fill = off.slice(0, T);
    const pDocs = new Int32Array(nEnt);
    const pW = new Uint16Array(nEnt);
    let start = 0;
    for (let i = 0; i < docIds.length; i++) {
      const d = docIds[i];
      for (let e = start; e < docEnd[i]; e++) {
        const k = fill[entTerm[e]]++;
        pDocs[k] = d;
        pW[k] = twice(entW[e]);
      }
      start = docEnd[i];
      if (!this.present[d]) this.nDocs++;
      this.present[d] = 1;
      this.mainValid[d] = 1;
      this.docLen[d] = lens[i];
      this.totalLen += lens[i];
    }
    this.off = off;
    this.pDocs = pDocs;
    this.ascends = new Uint8Array(0);
    this.pW = pW;
    this.mainTerms = T;
    this.scoreAll();
  }

  /** Every document scores (after a load or restore, until `setScoring`). */
  private scoreAll(): void {
    this.scoring.set(this.present);
    this.nScoring = this.nDocs;
    this.scoringLen = this.totalLen;
    this.scoringDf.clear();
  }

  /** Which documents score every query (see `scoring`), e.g. after a load or restore. */
  setScoring(isScoring: (id: number) => boolean): void {
    this.nScoring = 0;
    this.scoringLen = 0;
    for (let d = 0; d <= this.maxId && d < this.present.length; d++) {
      const on = this.present[d] === 1 && isScoring(d);
      this.scoring[d] = on ? 1 : 0;
      if (on) {
        this.nScoring++;
        this.scoringLen += this.docLen[d];
      }
    }
    this.scoringDf.clear();
  }

  /** Fold the delta into the CSR arrays (documents re-indexed since the last load). */
  compact(): void {
    if (this.deltaDocs.size === 0 && this.deltaPost.size === 0) return;
    const T = this.nTerms;
    const counts = new Int32Array(T);
    for (let t = 0; t < this.mainTerms; t++) {
      for (let i = this.off[t]; i < this.off[t + 1]; i++) if (this.mainValid[this.pDocs[i]] === 1) counts[t]++;
    }
    for (const [t, m] of this.deltaPost) counts[t] += m.size;
    const off = new Int32Array(T + 1);
    for (let t = 0; t < T; t++) off[t + 1] = off[t] + counts[t];
    const docs = new Int32Array(off[T]);
    const ws = new Uint16Array(off[T]);
    for (let t = 0; t < T; t++) {
      let k = off[t];
      // The delta's documents merged in id order, so the lists keep ascending (see `ascends`).
      const m = this.deltaPost.get(t);
      const extra = m === undefined ? null : [...m].sort((a, b) => a[0] - b[0]);
      let e = 0;
      if (t < this.mainTerms) {
        for (let i = this.off[t]; i < this.off[t + 1]; i++) {
          const d = this.pDocs[i];
          if (this.mainValid[d] !== 1) continue;
          if (extra !== null) {
            for (; e < extra.length && extra[e][0] < d; e++) {
              docs[k] = extra[e][0];
              ws[k++] = twice(extra[e][1]);
            }
          }
          docs[k] = d;
          ws[k++] = this.pW[i];
        }
      }
      if (extra !== null) {
        for (; e < extra.length; e++) {
          docs[k] = extra[e][0];
          ws[k++] = twice(extra[e][1]);
        }
      }
      sortPostings(docs, ws, off[t], k);
    }
    this.off = off;
    this.pDocs = docs;
    this.ascends = new Uint8Array(0);
    this.pW = ws;
    this.mainTerms = T;
    this.mainValid.set(this.present);
    this.deltaPost = new Map();
    this.deltaDocs = new Map();
  }

  /** Everything needed to restore this index without re-analysing the documents. */
  snapshot(): FieldSnapshot {
    this.compact();
    const pairs: number[] = [];
    for (const [a, m] of this.pairIds) for (const [b, id] of m) pairs.push(a, b, id);
    return {
      meta: JSON.stringify({ nTerms: this.nTerms, nDocs: this.nDocs, totalLen: this.totalLen, maxId: this.maxId, uni: this.uniNames, uniTerm: this.uniTerm, exact: [...this.exactIds] }),
      off: asBuffer(this.off),
      docs: asBuffer(this.pDocs),
      w: asBuffer(this.pW),
      len: asBuffer(this.docLen.subarray(0, this.maxId + 1)),
      present: asBuffer(this.present.subarray(0, this.maxId + 1)),
      pairs: asBuffer(Int32Array.from(pairs)),
    };
  }

  /**
   * Moves the postings (offsets, doc ids, weights) into SharedArrayBuffers, so query workers can read
   * the same bytes instead of a copy of their own (they are never written in place: `compact` and
   * `load` make new arrays). Returns the snapshot for `restore` in a worker, whose `off`, `docs` and
   * `w` are views over the shared memory; the other parts are copies (each index keeps its own).
   */
  shareArrays(): FieldSnapshot {
    this.compact();
    const share = <T extends Int32Array | Uint16Array>(a: T, C: new (b: SharedArrayBuffer) => T): T => {
      if (a.buffer instanceof SharedArrayBuffer) return a;
      const b = new C(new SharedArrayBuffer(a.byteLength));
      b.set(a);
      return b;
    };
    this.off = share(this.off, Int32Array);
    this.pDocs = share(this.pDocs, Int32Array);
    this.pW = share(this.pW, Uint16Array);
    const snap = this.snapshot();
    const copy = (b: Buffer): Buffer => Buffer.from(Uint8Array.prototype.slice.call(b));
    return { ...snap, len: copy(snap.len), present: copy(snap.present), pairs: copy(snap.pairs) };
  }

  restore(s: FieldSnapshot): void {
    const meta = JSON.parse(s.meta) as { nTerms: number; nDocs: number; totalLen: number; maxId: number; uni: string[]; uniTerm: number[]; exact: Array<[string, number]> };
    this.nTerms = meta.nTerms;
    this.nDocs = meta.nDocs;
    this.totalLen = meta.totalLen;
    this.maxId = meta.maxId;
    this.uniNames = meta.uni;
    this.uniTerm = meta.uniTerm;
    this.uniIds = new Map(meta.uni.map((u, i) => [u, meta.uniTerm[i]]));
    this.exactIds = new Map(meta.exact);
    this.pairIds = new Map();
    const pairs = viewOf(s.pairs, Int32Array);
    for (let i = 0; i < pairs.length; i += 3) {
      let m = this.pairIds.get(pairs[i]);
      if (m === undefined) this.pairIds.set(pairs[i], (m = new Map()));
      m.set(pairs[i + 1], pairs[i + 2]);
    }
    this.tokInfo = new Map();
    this.deltaPost = new Map();
    this.deltaDocs = new Map();
    this.off = viewOf(s.off, Int32Array);
    this.pDocs = viewOf(s.docs, Int32Array);
    this.ascends = new Uint8Array(0);
    this.pW = viewOf(s.w, Uint16Array);
    this.mainTerms = this.off.length - 1;
    this.mainValid = new Uint8Array(0);
    this.present = new Uint8Array(0);
    this.scoring = new Uint8Array(0);
    this.docLen = new Float32Array(0);
    this.ensureCapacity(this.maxId);
    this.present.set(viewOf(s.present, Uint8Array));
    this.mainValid.set(this.present);
    this.docLen.set(viewOf(s.len, Float32Array));
    this.scoreAll();
  }

  /** Add or replace one document (kept in the delta until the next bulk load); `scoring`: see `scoring`. */
  upsert(doc: StoredDoc, scoring = true): void {
    this.remove(doc.id);
    const { tf, len } = this.analyse(doc);
    if (doc.id > this.maxId) this.maxId = doc.id;
    this.ensureCapacity(doc.id);
    const termList: number[] = [];
    for (const [t, w] of tf) {
      let m = this.deltaPost.get(t);
      if (m === undefined) this.deltaPost.set(t, (m = new Map()));
      m.set(doc.id, w);
      termList.push(t);
    }
    this.deltaDocs.set(doc.id, termList);
    this.present[doc.id] = 1;
    this.docLen[doc.id] = len;
    this.totalLen += len;
    this.nDocs++;
    if (scoring) {
      this.scoring[doc.id] = 1;
      this.nScoring++;
      this.scoringLen += len;
      this.scoringDf.clear();
    }
  }

  remove(id: number): void {
    if (id >= this.present.length || !this.present[id]) return;
    const terms = this.deltaDocs.get(id);
    if (terms !== undefined) {
      for (const t of terms) this.deltaPost.get(t)?.delete(id);
      this.deltaDocs.delete(id);
    }
    this.mainValid[id] = 0;
    this.present[id] = 0;
    this.totalLen -= this.docLen[id];
    this.nDocs--;
    if (this.scoring[id] === 1) {
      this.scoring[id] = 0;
      this.nScoring--;
      this.scoringLen -= this.docLen[id];
      this.scoringDf.clear();
    }
  }

  has(id: number): boolean {
    return id < this.present.length && this.present[id] === 1;
  }

  private dfOf(id: number): number {
    const main = id < this.mainTerms ? this.off[id + 1] - this.off[id] : 0;
    return main + (this.deltaPost.get(id)?.size ?? 0);
  }

  /** Whether a document holding `term` passes `accept` (stops at the first that does). */
  anyDoc(term: string, accept: (doc: number) => boolean): boolean {
    const id = this.resolve(term);
    if (id === undefined) return false;
    if (id < this.mainTerms) {
      for (let i = this.off[id]; i < this.off[id + 1]; i++) {
        const d = this.pDocs[i];
        if (this.mainValid[d] === 1 && accept(d)) return true;
      }
    }
    const delta = this.deltaPost.get(id);
    if (delta !== undefined) for (const d of delta.keys()) if (accept(d)) return true;
    return false;
  }

  /**
   * Whether some document holding every one of `terms` passes `accept`: the documents of the rarest
   * term are tried in turn, each looked up in the other terms' postings, stopping at the first that does.
   */
  anyDocHoldingAll(terms: string[], accept: (doc: number) => boolean): boolean {
    const ids: number[] = [];
    for (const t of terms) {
      const id = this.resolve(t);
      if (id === undefined) return false;
      ids.push(id);
    }
    ids.sort((a, b) => this.dfOf(a) - this.dfOf(b));
    for (let k = 1; k < ids.length; k++) if (ids[k] < this.mainTerms && !this.ascending(ids[k])) return this.anyDocHoldingAllBySets(ids, accept);
    const first = ids[0];
    const holdsRest = (d: number): boolean => {
      for (let k = 1; k < ids.length; k++) if (!this.holds(ids[k], d)) return false;
      return true;
    };
    if (first < this.mainTerms) {
      for (let i = this.off[first]; i < this.off[first + 1]; i++) {
        const d = this.pDocs[i];
        if (this.mainValid[d] === 1 && accept(d) && holdsRest(d)) return true;
      }
    }
    const delta = this.deltaPost.get(first);
    if (delta !== undefined) for (const d of delta.keys()) if (accept(d) && holdsRest(d)) return true;
    return false;
  }

  /**
   * anyDocHoldingAll over lists not in id order (a snapshot written before they were kept so): the
   * documents holding each term, rarest first, collected list by list.
   */
  private anyDocHoldingAllBySets(ids: number[], accept: (doc: number) => boolean): boolean {
    let left: Set<number> | null = null;
    for (const id of ids) {
      const next = new Set<number>();
      const inLeft: Set<number> | null = left;
      const take = (d: number) => {
        if (inLeft === null ? accept(d) : inLeft.has(d)) next.add(d);
      };
      if (id < this.mainTerms) for (let i = this.off[id]; i < this.off[id + 1]; i++) if (this.mainValid[this.pDocs[i]] === 1) take(this.pDocs[i]);
      const delta = this.deltaPost.get(id);
      if (delta !== undefined) for (const d of delta.keys()) take(d);
      if (next.size === 0) return false;
      left = next;
    }
    return true;
  }

  /** Whether document `d` holds term `id` now (its main postings, ascending, while valid; else the delta). */
  private holds(id: number, d: number): boolean {
    if (d < this.mainValid.length && this.mainValid[d] === 1) return id < this.mainTerms && this.findDoc(this.off[id], this.off[id + 1], d) >= 0;
    return this.deltaPost.get(id)?.has(d) ?? false;
  }

  /** BM25 idf of a query term over the scoring documents (see `idf`), 0 for a term that never occurs. */
  idfOf(term: string): number {
    const id = this.resolve(term);
    return id === undefined ? 0 : this.idf(id);
  }

  /** Folded syllable → its exact (marked) spellings in the index, built on first use, again when new ones came. */
  private spellings = new Map<string, string[]>();
  private spellingsOf: Map<string, number> | null = null;
  private spellingsFrom = -1;

  /**
   * The marked spellings (lower case, canonical tone placement) under which a folded syllable occurs
   * in some document's fields: `dang` → đảng, đang, đăng…. An unmarked spelling is not listed.
   */
  exactSpellings(folded: string): readonly string[] {
    if (this.spellingsOf !== this.exactIds || this.spellingsFrom !== this.exactIds.size) {
      this.spellings = new Map();
      for (const key of this.exactIds.keys()) {
        const f = this.foldTok(key);
        const list = this.spellings.get(f);
        if (list === undefined) this.spellings.set(f, [key]);
        else list.push(key);
      }
      this.spellingsOf = this.exactIds;
      this.spellingsFrom = this.exactIds.size;
    }
    return this.spellings.get(folded) ?? [];
  }

  /** Document frequency of a term (main postings may still count re-indexed documents). */
  df(term: string): number {
    const id = this.resolve(term);
    return id === undefined ? 0 : this.dfOf(id);
  }

  /** Distinct single-syllable folded terms with their document frequency (the typo vocabulary). */
  *unigrams(): Iterable<[string, number]> {
    for (let i = 0; i < this.uniNames.length; i++) {
      const n = this.dfOf(this.uniTerm[i]);
      if (n > 0) yield [this.uniNames[i], n];
    }
  }

  /** Document frequency of a term over the scoring documents (see `scoringDf`). */
  private scoringDfOf(id: number): number {
    let n = this.scoringDf.get(id);
    if (n !== undefined) return n;
    n = 0;
    const { scoring, mainValid, pDocs } = this;
    if (id < this.mainTerms) {
      for (let i = this.off[id]; i < this.off[id + 1]; i++) {
        const d = pDocs[i];
        if (scoring[d] === 1 && mainValid[d] === 1) n++;
      }
    }
    const delta = this.deltaPost.get(id);
    if (delta !== undefined) for (const d of delta.keys()) if (scoring[d] === 1) n++;
    if (this.scoringDf.size >= 200_000) this.scoringDf.clear();
    this.scoringDf.set(id, n);
    return n;
  }

  /**
   * BM25 idf over the scoring documents. With none (a catalogue without a single public record,
   * where an anonymous viewer sees nothing), over every document.
   */
  private idf(id: number): number {
    const all = this.nScoring === 0;
    const df = all ? this.dfOf(id) : this.scoringDfOf(id);
    const N = Math.max(all ? this.nDocs : this.nScoring, 1);
    return Math.log(1 + (N - df + 0.5) / (df + 0.5));
  }

  /** Whether the main postings of term `id` ascend by doc id (checked on first use, see `ascends`). */
  private ascending(id: number): boolean {
    if (this.ascends.length !== this.mainTerms) this.ascends = new Uint8Array(this.mainTerms);
    let a = this.ascends[id];
    if (a === 0) {
      a = 1;
      const { pDocs } = this;
      for (let i = this.off[id] + 1; i < this.off[id + 1]; i++) {
        if (pDocs[i] <= pDocs[i - 1]) {
          a = 2;
          break;
        }
      }
      this.ascends[id] = a;
    }
    return a === 1;
  }

  /**
   * Whether looking `n` documents up in the main postings of term `id` by binary search is clearly
   * cheaper than walking its list (a step of the search costs several of the walk's).
   */
  private lookUpRather(id: number, n: number): boolean {
    if (id >= this.mainTerms) return false;
    const len = this.off[id + 1] - this.off[id];
    return n * (32 - Math.clz32(len)) * LOOKUP_COST < len && this.ascending(id);
  }

  /** Position of document `d` in the ascending postings `[from, to)`, or -1. */
  private findDoc(from: number, to: number, d: number): number {
    const { pDocs } = this;
    let lo = from;
    let hi = to - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = pDocs[mid];
      if (v < d) lo = mid + 1;
      else if (v > d) hi = mid - 1;
      else return mid;
    }
    return -1;
  }

  /** Per query group, a document's score contribution (only read for documents matching every group). */
  private contrib: Float64Array[] = [];
  /** Scratch: the documents still in the running of an `and` match (see `matchAndReordered`). */
  private alive = new Int32Array(0);
  /** How many documents the last `and` match (`matchAndReordered`) matched. */
  private nMatched = 0;

  /** Postings of a group, all alternatives together (an upper bound on its matches). */
  private groupSize(alts: Alt[]): number {
    let n = 0;
    for (const alt of alts) {
      const id = this.resolve(alt.term);
      if (id === undefined) continue;
      n += id < this.mainTerms ? this.off[id + 1] - this.off[id] : 0;
      n += this.deltaPost.get(id)?.size ?? 0;
    }
    return n;
  }

  /**
   * `and` with several groups: the order to intersect them in, rarest first, or null when that is the
   * given order anyway (or there are too many groups to keep a contribution array for each).
   */
  private rarestFirst(groups: Alt[][], ng: number): number[] | null {
    if (ng < 2 || ng > 16) return null;
    const sizes = groups.slice(0, ng).map((alts) => this.groupSize(alts));
    const order = sizes.map((_, g) => g).sort((a, b) => sizes[a] - sizes[b] || a - b);
    // Only worth it when the first group is clearly not the smallest.
    if (sizes[order[0]] * 1.25 >= sizes[0]) return null;
    return order;
  }

  /**
   * `and` matching in the order `order` (rarest group first): only the documents of the rarest group
   * are ever touched, later groups only test the running count of each posting. Contributions are
   * kept per group and summed afterwards in the groups' own order, so every score is the same
   * floating-point number as when intersecting in the given order (0 + c0 + c1 + … in that order).
   * Leaves acc/cnt set for the touched documents like the plain loop; returns how many were touched.
   */
  private matchAndReordered(groups: Alt[][], order: number[], norm0: number, normB: number): number {
    const { acc, cnt, touched, mainValid, docLen, off, pDocs, pW } = this;
    const ng = order.length;
    while (this.contrib.length < ng) this.contrib.push(new Float64Array(0));
    for (let g = 0; g < ng; g++) if (this.contrib[g].length < acc.length) this.contrib[g] = new Float64Array(acc.length);
    if (this.alive.length < acc.length) this.alive = new Int32Array(acc.length);
    const alive = this.alive;
    let nt = 0;
    /** Documents still in the running (count k) at the start of group k; listed in `alive` when `listedAt` is k. */
    let nAlive = 0;
    let listedAt = -1;
    let nListed = 0;
    for (let k = 0; k < ng; k++) {
      const g = order[k];
      const contrib = this.contrib[g];
      let reached = 0;
      for (const alt of groups[g]) {
        const id = this.resolve(alt.term);
        if (id === undefined) continue;
        const idf = this.idf(id) * alt.factor * (K1 + 1);
        const from = id < this.mainTerms ? off[id] : 0;
        const to = id < this.mainTerms ? off[id + 1] : 0;
        // Documents of this group still unmatched: those left when it began, less those an earlier
        // alternative matched (a prefix's completions are 10–20 alternatives, most documents matched early).
        if (k > 0 && this.lookUpRather(id, nAlive - reached)) {
          // Few documents left against a long list: look each up in it instead of walking it.
          if (listedAt !== k) {
            let m = 0;
            if (listedAt === k - 1) {
              for (let i = 0; i < nListed; i++) if (cnt[alive[i]] === k) alive[m++] = alive[i];
            } else {
              for (let i = 0; i < nt; i++) if (cnt[touched[i]] === k) alive[m++] = touched[i];
            }
            nListed = m;
            listedAt = k;
          }
          for (let j = 0; j < nListed; j++) {
            const d = alive[j];
            if (cnt[d] !== k || mainValid[d] !== 1) continue;
            const i = this.findDoc(from, to, d);
            if (i < 0) continue;
            cnt[d] = k + 1;
            reached++;
            const w = pW[i] * 0.5;
            contrib[d] = (idf * w) / (w + norm0 + normB * docLen[d]);
          }
        } else {
          // A document is in the running while its count is k; once an alternative of this group has
          // matched it, its count is k + 1 and the group's other alternatives pass it by (as the stamp does).
          for (let i = from; i < to; i++) {
            const d = pDocs[i];
            if (cnt[d] !== k || mainValid[d] !== 1) continue;
            if (k === 0) touched[nt++] = d;
            cnt[d] = k + 1;
            reached++;
            const w = pW[i] * 0.5;
            contrib[d] = (idf * w) / (w + norm0 + normB * docLen[d]);
          }
        }
        const delta = this.deltaPost.get(id);
        if (delta !== undefined) {
          for (const [d, w] of delta) {
            if (cnt[d] !== k) continue;
            if (k === 0) touched[nt++] = d;
            cnt[d] = k + 1;
            reached++;
            contrib[d] = (idf * w) / (w + norm0 + normB * docLen[d]);
          }
        }
      }
      nAlive = reached;
    }
    this.nMatched = nAlive;
    const contribs = this.contrib;
    for (let i = 0; i < nt; i++) {
      const d = touched[i];
      if (cnt[d] !== ng) continue;
      let sum = acc[d];
      for (let g = 0; g < ng; g++) sum += contribs[g][d];
      acc[d] = sum;
    }
    return nt;
  }

  /**
   * Match `groups` (each a list of alternatives for one query syllable). mode `and`: a document must
   * match every group; `or`: at least `minMatch` groups. `boosts` only add score to matches.
   * The result's arrays are scratch owned by the index (valid for their first `n` entries, until the
   * next call): a query reads them before it matches again, and not allocating ~12 bytes per match
   * on every query keeps the garbage collector out of the way.
   */
  match(groups: Alt[][], boosts: Alt[], mode: 'and' | 'or', minMatch = 1): FieldMatch {
    this.ensureCapacity(this.maxId);
    const { acc, cnt, stamp, touched, mainValid, docLen, off, pDocs, pW } = this;
    // The average length of the scoring documents (see `idf` when there are none).
    const avg = this.nScoring > 0 ? this.scoringLen / this.nScoring : this.nDocs > 0 ? this.totalLen / this.nDocs : 1;
    const norm0 = K1 * (1 - B);
    const normB = (K1 * B) / avg;
    let nt = 0;
    const isAnd = mode === 'and';
    const ng = Math.min(groups.length, 250);
    // `and`: intersect group by group, rarest first when that is clearly better (matchAndReordered).
    const andOrder = isAnd && ng <= 16 ? (this.rarestFirst(groups, ng) ?? Array.from({ length: ng }, (_, g) => g)) : null;
    if (andOrder !== null) nt = this.matchAndReordered(groups, andOrder, norm0, normB);
    else for (let g = 0; g < ng; g++) {
      const mark = g + 1;
      for (const alt of groups[g]) {
        const id = this.resolve(alt.term);
        if (id === undefined) continue;
        const idf = this.idf(id) * alt.factor * (K1 + 1);
        const from = id < this.mainTerms ? off[id] : 0;
        const to = id < this.mainTerms ? off[id + 1] : 0;
        for (let i = from; i < to; i++) {
          const d = pDocs[i];
          // `and`: most postings of a later syllable miss the documents still in the running; test that first.
          const c = cnt[d];
          if (isAnd && c !== g) continue;
          if (mainValid[d] !== 1 || stamp[d] === mark) continue;
          if (c === 0) touched[nt++] = d;
          stamp[d] = mark;
          cnt[d]++;
          const w = pW[i] * 0.5;
          acc[d] += (idf * w) / (w + norm0 + normB * docLen[d]);
        }
        const delta = this.deltaPost.get(id);
        if (delta !== undefined) {
          for (const [d, w] of delta) {
            if (stamp[d] === mark) continue;
            if (isAnd && cnt[d] !== g) continue;
            if (cnt[d] === 0) touched[nt++] = d;
            stamp[d] = mark;
            cnt[d]++;
            acc[d] += (idf * w) / (w + norm0 + normB * docLen[d]);
          }
        }
      }
    }
    const need = mode === 'and' ? ng : Math.max(1, minMatch);
    /** The matched documents of an `and` match, listed in `alive` when a boost looks them up. */
    let nListed = -1;
    for (const alt of boosts) {
      const id = this.resolve(alt.term);
      if (id === undefined) continue;
      const idf = this.idf(id) * alt.factor * (K1 + 1);
      const from = id < this.mainTerms ? off[id] : 0;
      const to = id < this.mainTerms ? off[id + 1] : 0;
      if (andOrder !== null && this.lookUpRather(id, this.nMatched)) {
        const alive = this.alive;
        if (nListed < 0) {
          nListed = 0;
          for (let i = 0; i < nt; i++) if (cnt[touched[i]] >= need) alive[nListed++] = touched[i];
        }
        for (let j = 0; j < nListed; j++) {
          const d = alive[j];
          if (mainValid[d] !== 1) continue;
          const i = this.findDoc(from, to, d);
          if (i < 0) continue;
          const w = pW[i] * 0.5;
          acc[d] += (idf * w) / (w + norm0 + normB * docLen[d]);
        }
      } else for (let i = from; i < to; i++) {
        const d = pDocs[i];
        if (cnt[d] < need || mainValid[d] !== 1) continue;
        const w = pW[i] * 0.5;
        acc[d] += (idf * w) / (w + norm0 + normB * docLen[d]);
      }
      const delta = this.deltaPost.get(id);
      if (delta !== undefined) {
        for (const [d, w] of delta) if (cnt[d] >= need) acc[d] += (idf * w) / (w + norm0 + normB * docLen[d]);
      }
    }
    if (this.outIds.length < nt) {
      const cap = Math.max(nt, Math.min(this.acc.length, this.outIds.length * 2), 1024);
      this.outIds = new Int32Array(cap);
      this.outScores = new Float64Array(cap);
    }
    const ids = this.outIds;
    const scores = this.outScores;
    let n = 0;
    for (let i = 0; i < nt; i++) {
      const d = touched[i];
      if (cnt[d] >= need) {
        ids[n] = d;
        scores[n] = acc[d];
        n++;
      }
      acc[d] = 0;
      cnt[d] = 0;
      stamp[d] = 0;
    }
    return { ids, scores, n };
  }
}

/**
 * Puts the postings `[from, to)` in doc id order, weights with their documents, when they are not
 * (a list restored from a snapshot written before lists were kept in order); a pass when they are.
 */
function sortPostings(docs: Int32Array, ws: Uint16Array, from: number, to: number): void {
  let inOrder = true;
  for (let i = from + 1; i < to && inOrder; i++) inOrder = docs[i] > docs[i - 1];
  if (inOrder) return;
  const order = Array.from({ length: to - from }, (_, i) => from + i).sort((a, b) => docs[a] - docs[b]);
  const d2 = order.map((i) => docs[i]);
  const w2 = order.map((i) => ws[i]);
  docs.set(d2, from);
  ws.set(w2, from);
}

/** Serialised form of a FieldIndex (see FieldIndex.snapshot / FieldIndex.restore). */
export interface FieldSnapshot {
  meta: string;
  off: Buffer;
  docs: Buffer;
  w: Buffer;
  len: Buffer;
  present: Buffer;
  pairs: Buffer;
}

export const asBuffer = (a: ArrayBufferView): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** A typed array over a Buffer's bytes (copied when the Buffer is not aligned for the element size). */
export function viewOf<T>(buf: Uint8Array, C: { new (b: ArrayBuffer, o: number, n: number): T; BYTES_PER_ELEMENT: number }): T {
  const size = C.BYTES_PER_ELEMENT;
  if (buf.byteOffset % size === 0) return new C(buf.buffer as ArrayBuffer, buf.byteOffset, buf.byteLength / size);
  const copy = new ArrayBuffer(buf.byteLength);
  new Uint8Array(copy).set(buf);
  return new C(copy, 0, buf.byteLength / size);
}
