/**
 * Test helper: a fresh data dir in the OS temp folder, the app built on it with a known admin
 * token, and cleanup. Tests pass config objects; they never touch process.env.
 */
import type { FastifyInstance } from 'fastify';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../../server/app.ts';
import { defaultConfig, type Config } from '../../server/config.ts';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';
export const auth = (token = ADMIN_TOKEN) => ({ authorization: `Bearer ${token}` });

export interface TestApp {
  app: FastifyInstance;
  config: Config;
  dataDir: string;
  close(): Promise<void>;
}

type Overrides = Omit<Partial<Config>, 'upload' | 'jobs' | 'media'> & {
  upload?: Partial<Config['upload']>;
  jobs?: Partial<Config['jobs']>;
  media?: Partial<Config['media']>;
};

export async function makeDataDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'kho-test-'));
}

export function testConfig(dataDir: string, overrides: Overrides = {}): Config {
  const base = defaultConfig();
  return {
    ...base,
    ...overrides,
    dataDir,
    adminToken: ADMIN_TOKEN,
    logLevel: 'silent',
    port: 0,
    upload: { ...base.upload, ...overrides.upload },
    jobs: { ...base.jobs, workers: 1, timeoutMs: 60_000, ...overrides.jobs },
    media: { ...base.media, ...overrides.media },
  } as Config;
}

/** Build the app on a fresh temp data dir. `jobs.workers: 0` keeps jobs queued (no worker processes). */
export async function makeTestApp(overrides: Overrides = {}, dataDir?: string): Promise<TestApp> {
  const dir = dataDir ?? (await makeDataDir());
  const config = testConfig(dir, overrides);
  const app = await buildApp(config, { logger: false });
  return {
    app,
    config,
    dataDir: dir,
    async close() {
      await app.close();
      if (!dataDir) await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Build a multipart/form-data body by hand (for app.inject), fields first then files. */
export function multipartBody(
  fields: Record<string, string | string[]>,
  files: Array<{ name?: string; filename: string; contentType?: string; data: Buffer }>,
): { body: Buffer; headers: Record<string, string> } {
  const boundary = `----kho${Math.random().toString(16).slice(2)}`;
  const chunks: Buffer[] = [];
  for (const [k, v] of Object.entries(fields)) {
    for (const val of Array.isArray(v) ? v : [v]) {
      chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${val}\r\n`, 'utf8'));
    }
  }
  for (const f of files) {
    chunks.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${f.name ?? 'file'}"; filename="${f.filename}"; filename*=UTF-8''${encodeURIComponent(f.filename)}\r\nContent-Type: ${f.contentType ?? 'application/octet-stream'}\r\n\r\n`,
        'utf8',
      ),
    );
    chunks.push(f.data, Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}
