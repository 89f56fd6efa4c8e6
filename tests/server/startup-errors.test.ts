/**
 * The built server (as `npm start` runs it) failing to start says why in one line and exits 1:
 * a port already in use, a HOST that is not this machine's, a data folder that is a file, a
 * database file that is not SQLite or is damaged. No stack trace for these.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build, SERVER_ENTRY, SERVER_NODE_ARGS } from '../../scripts/build.mjs';
import { main as userMain } from '../../scripts/user.ts';
import { explainStartupError } from '../../server/startup-errors.ts';
import { makeDataDir } from '../helpers/app.ts';

const ROOT = join(import.meta.dirname, '../..');

/** Run the built server (or `args`, e.g. an operator script) until it exits; its code and stderr. */
function run(env: Record<string, string>, args = [...SERVER_NODE_ARGS, SERVER_ENTRY]): Promise<{ code: number | null; stderr: string }> {
  const proc = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, HOST: '127.0.0.1', JOB_WORKERS: '0', SEARCH_WORKERS: '0', LOG_LEVEL: 'silent', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => {
    const timer = setTimeout(() => proc.kill('SIGKILL'), 30_000);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

describe('start-up failures', () => {
  let dir: string;
  let blocker: Server;
  let busyPort: number;

  beforeAll(async () => {
    build();
    dir = await makeDataDir();
    blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    busyPort = (blocker.address() as { port: number }).port;
  }, 60_000);
  afterAll(async () => {
    blocker?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const noStack = (s: string) => expect(s).not.toMatch(/^\s+at /m);

  it('names a port already in use, and exits 1', async () => {
    const r = await run({ DATA_DIR: join(dir, 'port'), PORT: String(busyPort) });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`Cannot listen on 127.0.0.1:${busyPort}: the port is already in use`);
    noStack(r.stderr);
  }, 40_000);

  it('names a HOST that is not an address of this machine', async () => {
    const r = await run({ DATA_DIR: join(dir, 'host'), PORT: '0', HOST: '192.0.2.77' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('192.0.2.77 is not an address of this machine');
    noStack(r.stderr);
  }, 40_000);

  it('names a database file that is not SQLite, and leaves it as it was', async () => {
    const data = join(dir, 'notadb');
    mkdirSync(data);
    const junk = 'Đây không phải cơ sở dữ liệu SQLite. '.repeat(200);
    writeFileSync(join(data, 'kho.sqlite'), junk);
    const r = await run({ DATA_DIR: data, PORT: '0' });
    expect(readFileSync(join(data, 'kho.sqlite'), 'utf8')).toBe(junk);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`The catalogue database ${join(data, 'kho.sqlite')} is not a SQLite database`);
    expect(r.stderr).toContain('npm run restore');
    noStack(r.stderr);
  }, 40_000);

  it('the operator scripts say the same about a database file that is not SQLite', async () => {
    const data = join(dir, 'scripts-notadb');
    mkdirSync(data);
    writeFileSync(join(data, 'kho.sqlite'), 'Đây không phải cơ sở dữ liệu SQLite. '.repeat(200));
    // A script run through runCli (verify) …
    const { code, stderr } = await run({ DATA_DIR: data }, ['--import', 'tsx', 'scripts/verify.ts']);
    expect(code).toBe(1);
    expect(stderr).toContain('error: The catalogue database is not a SQLite database. Restore the last backup into a new folder');
    noStack(stderr);
    // … and an account script (user), which names the file.
    const lines: string[] = [];
    const exit = await userMain(['list'], { ...process.env, DATA_DIR: data }, (l) => lines.push(l));
    expect(exit).toBe(1);
    expect(lines.join('\n')).toContain(`error: The catalogue database ${join(data, 'kho.sqlite')} is not a SQLite database`);
  }, 60_000);

  it('names a DATA_DIR that is a file', async () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    const r = await run({ DATA_DIR: file, PORT: '0' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`Cannot use DATA_DIR (${file})`);
    noStack(r.stderr);
  }, 40_000);

  it('explains a damaged database and a port that needs rights; leaves other errors alone', () => {
    const ctx = { host: '0.0.0.0', port: 80, dataDir: '/srv/kho' };
    const corrupt = Object.assign(new Error('database disk image is malformed'), { code: 'SQLITE_CORRUPT' });
    expect(explainStartupError(corrupt, ctx)).toBe(
      'The catalogue database /srv/kho/kho.sqlite is damaged (database disk image is malformed). Restore the last backup into a new folder (DATA_DIR=<new folder> npm run restore -- <backup folder>, see docs/operations.md) and start the server on that folder; this file is left as it is.',
    );
    const denied = Object.assign(new Error('listen EACCES'), { code: 'EACCES', syscall: 'listen' });
    expect(explainStartupError(denied, ctx)).toContain('Not allowed to listen on 0.0.0.0:80');
    expect(explainStartupError(new TypeError('x is not a function'), ctx)).toBeNull();
  });
});
