/**
 * The search module's own tables inside the catalogue database (derived state, prefix `search_`).
 * They are created here with IF NOT EXISTS, not by drizzle migrations, and carry a format version
 * in `meta`: a different version drops and rebuilds them.
 *
 *   search_docs      one row per product: analysed catalogue fields (lower-case NFC token streams)
 *   search_blob_ids  numeric id per blob with extracted text (FTS rowids are integers)
 *   search_blob      FTS5, one row per blob: folded syllables and syllable pairs of all its pages
 *   search_page_terms  per file and folded syllable, the pages holding it (Uint16 list): locating the
 *                    page of a passage is a few primary-key lookups (an FTS5 page table restricted to
 *                    one file's rowid range cost 3–7 ms CPU per lookup at 170,000 pages)
 *   search_text_vocab  folded syllables of the texts with their blob counts (typo vocabulary)
 *   search_snapshot  the in-memory field index as typed-array bytes, written at a clean close together
 *                    with the fingerprint it matches, so a start-up restores it instead of re-analysing
 * The FTS tables are contentless and `detail=none`: they only answer "which rows hold all these
 * terms". Adjacency is indexed as pair tokens (`giao_duc`), so phrase and proximity questions are
 * plain term lookups too: with positions, a phrase over 1,000 books of 50–300 pages cost 25–80 ms,
 * rowid-only lookups cost about 1 ms. Snippets are cut from `blob_texts`, in the original spelling.
 */
import type Database from 'better-sqlite3';

/** 6: search_docs no longer hold "tiếng Việt", nor "tiếng" before the other language names (service.ts LANGUAGE_LABELS). */
export const INDEX_VERSION = '6';

export function createTables(sqlite: Database.Database): void {
  sqlite.exec(`
    CREATE TABLE IF NOT EXISTS search_docs (
      product_id INTEGER PRIMARY KEY,
      title TEXT NOT NULL, agency TEXT NOT NULL, subjects TEXT NOT NULL, meta TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS search_blob_ids (
      id INTEGER PRIMARY KEY, sha256 TEXT NOT NULL UNIQUE, paged INTEGER NOT NULL DEFAULT 0, pages INTEGER NOT NULL DEFAULT 0
    );
    CREATE VIRTUAL TABLE IF NOT EXISTS search_blob USING fts5(body, content='', contentless_delete=1, detail=none, tokenize="unicode61 remove_diacritics 0 tokenchars '_'");
    CREATE TABLE IF NOT EXISTS search_page_terms (blob_id INTEGER NOT NULL, term TEXT NOT NULL, pages BLOB NOT NULL, PRIMARY KEY (blob_id, term)) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS search_text_vocab (term TEXT PRIMARY KEY, df INTEGER NOT NULL) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS search_snapshot (name TEXT PRIMARY KEY, data BLOB NOT NULL);
  `);
}

export function dropTables(sqlite: Database.Database): void {
  sqlite.exec(`
    DROP TABLE IF EXISTS search_blob_vocab;
    DROP TABLE IF EXISTS search_text_vocab;
    DROP TABLE IF EXISTS search_snapshot;
    DROP TABLE IF EXISTS search_blob;
    DROP TABLE IF EXISTS search_page;
    DROP TABLE IF EXISTS search_page_terms;
    DROP TABLE IF EXISTS search_blob_ids;
    DROP TABLE IF EXISTS search_docs;
  `);
}

export function getMeta(sqlite: Database.Database, key: string): string | null {
  const row = sqlite.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined;
  return row?.value ?? null;
}

export function setMeta(sqlite: Database.Database, key: string, value: string): void {
  sqlite.prepare('INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value);
}

/**
 * A cheap fingerprint of what the index is derived from. Every catalogue write bumps a product's
 * `version` or `updated_at`; new texts add `blob_texts` rows, and a text extracted again (same
 * number of pages: `npm run rederive -- --process` with the server stopped) replaces its rows, which
 * moves the table's highest rowid; the agencies' names, short names and codes are hashed. So a
 * change anywhere changes it.
 */
export function fingerprint(sqlite: Database.Database): string {
  // Three statements, each answered from an index (products_version_idx, products_updated_idx, the
  // smallest one for the count): together in one, they scanned the whole table (~0.4 s at 100,000 records).
  const p = sqlite.prepare('SELECT count(*) AS n, coalesce(max(id), 0) AS mx FROM products').get() as { n: number; mx: number };
  const v = sqlite.prepare('SELECT coalesce(total(version), 0) FROM products').pluck().get() as number;
  const u = sqlite.prepare("SELECT coalesce(max(updated_at), '') FROM products").pluck().get() as string;
  const f = sqlite.prepare('SELECT count(*) AS n, coalesce(max(id), 0) AS mx FROM product_files').get() as { n: number; mx: number };
  const t = sqlite.prepare('SELECT count(*) AS n, coalesce(max(rowid), 0) AS mx FROM blob_texts').get() as { n: number; mx: number };
  const a = sqlite
    .prepare("SELECT count(*) AS n, coalesce(group_concat(id || ':' || name || ':' || coalesce(short_name, '') || ':' || code, ','), '') AS s FROM agencies")
    .get() as { n: number; s: string };
  let h = 0;
  for (let i = 0; i < a.s.length; i++) h = (Math.imul(h, 31) + a.s.charCodeAt(i)) | 0;
  return [p.n, p.mx, v, u, f.n, f.mx, t.n, t.mx, a.n, h].join('/');
}

/** Index body of a folded text: its syllables, then its adjacent syllable pairs as `a_b` tokens. */
export function withPairs(folded: string): string {
  if (folded.length === 0) return '';
  const toks = folded.split(' ');
  const pairs: string[] = new Array(Math.max(0, toks.length - 1));
  for (let i = 0; i + 1 < toks.length; i++) pairs[i] = toks[i] + '_' + toks[i + 1];
  return folded + ' ' + pairs.join(' ');
}

/**
 * Snapshot parts larger than this are stored as several rows (`docs#0`, `docs#1`, …): reading one
 * row hands JS a copy of the whole value, so a part read as chunks into its final buffer costs one
 * chunk of extra memory instead of the whole part (the postings are ~80 MB each at 100,000 records).
 */
const SNAPSHOT_CHUNK = 8 * 2 ** 20;

export function saveSnapshot(sqlite: Database.Database, parts: Record<string, Buffer | string>, fp: string): void {
  const put = sqlite.prepare('INSERT INTO search_snapshot(name, data) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET data = excluded.data');
  sqlite.transaction(() => {
    sqlite.prepare('DELETE FROM search_snapshot').run();
    for (const [k, v] of Object.entries(parts)) {
      const b = typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
      if (b.length <= SNAPSHOT_CHUNK) put.run(k, b);
      else for (let i = 0, at = 0; at < b.length; i++, at += SNAPSHOT_CHUNK) put.run(`${k}#${i}`, b.subarray(at, Math.min(b.length, at + SNAPSHOT_CHUNK)));
    }
    put.run('fingerprint', Buffer.from(fp, 'utf8'));
  })();
}

/**
 * The snapshot parts when one exists for exactly this fingerprint, else null. Parts named in
 * `shared` are read into SharedArrayBuffer memory (for query workers, see FieldIndex.shareArrays).
 */
export function loadSnapshot(sqlite: Database.Database, fp: string, shared: readonly string[] = []): Record<string, Buffer> | null {
  const stored = sqlite.prepare("SELECT data FROM search_snapshot WHERE name = 'fingerprint'").pluck().get() as Buffer | undefined;
  if (stored === undefined || stored.toString('utf8') !== fp) return null;
  const baseOf = (name: string) => {
    const h = name.indexOf('#');
    return h < 0 ? name : name.slice(0, h);
  };
  const sizes = new Map<string, number>();
  for (const r of sqlite.prepare("SELECT name, length(data) AS n FROM search_snapshot WHERE name <> 'fingerprint'").all() as Array<{ name: string; n: number }>) {
    sizes.set(baseOf(r.name), (sizes.get(baseOf(r.name)) ?? 0) + r.n);
  }
  const parts: Record<string, Buffer> = {};
  const filled = new Map<string, number>();
  for (const [name, n] of sizes) {
    parts[name] = shared.includes(name) ? Buffer.from(new SharedArrayBuffer(n)) : Buffer.allocUnsafeSlow(n);
    filled.set(name, 0);
  }
  // Chunks in order (#0, #1, …, #10: by number, not by name), each copied to its place and dropped.
  const names = [...(sqlite.prepare("SELECT name FROM search_snapshot WHERE name <> 'fingerprint'").pluck().all() as string[])].sort((a, b) => {
    const ba = baseOf(a);
    const bb = baseOf(b);
    if (ba !== bb) return ba < bb ? -1 : 1;
    return Number(a.slice(ba.length + 1) || 0) - Number(b.slice(bb.length + 1) || 0);
  });
  const one = sqlite.prepare('SELECT data FROM search_snapshot WHERE name = ?').pluck();
  for (const name of names) {
    const base = baseOf(name);
    const data = one.get(name) as Buffer;
    const at = filled.get(base)!;
    data.copy(parts[base], at);
    filled.set(base, at + data.length);
  }
  return parts;
}
