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

export class FacetTable {
  readonly types = new Codes(255);
  readonly states = new Codes(255);
  readonly accesses = new Codes(255);
  /** Language codes as bits of a 32-bit mask (the first 32 distinct codes; more are not faceted). */
  readonly languages = new Codes(33);
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
    for (const l of a.langs) {
      const c = this.languages.code(l);
      if (c > 0) mask |= 1 << (c - 1);
    }
    this.langs[id] = mask >>> 0;
    this.packed[id] = (this.type[id] | (this.state[id] << 8) | (this.access[id] << 16) | (1 << 24)) >>> 0;
  }

  clear(id: number): void {
    if (id < this.present.length) {
      this.present[id] = 0;
      this.packed[id] = 0;
    }
  }

  has(id: number): boolean {
    return id < this.present.length && this.present[id] === 1;
  }
}
