/**
 * The duplicate check of an upload and its record's write are one transaction that takes the write
 * lock first: another process (an import beside the server) that records the same bytes while the
 * upload is being committed is seen by the check, never recorded beside it.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, makeTestApp, multipartBody, type TestApp } from '../helpers/app.ts';
import { makePng } from '../helpers/samples.ts';

const ROOT = resolve(import.meta.dirname, '../..');

// Another process: takes the write lock, says so, records a product holding the bytes, and
// commits after holding the lock for `holdMs`.
const OTHER = `
const Database = require('better-sqlite3');
const [file, sha, size, holdMs] = process.argv.slice(1);
const db = new Database(file);
db.pragma('busy_timeout = 5000');
db.exec('BEGIN IMMEDIATE');
process.stdout.write('locked\\n');
const id = db.prepare("INSERT INTO products (title, type) VALUES ('Ảnh nhập từ kho cũ', 'photo')").run().lastInsertRowid;
db.prepare("INSERT INTO blobs (sha256, size, media_type, kind) VALUES (?, ?, 'image/png', 'image') ON CONFLICT DO NOTHING").run(sha, Number(size));
db.prepare("INSERT INTO product_files (product_id, sha256, original_name, position) VALUES (?, ?, 'ảnh cũ.png', 0)").run(id, sha);
Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Number(holdMs));
db.exec('COMMIT');
db.close();
`;

describe('duplicate check against another process', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await makeTestApp({ jobs: { workers: 0 } });
  });
  afterAll(() => t.close());

  it('an upload with onDuplicate=reject sees bytes another process records while it commits', async () => {
    const png = await makePng(48, 32, 77);
    const sha = createHash('sha256').update(png).digest('hex');
    const dbFile = t.app.db.sqlite.name;
    const other = spawn(process.execPath, ['-e', OTHER, dbFile, sha, String(png.length), '1500'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((ok, fail) => {
      other.stdout.on('data', (d: Buffer) => d.toString().includes('locked') && ok());
      other.on('exit', (code) => fail(new Error(`the other process ended (${code}) before taking the lock`)));
    });
    const { body, headers } = multipartBody({ title: 'Ảnh thác Bản Giốc', type: 'photo' }, [{ filename: 'thác Bản Giốc.png', contentType: 'image/png', data: png }]);
    const res = await t.app.inject({ method: 'POST', url: '/api/products?onDuplicate=reject', payload: body, headers: { ...headers, ...auth() } });
    await new Promise((ok) => (other.exitCode === null ? other.on('exit', ok) : ok(null)));
    expect(other.exitCode).toBe(0);
    expect(res.statusCode, res.body).toBe(409);
    expect(res.json().code).toBe('DUPLICATE_FILE');
    const holders = t.app.db.sqlite.prepare('SELECT p.title FROM product_files f JOIN products p ON p.id = f.product_id WHERE f.sha256 = ?').pluck().all(sha);
    expect(holders).toEqual(['Ảnh nhập từ kho cũ']);
  });
});
