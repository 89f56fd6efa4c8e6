/**
 * Builds the fixed Vietnamese test catalogue (catalogue.json + texts.json) into a catalogue database.
 * Deterministic: the same ids, texts and pages on every run.
 */
import type Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

interface FileSpec {
  source: 'plan' | 'thongTu' | 'anLe43' | 'anLe26' | 'longBook';
  media: string;
  /** >0: that many source lines per page; 0: one page; -1: the source is already paged. */
  linesPerPage: number;
}

interface ProductSpec {
  key: string;
  title: string;
  type: string;
  agency: string;
  year: number;
  languages?: string[];
  subjects?: string[];
  description?: string;
  access?: string;
  state?: string;
  file?: FileSpec;
}

interface CatalogueSpec {
  agencies: Array<{ code: string; name: string; shortName?: string }>;
  products: ProductSpec[];
  longBook: { pages: number; linesPerPage: number; planted: Array<{ page: number; text: string }> };
  synthetic: { count: number; source: 'thongTu' };
}

export type Texts = { plan: string[]; anLe43: string[]; anLe26: string[]; thongTu: string[] };

const dir = new URL('./', import.meta.url);
export const catalogueSpec = (): CatalogueSpec => JSON.parse(readFileSync(new URL('catalogue.json', dir), 'utf8'));
export const texts = (): Texts => JSON.parse(readFileSync(new URL('texts.json', dir), 'utf8'));

/** A small deterministic PRNG (LCG), so synthetic records never change between runs. */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

export function longBookPages(t: Texts, spec: CatalogueSpec['longBook']): string[] {
  const pool = [...t.plan, ...t.thongTu, ...t.anLe26].filter((l) => l.length > 30);
  const pages: string[] = [];
  for (let p = 1; p <= spec.pages; p++) {
    const lines: string[] = [];
    for (let k = 0; k < spec.linesPerPage; k++) lines.push(pool[(p * spec.linesPerPage + k) * 13 % pool.length]);
    for (const pl of spec.planted) if (pl.page === p) lines.splice(3, 0, pl.text);
    pages.push(lines.join('\n'));
  }
  return pages;
}

function pagesOf(f: FileSpec, t: Texts, spec: CatalogueSpec): string[] {
  if (f.source === 'longBook') return longBookPages(t, spec.longBook);
  const lines = t[f.source];
  if (f.linesPerPage < 0) return lines;
  if (f.linesPerPage === 0) return [lines.join('\n')];
  const out: string[] = [];
  for (let i = 0; i < lines.length; i += f.linesPerPage) out.push(lines.slice(i, i + f.linesPerPage).join('\n'));
  return out;
}

export interface LoadedCatalogue {
  ids: Map<string, number>;
  keys: Map<number, string>;
  /** Product key → agency code. */
  agencyOf: Map<string, string>;
  /** Product key → visible to the public (published and public). */
  isPublic: Map<string, boolean>;
  agencyIds: Map<string, number>;
  blobs: Map<string, string>;
}

/** Insert the test catalogue. `syntheticCount` overrides the number of synthetic distractor records. */
export function loadCatalogue(sqlite: Database.Database, syntheticCount?: number): LoadedCatalogue {
  const spec = catalogueSpec();
  const t = texts();
  const ids = new Map<string, number>();
  const keys = new Map<number, string>();
  const agencyOf = new Map<string, string>();
  const isPublic = new Map<string, boolean>();
  const agencyIds = new Map<string, number>();
  const blobs = new Map<string, string>();
  const insAgency = sqlite.prepare('INSERT INTO agencies(code, name, short_name) VALUES (?, ?, ?)');
  const insProduct = sqlite.prepare(
    `INSERT INTO products(title, type, description, agency_id, year, release_date, languages, subjects, access, state)
     VALUES (@title, @type, @description, @agency, @year, @date, @languages, @subjects, @access, @state)`,
  );
  const insBlob = sqlite.prepare('INSERT OR IGNORE INTO blobs(sha256, size, media_type, kind, page_count) VALUES (?, ?, ?, ?, ?)');
  const insText = sqlite.prepare('INSERT OR IGNORE INTO blob_texts(sha256, page, text) VALUES (?, ?, ?)');
  const insFile = sqlite.prepare('INSERT INTO product_files(product_id, sha256, original_name, position) VALUES (?, ?, ?, 0)');
  sqlite.transaction(() => {
    for (const a of spec.agencies) agencyIds.set(a.code, Number(insAgency.run(a.code, a.name, a.shortName ?? null).lastInsertRowid));
    const add = (p: ProductSpec) => {
      const id = Number(
        insProduct.run({
          title: p.title,
          type: p.type,
          description: p.description ?? null,
          agency: agencyIds.get(p.agency) ?? null,
          year: p.year,
          date: `${p.year}-06-01`,
          languages: JSON.stringify(p.languages ?? ['vi']),
          subjects: JSON.stringify(p.subjects ?? []),
          access: p.access ?? 'public',
          state: p.state ?? 'published',
        }).lastInsertRowid,
      );
      ids.set(p.key, id);
      keys.set(id, p.key);
      agencyOf.set(p.key, p.agency);
      isPublic.set(p.key, (p.access ?? 'public') === 'public' && (p.state ?? 'published') === 'published');
      if (p.file) {
        const pages = pagesOf(p.file, t, spec);
        const sha = createHash('sha256').update(pages.join('\f')).digest('hex');
        const kind = p.file.media === 'application/pdf' ? 'pdf' : p.file.media === 'text/plain' ? 'text' : 'office';
        insBlob.run(sha, pages.join('\f').length, p.file.media, kind, pages.length);
        pages.forEach((txt, i) => insText.run(sha, i + 1, txt));
        insFile.run(id, sha, `${p.key}.bin`);
        blobs.set(p.key, sha);
      }
    };
    for (const p of spec.products) add(p);
    const rnd = lcg(20230118);
    const source = t[spec.synthetic.source].filter((l) => l.split(' ').length >= 12);
    const types = ['book', 'leaflet', 'flyer', 'document', 'video', 'audio', 'photo'];
    const agencyCodes = spec.agencies.map((a) => a.code);
    const n = syntheticCount ?? spec.synthetic.count;
    for (let i = 0; i < n; i++) {
      const words = source[Math.floor(rnd() * source.length)].split(' ');
      const start = Math.floor(rnd() * Math.max(1, words.length - 8));
      const title = words.slice(start, start + 5 + Math.floor(rnd() * 5)).join(' ');
      const dwords = source[Math.floor(rnd() * source.length)].split(' ');
      add({
        key: `syn-${i}`,
        title: title.charAt(0).toUpperCase() + title.slice(1),
        type: types[Math.floor(rnd() * types.length)],
        agency: agencyCodes[Math.floor(rnd() * agencyCodes.length)],
        year: 2016 + Math.floor(rnd() * 9),
        description: dwords.slice(0, 30).join(' '),
        subjects: [],
      });
    }
  })();
  return { ids, keys, agencyOf, isPublic, agencyIds, blobs };
}
