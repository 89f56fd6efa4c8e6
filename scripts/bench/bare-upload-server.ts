/**
 * The baseline for the upload benchmark: a bare Fastify + @fastify/multipart server that streams
 * each file to disk with SHA-256, 1 MiB write batches, fsync and rename — no database, no sniffing,
 * no auth. What our whole pipeline is compared with, in the same run.
 */
import multipart from '@fastify/multipart';
import Fastify from 'fastify';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { join } from 'node:path';

const dir = process.env.BARE_DIR!;
mkdirSync(dir, { recursive: true });
const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
await app.register(multipart, { limits: { fileSize: 8 * 1024 ** 3 } });
app.get('/healthz', async () => ({ ok: true }));
app.post('/upload', async (req, reply) => {
  const out: string[] = [];
  for await (const part of req.parts()) {
    if (part.type !== 'file') continue;
    const tmp = join(dir, `t-${randomBytes(6).toString('hex')}`);
    const fh = await open(tmp, 'wx');
    const hash = createHash('sha256');
    let batch: Buffer[] = [];
    let len = 0;
    for await (const chunk of part.file as AsyncIterable<Buffer>) {
      hash.update(chunk);
      batch.push(chunk);
      len += chunk.length;
      if (len >= 1024 * 1024) {
        await fh.write(Buffer.concat(batch, len));
        batch = [];
        len = 0;
      }
    }
    if (len) await fh.write(Buffer.concat(batch, len));
    await fh.sync();
    await fh.close();
    const sha = hash.digest('hex');
    await rename(tmp, join(dir, sha));
    out.push(sha);
  }
  return reply.code(201).send({ files: out });
});
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT) });
