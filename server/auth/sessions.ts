/**
 * Web sessions: the cookie holds a random secret; the database keeps only its SHA-256
 * (sessions.id_hash) and the session's CSRF token. Also the login rate limiter.
 */
import type Database from 'better-sqlite3';
import type { FastifyRequest } from 'fastify';
import { randomBytes } from 'node:crypto';
import { hashSecret } from './tokens.ts';

export const SESSION_TTL_MS = 12 * 3600 * 1000;

export interface NewSession {
  cookieValue: string;
  csrfToken: string;
  expiresAt: string;
}

export function createSession(sqlite: Database.Database, userId: number, opts: { ttlMs?: number } = {}): NewSession {
  const cookieValue = randomBytes(32).toString('base64url');
  const csrfToken = randomBytes(24).toString('base64url');
  const expiresAt = new Date(Date.now() + (opts.ttlMs ?? SESSION_TTL_MS)).toISOString();
  // Expired sessions are swept whenever someone logs in.
  sqlite.prepare('DELETE FROM sessions WHERE expires_at <= ?').run(new Date().toISOString());
  sqlite.prepare('INSERT INTO sessions (id_hash, user_id, csrf_token, expires_at) VALUES (?, ?, ?, ?)').run(hashSecret(cookieValue), userId, csrfToken, expiresAt);
  return { cookieValue, csrfToken, expiresAt };
}

export function destroySession(sqlite: Database.Database, cookieValue: string): void {
  sqlite.prepare('DELETE FROM sessions WHERE id_hash = ?').run(hashSecret(cookieValue));
}

/** Drop every session of a user (password change, account disabled). */
export function destroyUserSessions(sqlite: Database.Database, userId: number): void {
  sqlite.prepare('DELETE FROM sessions WHERE user_id = ?').run(userId);
}

export interface SessionCookieOptions {
  path: string;
  httpOnly: true;
  sameSite: 'lax';
  secure: boolean;
  expires?: Date;
}

/**
 * Cookie attributes: HttpOnly, SameSite=Lax, Path=/; Secure when the app trusts a TLS-terminating
 * proxy and the request came over https (so plain-http local use still works).
 */
export function sessionCookieOptions(req: FastifyRequest, trustProxy: boolean, expiresAt?: string): SessionCookieOptions {
  return {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    secure: trustProxy && req.protocol === 'https',
    ...(expiresAt ? { expires: new Date(expiresAt) } : {}),
  };
}

/**
 * In-memory login limiter. Only failed logins count: at most `maxFailures` per (IP, username) —
 * a success clears that count — and `maxPerIp` per IP (any usernames; a success does not clear it,
 * so one's own account cannot be used to keep guessing others) within `windowMs`. Successful logins
 * never block anyone, so an office of many users behind one NAT address is not locked out.
 * Memory is bounded by pruning old entries.
 */
export interface LoginLimiter {
  /** Seconds to wait when blocked, or 0. */
  check(ip: string, username: string): number;
  fail(ip: string, username: string): void;
  succeed(ip: string, username: string): void;
}

export function createLoginLimiter(opts: { maxFailures?: number; maxPerIp?: number; windowMs?: number; now?: () => number } = {}): LoginLimiter {
  const maxFailures = opts.maxFailures ?? 5;
  const maxPerIp = opts.maxPerIp ?? 30;
  const windowMs = opts.windowMs ?? 15 * 60 * 1000;
  const now = opts.now ?? Date.now;
  const failures = new Map<string, number[]>();
  const ipFailures = new Map<string, number[]>();
  const recent = (m: Map<string, number[]>, k: string) => {
    const t = now();
    const list = (m.get(k) ?? []).filter((x) => t - x < windowMs);
    if (list.length === 0) m.delete(k);
    else m.set(k, list);
    return list;
  };
  const record = (m: Map<string, number[]>, k: string) => {
    if (m.size >= 10_000) for (const old of [...m.keys()]) recent(m, old);
    m.set(k, [...recent(m, k), now()]);
  };
  const key = (ip: string, u: string) => `${ip}\u0000${u.toLowerCase()}`;
  const wait = (list: number[]) => Math.max(1, Math.ceil((list[0] + windowMs - now()) / 1000));
  return {
    check(ip, username) {
      const f = recent(failures, key(ip, username));
      if (f.length >= maxFailures) return wait(f);
      const a = recent(ipFailures, ip);
      if (a.length >= maxPerIp) return wait(a);
      return 0;
    },
    fail(ip, username) {
      record(failures, key(ip, username));
      record(ipFailures, ip);
    },
    succeed(ip, username) {
      failures.delete(key(ip, username));
    },
  };
}
