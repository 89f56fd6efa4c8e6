import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
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
});
