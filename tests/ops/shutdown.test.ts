import { request } from 'node:http';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../server/db/client.ts';
import { auth, makeDataDir, makeTestApp } from '../helpers/app.ts';
import { makePdf } from '../helpers/samples.ts';

describe('graceful shutdown', () => {
  it('finishes an upload in flight when the server is closed, and echoes the request id', async () => {
    const dataDir = await makeDataDir();
    try {
      const t = await makeTestApp({ jobs: { workers: 0 } }, dataDir);
      await t.app.listen({ host: '127.0.0.1', port: 0 });
      const port = (t.app.server.address() as { port: number }).port;
      const pdf = await makePdf(3, 'Graceful');
      const boundary = '----khoShutdown';
      const head = Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="title"\r\n\r\nBáo cáo năm 2023 — gửi trong lúc tắt máy\r\n` +
          `--${boundary}\r\nContent-Disposition: form-data; name="type"\r\n\r\ndocument\r\n` +
          `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="bao-cao.pdf"\r\nContent-Type: application/pdf\r\n\r\n`,
      );
      const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
      const half = Math.floor(pdf.length / 2);
      const response = new Promise<{ status: number; body: string; requestId: string }>((resolve, reject) => {
        const req = request(
          { host: '127.0.0.1', port, method: 'POST', path: '/api/products', headers: { ...auth(), 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': head.length + pdf.length + tail.length, 'x-request-id': 'tat-may-123' } },
          (res) => {
            let body = '';
            res.on('data', (d) => (body += d));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body, requestId: String(res.headers['x-request-id']) }));
          },
        );
        req.on('error', reject);
        req.write(head);
        req.write(pdf.subarray(0, half));
        // Close the server while the upload is half sent, then send the rest.
        setTimeout(() => {
          closing = t.app.close();
          setTimeout(() => {
            req.write(pdf.subarray(half));
            req.end(tail);
          }, 200);
        }, 100);
      });
      let closing: Promise<void> | null = null;
      const res = await response;
      await closing;
      expect(res.status, res.body).toBe(201);
      expect(res.requestId).toBe('tat-may-123');
      const id = JSON.parse(res.body).id;
      const db = openDatabase(join(dataDir, 'kho.sqlite'), { migrate: false });
      const row = db.sqlite.prepare('SELECT title FROM products WHERE id = ?').get(id) as { title: string };
      db.close();
      expect(row.title).toBe('Báo cáo năm 2023 — gửi trong lúc tắt máy');
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
