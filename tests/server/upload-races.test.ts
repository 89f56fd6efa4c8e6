/**
 * Several clients uploading the same new bytes at the same moment: the bytes are stored once; with
 * `onDuplicate=reject` exactly one upload is recorded and every other is 409 DUPLICATE_FILE naming
 * it; with the default (flag) every record but the first is told of the records before it.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { auth, makeTestApp, multipartBody, type TestApp } from '../helpers/app.ts';

let t: TestApp | null = null;
afterEach(async () => {
  await t?.close();
  t = null;
});

const CLIENTS = 8;
// Large enough that receiving it takes several writes, so the uploads overlap.
const bytes = Buffer.from('Công văn số 12/CV-BTG về tuyên truyền kỷ niệm ngày thành lập tỉnh. '.repeat(40_000), 'utf8');
const sha = createHash('sha256').update(bytes).digest('hex');

function uploadAll(app: TestApp['app'], query: string) {
  return Promise.all(
    Array.from({ length: CLIENTS }, (_, i) => {
      const { body, headers } = multipartBody({ title: `Công văn gửi cùng lúc ${i + 1}`, type: 'document' }, [{ filename: `cong-van-${i + 1}.txt`, data: bytes }]);
      return app.inject({ method: 'POST', url: `/api/products${query}`, payload: body, headers: { ...headers, ...auth() } });
    }),
  );
}

async function storedCopies(dataDir: string): Promise<string[]> {
  return (await readdir(join(dataDir, 'blobs', sha.slice(0, 2), sha.slice(2, 4)))).filter((n) => n.startsWith(sha));
}

describe('the same new bytes uploaded by several clients at once', () => {
  it('with onDuplicate=reject: one record, every other upload 409 DUPLICATE_FILE naming it', async () => {
    t = await makeTestApp({ jobs: { workers: 0 } });
    const answers = await uploadAll(t.app, '?onDuplicate=reject');
    const created = answers.filter((r) => r.statusCode === 201);
    const refused = answers.filter((r) => r.statusCode === 409);
    expect(created).toHaveLength(1);
    expect(refused).toHaveLength(CLIENTS - 1);
    const id = created[0].json().id as number;
    for (const r of refused) {
      const body = r.json();
      expect(body.code).toBe('DUPLICATE_FILE');
      expect(body.duplicates[0].existingProducts.map((p: { id: number }) => p.id)).toEqual([id]);
    }
    expect((t.app.db.sqlite.prepare('SELECT count(*) AS n FROM products').get() as { n: number }).n).toBe(1);
    expect(await storedCopies(t.dataDir)).toEqual([sha]);
    expect(await readdir(join(t.dataDir, 'tmp'))).toEqual([]);
  });

  it('flagged by default: one stored copy, each record told of the records before it', async () => {
    t = await makeTestApp({ jobs: { workers: 0 } });
    const answers = await uploadAll(t.app, '');
    expect(answers.map((r) => r.statusCode)).toEqual(Array(CLIENTS).fill(201));
    const records = answers.map((r) => r.json() as { id: number; duplicates: Array<{ existingProducts: Array<{ id: number }> }> });
    const ids = records.map((r) => r.id).sort((a, b) => a - b);
    for (const r of records) {
      const told = r.duplicates.flatMap((d) => d.existingProducts.map((p) => p.id));
      expect(told).toEqual(ids.filter((id) => id < r.id));
    }
    expect(await storedCopies(t.dataDir)).toEqual([sha]);
    expect(await readdir(join(t.dataDir, 'tmp'))).toEqual([]);
  });
});
