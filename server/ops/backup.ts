/**
 * Backup and restore of the whole store.
 *
 * A backup folder holds any number of snapshots that share one content-addressed blob folder:
 * ```
 * <dest>/blobs/ab/cd/<sha256>            originals, copied once (incremental: only new ones)
 * <dest>/blobs/ab/cd/<sha256>.d/<name>   derivatives (copied when new or changed)
 * <dest>/snapshots/<stamp>/kho.sqlite    the database, taken with SQLite's online backup API
 * <dest>/snapshots/<stamp>/manifest.json checksums of the database file, every blob and derivative
 * <dest>/LATEST                          the stamp of the newest complete snapshot
 * ```
 * The database is copied first, while the server keeps running (WAL readers see one consistent
 * state); then exactly the blobs and derivatives that snapshot references are copied, each hashed
 * while copied and checked against its name, so a corrupt source blob is reported, not backed up.
 * A snapshot becomes LATEST only once its manifest is complete.
 */
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openDatabase } from '../db/client.ts';
import { dataPaths } from '../plugins/services.ts';
import { makeDirs } from '../storage/make-dirs.ts';
import { blobRel, ChecksumMismatch, copyVerified, hashFile } from './hash.ts';
import type { Progress } from './progress.ts';

export const MANIFEST_VERSION = 1;

export interface SnapshotManifest {
  version: number;
  createdAt: string;
  stamp: string;
  database: { file: string; sha256: string; size: number; schemaMigrations: number };
  counts: { products: number; productFiles: number; blobs: number; derivatives: number; bytes: number };
  blobs: Array<{ sha256: string; size: number }>;
  derivatives: Array<{ sha256: string; name: string; size: number; fileSha256: string }>;
}

export interface BackupResult {
  dest: string;
  stamp: string;
  snapshotDir: string;
  manifest: SnapshotManifest;
  copied: { blobs: number; derivatives: number; bytes: number };
  reused: { blobs: number; derivatives: number };
  problems: Array<{ code: 'BLOB_MISSING' | 'BLOB_CORRUPT' | 'DERIVATIVE_MISSING'; sha256: string; name?: string; message: string }>;
  seconds: number;
}

export interface BackupOptions {
  dataDir: string;
  dest: string;
  /** Files copied at the same time. */
  concurrency?: number;
  progress?: Progress | null;
  /** Fixed stamp (tests); default: UTC time `YYYYMMDDTHHMMSSZ`. */
  stamp?: string;
  /** Called with the `.partial-<stamp>` folder as soon as it is made (removed by an interrupted script). */
  onPartial?: (dir: string) => void;
}

export const stampOf = (d: Date) => d.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');

async function pool<T>(items: T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(n, items.length)) }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

async function sizeOrNull(p: string): Promise<{ size: number; mtimeMs: number } | null> {
  try {
    const s = await stat(p);
    return s.isFile() ? { size: s.size, mtimeMs: s.mtimeMs } : null;
  } catch {
    return null;
  }
}

/** Take a consistent snapshot of a (possibly running) store into `dest`. */
export async function backup(opts: BackupOptions): Promise<BackupResult> {
  const started = Date.now();
  const paths = dataPaths(opts.dataDir);
  if (!(await sizeOrNull(paths.dbFile))) throw new Error(`no database at ${paths.dbFile}`);
  const snapshotsDir = join(opts.dest, 'snapshots');
  await makeDirs(snapshotsDir);
  let stamp: string;
  if (opts.stamp !== undefined) {
    // A name given by the caller: made again from scratch.
    stamp = opts.stamp;
    await rm(join(snapshotsDir, `.partial-${stamp}`), { recursive: true, force: true });
    await mkdir(join(snapshotsDir, `.partial-${stamp}`));
  } else {
    // Named by the second it starts; a second backup in the same second (or one running beside it)
    // takes the next free name (-2, -3…) instead of replacing it. Creating the partial folder claims
    // the name atomically.
    const base = stampOf(new Date());
    for (let n = 1; ; n++) {
      const candidate = n === 1 ? base : `${base}-${n}`;
      if (existsSync(join(snapshotsDir, candidate))) continue;
      try {
        await mkdir(join(snapshotsDir, `.partial-${candidate}`));
        stamp = candidate;
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || n > 1000) throw e;
      }
    }
  }
  const snapshotDir = join(snapshotsDir, stamp);
  const partialDir = join(snapshotsDir, `.partial-${stamp}`);
  opts.onPartial?.(partialDir);
  await makeDirs(join(opts.dest, 'blobs'));

  // 1. The database, through the online backup API: one step, so writers on other connections
  //    (the live server) cannot force it to restart; in WAL mode they are not blocked meanwhile.
  const src = openDatabase(paths.dbFile, { migrate: false, busyTimeoutMs: 30_000 });
  const snapFile = join(partialDir, 'kho.sqlite');
  try {
    await src.sqlite.backup(snapFile, { progress: ({ totalPages }) => Math.max(totalPages, 1) * 2 });
  } finally {
    src.close();
  }

  // A self-contained file: no -wal/-shm beside it.
  const rw = new Database(snapFile);
  rw.pragma('journal_mode = DELETE');
  rw.close();

  // 2. What that snapshot references.
  const snap = new Database(snapFile, { readonly: true });
  let blobs: Array<{ sha256: string; size: number }>;
  let derivs: Array<{ sha256: string; name: string; size: number }>;
  let counts: SnapshotManifest['counts'];
  let migrations = 0;
  try {
    blobs = snap.prepare('SELECT sha256, size FROM blobs ORDER BY sha256').all() as typeof blobs;
    derivs = snap.prepare('SELECT sha256, name, size FROM derivatives ORDER BY sha256, name').all() as typeof derivs;
    const n = (sql: string) => (snap.prepare(sql).get() as { n: number }).n;
    counts = {
      products: n('SELECT count(*) AS n FROM products'),
      productFiles: n('SELECT count(*) AS n FROM product_files'),
      blobs: blobs.length,
      derivatives: derivs.length,
      bytes: blobs.reduce((a, b) => a + b.size, 0),
    };
    try {
      migrations = n('SELECT count(*) AS n FROM __drizzle_migrations');
    } catch {
      migrations = 0;
    }
  } finally {
    snap.close();
  }

  // 3. Blobs: content-addressed, so one already in the backup with the right size is the same content.
  const result: BackupResult = {
    dest: opts.dest,
    stamp,
    snapshotDir,
    manifest: undefined as unknown as SnapshotManifest,
    copied: { blobs: 0, derivatives: 0, bytes: 0 },
    reused: { blobs: 0, derivatives: 0 },
    problems: [],
    seconds: 0,
  };
  const progress = opts.progress ?? null;
  progress?.setTotal(blobs.length + derivs.length, counts.bytes);
  const conc = opts.concurrency ?? 4;
  await pool(blobs, conc, async (b) => {
    const from = join(paths.blobsDir, blobRel(b.sha256));
    const to = join(opts.dest, 'blobs', blobRel(b.sha256));
    const have = await sizeOrNull(to);
    if (have && have.size === b.size) {
      result.reused.blobs++;
      progress?.tick(1, 0);
      return;
    }
    try {
      await copyVerified(from, to, b.sha256);
      result.copied.blobs++;
      result.copied.bytes += b.size;
    } catch (e) {
      if (e instanceof ChecksumMismatch) result.problems.push({ code: 'BLOB_CORRUPT', sha256: b.sha256, message: e.message });
      else if ((e as NodeJS.ErrnoException).code === 'ENOENT') result.problems.push({ code: 'BLOB_MISSING', sha256: b.sha256, message: `blob ${b.sha256} is missing from the store` });
      else throw e;
    }
    progress?.tick(1, b.size);
  });

  // 4. Derivatives: may be regenerated in place (rederive), so copy when new, resized or newer.
  const derivatives: SnapshotManifest['derivatives'] = [];
  await pool(derivs, conc, async (d) => {
    const rel = `${blobRel(d.sha256)}.d/${d.name}`;
    const from = join(paths.blobsDir, rel);
    const to = join(opts.dest, 'blobs', rel);
    const [srcSt, have] = await Promise.all([sizeOrNull(from), sizeOrNull(to)]);
    progress?.tick(1, 0);
    if (!srcSt) {
      result.problems.push({ code: 'DERIVATIVE_MISSING', sha256: d.sha256, name: d.name, message: `derivative ${rel} is missing from the store` });
      return;
    }
    if (have && have.size === srcSt.size && Math.abs(have.mtimeMs - srcSt.mtimeMs) < 1) {
      result.reused.derivatives++;
      derivatives.push({ ...d, size: have.size, fileSha256: (await hashFile(to)).sha256 });
      return;
    }
    const c = await copyVerified(from, to);
    result.copied.derivatives++;
    result.copied.bytes += c.size;
    derivatives.push({ ...d, size: c.size, fileSha256: c.sha256 });
  });
  derivatives.sort((a, b) => (a.sha256 + a.name).localeCompare(b.sha256 + b.name));

  // 5. The manifest, then publish the snapshot atomically.
  const dbHash = await hashFile(snapFile);
  const manifest: SnapshotManifest = {
    version: MANIFEST_VERSION,
    createdAt: new Date(started).toISOString(),
    stamp,
    database: { file: 'kho.sqlite', sha256: dbHash.sha256, size: dbHash.size, schemaMigrations: migrations },
    counts,
    blobs,
    derivatives,
  };
  await writeFile(join(partialDir, 'manifest.json'), `${JSON.stringify(manifest, null, 1)}\n`);
  await rm(snapshotDir, { recursive: true, force: true });
  await rename(partialDir, snapshotDir);
  if (result.problems.length === 0) await writeFile(join(opts.dest, 'LATEST'), `${stamp}\n`);
  result.manifest = manifest;
  result.seconds = (Date.now() - started) / 1000;
  return result;
}

export interface RestoreOptions {
  src: string;
  dataDir: string;
  /** Snapshot stamp; default the one in LATEST. */
  snapshot?: string;
  concurrency?: number;
  progress?: Progress | null;
}

export interface RestoreResult {
  snapshot: string;
  dataDir: string;
  restored: { blobs: number; derivatives: number; bytes: number };
  problems: Array<{ code: string; message: string; sha256?: string; name?: string }>;
  verified: { integrity: string; products: number; blobs: number };
  seconds: number;
}

export class RestoreRefused extends Error {}

/** Snapshots present in a backup folder, oldest first. */
export async function listSnapshots(src: string): Promise<string[]> {
  const names = await readdir(join(src, 'snapshots')).catch(() => [] as string[]);
  return names.filter((n) => !n.startsWith('.')).sort();
}

/** Restore a snapshot into an empty data dir, verifying every checksum, then check the result. */
export async function restore(opts: RestoreOptions): Promise<RestoreResult> {
  const started = Date.now();
  const stamp = opts.snapshot ?? (await readFile(join(opts.src, 'LATEST'), 'utf8').catch(() => '')).trim();
  if (!stamp) throw new RestoreRefused(`no snapshot named and no LATEST file in ${opts.src}`);
  if (!/^[\w.-]+$/.test(stamp)) throw new RestoreRefused(`bad snapshot name "${stamp}"`);
  const snapDir = join(opts.src, 'snapshots', stamp);
  let manifest: SnapshotManifest;
  try {
    manifest = JSON.parse(await readFile(join(snapDir, 'manifest.json'), 'utf8')) as SnapshotManifest;
  } catch (e) {
    throw new RestoreRefused(`snapshot ${stamp} has no readable manifest: ${(e as Error).message}`);
  }
  if (manifest.version !== MANIFEST_VERSION) throw new RestoreRefused(`snapshot manifest version ${manifest.version} is not supported`);

  const paths = dataPaths(opts.dataDir);
  const existing = await readdir(opts.dataDir).catch(() => [] as string[]);
  if (existing.length > 0) throw new RestoreRefused(`the data dir ${opts.dataDir} is not empty: restore only into an empty (or new) folder`);
  await makeDirs(paths.blobsDir);
  await makeDirs(paths.tmpDir);

  const result: RestoreResult = {
    snapshot: stamp,
    dataDir: opts.dataDir,
    restored: { blobs: 0, derivatives: 0, bytes: 0 },
    problems: [],
    verified: { integrity: '', products: 0, blobs: 0 },
    seconds: 0,
  };
  const progress = opts.progress ?? null;
  progress?.setTotal(1 + manifest.blobs.length + manifest.derivatives.length, manifest.counts.bytes);

  try {
    await copyVerified(join(snapDir, manifest.database.file), paths.dbFile, manifest.database.sha256);
  } catch (e) {
    if (e instanceof ChecksumMismatch) throw new RestoreRefused(`the snapshot database is corrupt: ${e.message}`);
    throw e;
  }
  progress?.tick(1, 0);

  const conc = opts.concurrency ?? 4;
  await pool(manifest.blobs, conc, async (b) => {
    try {
      const c = await copyVerified(join(opts.src, 'blobs', blobRel(b.sha256)), join(paths.blobsDir, blobRel(b.sha256)), b.sha256);
      result.restored.blobs++;
      result.restored.bytes += c.size;
    } catch (e) {
      if (e instanceof ChecksumMismatch) result.problems.push({ code: 'BLOB_CORRUPT', sha256: b.sha256, message: e.message });
      else if ((e as NodeJS.ErrnoException).code === 'ENOENT') result.problems.push({ code: 'BLOB_MISSING', sha256: b.sha256, message: `blob ${b.sha256} is missing from the backup` });
      else throw e;
    }
    progress?.tick(1, b.size);
  });
  await pool(manifest.derivatives, conc, async (d) => {
    const rel = `${blobRel(d.sha256)}.d/${d.name}`;
    try {
      await copyVerified(join(opts.src, 'blobs', rel), join(paths.blobsDir, rel), d.fileSha256);
      result.restored.derivatives++;
    } catch (e) {
      if (e instanceof ChecksumMismatch) result.problems.push({ code: 'DERIVATIVE_CORRUPT', sha256: d.sha256, name: d.name, message: e.message });
      else if ((e as NodeJS.ErrnoException).code === 'ENOENT') result.problems.push({ code: 'DERIVATIVE_MISSING', sha256: d.sha256, name: d.name, message: `derivative ${rel} is missing from the backup` });
      else throw e;
    }
    progress?.tick(1, 0);
  });

  // Verify the restored store: database integrity, counts as recorded, every blob row present.
  const db = new Database(paths.dbFile);
  try {
    const integrity = (db.pragma('integrity_check') as Array<{ integrity_check: string }>).map((r) => r.integrity_check).join('; ');
    result.verified.integrity = integrity;
    if (integrity !== 'ok') result.problems.push({ code: 'DB_INTEGRITY', message: `integrity_check: ${integrity}` });
    const products = (db.prepare('SELECT count(*) AS n FROM products').get() as { n: number }).n;
    result.verified.products = products;
    if (products !== manifest.counts.products) result.problems.push({ code: 'COUNT_MISMATCH', message: `products: ${products} restored, ${manifest.counts.products} in the manifest` });
    const rows = db.prepare('SELECT sha256, size FROM blobs').all() as Array<{ sha256: string; size: number }>;
    result.verified.blobs = rows.length;
    for (const r of rows) {
      const s = await sizeOrNull(join(paths.blobsDir, blobRel(r.sha256)));
      if (!s || s.size !== r.size) result.problems.push({ code: 'BLOB_MISSING', sha256: r.sha256, message: `blob ${r.sha256} recorded in the database is not in the restored store` });
    }
  } finally {
    db.close();
  }
  result.seconds = (Date.now() - started) / 1000;
  return result;
}
