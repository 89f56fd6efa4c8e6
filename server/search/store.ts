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
 *                    with the fingerprint it matches, so a start-up restores it instead of re-analysing;
 *                    for a database in a file, the snapshot is a file beside it instead (snapshotFileOf)
 * The FTS tables are contentless and `detail=none`: they only answer "which rows hold all these
 * terms". Adjacency is indexed as pair tokens (`giao_duc`), so phrase and proximity questions are
 * plain term lookups too: with positions, a phrase over 1,000 books of 50–300 pages cost 25–80 ms,
 * rowid-only lookups cost about 1 ms. Snippets are cut from `blob_texts`, in the original spelling.
 */
import { closeSync, fstatSync, fsyncSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
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

/**
 * The snapshot file of a database in a file: beside it, as SQLite keeps its `-wal` (`kho.sqlite-search`);
 * null for an in-memory database (its snapshot stays in `search_snapshot`).
 *
 * A file rather than rows: read with `readSync` straight into the arrays the index keeps (shared memory
 * with query workers), where rows came through SQLite's page cache and a copy of each 8 MiB chunk first.
 * On this VM every megabyte of memory touched for the first time costs ~5 ms, and the rows' way touched
 * the 120 MB of postings (at 100,000 records) three times: 0.9–1.0 s against ~0.5 s from the file. It
 * also keeps 120 MB of derived bytes out of the database and so out of every backup.
 */
export function snapshotFileOf(sqlite: Database.Database): string | null {
  const name = sqlite.name;
  if (sqlite.memory || !name || name === ':memory:') return null;
  return `${name}-search`;
}

const FILE_MAGIC = Buffer.from('KHOSNAP1', 'latin1');
const READ_STEP = 16 * 2 ** 20;

/**
 * Write the snapshot file: magic, header length (u32 LE), a JSON header `{ key, parts: [[name, at, n]] }`,
 * then each part at an 8-byte aligned offset. Written to `<file>.tmp`, flushed, then renamed over the
 * file, so a reader finds the old file or the new one whole.
 */
export function saveSnapshotFile(file: string, parts: Record<string, Buffer | string>, key: string): void {
  const bufs = Object.entries(parts).map(([name, v]) => [name, typeof v === 'string' ? Buffer.from(v, 'utf8') : v] as const);
  const layout = (start: number) => {
    let at = start;
    return bufs.map(([name, b]) => {
      at = Math.ceil(at / 8) * 8;
      const entry: [string, number, number] = [name, at, b.length];
      at += b.length;
      return entry;
    });
  };
  // The header holds the offsets, which depend on its own length: it gets room for 16 more digits per
  // part than a layout from 0 needs, and is padded with spaces to that room.
  const room = Buffer.byteLength(JSON.stringify({ key, parts: layout(0) }), 'utf8') + 16 * bufs.length + 16;
  const entries = layout(FILE_MAGIC.length + 4 + room);
  const json = JSON.stringify({ key, parts: entries });
  if (Buffer.byteLength(json, 'utf8') > room) throw new Error('search snapshot: header larger than its room');
  const header = Buffer.alloc(room, 0x20);
  header.write(json, 0, 'utf8');
  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    const len = Buffer.alloc(4);
    len.writeUInt32LE(header.length);
    writeAll(fd, FILE_MAGIC, 0);
    writeAll(fd, len, FILE_MAGIC.length);
    writeAll(fd, header, FILE_MAGIC.length + 4);
    bufs.forEach(([, b], i) => writeAll(fd, b, entries[i][1]));
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, file);
}

function writeAll(fd: number, b: Buffer, at: number): void {
  for (let done = 0; done < b.length; ) done += writeSync(fd, b, done, Math.min(READ_STEP, b.length - done), at + done);
}

/**
 * The parts of the snapshot file when it exists and was written for `key`, else null (a missing,
 * short or foreign file included). Parts named in `shared` are read into SharedArrayBuffer memory.
 */
export function loadSnapshotFile(file: string, key: string, shared: readonly string[] = []): Record<string, Buffer> | null {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return null;
  }
  try {
    const size = fstatSync(fd).size;
    const head = Buffer.alloc(FILE_MAGIC.length + 4);
    if (size < head.length || readSync(fd, head, 0, head.length, 0) !== head.length || !head.subarray(0, FILE_MAGIC.length).equals(FILE_MAGIC)) return null;
    const hlen = head.readUInt32LE(FILE_MAGIC.length);
    if (hlen > size - head.length || hlen > 16 * 2 ** 20) return null;
    const hbuf = Buffer.alloc(hlen);
    if (readSync(fd, hbuf, 0, hlen, head.length) !== hlen) return null;
    const header = JSON.parse(hbuf.toString('utf8')) as { key?: unknown; parts?: unknown };
    if (header.key !== key || !Array.isArray(header.parts)) return null;
    const parts: Record<string, Buffer> = {};
    for (const entry of header.parts as unknown[]) {
      if (!Array.isArray(entry) || typeof entry[0] !== 'string' || !Number.isSafeInteger(entry[1]) || !Number.isSafeInteger(entry[2])) return null;
      const [name, at, n] = entry as [string, number, number];
      if (at < 0 || n < 0 || at + n > size) return null;
      const buf = shared.includes(name) ? Buffer.from(new SharedArrayBuffer(n)) : Buffer.allocUnsafeSlow(n);
      for (let done = 0; done < n; ) {
        const got = readSync(fd, buf, done, Math.min(READ_STEP, n - done), at + done);
        if (got <= 0) return null;
        done += got;
      }
      parts[name] = buf;
    }
    return parts;
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}
