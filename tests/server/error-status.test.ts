/**
 * An unhandled fault on a real listening server is a 500 INTERNAL_ERROR, logged as an error; only a
 * client that went away mid-request is a 400 REQUEST_ABORTED. (Node destroys a request once its
 * body has been read, so "destroyed" alone said nothing about the client.)
 */
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import errorsPlugin from '../../server/plugins/errors.ts';

describe('error status on a real HTTP server', () => {
  const logged: Array<{ level: number; msg: string }> = [];
  const app = Fastify({
    logger: {
      level: 'info',
      stream: { write: (line: string) => void logged.push(JSON.parse(line) as { level: number; msg: string }) },
    },
  });
  let base = '';
  beforeAll(async () => {
    await app.register(errorsPlugin);
    app.post('/hong', async () => {
      throw new TypeError('lỗi lập trình: không đọc được thuộc tính');
    });
    app.get('/hong', async () => {
      throw new TypeError('lỗi lập trình khi đọc');
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  });
  afterAll(() => app.close());

  it('a fault in a route that read a body is 500 INTERNAL_ERROR and logged as an error, not 400 REQUEST_ABORTED', async () => {
    for (const init of [{ method: 'POST', body: JSON.stringify({ tiêu_đề: 'Tờ gấp Pác Bó' }), headers: { 'content-type': 'application/json' } }, { method: 'GET' }]) {
      logged.length = 0;
      const res = await fetch(`${base}/hong`, init);
      expect(res.status, init.method).toBe(500);
      expect(await res.json()).toMatchObject({ statusCode: 500, code: 'INTERNAL_ERROR' });
      expect(logged.some((l) => l.level >= 50 && l.msg === 'unhandled error')).toBe(true);
    }
  });
});
