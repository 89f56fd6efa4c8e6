/**
 * The review workflow of a product record:
 *
 *   submitted ──start_review──► in_review ──accept──► accepted ──publish──► published
 *      │  ▲                        │
 *      │  └──────resubmit──── returned ◄──return── (from submitted or in_review, reason required)
 *      └──────────return────────────┘
 *   any state except withdrawn ──withdraw──► withdrawn
 *
 * Staff (archivist, admin) may take every action. The owning agency may resubmit a returned
 * record and withdraw its own record while it is not yet accepted. An action from a state it does
 * not apply to is 409 ILLEGAL_TRANSITION naming from/to. Every transition bumps the version,
 * sets updated_at and writes an audit entry.
 */
import type Database from 'better-sqlite3';
import { isStaff, type Principal } from '../auth/principal.ts';
import type { ProductState } from '../db/schema.ts';
import { AppError, err } from '../errors.ts';
import { writeAudit } from './audit.ts';
import { checkIfMatch } from './concurrency.ts';
import { canSee } from './visibility.ts';

export const ACTIONS = ['start_review', 'accept', 'publish', 'return', 'resubmit', 'withdraw'] as const;
export type Action = (typeof ACTIONS)[number];

interface Rule {
  from: readonly ProductState[];
  to: ProductState;
  /** Whether the owning agency may take it (from `agencyFrom` states when given). */
  agency: boolean;
  agencyFrom?: readonly ProductState[];
}

export const TRANSITIONS: Record<Action, Rule> = {
  start_review: { from: ['submitted'], to: 'in_review', agency: false },
  accept: { from: ['in_review'], to: 'accepted', agency: false },
  publish: { from: ['accepted'], to: 'published', agency: false },
  return: { from: ['submitted', 'in_review'], to: 'returned', agency: false },
  resubmit: { from: ['returned'], to: 'submitted', agency: true },
  withdraw: { from: ['submitted', 'in_review', 'accepted', 'published', 'returned'], to: 'withdrawn', agency: true, agencyFrom: ['submitted', 'in_review', 'returned'] },
};

export interface ProductRow {
  id: number;
  state: ProductState;
  access: string;
  agency_id: number | null;
  version: number;
  title: string;
  plan_task_id: number | null;
  duplicate_flags: string;
  [col: string]: unknown;
}

export function loadRow(sqlite: Database.Database, id: number): ProductRow | undefined {
  return sqlite.prepare('SELECT * FROM products WHERE id = ?').get(id) as ProductRow | undefined;
}

/** The record if `p` may see it, else 404 (existence is not revealed). */
export function loadVisible(sqlite: Database.Database, p: Principal | null, id: number): ProductRow {
  const row = loadRow(sqlite, id);
  if (!row || !canSee(p, { state: row.state, access: row.access, agencyId: row.agency_id })) throw err.notFound('Product', 'PRODUCT_NOT_FOUND');
  return row;
}

/** Staff, or the agency that owns the record; others get 403. */
export function assertCanAct(p: Principal, row: ProductRow): void {
  if (isStaff(p)) return;
  if (p.role === 'agency' && p.agencyId !== null && row.agency_id === p.agencyId) return;
  throw err.forbidden('Only archivists and the submitting agency may change this record or read its history', 'NOT_YOUR_RECORD');
}

export interface TransitionInput {
  action: Action;
  reason?: string | null;
  ifMatch?: string | string[];
}

export interface TransitionResult {
  id: number;
  from: ProductState;
  to: ProductState;
  version: number;
}

/** Check and apply one transition in a transaction. Throws AppError (404/403/409/412/400). */
export function applyTransition(sqlite: Database.Database, p: Principal, id: number, input: TransitionInput): TransitionResult {
  return sqlite.transaction((): TransitionResult => {
    const row = loadVisible(sqlite, p, id);
    assertCanAct(p, row);
    const rule = TRANSITIONS[input.action];
    if (!rule) throw err.validation('action', `action must be one of ${ACTIONS.join(', ')}`);
    const staff = isStaff(p);
    if (!staff && !rule.agency) throw err.forbidden(`Only archivists may ${input.action.replace('_', ' ')} a record`, 'ACTION_NOT_ALLOWED');
    checkIfMatch(input.ifMatch, row.version, false);
    const from = row.state;
    const allowedFrom = staff ? rule.from : (rule.agencyFrom ?? rule.from);
    if (!allowedFrom.includes(from)) {
      const why = !staff && rule.from.includes(from) ? ' (the record was already accepted: ask the archivists)' : '';
      throw new AppError(409, 'ILLEGAL_TRANSITION', `Cannot ${input.action} a record that is ${from}: ${from} → ${rule.to} is not allowed${why}`, {
        from,
        to: rule.to,
        action: input.action,
        allowedFrom,
      });
    }
    const reason = input.reason?.normalize('NFC').trim() || null;
    if (input.action === 'return' && !reason) throw err.validation('reason', 'a reason is required to return a record to the agency');
    if (reason && reason.length > 5000) throw err.validation('reason', 'reason must be at most 5000 characters');
    const now = new Date().toISOString();
    const changes: Record<string, [unknown, unknown]> = { state: [from, rule.to] };
    let returnReason = (row.return_reason as string | null) ?? null;
    if (input.action === 'return') returnReason = reason;
    if (input.action === 'resubmit') returnReason = null;
    if (returnReason !== ((row.return_reason as string | null) ?? null)) changes.returnReason = [row.return_reason ?? null, returnReason];
    let publishedAt = (row.published_at as string | null) ?? null;
    if (input.action === 'publish') {
      changes.publishedAt = [publishedAt, now];
      publishedAt = now;
    }
    const info = sqlite
      .prepare('UPDATE products SET state = ?, return_reason = ?, published_at = ?, version = version + 1, updated_at = ? WHERE id = ? AND version = ?')
      .run(rule.to, returnReason, publishedAt, now, id, row.version);
    if (info.changes !== 1) throw err.preconditionFailed('The record changed while the action was applied', { currentVersion: loadRow(sqlite, id)?.version });
    writeAudit(sqlite, p, { action: input.action, entity: 'product', entityId: id, changes, note: reason });
    return { id, from, to: rule.to, version: row.version + 1 };
  })();
}
