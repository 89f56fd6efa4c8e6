/**
 * Per-product filter and facet attributes in typed arrays indexed by product id, so that filtering,
 * visibility and facet counting over tens of thousands of matches take about a millisecond.
 */
import { grownTo } from './typed-arrays.ts';

/** A small dictionary of string values to dense codes (code 0 is "none"). */
export class Codes {
  readonly names: string[] = [''];
  private ids = new Map<string, number>();
  constructor(private readonly max: number) {}
  code(s: string | null | undefined): number {
    if (s === null || s === undefined || s === '') return 0;
    let c = this.ids.get(s);
    if (c === undefined) {
      if (this.names.length >= this.max) return 0;
      c = this.names.length;
      this.names.push(s);
      this.ids.set(s, c);
    }
    return c;
  }
  /** The code of a value as stored, else of one differing only in case (`Book` → book, `VI` → vi). */
  find(s: string): number | undefined {
    const exact = this.ids.get(s);
    if (exact !== undefined) return exact;
    const lower = s.toLowerCase();
    const i = this.names.findIndex((n) => n !== '' && n.toLowerCase() === lower);
    return i > 0 ? i : undefined;
  }
  get size(): number {
    return this.names.length;
  }
}

export interface FacetAttrs {
  type: string;
  state: string;
  access: string;
  agencyId: number | null;
  year: number | null;
  langs: string[];
}

/**
 * Bit 31 of a record's language mask: the record holds a language beyond the first 31 distinct codes
 * (those get bits 0–30), listed in `FacetTable.moreLangs`. Language codes are an open list (any
 * `xx`/`xxx` code): before, the 33rd distinct code got no bit, so its records were neither counted in
 * the language facet nor found by `language=` that code.
 */
export const MORE_LANGS = 0x80000000;

/** A `language` filter as codes: bits of the first 31 codes, and the codes beyond (see MORE_LANGS). */
export interface LangSelection {
  mask: number;
  more: Set<number>;
}

export class FacetTable {
  readonly types = new Codes(255);
  readonly states = new Codes(255);
  readonly accesses = new Codes(255);
  /** Language codes: the first 31 as bits of a 32-bit mask, any beyond in `moreLangs` (MORE_LANGS). */
  readonly languages = new Codes(65_535);
  /** Product id → the codes (≥ 32) of its languages beyond the mask's bits. */
  readonly moreLangs = new Map<number, number[]>();
  present = new Uint8Array(0);
  type = new Uint8Array(0);
  state = new Uint8Array(0);
  access = new Uint8Array(0);
  agency = new Int32Array(0);
  year = new Int32Array(0);
  langs = new Uint32Array(0);
  /**
   * type | state << 8 | access << 16 | present << 24 in one word (codes are below 256), so the
   * per-match loop of a query reads one array where it read four.
   */
  packed = new Uint32Array(0);

  private grow(id: number): void {
    if (id < this.present.length) return;
    const cap = Math.max(id + 1, Math.ceil(this.present.length * 1.5), 1024);
    this.present = grownTo(this.present, cap);
    this.type = grownTo(this.type, cap);
    this.state = grownTo(this.state, cap);
    this.access = grownTo(this.access, cap);
    this.agency = grownTo(this.agency, cap);
    this.year = grownTo(this.year, cap);
    this.langs = grownTo(this.langs, cap);
    this.packed = grownTo(this.packed, cap);
  }

  set(id: number, a: FacetAttrs): void {
    this.grow(id);
    this.present[id] = 1;
    this.type[id] = this.types.code(a.type);
    this.state[id] = this.states.code(a.state);
    this.access[id] = this.accesses.code(a.access);
    this.agency[id] = a.agencyId ?? -1;
    this.year[id] = a.year ?? 0;
    let mask = 0;
    let more: number[] | null = null;
    for (const l of a.langs) {
      const c = this.languages.code(l);
      if (c === 0) continue;
      if (c < 32) mask |= 1 << (c - 1);
      else {
        mask |= MORE_LANGS;
        (more ??= []).push(c);
      }
    }
    this.langs[id] = mask >>> 0;
    if (more !== null) this.moreLangs.set(id, more);
    else this.moreLangs.delete(id);
    this.packed[id] = (this.type[id] | (this.state[id] << 8) | (this.access[id] << 16) | (1 << 24)) >>> 0;
  }

  clear(id: number): void {
    this.moreLangs.delete(id);
    if (id < this.present.length) {
      this.present[id] = 0;
      this.packed[id] = 0;
    }
  }

  /** The codes of a list of language codes (any case), as a filter; codes no record holds are left out. */
  langSelection(list: readonly string[]): LangSelection {
    const sel: LangSelection = { mask: 0, more: new Set() };
    for (const l of list) {
      const c = this.languages.find(l);
      if (c === undefined) continue;
      if (c < 32) sel.mask |= 1 << (c - 1);
      else sel.more.add(c);
    }
    return sel;
  }

  /** Whether record `id`, whose language mask is `lm`, holds one of the selected languages. */
  hasLang(id: number, lm: number, sel: LangSelection): boolean {
    if ((lm & sel.mask & ~MORE_LANGS) !== 0) return true;
    if ((lm & MORE_LANGS) === 0 || sel.more.size === 0) return false;
    for (const c of this.moreLangs.get(id) ?? []) if (sel.more.has(c)) return true;
    return false;
  }

  /** Count record `id`'s languages (mask `lm`) into `counts`, indexed by language code (length ≥ languages.size). */
  countLangs(id: number, lm: number, counts: Int32Array): void {
    for (let rest = lm & ~MORE_LANGS; rest !== 0; rest &= rest - 1) counts[32 - Math.clz32(rest & -rest)]++;
    if ((lm & MORE_LANGS) !== 0) for (const c of this.moreLangs.get(id) ?? []) counts[c]++;
  }

  has(id: number): boolean {
    return id < this.present.length && this.present[id] === 1;
  }
}
