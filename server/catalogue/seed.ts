/**
 * Loading a plan's seed file (agencies, plan tasks, store deadlines) into the catalogue.
 * Idempotent: existing codes are left alone (an admin may have edited them), and the file is
 * recorded in `meta` so it loads only once.
 */
import type Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DATA_FILES_DIR } from '../paths.ts';

export const DEFAULT_PLAN_FILE = join(DATA_FILES_DIR, 'plan-199-KH-TU-2023.json');

export interface SeedAgency {
  code: string;
  name: string;
  shortName?: string;
  category: string;
}

export interface SeedTask {
  code: string;
  agency: string;
  title: string;
  productType: string | null;
  expectedProduct?: string;
  deadline: string;
  deadlineLabel?: string;
  notes?: string;
}

/** A store-wide deadline of a plan (not tied to one task). */
export interface StoreDeadline {
  code: string;
  kind: 'backlog' | 'after_printing' | 'annual_report' | string;
  label: string;
  /** Last allowed day, YYYY-MM-DD (Asia/Ho_Chi_Minh), or null ("right after printing"). */
  deadline: string | null;
  /** backlog: products released in this year or earlier. */
  productYearsUpTo?: number;
  productYearsFrom?: number;
  /** The plan year the deadline belongs to (filled from the plan when loading). */
  year?: number;
}

export interface PlanSeed {
  plan: { ref: string; year: number; title: string; issuedOn?: string; issuer?: string };
  agencies: SeedAgency[];
  tasks: SeedTask[];
  storeDeadlines: StoreDeadline[];
}

export const STORE_DEADLINES_KEY = 'store_deadlines';

export function readPlanSeed(file = DEFAULT_PLAN_FILE): PlanSeed {
  return JSON.parse(readFileSync(file, 'utf8')) as PlanSeed;
}

/** Store deadlines of every loaded plan (meta key `store_deadlines`). */
export function getStoreDeadlines(sqlite: Database.Database): StoreDeadline[] {
  const row = sqlite.prepare('SELECT value FROM meta WHERE key = ?').get(STORE_DEADLINES_KEY) as { value: string } | undefined;
  if (!row) return [];
  try {
    return JSON.parse(row.value) as StoreDeadline[];
  } catch {
    return [];
  }
}

export interface SeedResult {
  loaded: boolean;
  agencies: number;
  tasks: number;
}

/** Load `seed` unless a seed with the same plan ref was loaded before. */
export function loadPlanSeed(sqlite: Database.Database, seed: PlanSeed): SeedResult {
  const marker = `seed:${seed.plan.ref}:${seed.plan.year}`;
  return sqlite.transaction((): SeedResult => {
    if (sqlite.prepare('SELECT 1 FROM meta WHERE key = ?').get(marker)) return { loaded: false, agencies: 0, tasks: 0 };
    const insAgency = sqlite.prepare(
      'INSERT INTO agencies (code, name, short_name, category) VALUES (?, ?, ?, ?) ON CONFLICT(code) DO NOTHING',
    );
    let agencies = 0;
    for (const a of seed.agencies) agencies += insAgency.run(a.code, a.name, a.shortName ?? null, a.category).changes;
    const agencyId = sqlite.prepare('SELECT id FROM agencies WHERE code = ?');
    const insTask = sqlite.prepare(
      `INSERT INTO plan_tasks (code, plan_ref, year, agency_id, title, product_type, expected_product, deadline, deadline_label, notes)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(code) DO NOTHING`,
    );
    let tasks = 0;
    for (const t of seed.tasks) {
      const a = agencyId.get(t.agency) as { id: number } | undefined;
      if (!a) throw new Error(`Seed task ${t.code} names unknown agency ${t.agency}`);
      tasks += insTask.run(t.code, seed.plan.ref, seed.plan.year, a.id, t.title, t.productType, t.expectedProduct ?? null, t.deadline, t.deadlineLabel ?? null, t.notes ?? null).changes;
    }
    const deadlines = getStoreDeadlines(sqlite).filter((d) => !seed.storeDeadlines.some((s) => s.code === d.code));
    deadlines.push(...seed.storeDeadlines.map((d) => ({ ...d, year: seed.plan.year })));
    sqlite.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(STORE_DEADLINES_KEY, JSON.stringify(deadlines));
    sqlite.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run(marker, new Date().toISOString());
    return { loaded: true, agencies, tasks };
  })();
}

/** Add or replace one store deadline (admin edits: other years, other plans). */
export function upsertStoreDeadline(sqlite: Database.Database, d: StoreDeadline & { year: number }): StoreDeadline[] {
  return sqlite.transaction(() => {
    const list = getStoreDeadlines(sqlite).filter((x) => x.code !== d.code);
    list.push(d);
    list.sort((a, b) => (a.year ?? 0) - (b.year ?? 0) || (a.deadline ?? '9999').localeCompare(b.deadline ?? '9999') || a.code.localeCompare(b.code));
    sqlite.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(STORE_DEADLINES_KEY, JSON.stringify(list));
    return list;
  })();
}
