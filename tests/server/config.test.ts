/**
 * Every configuration variable with a wrong value is named at start-up, all at once, and the server
 * exits 2 without a stack trace (README, "Configuration").
 */
import { spawn } from 'node:child_process';
import { chmod, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build, SERVER_ENTRY, SERVER_NODE_ARGS } from '../../scripts/build.mjs';
import { ConfigError, loadConfig } from '../../server/config.ts';
import { defaultFfmpegPath, defaultFfprobePath } from '../../server/ingest/adapters/ffmpeg.ts';
import { makeDataDir } from '../helpers/app.ts';

const ROOT = join(import.meta.dirname, '../..');

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
    return [];
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
}

describe('configuration from the environment', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await makeDataDir();
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('names every variable with a wrong value at once', async () => {
    const notRunnable = join(dir, 'ffmpeg không chạy được');
    await writeFile(notRunnable, '#!/bin/sh\n');
    await chmod(notRunnable, 0o644);
    const bad: Record<string, string> = {
      PORT: 'cổng',
      DATA_DIR: '../kho',
      ADMIN_TOKEN: 'ngắn',
      LOG_LEVEL: 'verbose',
      TRUST_PROXY: 'có lẽ',
      MAX_FILE_MB: '0',
      MAX_FILES: '1e3',
      UPLOAD_MIN_RATE: '-5',
      JOB_WORKERS: '100',
      JOB_TIMEOUT_S: '0',
      JOB_MEMORY_MB: '10',
      JOB_MAX_ATTEMPTS: '0',
      SEARCH_WORKERS: 'hai',
      MAX_IMAGE_PIXELS: '0',
      FFMPEG_PATH: join(dir, 'không có', 'ffmpeg'),
      FFPROBE_PATH: notRunnable,
      MIN_FREE_DISK_MB: 'x',
      FIXITY_INTERVAL_HOURS: '1.5',
      OAI_ADMIN_EMAIL: 'không phải thư',
    };
    const problems = problemsOf(bad);
    for (const name of Object.keys(bad)) expect(problems.some((p) => p.startsWith(`${name} `)), `${name} in ${problems.join('\n')}`).toBe(true);
    expect(problems).toHaveLength(Object.keys(bad).length);
    expect(problems).toContain(`SEARCH_WORKERS must be a whole number, got "hai"`);
    expect(problems).toContain(`FFMPEG_PATH must be a program this user can run, got "${join(dir, 'không có', 'ffmpeg')}" (there is no such file)`);
    expect(problems).toContain(`FFPROBE_PATH must be a program this user can run, got "${notRunnable}" (this user may not run it)`);
    expect(problemsOf({ SEARCH_WORKERS: '17' })).toEqual(['SEARCH_WORKERS must be between 0 and 16, got 17']);
    expect(problemsOf({ FFMPEG_PATH: dir })).toEqual([`FFMPEG_PATH must be a program this user can run, got "${dir}" (it is not a file)`]);
  });

  it('takes good values, the bundled ffmpeg and ffprobe named explicitly included', () => {
    const c = loadConfig({ SEARCH_WORKERS: '2', FFMPEG_PATH: defaultFfmpegPath(), FFPROBE_PATH: defaultFfprobePath(), PORT: '3456' });
    expect(c.media.ffmpegPath).toBe(defaultFfmpegPath());
    expect(c.port).toBe(3456);
  });

  it('the server exits 2 naming them, without a stack trace (it started with a typo in SEARCH_WORKERS and a missing FFMPEG_PATH)', async () => {
    build();
    const proc = spawn(process.execPath, [...SERVER_NODE_ARGS, SERVER_ENTRY], {
      cwd: ROOT,
      env: { ...process.env, DATA_DIR: join(dir, 'kho'), PORT: '0', JOB_WORKERS: '0', LOG_LEVEL: 'silent', SEARCH_WORKERS: 'x', FFMPEG_PATH: '/không/có/ffmpeg' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => proc.kill('SIGKILL'), 20_000);
    const code = await new Promise<number | null>((r) => proc.on('exit', r));
    clearTimeout(timer);
    expect(code, stderr).toBe(2);
    expect(stderr).toContain('Invalid configuration:');
    expect(stderr).toContain('SEARCH_WORKERS must be a whole number, got "x"');
    expect(stderr).toContain('FFMPEG_PATH must be a program this user can run, got "/không/có/ffmpeg" (there is no such file)');
    expect(stderr).not.toMatch(/^\s+at /m);
  }, 40_000);
});
