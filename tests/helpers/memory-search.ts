/**
 * A search service over an in-memory catalogue, for search tests: opened fresh for each test, with
 * helpers that write a record or a PDF page text and index it as the API would.
 */
import { openDatabase, type Database_ } from '../../server/db/client.ts';
import { createSearchService, type SearchService } from '../../server/search/index.ts';

export interface MemorySearch {
  db: Database_;
  search: SearchService;
  /** Insert a book record (published, public, Vietnamese unless said) and index it; its id. */
  add(title: string, fields?: { languages?: string[]; state?: string; access?: string; description?: string | null; isbn?: string }): number;
  /** A one-page PDF file (blob `fill` × 64) on a product, with its page text, indexed; its sha256. */
  attachPdfText(productId: number, fill: string, name: string, text: string): string;
  close(): void;
}

export function openMemorySearch(): MemorySearch {
  const db = openDatabase(':memory:');
  const search = createSearchService({ sqlite: db.sqlite });
  search.ensureReady();
  return {
    db,
    search,
    add(title, fields = {}) {
      const id = Number(
        db.sqlite
          .prepare('INSERT INTO products(title, type, description, languages, state, access, isbn) VALUES (?, ?, ?, ?, ?, ?, ?)')
          .run(title, 'book', fields.description ?? null, JSON.stringify(fields.languages ?? ['vi']), fields.state ?? 'published', fields.access ?? 'public', fields.isbn ?? null)
          .lastInsertRowid,
      );
      search.indexProduct(id);
      return id;
    },
    attachPdfText(productId, fill, name, text) {
      const sha = fill.repeat(64);
      db.sqlite.prepare("INSERT INTO blobs(sha256, size, media_type, kind) VALUES (?, 10, 'application/pdf', 'pdf')").run(sha);
      db.sqlite.prepare('INSERT INTO product_files(product_id, sha256, original_name) VALUES (?, ?, ?)').run(productId, sha, name);
      db.sqlite.prepare('INSERT INTO blob_texts(sha256, page, text) VALUES (?, 1, ?)').run(sha, text);
      search.indexBlob(sha);
      return sha;
    },
    close() {
      search.close();
      db.close();
    },
  };
}
