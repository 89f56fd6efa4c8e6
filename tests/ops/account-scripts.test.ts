import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main as tokenCli } from '../../scripts/token.ts';
import { main as userCli } from '../../scripts/user.ts';
import { makeDataDir } from '../helpers/app.ts';

describe('user and token scripts: usage errors and --data-dir', () => {
  let dir: string;
  const lines: string[] = [];
  const out = (s: string) => lines.push(s);
  // DATA_DIR points elsewhere: --data-dir must win.
  const env = { DATA_DIR: '/nonexistent-kho-data-dir' };

  beforeAll(async () => {
    dir = await makeDataDir();
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('an unknown option or a missing value is a usage error (exit 2) with the usage, not a stack trace', async () => {
    for (const [cli, argv] of [
      [userCli, ['create', '--bogus']],
      [userCli, ['create', '--username']],
      [tokenCli, ['list', '--bogus']],
      [tokenCli, ['create', '--user', 'x', '--name', 'y', '--days', '-1']],
    ] as const) {
      lines.length = 0;
      expect(await cli([...argv], env, out), argv.join(' ')).toBe(2);
      expect(lines.join('\n')).toMatch(/^error: .*\n(.|\n)*usage/);
    }
    expect(existsSync('/nonexistent-kho-data-dir')).toBe(false);
  });

  it('--help exits 0; no command, an unknown command or a missing required option exits 2', async () => {
    expect(await userCli(['--help'], env, out)).toBe(0);
    expect(await tokenCli(['--help'], env, out)).toBe(0);
    expect(await userCli([], env, out)).toBe(2);
    lines.length = 0;
    expect(await tokenCli(['frob', '--data-dir', dir], env, out)).toBe(2);
    expect(lines[0]).toMatch(/^error: unknown command "frob"\n/);
    expect(await userCli(['create', '--username', 'a', '--data-dir', dir], env, out)).toBe(2);
    expect(await tokenCli(['create', '--user', 'a', '--name', 'b', '--days', '5', '--no-expiry', '--data-dir', dir], env, out)).toBe(2);
  });

  it('an option value the account rules refuse is a usage error (exit 2, with the usage); a clash while running is exit 1', async () => {
    expect(await userCli(['create', '--username', 'quantri', '--role', 'archivist', '--password', 'Mật khẩu đủ dài', '--data-dir', dir], env, out)).toBe(0);
    for (const [cli, argv, text] of [
      [userCli, ['create', '--username', 'canbo1', '--role', 'giám đốc'], 'role must be one of'],
      [userCli, ['create', '--username', 'canbo2', '--role', 'archivist', '--password', 'ngắn'], 'password must be at least'],
      [userCli, ['create', '--username', 'canbo3', '--role', 'agency', '--agency', 'so-khong-co'], 'unknown agency "so-khong-co"'],
      [tokenCli, ['create', '--user', 'quantri', '--name', 'máy chủ', '--days', 'chín mươi'], 'days must be a whole number'],
    ] as const) {
      lines.length = 0;
      expect(await cli([...argv, '--data-dir', dir], env, out), argv.join(' ')).toBe(2);
      expect(lines.join('\n')).toContain(text);
      expect(lines.join('\n')).toMatch(/^error: .*\n(.|\n)*usage/);
    }
    lines.length = 0;
    expect(await userCli(['create', '--username', 'quantri', '--role', 'archivist', '--data-dir', dir], env, out)).toBe(1);
    expect(lines.join('\n')).toContain('already taken');
    expect(lines.join('\n')).not.toContain('usage');
  });

  it('works on the store named by --data-dir, and says when it creates one', async () => {
    await rm(join(dir, 'kho.sqlite'), { force: true });
    lines.length = 0;
    expect(await userCli(['create', '--username', 'luutru1', '--role', 'archivist', '--password', 'Mật khẩu đủ dài', '--data-dir', dir], env, out)).toBe(0);
    expect(lines[0]).toBe(`note: no database at ${join(dir, 'kho.sqlite')} yet; creating it`);
    lines.length = 0;
    expect(await userCli(['list', '--data-dir', dir], env, out)).toBe(0);
    expect(lines).toEqual([expect.stringMatching(/^\d+\tluutru1\tarchivist\t/)]);
    expect(await userCli(['list', '--data-dir', '../x'], env, out)).toBe(2);
    expect(existsSync('/nonexistent-kho-data-dir')).toBe(false);
  });

  it('a data dir that cannot be made (a file in the way) is one line and exit 1, not a stack trace', async () => {
    const file = join(dir, 'tệp thường.txt');
    await writeFile(file, 'không phải thư mục');
    for (const cli of [userCli, tokenCli]) {
      lines.length = 0;
      expect(await cli(['list', '--data-dir', join(file, 'kho')], env, out)).toBe(1);
      expect(lines.at(-1)).toBe(`error: cannot create ${join(file, 'kho')}: ${file} is a file, not a folder`);
    }
  });
});
