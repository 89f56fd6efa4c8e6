import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { lockDataDir } from '../../server/data-dir-lock.ts';
import { openDatabase } from '../../server/db/client.ts';
import { createSearchService } from '../../server/search/index.ts';
import { loadCatalogue } from './relevance/fixture.ts';

const dir = mkdtempSync(join(tmpdir(), 'kho-reindex-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('npm run reindex', () => {
  it('rebuilds the index of DATA_DIR/kho.sqlite and reports counts', async () => {
    const db = openDatabase(join(dir, 'kho.sqlite'));
    const cat = loadCatalogue(db.sqlite, 10);
    db.close();
    const root = resolve(import.meta.dirname, '../..');
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/reindex.ts'], {
      cwd: root,
      env: { PATH: process.env.PATH, DATA_DIR: dir },
    });
    expect(stdout).toMatch(new RegExp(`search index rebuilt: ${cat.ids.size} products, \\d+ text pages`));
    // The next start-up finds the index ready and does not rebuild.
    const again = openDatabase(join(dir, 'kho.sqlite'));
    const s = createSearchService({ sqlite: again.sqlite });
    expect(s.ensureReady().rebuilt).toBe(false);
    expect(s.search({ q: 'cao bang thuc luc' }, null).hits[0].id).toBe(cat.ids.get('thuc-luc'));
    s.close();
    again.close();
  });

  it('refuses while a server holds the data dir, and runs once it has stopped', async () => {
    const held = mkdtempSync(join(tmpdir(), 'kho-reindex-held-'));
    try {
      const db = openDatabase(join(held, 'kho.sqlite'));
      loadCatalogue(db.sqlite, 3);
      db.close();
      const root = resolve(import.meta.dirname, '../..');
      const run = () =>
        promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/reindex.ts'], {
          cwd: root,
          env: { PATH: process.env.PATH, DATA_DIR: held },
        });
      // This process stands for the running server: it holds the lock the server takes at start.
      const lock = lockDataDir(held);
      const refused = await run().then(
        () => null,
        (e: { code: number; stderr: string; stdout: string }) => e,
      );
      lock.release();
      expect(refused).not.toBeNull();
      expect(refused!.code).toBe(1);
      expect(refused!.stderr).toContain(`a server is running on ${held}: stop it first`);
      expect(refused!.stdout).not.toContain('search index rebuilt');
      const { stdout } = await run();
      expect(stdout).toMatch(/search index rebuilt: \d+ products/);
      // The script let go of the lock when it finished: a server can take it again.
      lockDataDir(held).release();
    } finally {
      rmSync(held, { recursive: true, force: true });
    }
  });
});
