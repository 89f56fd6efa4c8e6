/** Helpers for the web UI tests (inject level and e2e): accounts, sessions, records in a given state. */
import type { FastifyInstance } from 'fastify';
import { auth, multipartBody } from '../helpers/app.ts';
import { makePdf } from '../helpers/samples.ts';

export const PASSWORD = 'mat-khau-rat-dai-123';

export async function firstAgency(app: FastifyInstance): Promise<{ id: number; code: string; name: string }> {
  const row = app.db.sqlite.prepare('SELECT id, code, name FROM agencies WHERE active = 1 ORDER BY id LIMIT 1').get() as { id: number; code: string; name: string } | undefined;
  if (!row) throw new Error('no agency seeded');
  return row;
}

export async function createUser(app: FastifyInstance, username: string, role: string, agency?: string): Promise<void> {
  const res = await app.inject({ method: 'POST', url: '/api/users', headers: auth(), payload: { username, role, password: PASSWORD, ...(agency ? { agency } : {}) } });
  if (res.statusCode !== 201) throw new Error(`create user ${username}: ${res.statusCode} ${res.body}`);
}

export interface Session {
  cookie: string;
  csrf: string;
}

export async function login(app: FastifyInstance, username: string): Promise<Session> {
  const res = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password: PASSWORD } });
  if (res.statusCode !== 200) throw new Error(`login ${username}: ${res.statusCode} ${res.body}`);
  const c = res.cookies.find((x) => x.name === 'kho_session')!;
  return { cookie: `kho_session=${c.value}`, csrf: res.json().csrfToken };
}

/** Upload a product as admin (bearer) and optionally walk it to `published`. */
export async function makeProduct(
  app: FastifyInstance,
  fields: Record<string, string>,
  opts: { publish?: boolean; files?: Array<{ filename: string; data: Buffer }> } = {},
): Promise<number> {
  const files = opts.files ?? [{ filename: 'tai-lieu.pdf', data: await makePdf(2, `Kho tu lieu ${Math.random()}`) }];
  const mp = multipartBody({ type: 'book', ...fields }, files);
  const res = await app.inject({ method: 'POST', url: '/api/products', headers: { ...auth(), ...mp.headers }, payload: mp.body });
  if (res.statusCode !== 201) throw new Error(`upload: ${res.statusCode} ${res.body}`);
  const id = res.json().id as number;
  if (opts.publish) {
    for (const action of ['start_review', 'accept', 'publish']) {
      const r = await app.inject({ method: 'POST', url: `/api/products/${id}/transitions`, headers: auth(), payload: { action } });
      if (r.statusCode >= 300) throw new Error(`${action}: ${r.statusCode} ${r.body}`);
    }
  }
  return id;
}

/** All `<form method="post" …>…</form>` blocks of a page. */
export function postForms(page: string): string[] {
  return [...page.matchAll(/<form\b[^>]*method="post"[^>]*>[\s\S]*?<\/form>/gi)].map((m) => m[0]);
}
