/**
 * Catalogue test fixtures: accounts with API tokens for every role, and products inserted straight
 * into the database (no upload) in a chosen state, agency and submission time.
 */
import type Database from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import { createToken, createUser } from '../../server/catalogue/accounts.ts';

export const PASSWORD = 'mật-khẩu-đủ-dài-2023';

export interface Actor {
  userId: number;
  username: string;
  token: string;
  headers: Record<string, string>;
}

export interface Actors {
  agencyA: number;
  agencyB: number;
  archivist: Actor;
  archivist2: Actor;
  admin: Actor;
  agency: Actor;
  otherAgency: Actor;
  researcher: Actor;
  researcherInternal: Actor;
  revoked: Actor;
  expired: Actor;
}

export const agencyIdOf = (sqlite: Database.Database, code: string): number =>
  (sqlite.prepare('SELECT id FROM agencies WHERE code = ?').get(code) as { id: number }).id;

export const taskIdOf = (sqlite: Database.Database, code: string): number =>
  (sqlite.prepare('SELECT id FROM plan_tasks WHERE code = ?').get(code) as { id: number }).id;

async function actor(sqlite: Database.Database, username: string, role: string, agency?: string, extra: { canSeeInternal?: boolean } = {}): Promise<Actor> {
  const { user } = await createUser(sqlite, { username, role, agency, password: PASSWORD, displayName: `Người dùng ${username}`, ...extra });
  const { secret } = createToken(sqlite, { user: user.id, name: 'test', days: 30 });
  return { userId: user.id, username, token: secret, headers: { authorization: `Bearer ${secret}` } };
}

/** Users of every role (agency = Sở VHTTDL, other agency = Sở TTTT), plus a revoked and an expired token. */
export async function makeActors(app: FastifyInstance): Promise<Actors> {
  const { sqlite } = app.db;
  const revoked = await actor(sqlite, 'da-thu-hoi', 'archivist');
  sqlite.prepare(`UPDATE api_tokens SET revoked_at = '2023-01-01T00:00:00.000Z' WHERE user_id = ?`).run(revoked.userId);
  const expired = await actor(sqlite, 'het-han', 'archivist');
  sqlite.prepare(`UPDATE api_tokens SET expires_at = '2023-01-01T00:00:00.000Z' WHERE user_id = ?`).run(expired.userId);
  return {
    agencyA: agencyIdOf(sqlite, 'so-vhttdl'),
    agencyB: agencyIdOf(sqlite, 'so-tttt'),
    admin: await actor(sqlite, 'quan-tri', 'admin'),
    archivist: await actor(sqlite, 'luu-tru-vien', 'archivist'),
    archivist2: await actor(sqlite, 'luu-tru-vien-2', 'archivist'),
    agency: await actor(sqlite, 'so-vhttdl', 'agency', 'so-vhttdl'),
    otherAgency: await actor(sqlite, 'so-tttt', 'agency', 'so-tttt'),
    researcher: await actor(sqlite, 'nha-nghien-cuu', 'researcher'),
    researcherInternal: await actor(sqlite, 'nghien-cuu-noi-bo', 'researcher', undefined, { canSeeInternal: true }),
    revoked,
    expired,
  };
}

export interface ProductSeed {
  title?: string;
  type?: string;
  agencyId?: number | null;
  state?: string;
  access?: 'public' | 'internal';
  planTaskId?: number | null;
  submittedAt?: string;
  year?: number | null;
}

/** Insert a product row directly and return its id. */
export function insertProduct(sqlite: Database.Database, p: ProductSeed = {}): number {
  const info = sqlite
    .prepare(
      `INSERT INTO products (title, type, agency_id, state, access, plan_task_id, submitted_at, year, published_at)
       VALUES (@title, @type, @agencyId, @state, @access, @planTaskId, @submittedAt, @year, @publishedAt)`,
    )
    .run({
      title: p.title ?? 'Tờ gấp giới thiệu Khu di tích Pác Bó',
      type: p.type ?? 'flyer',
      agencyId: p.agencyId ?? null,
      state: p.state ?? 'submitted',
      access: p.access ?? 'public',
      planTaskId: p.planTaskId ?? null,
      submittedAt: p.submittedAt ?? new Date().toISOString(),
      year: p.year ?? null,
      publishedAt: p.state === 'published' ? new Date().toISOString() : null,
    });
  return Number(info.lastInsertRowid);
}
