/**
 * Users and API tokens: the logic shared by the admin routes and the operator scripts.
 */
import type Database from 'better-sqlite3';
import { hashPassword, passwordProblem, randomPassword } from '../auth/passwords.ts';
import { destroyUserSessions } from '../auth/sessions.ts';
import { hashSecret, newTokenSecret } from '../auth/tokens.ts';
import { ROLES, type Role } from '../db/schema.ts';
import { err } from '../errors.ts';

export interface UserView {
  id: number;
  username: string;
  displayName: string;
  role: Role;
  agency: { id: number; code: string; name: string } | null;
  canSeeInternal: boolean;
  active: boolean;
  hasPassword: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface TokenView {
  id: number;
  userId: number;
  username: string;
  name: string;
  prefix: string;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
  /** active | expired | revoked */
  status: string;
}

type Row = Record<string, unknown>;

const USER_SELECT = `SELECT u.*, a.code AS agency_code, a.name AS agency_name FROM users u LEFT JOIN agencies a ON a.id = u.agency_id`;

function toUser(r: Row): UserView {
  return {
    id: r.id as number,
    username: r.username as string,
    displayName: r.display_name as string,
    role: r.role as Role,
    agency: r.agency_id == null ? null : { id: r.agency_id as number, code: r.agency_code as string, name: r.agency_name as string },
    canSeeInternal: r.can_see_internal === 1,
    active: r.active === 1,
    hasPassword: r.password_hash != null,
    createdAt: r.created_at as string,
    updatedAt: r.updated_at as string,
  };
}

export function listUsers(sqlite: Database.Database): UserView[] {
  return (sqlite.prepare(`${USER_SELECT} ORDER BY u.username`).all() as Row[]).map(toUser);
}

export function getUser(sqlite: Database.Database, idOrName: number | string): UserView | null {
  const r = (typeof idOrName === 'number'
    ? sqlite.prepare(`${USER_SELECT} WHERE u.id = ?`).get(idOrName)
    : sqlite.prepare(`${USER_SELECT} WHERE u.username = ? OR CAST(u.id AS TEXT) = ?`).get(idOrName, idOrName)) as Row | undefined;
  return r ? toUser(r) : null;
}

/** The accounts whose username is `name` in any case (`Đặng-Thị-Hoa` for `đặng-thị-hoa`): names differing only in case are one name. */
export function usersNamedAnyCase<T extends { username: string }>(sqlite: Database.Database, name: string, columns = 'id, username'): T[] {
  const folded = name.toLowerCase();
  return (sqlite.prepare(`SELECT ${columns} FROM users`).all() as T[]).filter((u) => u.username.toLowerCase() === folded);
}

export function resolveAgencyId(sqlite: Database.Database, agency: string | number, field = 'agency'): number {
  const row = sqlite.prepare('SELECT id FROM agencies WHERE code = ? OR CAST(id AS TEXT) = ?').get(String(agency), String(agency)) as { id: number } | undefined;
  if (!row) throw err.validation(field, `unknown agency "${agency}"`);
  return row.id;
}

export interface CreateUserInput {
  username: string;
  displayName?: string;
  role: string;
  agency?: string | number | null;
  password?: string;
  canSeeInternal?: boolean;
}

/** Create a user; when no password is given a random one is generated and returned once. */
export async function createUser(sqlite: Database.Database, input: CreateUserInput): Promise<{ user: UserView; generatedPassword: string | null }> {
  const username = input.username.normalize('NFC').trim();
  if (!/^[\p{L}\p{N}._-]{2,64}$/u.test(username)) throw err.validation('username', 'username must be 2–64 letters, digits, dots, dashes or underscores');
  if (!(ROLES as readonly string[]).includes(input.role)) throw err.validation('role', `role must be one of ${ROLES.join(', ')}`);
  const role = input.role as Role;
  let agencyId: number | null = null;
  if (input.agency != null && input.agency !== '') agencyId = resolveAgencyId(sqlite, input.agency);
  if (role === 'agency' && agencyId === null) throw err.validation('agency', 'an agency submitter must be bound to an agency');
  if (role !== 'agency' && agencyId !== null) throw err.validation('agency', 'only agency submitters are bound to an agency');
  if (input.password !== undefined) {
    const problem = passwordProblem(input.password);
    if (problem) throw err.validation('password', problem);
  }
  // Names that differ only in case are one name: people type them either way, and login accepts both.
  const taken = usersNamedAnyCase(sqlite, username)[0];
  if (taken !== undefined) throw err.conflict('USERNAME_TAKEN', `username "${taken.username}" is already taken`, { field: 'username' });
  const generatedPassword = input.password === undefined ? randomPassword() : null;
  const hash = await hashPassword(input.password ?? generatedPassword!);
  const info = sqlite
    .prepare('INSERT INTO users (username, display_name, password_hash, role, agency_id, can_see_internal) VALUES (?, ?, ?, ?, ?, ?)')
    .run(username, input.displayName?.trim() || username, hash, role, agencyId, input.canSeeInternal && role === 'researcher' ? 1 : 0);
  return { user: getUser(sqlite, Number(info.lastInsertRowid))!, generatedPassword };
}

export interface UpdateUserInput {
  displayName?: string;
  role?: string;
  agency?: string | number | null;
  canSeeInternal?: boolean;
  active?: boolean;
  password?: string;
}

export async function updateUser(sqlite: Database.Database, id: number, input: UpdateUserInput): Promise<UserView> {
  const cur = getUser(sqlite, id);
  if (!cur) throw err.notFound('User', 'USER_NOT_FOUND');
  const role = (input.role ?? cur.role) as Role;
  if (!(ROLES as readonly string[]).includes(role)) throw err.validation('role', `role must be one of ${ROLES.join(', ')}`);
  let agencyId = cur.agency?.id ?? null;
  if (input.agency !== undefined) agencyId = input.agency === null || input.agency === '' ? null : resolveAgencyId(sqlite, input.agency);
  if (role !== 'agency' && input.role !== undefined && input.agency === undefined) agencyId = null;
  if (role === 'agency' && agencyId === null) throw err.validation('agency', 'an agency submitter must be bound to an agency');
  if (role !== 'agency' && agencyId !== null) throw err.validation('agency', 'only agency submitters are bound to an agency');
  let hash: string | undefined;
  if (input.password !== undefined) {
    const problem = passwordProblem(input.password);
    if (problem) throw err.validation('password', problem);
    hash = await hashPassword(input.password);
  }
  const canSeeInternal = role === 'researcher' ? (input.canSeeInternal ?? cur.canSeeInternal) : false;
  const active = input.active ?? cur.active;
  // The service must keep one way in through its own accounts: the last active admin can be neither
  // disabled nor given another role (ADMIN_TOKEN and `npm run user` are for operators, not a plan).
  if (cur.role === 'admin' && cur.active && (role !== 'admin' || !active)) {
    const others = sqlite.prepare(`SELECT COUNT(*) AS n FROM users WHERE role = 'admin' AND active = 1 AND id <> ?`).get(id) as { n: number };
    if (others.n === 0) throw err.conflict('LAST_ADMIN', `"${cur.username}" is the last active admin account: make another account admin first`);
  }
  sqlite
    .prepare(
      `UPDATE users SET display_name = ?, role = ?, agency_id = ?, can_see_internal = ?, active = ?, password_hash = COALESCE(?, password_hash),
       updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE id = ?`,
    )
    .run(input.displayName?.trim() || cur.displayName, role, agencyId, canSeeInternal ? 1 : 0, active ? 1 : 0, hash ?? null, id);
  // A new password, a disabled account or a changed role ends existing web sessions.
  if (hash !== undefined || !active || role !== cur.role || agencyId !== (cur.agency?.id ?? null)) destroyUserSessions(sqlite, id);
  return getUser(sqlite, id)!;
}

const TOKEN_SELECT = `SELECT t.*, u.username FROM api_tokens t JOIN users u ON u.id = t.user_id`;

function toToken(r: Row, now = new Date().toISOString()): TokenView {
  const expiresAt = (r.expires_at as string) ?? null;
  const revokedAt = (r.revoked_at as string) ?? null;
  return {
    id: r.id as number,
    userId: r.user_id as number,
    username: r.username as string,
    name: r.name as string,
    prefix: r.prefix as string,
    createdAt: r.created_at as string,
    expiresAt,
    revokedAt,
    lastUsedAt: (r.last_used_at as string) ?? null,
    status: revokedAt ? 'revoked' : expiresAt !== null && expiresAt <= now ? 'expired' : 'active',
  };
}

export function listTokens(sqlite: Database.Database, userId?: number): TokenView[] {
  const rows = (userId === undefined
    ? sqlite.prepare(`${TOKEN_SELECT} ORDER BY t.id`).all()
    : sqlite.prepare(`${TOKEN_SELECT} WHERE t.user_id = ? ORDER BY t.id`).all(userId)) as Row[];
  return rows.map((r) => toToken(r));
}

export const MAX_TOKEN_DAYS = 3650;

/** Create an API token; the secret is returned here only, the database keeps its SHA-256. */
export function createToken(sqlite: Database.Database, input: { user: number | string; name: string; days?: number | null }): { token: TokenView; secret: string } {
  const user = getUser(sqlite, input.user);
  if (!user) throw err.validation('user', `unknown user "${input.user}"`);
  if (!user.active) throw err.conflict('USER_DISABLED', `user "${user.username}" is disabled`);
  const name = input.name.normalize('NFC').trim();
  if (name === '' || name.length > 100) throw err.validation('name', 'name must be 1–100 characters');
  const days = input.days === undefined ? 90 : input.days;
  if (days !== null && (!Number.isInteger(days) || days < 1 || days > MAX_TOKEN_DAYS)) throw err.validation('days', `days must be a whole number from 1 to ${MAX_TOKEN_DAYS}`);
  const secret = newTokenSecret();
  const expiresAt = days === null ? null : new Date(Date.now() + days * 86_400_000).toISOString();
  const info = sqlite
    .prepare('INSERT INTO api_tokens (user_id, name, token_hash, prefix, expires_at) VALUES (?, ?, ?, ?, ?)')
    .run(user.id, name, hashSecret(secret), secret.slice(0, 10), expiresAt);
  return { token: getToken(sqlite, Number(info.lastInsertRowid))!, secret };
}

export function getToken(sqlite: Database.Database, id: number): TokenView | null {
  const r = sqlite.prepare(`${TOKEN_SELECT} WHERE t.id = ?`).get(id) as Row | undefined;
  return r ? toToken(r) : null;
}

/** Revoke a token (idempotent: a revoked token keeps its first revocation time). */
export function revokeToken(sqlite: Database.Database, id: number): TokenView {
  const info = sqlite.prepare(`UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, strftime('%Y-%m-%dT%H:%M:%fZ','now')) WHERE id = ?`).run(id);
  if (info.changes === 0) throw err.notFound('Token', 'TOKEN_NOT_FOUND');
  return getToken(sqlite, id)!;
}
