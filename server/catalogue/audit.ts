/** The append-only audit log: writing entries and reading a record's history. */
import type Database from 'better-sqlite3';
import type { Principal } from '../auth/principal.ts';

export type Changes = Record<string, [unknown, unknown]>;

export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  actorUserId: number | null;
  action: string;
  changes: Record<string, unknown> | null;
  note: string | null;
}

export function writeAudit(
  sqlite: Database.Database,
  principal: Principal | null,
  entry: { action: string; entity: string; entityId: string | number; changes?: Changes | Record<string, unknown> | null; note?: string | null },
): void {
  sqlite
    .prepare('INSERT INTO audit_log (actor_user_id, actor, action, entity, entity_id, changes, note) VALUES (?, ?, ?, ?, ?, ?, ?)')
    .run(
      principal?.userId ?? null,
      principal?.username ?? 'anonymous',
      entry.action,
      entry.entity,
      String(entry.entityId),
      entry.changes ? JSON.stringify(entry.changes) : null,
      entry.note ?? null,
    );
}

export function readHistory(sqlite: Database.Database, entity: string, entityId: string | number): AuditEntry[] {
  const rows = sqlite
    .prepare('SELECT id, at, actor, actor_user_id, action, changes, note FROM audit_log WHERE entity = ? AND entity_id = ? ORDER BY id')
    .all(entity, String(entityId)) as Array<Record<string, unknown>>;
  return rows.map((r) => ({
    id: r.id as number,
    at: r.at as string,
    actor: r.actor as string,
    actorUserId: (r.actor_user_id as number) ?? null,
    action: r.action as string,
    changes: r.changes ? (JSON.parse(r.changes as string) as Record<string, unknown>) : null,
    note: (r.note as string) ?? null,
  }));
}
