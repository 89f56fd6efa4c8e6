/** Agencies and plan tasks: reads for everyone, edits by admins (other years, other plans). */
import type Database from 'better-sqlite3';
import type { Principal } from '../auth/principal.ts';
import { PRODUCT_TYPES } from '../db/schema.ts';
import { err } from '../errors.ts';
import { writeAudit } from './audit.ts';
import { resolveAgencyId } from './accounts.ts';
import { isValidDate } from './product-fields.ts';

export const AGENCY_CATEGORIES = ['party', 'department', 'front', 'mass_org', 'press', 'district', 'other'] as const;

export interface AgencyView {
  id: number;
  code: string;
  name: string;
  shortName: string | null;
  category: string;
  active: boolean;
}

export interface PlanTaskView {
  id: number;
  code: string;
  planRef: string;
  year: number;
  agency: { id: number; code: string; name: string };
  title: string;
  productType: string | null;
  expectedProduct: string | null;
  deadline: string;
  deadlineLabel: string | null;
  notes: string | null;
}

type Row = Record<string, unknown>;
const toAgency = (r: Row): AgencyView => ({
  id: r.id as number,
  code: r.code as string,
  name: r.name as string,
  shortName: (r.short_name as string) ?? null,
  category: r.category as string,
  active: r.active === 1,
});

export function listAgencies(sqlite: Database.Database, includeInactive = false): AgencyView[] {
  return (sqlite.prepare(`SELECT * FROM agencies ${includeInactive ? '' : 'WHERE active = 1'} ORDER BY id`).all() as Row[]).map(toAgency);
}

export function getAgency(sqlite: Database.Database, id: number): AgencyView | null {
  const r = sqlite.prepare('SELECT * FROM agencies WHERE id = ?').get(id) as Row | undefined;
  return r ? toAgency(r) : null;
}

const CODE_RE = /^[a-z0-9][a-z0-9-]{1,63}$/;

export interface AgencyInput {
  code?: string;
  name?: string;
  shortName?: string | null;
  category?: string;
  active?: boolean;
}

function checkAgency(input: AgencyInput): void {
  if (input.code !== undefined && !CODE_RE.test(input.code)) throw err.validation('code', 'code must be 2–64 lower-case letters, digits or dashes');
  if (input.name !== undefined && (input.name.trim() === '' || input.name.length > 300)) throw err.validation('name', 'name must be 1–300 characters');
  if (input.category !== undefined && !(AGENCY_CATEGORIES as readonly string[]).includes(input.category)) {
    throw err.validation('category', `category must be one of ${AGENCY_CATEGORIES.join(', ')}`);
  }
}

export function createAgency(sqlite: Database.Database, p: Principal, input: Required<Pick<AgencyInput, 'code' | 'name'>> & AgencyInput): AgencyView {
  checkAgency(input);
  if (sqlite.prepare('SELECT 1 FROM agencies WHERE code = ?').get(input.code)) throw err.conflict('CODE_TAKEN', `agency code "${input.code}" exists`, { field: 'code' });
  const info = sqlite
    .prepare('INSERT INTO agencies (code, name, short_name, category, active) VALUES (?, ?, ?, ?, ?)')
    .run(input.code, input.name.normalize('NFC').trim(), input.shortName?.normalize('NFC').trim() || null, input.category ?? 'other', input.active === false ? 0 : 1);
  const a = getAgency(sqlite, Number(info.lastInsertRowid))!;
  writeAudit(sqlite, p, { action: 'create', entity: 'agency', entityId: a.id, changes: { code: [null, a.code], name: [null, a.name] } });
  return a;
}

export function updateAgency(sqlite: Database.Database, p: Principal, id: number, input: AgencyInput): AgencyView {
  const cur = getAgency(sqlite, id);
  if (!cur) throw err.notFound('Agency', 'AGENCY_NOT_FOUND');
  checkAgency(input);
  if (input.code !== undefined && input.code !== cur.code && sqlite.prepare('SELECT 1 FROM agencies WHERE code = ?').get(input.code)) {
    throw err.conflict('CODE_TAKEN', `agency code "${input.code}" exists`, { field: 'code' });
  }
  const next = {
    code: input.code ?? cur.code,
    name: input.name?.normalize('NFC').trim() ?? cur.name,
    shortName: input.shortName === undefined ? cur.shortName : input.shortName?.normalize('NFC').trim() || null,
    category: input.category ?? cur.category,
    active: input.active ?? cur.active,
  };
  sqlite.prepare('UPDATE agencies SET code = ?, name = ?, short_name = ?, category = ?, active = ? WHERE id = ?').run(next.code, next.name, next.shortName, next.category, next.active ? 1 : 0, id);
  const changes = Object.fromEntries(Object.entries(next).filter(([k, v]) => cur[k as keyof AgencyView] !== v).map(([k, v]) => [k, [cur[k as keyof AgencyView], v]]));
  if (Object.keys(changes).length) writeAudit(sqlite, p, { action: 'update', entity: 'agency', entityId: id, changes });
  return getAgency(sqlite, id)!;
}

const TASK_SELECT = `SELECT t.*, a.code AS agency_code, a.name AS agency_name FROM plan_tasks t JOIN agencies a ON a.id = t.agency_id`;
const toTask = (r: Row): PlanTaskView => ({
  id: r.id as number,
  code: r.code as string,
  planRef: r.plan_ref as string,
  year: r.year as number,
  agency: { id: r.agency_id as number, code: r.agency_code as string, name: r.agency_name as string },
  title: r.title as string,
  productType: (r.product_type as string) ?? null,
  expectedProduct: (r.expected_product as string) ?? null,
  deadline: r.deadline as string,
  deadlineLabel: (r.deadline_label as string) ?? null,
  notes: (r.notes as string) ?? null,
});

export function listPlanTasks(sqlite: Database.Database, q: { year?: number; agency?: string } = {}): PlanTaskView[] {
  const agencyId = q.agency ? resolveAgencyId(sqlite, q.agency) : null;
  return (sqlite
    .prepare(`${TASK_SELECT} WHERE (@year IS NULL OR t.year = @year) AND (@agency IS NULL OR t.agency_id = @agency) ORDER BY t.year, t.deadline, t.code`)
    .all({ year: q.year ?? null, agency: agencyId }) as Row[]).map(toTask);
}

export function getPlanTask(sqlite: Database.Database, id: number): PlanTaskView | null {
  const r = sqlite.prepare(`${TASK_SELECT} WHERE t.id = ?`).get(id) as Row | undefined;
  return r ? toTask(r) : null;
}

export interface PlanTaskInput {
  code?: string;
  planRef?: string;
  year?: number;
  agency?: string | number;
  title?: string;
  productType?: string | null;
  expectedProduct?: string | null;
  deadline?: string;
  deadlineLabel?: string | null;
  notes?: string | null;
}

function checkTask(input: PlanTaskInput): void {
  if (input.code !== undefined && !CODE_RE.test(input.code)) throw err.validation('code', 'code must be 2–64 lower-case letters, digits or dashes');
  if (input.year !== undefined && (!Number.isInteger(input.year) || input.year < 2000 || input.year > 2100)) throw err.validation('year', 'year must be between 2000 and 2100');
  if (input.title !== undefined && (input.title.trim() === '' || input.title.length > 1000)) throw err.validation('title', 'title must be 1–1000 characters');
  if (input.productType != null && !(PRODUCT_TYPES as readonly string[]).includes(input.productType)) throw err.validation('productType', `productType must be one of ${PRODUCT_TYPES.join(', ')}`);
  if (input.deadline !== undefined && !isValidDate(input.deadline)) throw err.validation('deadline', 'deadline must be a date written YYYY-MM-DD');
}

export function createPlanTask(sqlite: Database.Database, p: Principal, input: PlanTaskInput & Required<Pick<PlanTaskInput, 'code' | 'planRef' | 'year' | 'agency' | 'title' | 'deadline'>>): PlanTaskView {
  checkTask(input);
  const agencyId = resolveAgencyId(sqlite, input.agency);
  if (sqlite.prepare('SELECT 1 FROM plan_tasks WHERE code = ?').get(input.code)) throw err.conflict('CODE_TAKEN', `plan task code "${input.code}" exists`, { field: 'code' });
  const info = sqlite
    .prepare(
      `INSERT INTO plan_tasks (code, plan_ref, year, agency_id, title, product_type, expected_product, deadline, deadline_label, notes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(input.code, input.planRef.trim(), input.year, agencyId, input.title.normalize('NFC').trim(), input.productType ?? null, input.expectedProduct ?? null, input.deadline, input.deadlineLabel ?? null, input.notes ?? null);
  const t = getPlanTask(sqlite, Number(info.lastInsertRowid))!;
  writeAudit(sqlite, p, { action: 'create', entity: 'plan_task', entityId: t.id, changes: { code: [null, t.code], deadline: [null, t.deadline] } });
  return t;
}

export function updatePlanTask(sqlite: Database.Database, p: Principal, id: number, input: PlanTaskInput): PlanTaskView {
  const cur = getPlanTask(sqlite, id);
  if (!cur) throw err.notFound('Plan task', 'PLAN_TASK_NOT_FOUND');
  checkTask(input);
  if (input.code !== undefined && input.code !== cur.code && sqlite.prepare('SELECT 1 FROM plan_tasks WHERE code = ?').get(input.code)) {
    throw err.conflict('CODE_TAKEN', `plan task code "${input.code}" exists`, { field: 'code' });
  }
  const next = {
    code: input.code ?? cur.code,
    planRef: input.planRef ?? cur.planRef,
    year: input.year ?? cur.year,
    agencyId: input.agency !== undefined ? resolveAgencyId(sqlite, input.agency) : cur.agency.id,
    title: input.title?.normalize('NFC').trim() ?? cur.title,
    productType: input.productType === undefined ? cur.productType : input.productType,
    expectedProduct: input.expectedProduct === undefined ? cur.expectedProduct : input.expectedProduct,
    deadline: input.deadline ?? cur.deadline,
    deadlineLabel: input.deadlineLabel === undefined ? cur.deadlineLabel : input.deadlineLabel,
    notes: input.notes === undefined ? cur.notes : input.notes,
  };
  sqlite
    .prepare(
      `UPDATE plan_tasks SET code = ?, plan_ref = ?, year = ?, agency_id = ?, title = ?, product_type = ?, expected_product = ?, deadline = ?, deadline_label = ?, notes = ? WHERE id = ?`,
    )
    .run(next.code, next.planRef, next.year, next.agencyId, next.title, next.productType, next.expectedProduct, next.deadline, next.deadlineLabel, next.notes, id);
  const before: Record<string, unknown> = { ...cur, agencyId: cur.agency.id };
  const changes = Object.fromEntries(Object.entries(next).filter(([k, v]) => before[k] !== v).map(([k, v]) => [k, [before[k], v]]));
  if (Object.keys(changes).length) writeAudit(sqlite, p, { action: 'update', entity: 'plan_task', entityId: id, changes });
  return getPlanTask(sqlite, id)!;
}
