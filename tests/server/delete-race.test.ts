/**
 * A record deleted while a second record with the same bytes is being committed: the blob is kept
 * for the second record (deleting a record never removes bytes another record may hold). The delete
 * is made between the second upload's bytes reaching the store and its record being written (when
 * no record holds them), so it falls in that gap every run.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, makeTestApp, multipartBody, type TestApp } from '../helpers/app.ts';

describe('deleting a record while its bytes are uploaded again', () => {
  let t: TestApp;
  /** Run once the next store write is done, before the upload's record is written. */
  let duringPut: (() => Promise<void>) | null = null;
  beforeAll(async () => {
    t = await makeTestApp({ jobs: { workers: 0 } });
    const store = t.app.blobStore;
    const putFile = store.putFile.bind(store);
    store.putFile = async (...args) => {
      const stored = await putFile(...args);
      const hook = duringPut;
      duringPut = null;
      if (hook) await hook();
      return stored;
    };
  });
  afterAll(() => t.close());

  const upload = (title: string, data: Buffer) => {
    const { body, headers } = multipartBody({ title, type: 'leaflet' }, [{ filename: 'bản tin.txt', contentType: 'text/plain', data }]);
    return t.app.inject({ method: 'POST', url: '/api/products', payload: body, headers: { ...headers, ...auth() } });
  };

  it('keeps the blob, readable, for the record committed while the other was deleted', async () => {
    const data = Buffer.from(`Bản tin tuyên truyền Cao Bằng ${randomBytes(6).toString('hex')}\n`.repeat(500));
    const first = await upload('Bản gốc sẽ bị xoá', data);
    expect(first.statusCode).toBe(201);
    const sha = first.json().files[0].sha256 as string;
    let deleted = 0;
    duringPut = async () => {
      deleted = (await t.app.inject({ method: 'DELETE', url: `/api/products/${first.json().id}`, headers: auth() })).statusCode;
    };
    const second = await upload('Bản nộp lại cùng tệp', data);
    expect(deleted).toBe(204);
    expect(second.statusCode).toBe(201);
    expect(second.json().files[0].sha256).toBe(sha);
    expect((await t.app.inject({ url: `/api/products/${first.json().id}`, headers: auth() })).statusCode).toBe(404);
    const file = await t.app.inject({ url: `/api/files/${sha}`, headers: auth() });
    expect(file.statusCode).toBe(200);
    expect(file.rawPayload.equals(data)).toBe(true);
    expect(await t.app.blobStore.stat(sha)).toEqual({ size: data.length });
  });
});
