/**
 * One server per data dir: a second server started on the DATA_DIR of a running one (by the same
 * path or another way to it) refuses to start, before it sweeps tmp/ (the first one's uploads in
 * flight) or puts the first one's running jobs back in the queue; a server that crashed leaves no
 * stale lock.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build, SERVER_ENTRY, SERVER_NODE_ARGS } from '../../scripts/build.mjs';
import { makeDataDir } from '../helpers/app.ts';

const ROOT = join(import.meta.dirname, '../..');

interface Server {
  proc: ChildProcess;
  /** Resolves with the port once listening, or null if the process ended first. */
  listening: Promise<number | null>;
  exited: Promise<{ code: number | null; stderr: string }>;
}

function startServer(dataDir: string, killAfterMs = 150_000): Server {
  const proc = spawn(process.execPath, [...SERVER_NODE_ARGS, SERVER_ENTRY], {
    cwd: ROOT,
    env: { ...process.env, DATA_DIR: dataDir, HOST: '127.0.0.1', PORT: '0', JOB_WORKERS: '0', SEARCH_WORKERS: '0', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => proc.kill('SIGKILL'), killAfterMs);
  const exited = new Promise<{ code: number | null; stderr: string }>((r) =>
    proc.on('exit', (code) => {
      clearTimeout(timer);
      r({ code, stderr });
    }),
  );
  const listening = new Promise<number | null>((r) => {
    proc.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
      const m = /Server listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(stdout);
      if (m) r(Number(m[1]));
    });
    void exited.then(() => r(null));
  });
  return { proc, listening, exited };
}

describe('one server per data dir', () => {
  let dir: string;
  beforeAll(async () => {
    build();
    dir = await makeDataDir();
  }, 60_000);
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
    await rm(`${dir}-lối tắt`, { force: true });
  });

  it('a second server on the same DATA_DIR exits 1 saying so, leaving the first one and its uploads in flight alone; after a crash the lock is gone', async () => {
    const data = join(dir, 'kho tư liệu');
    const first = startServer(data);
    const port = await first.listening;
    expect(port).not.toBeNull();
    // An upload in flight of the first server (its temp file).
    await mkdir(join(data, 'tmp'), { recursive: true });
    const inFlight = join(data, 'tmp', 'upload-đang-gửi.part');
    await writeFile(inFlight, 'một phần tệp đang tải lên');
    await symlink(data, `${dir}-lối tắt`);
    for (const same of [data, `${data}/`, `${dir}-lối tắt`]) {
      // Killed if still running after a minute (it refuses in about a second; a loaded machine is slow to load the bundle).
      const second = startServer(same, 60_000);
      const r = await second.exited;
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toContain(`Another server is already running on DATA_DIR (${same}): it holds ${join(same, 'server.lock')}.`);
      expect(r.stderr).toContain('Stop the other one first, or give this one another DATA_DIR.');
      expect(r.stderr).not.toMatch(/^\s+at /m);
    }
    expect(existsSync(inFlight)).toBe(true);
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(200);

    // A crash (SIGKILL) leaves no stale lock: the next start takes it.
    first.proc.kill('SIGKILL');
    await first.exited;
    const next = startServer(data);
    expect(await next.listening).not.toBeNull();
    next.proc.kill('SIGTERM');
    expect((await next.exited).code).toBe(0);
  }, 400_000);
});
