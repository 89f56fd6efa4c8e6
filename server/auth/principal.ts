/**
 * Who is making a request. Built by the auth plugin from a bearer token or a session cookie;
 * `null` is the anonymous public.
 */
import type { Role } from '../db/schema.ts';

export interface Principal {
  /** Null for the env ADMIN_TOKEN, which has no user row. */
  userId: number | null;
  username: string;
  role: Role;
  /** The agency an `agency` user submits for. */
  agencyId: number | null;
  /** Researchers granted access to internal records (archivists and admins always can). */
  canSeeInternal: boolean;
  via: 'admin-token' | 'api-token' | 'session';
  /** Present for session logins: the CSRF token forms must echo. */
  csrfToken?: string;
}

export const isStaff = (p: Principal | null): boolean => p !== null && (p.role === 'admin' || p.role === 'archivist');

/** Label stored in the audit log. */
export const actorLabel = (p: Principal | null): string => (p === null ? 'anonymous' : p.username);
