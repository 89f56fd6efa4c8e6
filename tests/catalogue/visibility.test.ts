/**
 * The visibility rule is written twice: as SQL for lists, search and exports (`visibilitySql`) and
 * as JS for a record already loaded (`canSee`). This test holds the two to the same answer for every
 * viewer kind over every state × access × agency a record can have, on a real SQLite table.
 */
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import type { Principal } from '../../server/auth/principal.ts';
import { canSee, visibilitySql } from '../../server/catalogue/visibility.ts';
import { ACCESS_LEVELS, PRODUCT_STATES, ROLES } from '../../server/db/schema.ts';

const db = new Database(':memory:');
afterAll(() => db.close());
db.exec('CREATE TABLE products (id INTEGER PRIMARY KEY, state TEXT NOT NULL, access TEXT NOT NULL, agency_id INTEGER)');
const insert = db.prepare('INSERT INTO products (state, access, agency_id) VALUES (?, ?, ?)');
const rows: Array<{ id: number; state: string; access: string; agencyId: number | null }> = [];
for (const state of PRODUCT_STATES)
  for (const access of ACCESS_LEVELS)
    for (const agencyId of [null, 1, 2]) {
      const id = Number(insert.run(state, access, agencyId).lastInsertRowid);
      rows.push({ id, state, access, agencyId });
    }

const viewers: Array<[string, Principal | null]> = [['anonymous', null]];
for (const role of ROLES)
  for (const agencyId of [null, 1])
    for (const canSeeInternal of [false, true])
      viewers.push([
        `${role} agency=${agencyId} internal=${canSeeInternal}`,
        { userId: 7, username: 'cán bộ', role, agencyId, canSeeInternal, via: 'session' },
      ]);

describe('visibilitySql and canSee', () => {
  it.each(viewers)('give the same records to %s', (_label, viewer) => {
    const vis = visibilitySql(viewer, 'x');
    const bySql = (db.prepare(`SELECT id FROM products x WHERE ${vis.where} ORDER BY id`).all(vis.params) as Array<{ id: number }>).map((r) => r.id);
    const byJs = rows.filter((r) => canSee(viewer, r)).map((r) => r.id);
    expect(bySql).toEqual(byJs);
    // Every viewer sees at least the published public records, and no one but staff sees everything.
    expect(byJs.length).toBeGreaterThanOrEqual(3);
    if (viewer === null || (viewer.role !== 'admin' && viewer.role !== 'archivist')) expect(byJs.length).toBeLessThan(rows.length);
    else expect(byJs.length).toBe(rows.length);
  });
});
