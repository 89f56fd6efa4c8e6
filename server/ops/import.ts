/**
 * Bulk import of a folder of files described by a CSV manifest (see manifest.ts). Each row goes
 * through the same pipeline as an upload: the file streams through `receiveFile` (SHA-256, size,
 * type sniffed from the bytes, limits), then `ingest.commit` writes the product, files, queued
 * jobs and audit entry in one transaction. A row is atomic, so an import killed half-way loses
 * nothing: a re-run skips every row whose files are all already held by a product (by SHA-256).
 *
 * `dryRun` checks every row and file (fields, agency codes, existence, type, size, duplicates)
 * without writing, and reports every problem at once.
 */
import type Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, open, readdir, readFile, realpath, stat } from 'node:fs/promises';
import { basename, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { Principal } from '../auth/principal.ts';
import { parseNewProductFields, type ProductInsert } from '../catalogue/product-fields.ts';
import { ACCESS_LEVELS, PRODUCT_TYPES } from '../db/schema.ts';
import { AppError } from '../errors.ts';
import { DuplicateFilesError, type IngestService } from '../ingest/ingest-service.ts';
import { formatBytes, DIRECT_WRITE_MIN_BYTES, receiveFile, unsupported, type ReceivedFile } from '../ingest/receive-file.ts';
import { SNIFF_BYTES, sniffFile, sniffHead } from '../ingest/sniff.ts';
import { ACCESS_WORDS, isoDate, parseManifest, rowToRawFields, STATE_WORDS, TYPE_WORDS, type ManifestProblem, type ManifestRow } from './manifest.ts';
import { createProgress, type Progress } from './progress.ts';

export type RowStatus = 'imported' | 'skipped' | 'failed' | 'valid';

export interface RowProblem {
  code: string;
  message: string;
  field?: string;
  file?: string;
}

export interface RowResult {
  line: number;
  title: string | null;
  status: RowStatus;
  /** Why a row was skipped or failed (all problems found in it). */
  problems: RowProblem[];
  productId?: number;
  files: Array<{ path: string; sha256?: string; size?: number; mediaType?: string }>;
}

export interface ImportReport {
  folder: string;
  manifest: string;
  dryRun: boolean;
  startedAt: string;
  finishedAt: string;
  seconds: number;
  manifestProblems: ManifestProblem[];
  /** How the manifest's bytes were read (utf-8, or a legacy Vietnamese code page: see parseManifest). */
  manifestEncoding: string;
  totals: { rows: number; imported: number; skipped: number; failed: number; valid: number; files: number; bytes: number };
  rate: { filesPerSecond: number; mbPerSecond: number };
  rows: RowResult[];
}

export interface ImportDeps {
  sqlite: Database.Database;
  ingest: IngestService;
  tmpDir: string;
}

export interface ImportOptions {
  folder: string;
  manifestPath: string;
  dryRun?: boolean;
  /** Rows processed at the same time (file reads overlap; commits are serial). */
  concurrency?: number;
  maxFileBytes: number;
  principal: Principal;
  progress?: Progress | null;
  /** Called after each row settles (tests, progress by row). */
  onRow?: (r: RowResult) => void;
}

const VALID_IMPORT_STATES = ['submitted', 'in_review', 'accepted', 'published'];

const orList = (xs: readonly string[]) => `${xs.slice(0, -1).join(', ')} or ${xs.at(-1)}`;
/** Columns holding one of a few words (a code or its Vietnamese alias), and how a wrong one is reported. */
const WORD_COLUMNS: Array<{ col: 'type' | 'access' | 'state'; codes: readonly string[]; message: (written: string) => string }> = [
  {
    col: 'type',
    codes: PRODUCT_TYPES,
    message: (w) => `type "${w}" is not a product type: write one of ${PRODUCT_TYPES.join(', ')}, or in Vietnamese ${TYPE_WORDS.join(', ')}`,
  },
  { col: 'access', codes: ACCESS_LEVELS, message: (w) => `access "${w}" is not an access level: write ${orList(ACCESS_LEVELS)}, or in Vietnamese ${ACCESS_WORDS.join(', ')}` },
  {
    col: 'state',
    codes: VALID_IMPORT_STATES,
    message: (w) => `state "${w}" is not a state an import sets: write ${orList(VALID_IMPORT_STATES)}, or in Vietnamese ${STATE_WORDS.join(', ')}`,
  },
];

/** Run an import (or a dry run). Never throws for bad rows: they are reported. */
export async function runImport(opts: ImportOptions, deps: ImportDeps): Promise<ImportReport> {
  const started = Date.now();
  const folder = await realpath(resolve(opts.folder));
  const manifest = parseManifest(await readFile(opts.manifestPath));
  const report: ImportReport = {
    folder,
    manifest: resolve(opts.manifestPath),
    dryRun: Boolean(opts.dryRun),
    startedAt: new Date(started).toISOString(),
    finishedAt: '',
    seconds: 0,
    manifestProblems: manifest.problems,
    manifestEncoding: manifest.encoding,
    totals: { rows: manifest.rows.length, imported: 0, skipped: 0, failed: 0, valid: 0, files: 0, bytes: 0 },
    rate: { filesPerSecond: 0, mbPerSecond: 0 },
    rows: [],
  };
  if (manifest.problems.length > 0) return finish(report, started);

  const progress = opts.progress ?? null;
  progress?.setTotal(manifest.rows.length);
  /** sha256 → line of the row (in this run) that holds it: catches duplicates inside the manifest. */
  const claimed = new Map<string, number>();
  const nfcNames: NfcNames = new Map();
  const results: RowResult[] = new Array(manifest.rows.length);
  // Files are read and hashed concurrently, but the duplicate check and the commit happen in
  // manifest order: results are deterministic and product ids follow the rows.
  const gates: Array<{ promise: Promise<void>; open: () => void }> = manifest.rows.map(() => {
    let open!: () => void;
    const promise = new Promise<void>((r) => (open = r));
    return { promise, open };
  });
  let next = 0;
  const worker = async () => {
    while (next < manifest.rows.length) {
      const i = next++;
      const turn = {
        wait: () => (i === 0 ? Promise.resolve() : gates[i - 1].promise),
        done: () => gates[i].open(),
      };
      let r: RowResult;
      try {
        r = await importRow(manifest.rows[i], folder, opts, deps, claimed, nfcNames, turn);
      } finally {
        // A row that failed early still opens its gate only after every earlier row.
        await turn.wait();
        turn.done();
      }
      results[i] = r;
      report.totals[r.status]++;
      const bytes = r.files.reduce((a, f) => a + (f.size ?? 0), 0);
      if (r.status === 'imported' || r.status === 'valid') {
        report.totals.files += r.files.length;
        report.totals.bytes += bytes;
      }
      opts.onRow?.(r);
      progress?.tick(1, bytes, r.title ?? undefined);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 4) }, worker));
  report.rows = results;
  return finish(report, started);
}

function finish(report: ImportReport, started: number): ImportReport {
  const ms = Date.now() - started;
  report.finishedAt = new Date().toISOString();
  report.seconds = ms / 1000;
  const s = Math.max(ms / 1000, 1e-3);
  report.rate = { filesPerSecond: round(report.totals.files / s), mbPerSecond: round(report.totals.bytes / 1024 / 1024 / s) };
  return report;
}

const round = (n: number) => Math.round(n * 100) / 100;

async function importRow(
  row: ManifestRow,
  folder: string,
  opts: ImportOptions,
  deps: ImportDeps,
  claimed: Map<string, number>,
  nfcNames: NfcNames,
  turn: { wait(): Promise<void>; done(): void },
): Promise<RowResult> {
  const result: RowResult = { line: row.line, title: row.values.title ?? null, status: 'failed', problems: [], files: row.files.map((path) => ({ path })) };
  const problems = result.problems;

  // 1. Catalogue fields, exactly as an upload validates them (plus the columns only an import sets).
  let fields: ProductInsert | null = null;
  const raw = rowToRawFields(row);
  // The catalogue parser stops at the first bad field: drop that field and parse again, so every
  // bad field of the row is reported at once (the row still fails).
  const seenFields = new Set<string>();
  // Dates are checked here, on the text as written (`31/02/2024`), before the catalogue parser
  // sees them converted (`2024-02-31`), so the message says what is wrong with the cell.
  for (const key of ['releaseDate', 'copyReceivedOn'] as const) {
    const written = row.values[key];
    if (written === undefined || parseDate(written) !== null) continue;
    const shaped = isoDate(written) !== null;
    problems.push({
      code: 'VALIDATION_FAILED',
      message: shaped ? `${key} "${written}" does not exist in the calendar (check the day and the month)` : `${key} "${written}" is not a date (YYYY-MM-DD or DD/MM/YYYY)`,
      field: key,
    });
    seenFields.add(key);
    delete raw[key];
  }
  // A word the manifest does not know in the type, access or state column: named as written, with
  // the words the column takes (the catalogue parser would list the codes only, without the cell's
  // value). A valid stand-in lets the parser go on to check the rest of the row.
  for (const c of WORD_COLUMNS) {
    const written = row.values[c.col];
    const value = raw[c.col]?.[0];
    if (written === undefined || value === undefined || c.codes.includes(value)) continue;
    problems.push({ code: 'VALIDATION_FAILED', field: c.col, message: c.message(written) });
    seenFields.add(c.col);
    raw[c.col] = [c.codes[0]];
  }
  for (let attempt = 0; attempt < 12; attempt++) {
    try {
      const parsed = parseNewProductFields(raw, { sqlite: deps.sqlite, principal: opts.principal });
      completeFields(parsed, raw, deps.sqlite);
      if (problems.length === 0) fields = parsed;
      break;
    } catch (e) {
      const p = toProblem(e);
      if (p.field !== undefined && seenFields.has(p.field)) break;
      problems.push(p);
      if (p.field === undefined) break;
      seenFields.add(p.field);
      const before = Object.keys(raw).length;
      for (const key of [p.field, `${p.field}s`, p.field.replace(/s$/, '')]) delete raw[key];
      // A required field cannot be dropped to look further (it would only be reported again as missing).
      if (Object.keys(raw).length === before || ['title', 'type'].includes(p.field)) {
        if (p.field === 'title' || p.field === 'type') {
          raw[p.field] = [p.field === 'type' ? 'other' : 'placeholder'];
          continue;
        }
        break;
      }
    }
  }
  if (row.files.length === 0) problems.push({ code: 'NO_FILES', message: 'The row names no file', field: 'file' });

  // 2. Files: inside the folder, present, regular, non-empty, of an accepted type.
  const received: ReceivedFile[] = [];
  const shas: string[] = [];
  for (const f of result.files) {
    const path = resolve(folder, f.path);
    const rel = relative(folder, path);
    if (isAbsolute(f.path) || rel.startsWith('..') || rel.split(sep).includes('..')) {
      problems.push({ code: 'FILE_OUTSIDE_FOLDER', message: `"${f.path}" is outside the import folder`, file: f.path });
      continue;
    }
    const found = await locate(folder, path, nfcNames);
    if (found === null) {
      problems.push({ code: 'FILE_MISSING', message: `File "${f.path}" does not exist`, file: f.path });
      continue;
    }
    // A symbolic link inside the folder may point anywhere: what counts is where it leads.
    const real = await realpath(found).catch(() => found);
    const realRel = relative(folder, real);
    if (isAbsolute(realRel) || realRel.split(sep).includes('..')) {
      problems.push({ code: 'FILE_OUTSIDE_FOLDER', message: `"${f.path}" is a link to a file outside the import folder`, file: f.path });
      continue;
    }
    let st;
    try {
      st = await stat(found);
    } catch {
      problems.push({ code: 'FILE_MISSING', message: `File "${f.path}" does not exist`, file: f.path });
      continue;
    }
    if (!st.isFile()) {
      problems.push({ code: 'NOT_A_FILE', message: `"${f.path}" is not a regular file`, file: f.path });
      continue;
    }
    f.size = st.size;
    try {
      if (opts.dryRun) {
        const info = await inspectFile(found, f.path, opts.maxFileBytes);
        f.sha256 = info.sha256;
        f.mediaType = info.mediaType;
      } else if (problems.length === 0) {
        const rec = await receiveFile(createReadStream(found, { highWaterMark: 1024 * 1024 }), {
          tmpDir: deps.tmpDir,
          originalName: basename(f.path).normalize('NFC'),
          clientMediaType: null,
          maxFileBytes: opts.maxFileBytes,
          direct: st.size >= DIRECT_WRITE_MIN_BYTES,
        });
        received.push(rec);
        f.sha256 = rec.sha256;
        f.mediaType = rec.info.mediaType;
      }
      if (f.sha256) shas.push(f.sha256);
    } catch (e) {
      problems.push({ ...toProblem(e), file: f.path });
    }
  }

  if (problems.length > 0) {
    await deps.ingest.discard(received);
    result.status = 'failed';
    return result;
  }
  await turn.wait();

  // 3. Already in the store before this run (a re-run, or the same bytes handed in before), or
  // repeated in this manifest. Bytes an earlier row of this run claimed count as repeated whether
  // or not that row has committed yet, so the code does not depend on timing and a dry run (which
  // commits nothing) predicts the import's codes.
  const existing = deps.ingest.findExisting(shas);
  const before = shas.filter((s) => existing.has(s) && !claimed.has(s));
  if (shas.length > 0 && before.length === shas.length) {
    const ids = [...new Set(shas.flatMap((s) => existing.get(s)!))];
    problems.push({ code: 'ALREADY_IMPORTED', message: `Already in the store as product ${ids.map((id) => `#${id}`).join(', ')}` });
    result.productId = ids[0];
    await deps.ingest.discard(received);
    result.status = 'skipped';
    return result;
  }
  const dupLine = shas.map((s) => claimed.get(s)).find((l) => l !== undefined);
  if (dupLine !== undefined) {
    problems.push({ code: 'DUPLICATE_IN_MANIFEST', message: `Same file bytes as row on line ${dupLine}` });
    await deps.ingest.discard(received);
    result.status = 'skipped';
    return result;
  }
  // Claim synchronously (no await since the check) so concurrent rows see it. Bytes already in the
  // store before this run are not claimed: a later row holding only those is ALREADY_IMPORTED.
  for (const s of shas) if (!before.includes(s)) claimed.set(s, row.line);
  // The duplicate decision is made; later rows may decide theirs while this one commits.
  turn.done();

  if (opts.dryRun) {
    result.status = 'valid';
    return result;
  }
  try {
    // A row whose bytes no record held at the check must still find none at the commit: a server
    // that recorded the same new bytes meanwhile (an agency's upload) makes this row a re-run of
    // it. The commit checks in the same synchronous step as its write.
    let committed;
    try {
      committed = await deps.ingest.commit(opts.principal, fields!, received, { rejectDuplicates: before.length === 0 });
    } catch (e) {
      if (!(e instanceof DuplicateFilesError)) throw e;
      if (shas.every((s) => e.existing.has(s))) {
        const ids = [...new Set(shas.flatMap((s) => e.existing.get(s)!))];
        problems.push({ code: 'ALREADY_IMPORTED', message: `Already in the store as product ${ids.map((id) => `#${id}`).join(', ')} (recorded while this import ran)` });
        result.productId = ids[0];
        await deps.ingest.discard(received);
        result.status = 'skipped';
        return result;
      }
      // Only some of its files were recorded meanwhile. Its temp files are gone with the refused
      // commit; a re-run records the row (as it would have had they been there at the check).
      problems.push({ code: 'STORE_CHANGED', message: `Some of these files were recorded as product ${[...new Set([...e.existing.values()].flat())].map((id) => `#${id}`).join(', ')} while this import ran: run the import again` });
      await deps.ingest.discard(received);
      result.status = 'failed';
      return result;
    }
    result.productId = committed.productId;
    result.status = 'imported';
  } catch (e) {
    await deps.ingest.discard(received);
    problems.push(toProblem(e));
    result.status = 'failed';
  }
  return result;
}

/** Per folder, its entries by their NFC form (every entry of that form, in readdir order). */
type NfcNames = Map<string, Promise<Map<string, string[]>>>;

/**
 * A folder's entries by NFC name, read once per import: reading and normalising the whole folder
 * again for every row cost rows × entries (4,000 decomposed names took 23 s, 10,000 minutes).
 */
function entriesByNfc(cache: NfcNames, dir: string): Promise<Map<string, string[]>> {
  let entries = cache.get(dir);
  if (entries === undefined) {
    entries = readdir(dir).then(
      (names) => {
        const byNfc = new Map<string, string[]>();
        for (const name of names) {
          const key = name.normalize('NFC');
          const same = byNfc.get(key);
          if (same) same.push(name);
          else byNfc.set(key, [name]);
        }
        return byNfc;
      },
      () => new Map<string, string[]>(),
    );
    cache.set(dir, entries);
  }
  return entries;
}

/**
 * Where a manifest path is on disk (null: nowhere). The manifest is read in NFC, but file names
 * may be stored decomposed (NFD: folders copied from a Mac, some zip tools), so each path segment
 * is looked up among its folder's entries by its NFC form. Two entries may share one (a Mac copy
 * merged beside the original folder, "Ảnh" twice): each is tried, until the whole path is found.
 */
async function locate(folder: string, path: string, nfcNames: NfcNames): Promise<string | null> {
  if (await lstat(path).then(() => true, () => false)) return path;
  const segments = relative(folder, path).split(sep);
  const walk = async (at: string, k: number): Promise<string | null> => {
    if (k === segments.length) return at;
    const candidates = (await entriesByNfc(nfcNames, at)).get(segments[k].normalize('NFC')) ?? [];
    for (const name of candidates) {
      const found = await walk(join(at, name), k + 1);
      if (found !== null) return found;
    }
    return null;
  };
  return walk(folder, 0);
}

/** Hash and sniff a file in place (dry run): the same checks receiveFile makes, without writing. */
async function inspectFile(path: string, name: string, maxFileBytes: number): Promise<{ sha256: string; mediaType: string }> {
  const st = await stat(path);
  if (st.size === 0) throw new AppError(400, 'EMPTY_FILE', `File "${name}" is empty`);
  if (st.size > maxFileBytes) throw new AppError(413, 'FILE_TOO_LARGE', `File "${name}" is larger than the limit of ${formatBytes(maxFileBytes)}`);
  const fh = await open(path, 'r');
  let head: Buffer;
  try {
    const buf = Buffer.alloc(Math.min(SNIFF_BYTES, st.size));
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    head = buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
  let sniffed = await sniffHead(head);
  if (sniffed === 'pending') sniffed = await sniffFile(path, head);
  if (!sniffed.ok) throw unsupported(sniffed.detected, name);
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) hash.update(chunk as Buffer);
  return { sha256: hash.digest('hex'), mediaType: sniffed.info.mediaType };
}

/**
 * Columns the upload form may not (yet) parse: set them here when the catalogue parser left them
 * unset, with the same kind of checks. Fields the parser already set are never overridden.
 */
function completeFields(fields: ProductInsert, raw: Record<string, string[]>, sqlite: Database.Database): void {
  const v = (name: string) => raw[name]?.at(-1);
  const setText = (key: 'altTitle' | 'publisher' | 'identifier' | 'isbn' | 'copyCondition' | 'copyShelf', max = 500) => {
    const val = v(key);
    if (val === undefined || fields[key] != null) return;
    if (val.length > max) throw new AppError(400, 'VALIDATION_FAILED', `${key} must be at most ${max} characters`, { field: key });
    fields[key] = val;
  };
  setText('altTitle');
  setText('publisher');
  setText('identifier');
  setText('isbn', 32);
  setText('copyCondition');
  setText('copyShelf');
  const date = (key: 'releaseDate' | 'copyReceivedOn') => {
    const val = v(key);
    if (val === undefined || fields[key] != null) return;
    const iso = parseDate(val);
    if (!iso) throw new AppError(400, 'VALIDATION_FAILED', `${key} "${val}" is not a date (YYYY-MM-DD or DD/MM/YYYY)`, { field: key });
    fields[key] = iso;
  };
  date('releaseDate');
  date('copyReceivedOn');
  if (fields.year == null && fields.releaseDate) fields.year = Number(fields.releaseDate.slice(0, 4));
  const printRun = v('printRun');
  if (printRun !== undefined && fields.printRun == null) {
    if (!/^\d{1,9}$/.test(printRun.replace(/[.\s]/g, ''))) throw new AppError(400, 'VALIDATION_FAILED', `printRun "${printRun}" is not a whole number`, { field: 'printRun' });
    fields.printRun = Number(printRun.replace(/[.\s]/g, ''));
  }
  if (raw.subjects && (fields.subjects == null || fields.subjects === '[]')) fields.subjects = JSON.stringify(raw.subjects);
  if (raw.coIssuers && (fields.coIssuers == null || fields.coIssuers === '[]')) {
    const ids = raw.coIssuers.map((code) => {
      const r = sqlite.prepare('SELECT id FROM agencies WHERE code = ?').get(code) as { id: number } | undefined;
      if (!r) throw new AppError(400, 'VALIDATION_FAILED', `unknown agency "${code}"`, { field: 'coIssuers' });
      return r.id;
    });
    fields.coIssuers = JSON.stringify(ids);
  }
  const task = v('planTask');
  if (task !== undefined && fields.planTaskId == null) {
    const r = sqlite.prepare('SELECT id FROM plan_tasks WHERE code = ? OR CAST(id AS TEXT) = ?').get(task, task) as { id: number } | undefined;
    if (!r) throw new AppError(400, 'VALIDATION_FAILED', `unknown plan task "${task}"`, { field: 'planTask' });
    fields.planTaskId = r.id;
  }
  const access = v('access');
  if (access !== undefined && fields.access == null) {
    if (!(ACCESS_LEVELS as readonly string[]).includes(access)) throw new AppError(400, 'VALIDATION_FAILED', `access must be one of ${ACCESS_LEVELS.join(', ')}`, { field: 'access' });
    fields.access = access;
  }
  const state = v('state');
  if (state !== undefined && fields.state == null) {
    if (!VALID_IMPORT_STATES.includes(state)) throw new AppError(400, 'VALIDATION_FAILED', `state must be one of ${VALID_IMPORT_STATES.join(', ')}`, { field: 'state' });
    fields.state = state;
    if (state === 'published') fields.publishedAt = new Date().toISOString();
  }
}

function parseDate(s: string): string | null {
  let y: number, m: number, d: number;
  let mm = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(s);
  if (mm) [y, m, d] = [Number(mm[1]), Number(mm[2]), Number(mm[3])];
  else if ((mm = /^(\d{1,2})[/.](\d{1,2})[/.](\d{4})$/.exec(s))) [d, m, y] = [Number(mm[1]), Number(mm[2]), Number(mm[3])];
  else return null;
  const dt = new Date(Date.UTC(y, m - 1, d));
  if (dt.getUTCFullYear() !== y || dt.getUTCMonth() !== m - 1 || dt.getUTCDate() !== d) return null;
  return dt.toISOString().slice(0, 10);
}

function toProblem(e: unknown): RowProblem {
  if (e instanceof AppError) {
    const field = typeof e.details.field === 'string' ? e.details.field : undefined;
    return { code: e.code, message: e.message, ...(field ? { field } : {}) };
  }
  return { code: 'INTERNAL', message: (e as Error)?.message ?? String(e) };
}

/** `manifestEncoding` values of a workbook manifest (see parseManifest); `zip` is a ZIP archive that is not one. */
const WORKBOOK_FORMATS = ['xlsx', 'xls', 'ods'];

/** The human summary printed at the end and written beside the JSON report. */
export function formatImportReport(r: ImportReport): string {
  const lines: string[] = [];
  lines.push(`${r.dryRun ? 'Dry run of import' : 'Import'} of ${r.folder} with ${r.manifest}`);
  // How the manifest was read, unless it could not be read at all (then only the problem is told).
  const unread = r.manifestProblems.some((p) => p.code === 'NOT_A_TABLE' || p.code === 'NOT_UTF8');
  if (unread) {
    // (nothing: "read as zip" or "read as ISO-8859-1" would contradict the problem below)
  } else if (WORKBOOK_FORMATS.includes(r.manifestEncoding)) lines.push(`The manifest is a workbook (${r.manifestEncoding.toUpperCase()}): its first sheet was read`);
  else if (r.manifestEncoding !== 'utf-8') lines.push(`The manifest is not UTF-8: read as ${r.manifestEncoding} (if titles come out wrong, save it as "CSV UTF-8")`);
  if (r.manifestProblems.length > 0) {
    lines.push('The manifest itself has problems; no row was processed:');
    for (const p of r.manifestProblems) lines.push(`  ${p.line === null ? 'file' : `line ${p.line}`}: [${p.code}] ${p.message}`);
    return lines.join('\n');
  }
  const t = r.totals;
  lines.push(
    r.dryRun
      ? `rows: ${t.rows}, valid: ${t.valid}, would skip: ${t.skipped}, with problems: ${t.failed}`
      : `rows: ${t.rows}, imported: ${t.imported}, skipped: ${t.skipped}, failed: ${t.failed}`,
  );
  lines.push(`files: ${t.files}, ${formatBytes(t.bytes)} in ${r.seconds.toFixed(1)} s (${r.rate.filesPerSecond} files/s, ${r.rate.mbPerSecond} MB/s)`);
  for (const row of r.rows) {
    if (row.status === 'imported' || row.status === 'valid') continue;
    for (const p of row.problems) {
      lines.push(`  line ${row.line} ${row.status.toUpperCase()} [${p.code}]${p.file ? ` ${p.file}:` : ''} ${p.message}`);
    }
  }
  return lines.join('\n');
}

/** Exit code: 0 when every row was imported/valid or skipped as already in, 1 when any row failed or the manifest is bad. */
export function importExitCode(r: ImportReport): number {
  return r.manifestProblems.length > 0 || r.totals.failed > 0 ? 1 : 0;
}
