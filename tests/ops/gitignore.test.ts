/**
 * What the documented commands leave in the project folder is ignored by git: `npm run import`
 * writes its report (import-report-<time>.json and .txt) in the current folder, which under
 * `npm run` is the project folder, so a fresh clone whose operator ran the README's import showed
 * the reports as untracked files (found by a fresh-clone probe).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const inGit = existsSync(resolve(ROOT, '.git'));

/** The paths of `names` git ignores in the project folder (no file needs to exist). */
function ignored(names: string[]): string[] {
  try {
    return execFileSync('git', ['check-ignore', '--no-index', ...names], { cwd: ROOT, encoding: 'utf8' }).split('\n').filter(Boolean);
  } catch (e) {
    // Exit 1: none of them is ignored.
    if ((e as { status?: number }).status === 1) return [];
    throw e;
  }
}

describe.skipIf(!inGit)('files the operator commands leave in the project folder', () => {
  it('the default import reports are ignored, the template and sources are not', () => {
    const reports = ['import-report-20261128-085349.json', 'import-report-20261128-085349.txt'];
    expect(ignored(reports)).toEqual(reports);
    expect(ignored(['docs/import-template.csv', 'scripts/import.ts', 'README.md'])).toEqual([]);
  });
});
