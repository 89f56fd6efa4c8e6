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
import { fold } from './fold.ts';

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
      if (f !== tok) add('=' + tok, w);
      if (prev !== null) add(prev + ' ' + f, w);
      prev = f;
      len += w;
    }
  }
  return { tf, len };
}

export class FieldIndex {
  private termIds = new Map<string, number>();
  private terms: string[] = [];
  private postDocs: Int32Array[] = [];
  private postW: Float32Array[] = [];
  private mainValid = new Uint8Array(0);
  private docLen = new Float32Array(0);
  private present = new Uint8Array(0);
  /** Documents (re)indexed since the last bulk load: term → doc → weight. */
  private deltaPost = new Map<number, Map<number, number>>();
  private deltaDocs = new Map<number, number[]>();
  private nDocs = 0;
  private totalLen = 0;
  private maxId = 0;
  private foldTok = createFoldMemo();
  // Query scratch buffers, sized maxId + 1.
  private acc = new Float64Array(0);
  private cnt = new Uint8Array(0);
  private stamp = new Uint8Array(0);
  private touched = new Int32Array(0);

  get size(): number {
    return this.nDocs;
  }
  get deltaSize(): number {
    return this.deltaDocs.size;
  }

  private termId(t: string): number {
    let id = this.termIds.get(t);
    if (id === undefined) {
      id = this.terms.length;
      this.terms.push(t);
      this.termIds.set(t, id);
      this.postDocs.push(new Int32Array(0));
      this.postW.push(new Float32Array(0));
    }
    return id;
  }

  private ensureCapacity(maxId: number): void {
    if (maxId < this.mainValid.length) return;
    const cap = Math.max(maxId + 1, Math.ceil(this.mainValid.length * 1.5), 1024);
    const grow = <T extends Uint8Array | Float32Array>(a: T, C: new (n: number) => T): T => {
      const b = new C(cap);
      b.set(a);
      return b;
    };
    this.mainValid = grow(this.mainValid, Uint8Array);
    this.present = grow(this.present, Uint8Array);
    this.docLen = grow(this.docLen, Float32Array);
    this.acc = new Float64Array(cap);
    this.cnt = new Uint8Array(cap);
    this.stamp = new Uint8Array(cap);
    this.touched = new Int32Array(cap);
  }

  /** Replace everything with `docs` (two passes: count, then fill typed arrays). */
  load(docs: Iterable<StoredDoc>): void {
    this.termIds = new Map();
    this.terms = [];
    this.postDocs = [];
    this.postW = [];
    this.deltaPost = new Map();
    this.deltaDocs = new Map();
    this.mainValid = new Uint8Array(0);
    this.present = new Uint8Array(0);
    this.docLen = new Float32Array(0);
    this.nDocs = 0;
    this.totalLen = 0;
    this.maxId = 0;
    let entTerm = new Int32Array(1 << 20);
    let entW = new Float32Array(1 << 20);
    let nEnt = 0;
    const docIds: number[] = [];
    const docEnd: number[] = [];
    const lens: number[] = [];
    const counts: number[] = [];
    for (const doc of docs) {
      const { tf, len } = analyse(doc, this.foldTok);
      if (nEnt + tf.size > entTerm.length) {
        const n = Math.max(entTerm.length * 2, nEnt + tf.size);
        const t2 = new Int32Array(n);
        t2.set(entTerm);
        entTerm = t2;
        const w2 = new Float32Array(n);
        w2.set(entW);
        entW = w2;
      }
      for (const [t, w] of tf) {
        const id = this.termId(t);
        counts[id] = (counts[id] ?? 0) + 1;
        entTerm[nEnt] = id;
        entW[nEnt] = w;
        nEnt++;
      }
      docIds.push(doc.id);
      docEnd.push(nEnt);
      lens.push(len);
      if (doc.id > this.maxId) this.maxId = doc.id;
    }
    this.ensureCapacity(this.maxId);
    const fill = new Int32Array(this.terms.length);
    for (let t = 0; t < this.terms.length; t++) {
      this.postDocs[t] = new Int32Array(counts[t] ?? 0);
      this.postW[t] = new Float32Array(counts[t] ?? 0);
    }
    let start = 0;
    for (let i = 0; i < docIds.length; i++) {
      const d = docIds[i];
      for (let e = start; e < docEnd[i]; e++) {
        const t = entTerm[e];
        const k = fill[t]++;
        this.postDocs[t][k] = d;
        this.postW[t][k] = entW[e];
      }
      start = docEnd[i];
      if (!this.present[d]) this.nDocs++;
      this.present[d] = 1;
      this.mainValid[d] = 1;
      this.docLen[d] = lens[i];
      this.totalLen += lens[i];
    }
  }

  /** Add or replace one document (kept in the delta until the next bulk load). */
  upsert(doc: StoredDoc): void {
    this.remove(doc.id);
    const { tf, len } = analyse(doc, this.foldTok);
    if (doc.id > this.maxId) this.maxId = doc.id;
    this.ensureCapacity(doc.id);
    const termList: number[] = [];
    for (const [t, w] of tf) {
      const id = this.termId(t);
      let m = this.deltaPost.get(id);
      if (m === undefined) this.deltaPost.set(id, (m = new Map()));
      m.set(doc.id, w);
      termList.push(id);
    }
    this.deltaDocs.set(doc.id, termList);
    this.present[doc.id] = 1;
    this.docLen[doc.id] = len;
    this.totalLen += len;
    this.nDocs++;
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
  }

  has(id: number): boolean {
    return id < this.present.length && this.present[id] === 1;
  }

  /** Document frequency of a term (main postings may hold stale entries of re-indexed documents). */
  df(term: string): number {
    const id = this.termIds.get(term);
    if (id === undefined) return 0;
    return this.postDocs[id].length + (this.deltaPost.get(id)?.size ?? 0);
  }

  /** Distinct single-syllable folded terms with their document frequency (the typo vocabulary). */
  *unigrams(): Iterable<[string, number]> {
    for (let id = 0; id < this.terms.length; id++) {
      const t = this.terms[id];
      if (t.charCodeAt(0) === 61 /* = */ || t.includes(' ')) continue;
      const n = this.postDocs[id].length + (this.deltaPost.get(id)?.size ?? 0);
      if (n > 0) yield [t, n];
    }
  }

  private idf(id: number): number {
    const df = this.postDocs[id].length + (this.deltaPost.get(id)?.size ?? 0);
    const N = Math.max(this.nDocs, 1);
    return Math.log(1 + (N - df + 0.5) / (df + 0.5));
  }

  /**
   * Match `groups` (each a list of alternatives for one query syllable). mode `and`: a document must
   * match every group; `or`: at least `minMatch` groups. `boosts` only add score to matches.
   */
  match(groups: Alt[][], boosts: Alt[], mode: 'and' | 'or', minMatch = 1): FieldMatch {
    this.ensureCapacity(this.maxId);
    const { acc, cnt, stamp, touched, mainValid, docLen } = this;
    const avg = this.nDocs > 0 ? this.totalLen / this.nDocs : 1;
    let nt = 0;
    const ng = Math.min(groups.length, 250);
    for (let g = 0; g < ng; g++) {
      const mark = (g % 250) + 1;
      for (const alt of groups[g]) {
        const id = this.termIds.get(alt.term);
        if (id === undefined) continue;
        const idf = this.idf(id) * alt.factor;
        const visit = (d: number, w: number) => {
          if (stamp[d] === mark) return;
          if (mode === 'and') {
            if (cnt[d] !== g) return;
          }
          if (cnt[d] === 0 && g === 0) touched[nt++] = d;
          else if (cnt[d] === 0 && mode === 'or') touched[nt++] = d;
          stamp[d] = mark;
          cnt[d]++;
          acc[d] += (idf * w * (K1 + 1)) / (w + K1 * (1 - B + (B * docLen[d]) / avg));
        };
        const docs = this.postDocs[id];
        const ws = this.postW[id];
        for (let i = 0; i < docs.length; i++) {
          const d = docs[i];
          if (mainValid[d] === 1) visit(d, ws[i]);
        }
        const delta = this.deltaPost.get(id);
        if (delta !== undefined) for (const [d, w] of delta) visit(d, w);
      }
    }
    const need = mode === 'and' ? ng : Math.max(1, minMatch);
    for (const alt of boosts) {
      const id = this.termIds.get(alt.term);
      if (id === undefined) continue;
      const idf = this.idf(id) * alt.factor;
      const visit = (d: number, w: number) => {
        if (cnt[d] < need) return;
        acc[d] += (idf * w * (K1 + 1)) / (w + K1 * (1 - B + (B * docLen[d]) / avg));
      };
      const docs = this.postDocs[id];
      const ws = this.postW[id];
      for (let i = 0; i < docs.length; i++) if (mainValid[docs[i]] === 1) visit(docs[i], ws[i]);
      const delta = this.deltaPost.get(id);
      if (delta !== undefined) for (const [d, w] of delta) visit(d, w);
    }
    const ids = new Int32Array(nt);
    const scores = new Float64Array(nt);
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
