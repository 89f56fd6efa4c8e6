/**
 * Committing an upload: received temp files go into the blob store (fsync + link), then ONE
 * database transaction writes the product, its blobs and files, one queued job per derivative
 * and an audit entry. A commit that fails (disk full, read-only database) takes back the blobs it
 * created; a crash before the commit leaves at most an unreferenced blob (reported by fixity as an
 * orphan), never a record pointing at a missing blob.
 */
import type Database from 'better-sqlite3';
import { unlink } from 'node:fs/promises';
import type { Principal } from '../auth/principal.ts';
import { findLikelyDuplicates } from '../catalogue/duplicates.ts';
import type { ProductInsert } from '../catalogue/product-fields.ts';
import { JOB_KINDS } from '../db/schema.ts';
import { cached } from '../db/statements.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import type { ReceivedFile } from './receive-file.ts';

export interface DuplicateInfo {
  sha256: string;
  fileName: string;
  /** Products that already hold these exact bytes. */
  existingProductIds: number[];
}

export interface CommitResult {
  productId: number;
  duplicates: DuplicateInfo[];
  /** Blobs written for the first time by this upload. */
  newBlobs: string[];
}

/** Thrown by `commit` with `rejectDuplicates` when another record already holds some of the bytes. */
export class DuplicateFilesError extends Error {
  constructor(public readonly existing: Map<string, number[]>) {
    super('These exact bytes are already in the store');
    this.name = 'DuplicateFilesError';
  }
}

export interface IngestService {
  /** Products already holding any of these blobs, per sha256. */
  findExisting(sha256s: string[]): Map<string, number[]>;
  /**
   * Store the files and write the record. With `rejectDuplicates`, bytes that a record already
   * holds throw DuplicateFilesError instead: checked in the same synchronous step as the write, so
   * of several uploads of the same new bytes at once exactly one is recorded.
   */
  commit(principal: Principal | null, fields: ProductInsert, files: ReceivedFile[], opts?: { rejectDuplicates?: boolean }): Promise<CommitResult>;
  /** Remove temp files of an upload that will not be committed. */
  discard(files: ReceivedFile[]): Promise<void>;
}

export interface IngestDeps {
  sqlite: Database.Database;
  blobStore: BlobStore;
  maxAttempts: number;
  /** Called after the commit (jobs were queued). */
  onCommitted?: (result: CommitResult) => void;
}

export function createIngestService(deps: IngestDeps): IngestService {
  const { sqlite, blobStore } = deps;
  const blobKnownStmt = sqlite.prepare('SELECT 1 FROM blobs WHERE sha256 = ?').pluck();
  const existingStmt = sqlite.prepare('SELECT DISTINCT product_id AS id FROM product_files WHERE sha256 = ? ORDER BY product_id');
  const insertBlob = sqlite.prepare(
    'INSERT INTO blobs (sha256, size, media_type, kind) VALUES (@sha256, @size, @mediaType, @kind) ON CONFLICT(sha256) DO NOTHING',
  );
  const insertFile = sqlite.prepare(
    'INSERT INTO product_files (product_id, sha256, original_name, client_media_type, position) VALUES (?, ?, ?, ?, ?)',
  );
  const insertJob = sqlite.prepare(
    'INSERT INTO jobs (sha256, kind, max_attempts) VALUES (?, ?, ?) ON CONFLICT(sha256, kind) DO NOTHING',
  );
  const insertAudit = sqlite.prepare(
    'INSERT INTO audit_log (actor_user_id, actor, action, entity, entity_id, changes) VALUES (?, ?, ?, ?, ?, ?)',
  );

  const findExisting = (sha256s: string[]) => {
    const out = new Map<string, number[]>();
    for (const sha of sha256s) {
      const ids = (existingStmt.all(sha) as { id: number }[]).map((r) => r.id);
      if (ids.length > 0) out.set(sha, ids);
    }
    return out;
  };

  const insertRecord = (principal: Principal | null, fields: ProductInsert, files: ReceivedFile[], duplicates: DuplicateInfo[]): number => {
    const cols = Object.entries(fields).filter(([, v]) => v !== undefined);
    const colNames = cols.map(([k]) => toSnake(k));
    if (principal?.userId != null) {
      colNames.push('created_by');
      cols.push(['createdBy', principal.userId]);
    }
    // One flag per other product, naming the first file it shares.
    const sameFile = duplicates
      .flatMap((d) => d.existingProductIds.map((productId) => ({ kind: 'same_file', productId, sha256: d.sha256, detail: d.fileName })))
      .filter((f, i, all) => all.findIndex((g) => g.productId === f.productId) === i);
    // Title-similarity and same-plan-task flags (catalogue/duplicates.ts).
    const likely = findLikelyDuplicates(sqlite, { title: fields.title, planTaskId: fields.planTaskId ?? null }, null, new Set(sameFile.map((f) => f.productId)));
    const flags = [...sameFile, ...likely];
    if (flags.length > 0) {
      colNames.push('duplicate_flags');
      cols.push(['duplicateFlags', JSON.stringify(flags)]);
    }
    const info = cached(sqlite, `INSERT INTO products (${colNames.join(', ')}) VALUES (${colNames.map(() => '?').join(', ')})`)
      .run(...cols.map(([, v]) => v as unknown));
    const productId = Number(info.lastInsertRowid);
    files.forEach((f, i) => {
      insertBlob.run({ sha256: f.sha256, size: f.size, mediaType: f.info.mediaType, kind: f.info.kind });
      insertFile.run(productId, f.sha256, f.originalName, f.clientMediaType, i);
      for (const kind of JOB_KINDS) insertJob.run(f.sha256, kind, deps.maxAttempts);
    });
    insertAudit.run(
      principal?.userId ?? null,
      principal?.username ?? 'anonymous',
      'create',
      'product',
      String(productId),
      JSON.stringify({
        title: [null, fields.title],
        type: [null, fields.type],
        files: [null, files.map((f) => ({ name: f.originalName, sha256: f.sha256, size: f.size, mediaType: f.info.mediaType }))],
      }),
    );
    return productId;
  };

  /**
   * The duplicate check and the record's write, in one transaction that takes the write lock at
   * its start (IMMEDIATE): another process writing the same bytes (an import beside the server)
   * cannot commit between the check and the write.
   */
  const checkAndWrite = sqlite.transaction(
    (principal: Principal | null, fields: ProductInsert, files: ReceivedFile[], rejectDuplicates: boolean): { productId: number; duplicates: DuplicateInfo[] } => {
      const existing = findExisting(files.map((f) => f.sha256));
      if (rejectDuplicates && existing.size > 0) throw new DuplicateFilesError(existing);
      const duplicates: DuplicateInfo[] = files
        .filter((f) => existing.has(f.sha256))
        .map((f) => ({ sha256: f.sha256, fileName: f.originalName, existingProductIds: existing.get(f.sha256)! }));
      return { productId: insertRecord(principal, fields, files, duplicates), duplicates };
    },
  );

  /** Commits of each sha256 under way in this process, from before their first store write to their end. */
  const committing = new Map<string, number>();
  /** Blobs being removed after a failed commit: a commit of the same bytes waits for the removal. */
  const removing = new Map<string, Promise<void>>();

  /**
   * A commit that failed after moving some files into the store (disk full, read-only database, a
   * refused duplicate…) takes back the blobs it created, so that no orphan is left for `verify` to
   * report: only those that no record holds and no other commit of this process is storing.
   */
  async function takeBack(created: string[]): Promise<void> {
    for (const sha of created) {
      if (committing.get(sha) !== 1 || blobKnownStmt.get(sha) !== undefined || removing.has(sha)) continue;
      const removal = blobStore.remove(sha).catch(() => {});
      removing.set(sha, removal);
      await removal;
      removing.delete(sha);
    }
  }

  return {
    findExisting,
    async commit(principal, fields, files, opts = {}) {
      const shas = [...new Set(files.map((f) => f.sha256))];
      for (const sha of shas) committing.set(sha, (committing.get(sha) ?? 0) + 1);
      const newBlobs: string[] = [];
      try {
        for (const f of files) {
          await removing.get(f.sha256);
          const { created } = await blobStore.putFile(f.tempPath, f.sha256, { absentFromCatalogue: blobKnownStmt.get(f.sha256) === undefined });
          if (created) newBlobs.push(f.sha256);
        }
        // From here to the record's write nothing awaits: no other upload of this process can
        // commit in between, and the transaction keeps other processes out.
        const { productId, duplicates } = checkAndWrite.immediate(principal, fields, files, opts.rejectDuplicates === true);
        const result = { productId, duplicates, newBlobs };
        deps.onCommitted?.(result);
        return result;
      } catch (e) {
        await takeBack(newBlobs);
        throw e;
      } finally {
        for (const sha of shas) {
          const n = committing.get(sha)! - 1;
          if (n === 0) committing.delete(sha);
          else committing.set(sha, n);
        }
      }
    },
    async discard(files) {
      await Promise.all(files.map((f) => unlink(f.tempPath).catch(() => {})));
    },
  };
}

export const toSnake = (k: string) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
