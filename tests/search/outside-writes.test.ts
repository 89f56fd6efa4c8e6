/**
 * Records written by another process while the server runs (`npm run import`, a script) are not in
 * the running server's index; at its next start they must be, so the index it stores at a clean
 * close must not vouch for a catalogue it never saw.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database_ } from '../../server/db/client.ts';
import { createSearchService } from '../../server/search/index.ts';

let dir: string;
beforeAll(() => {
  // .vitest-tmp/ (ignored by git) does not exist on a fresh clone.
  mkdirSync(join(import.meta.dirname, '../../.vitest-tmp'), { recursive: true });
  dir = mkdtempSync(join(import.meta.dirname, '../../.vitest-tmp/search-outside-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ids = (db: Database_, q: string) => {
  const s = createSearchService({ sqlite: db.sqlite });
  const ready = s.ensureReady();
  const hits = s.search({ q }, null).hits.map((h) => h.id);
  return { s, ready, hits };
};

describe('writes from another connection while the index is open', () => {
  it('are searchable within a second, and after the next start though the index was closed cleanly in between', async () => {
    const file = join(dir, 'kho.sqlite');
    const server = openDatabase(file);
    const add = (db: Database_, title: string) =>
      Number(db.sqlite.prepare("INSERT INTO products(title, type, state, access) VALUES (?, 'book', 'published', 'public')").run(title).lastInsertRowid);
    const own = add(server, 'Lịch sử Đảng bộ huyện Nguyên Bình');
    const first = ids(server, 'nguyen binh');
    expect(first.hits).toEqual([own]);

    // Another process (an import) adds records while the server runs, and removes one.
    const importer = openDatabase(file);
    const imported = add(importer, 'Địa chí huyện Nguyên Bình');
    const doomed = add(importer, 'Bản nháp Nguyên Bình');
    // A record written by the server itself in the meantime is indexed as usual.
    const later = add(server, 'Ảnh tư liệu Nguyên Bình xưa');
    first.s.indexProduct(later);
    // The running index notices within a second, before a search.
    await new Promise((r) => setTimeout(r, 1100));
    expect(first.s.search({ q: 'nguyen binh', limit: 50 }, null).hits.map((h) => h.id).sort((a, b) => a - b)).toEqual([own, imported, doomed, later]);
    importer.sqlite.prepare('DELETE FROM products WHERE id = ?').run(doomed);
    // Written just before a clean stop (no search in between): caught up at close.
    const lastMinute = add(importer, 'Bia đá Nguyên Bình');
    importer.close();
    first.s.close();

    const next = ids(server, 'nguyen binh');
    expect(next.ready.rebuilt).toBe(false);
    expect(next.hits.sort((a, b) => a - b)).toEqual([own, imported, later, lastMinute]);
    next.s.close();
    // Nothing changed from outside since: the following start restores the same index.
    const third = ids(server, 'nguyen binh');
    expect(third.ready.rebuilt).toBe(false);
    expect(third.hits.sort((a, b) => a - b)).toEqual([own, imported, later, lastMinute]);
    third.s.close();
    server.close();
  });

  it('indexes a file text another connection stored', async () => {
    const file = join(dir, 'texts.sqlite');
    const server = openDatabase(file);
    const id = Number(server.sqlite.prepare("INSERT INTO products(title, type, state, access) VALUES ('Sách ảnh', 'book', 'published', 'public')").run().lastInsertRowid);
    const sha = 'a'.repeat(64);
    server.sqlite.prepare("INSERT INTO blobs(sha256, size, media_type, kind) VALUES (?, 10, 'application/pdf', 'pdf')").run(sha);
    server.sqlite.prepare("INSERT INTO product_files(product_id, sha256, original_name) VALUES (?, ?, 'sach.pdf')").run(id, sha);
    const s = createSearchService({ sqlite: server.sqlite });
    s.ensureReady();
    expect(s.search({ q: 'thac ban gioc' }, null).total).toBe(0);
    const other = openDatabase(file);
    other.sqlite.prepare('INSERT INTO blob_texts(sha256, page, text) VALUES (?, 1, ?)').run(sha, 'Thác Bản Giốc mùa nước lên.');
    other.close();
    await new Promise((r) => setTimeout(r, 1100));
    expect(s.search({ q: 'thac ban gioc' }, null).hits.map((h) => h.id)).toEqual([id]);
    s.close();
    const again = createSearchService({ sqlite: server.sqlite });
    again.ensureReady();
    expect(again.search({ q: 'thac ban gioc' }, null).hits.map((h) => h.id)).toEqual([id]);
    again.close();

    // The server stopped, the text extracted again by a script (same page count, new words):
    // the next start does not restore the old index.
    const script = openDatabase(file);
    script.sqlite.transaction(() => {
      script.sqlite.prepare('DELETE FROM blob_texts WHERE sha256 = ?').run(sha);
      script.sqlite.prepare('INSERT INTO blob_texts(sha256, page, text) VALUES (?, 1, ?)').run(sha, 'Thác Bản Giốc và động Ngườm Ngao.');
    })();
    // An agency's short name changed while stopped (a searchable field of its records) is noticed too.
    script.sqlite.prepare("INSERT INTO agencies(code, name) VALUES ('nha-sach', 'Nhà sách tỉnh')").run();
    script.close();
    const third = createSearchService({ sqlite: server.sqlite });
    expect(third.ensureReady().rebuilt).toBe(true);
    expect(third.search({ q: 'dong nguom ngao' }, null).hits.map((h) => h.id)).toEqual([id]);
    third.close();
    const beforeRename = createSearchService({ sqlite: server.sqlite });
    expect(beforeRename.ensureReady().rebuilt).toBe(false);
    beforeRename.close();
    server.sqlite.prepare("UPDATE agencies SET short_name = 'NXB tỉnh' WHERE code = 'nha-sach'").run();
    const fourth = createSearchService({ sqlite: server.sqlite });
    expect(fourth.ensureReady().rebuilt).toBe(true);
    fourth.close();
    server.close();
  });
});
