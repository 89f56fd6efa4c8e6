/**
 * The authorisation matrix: every route × every kind of caller → the expected HTTP status.
 *
 * HOW TO EXTEND: add one entry to MATRIX below, keyed "METHOD /url-pattern" exactly as the route
 * is registered (see app.routeTable). `req` builds the request from fresh fixtures (a new product
 * of agency A in state `submitted` per call, so mutating routes do not interfere); `expect` gives
 * the status per caller (use the helpers `everyone`, `staff`, `adminOnly`, or spell it out).
 * `revoked` and `expired` default to 401 and `adminToken` (env ADMIN_TOKEN) to `admin`'s status.
 *
 * Callers: anonymous; admin, archivist, researcher (no internal grant); agency = submitter of
 * agency A acting on A's record; otherAgency = submitter of agency B acting on A's record;
 * revoked / expired = an archivist's revoked / expired API token.
 *
 * Completeness: the test fails when a registered route (other than HEAD) has no entry, except
 * routes covered by the documented prefix rules:
 *   - `/docs*` (OpenAPI UI, public, static): one smoke check below;
 *   - web pages: any route outside `/api/` that is not an operations endpoint (OPS_PREFIXES) is an
 *     HTML page whose authorisation the web UI's own tests cover; here every parameterless GET page
 *     is smoke-checked to answer anonymous requests without a 5xx.
 * Operations endpoints (/healthz, /readyz, /metrics, /oai…) and everything under /api/ need entries.
 * Entries marked `optional` (routes other engineers are adding) are skipped while unregistered.
 */
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, auth, makeTestApp, multipartBody, type TestApp } from '../helpers/app.ts';
import { makePdf } from '../helpers/samples.ts';
import { insertProduct, makeActors, PASSWORD, taskIdOf, type Actors } from '../catalogue/fixtures.ts';

const CALLERS = ['anonymous', 'admin', 'adminToken', 'archivist', 'agency', 'otherAgency', 'researcher', 'revoked', 'expired'] as const;
type Caller = (typeof CALLERS)[number];
type Status = number | number[];
type Expect = Partial<Record<Caller, Status>>;

interface Fx {
  /** A fresh product of agency A (submitted, public, linked to one of A's plan tasks). */
  product(): number;
  /** sha256 of an uploaded PDF held by a submitted record of agency A. */
  sha: string;
  /** A fresh agency user (no password), for user routes. */
  user(): number;
  /** A fresh API token id, for token routes. */
  token(): number;
  agencyId: number;
  taskId: number;
  uniq(): string;
  pdf: Buffer;
}

interface Case {
  req: (f: Fx) => Omit<InjectOptions, 'method'> & { url: string };
  expect: Expect;
  note?: string;
}
interface Entry {
  cases: Case[];
  /** Skip (instead of failing) while the route is not registered yet. */
  optional?: boolean;
}

const everyone = (status: Status): Expect => ({ anonymous: status, admin: status, archivist: status, agency: status, otherAgency: status, researcher: status });
const signedIn = (status: Status): Expect => ({ ...everyone(status), anonymous: 401 });
const staff = (status: Status): Expect => ({ anonymous: 401, admin: status, archivist: status, agency: 403, otherAgency: 403, researcher: 403 });
const adminOnly = (status: Status): Expect => ({ ...staff(status), archivist: 403 });
/** A route acting on agency A's unpublished record. */
const onRecord = (ok: Status, researcher: Status, anonymous: Status = 401): Expect => ({
  anonymous, admin: ok, archivist: ok, agency: ok, otherAgency: 404, researcher,
});
const json = (payload: unknown, headers: Record<string, string> = {}) => ({ payload: payload as InjectOptions['payload'], headers: { 'content-type': 'application/json', ...headers } });

export const MATRIX: Record<string, Entry> = {
  // Operations and docs.
  'GET /healthz': { cases: [{ req: () => ({ url: '/healthz' }), expect: everyone(200) }] },
  'GET /readyz': { cases: [{ req: () => ({ url: '/readyz' }), expect: everyone([200, 503]) }] },
  'GET /metrics': {
    optional: true,
    cases: [
      { req: () => ({ url: '/metrics', remoteAddress: '203.0.113.7' }), expect: { ...adminOnly(200), anonymous: 403, archivist: 403 }, note: 'from the network: admins only' },
      { req: () => ({ url: '/metrics', remoteAddress: '127.0.0.1' }), expect: everyone(200), note: 'from localhost: a local scraper' },
    ],
  },
  'GET /api/admin/fixity': { optional: true, cases: [{ req: () => ({ url: '/api/admin/fixity' }), expect: adminOnly(200) }] },
  'GET /api/admin/fixity/:id': { optional: true, cases: [{ req: () => ({ url: '/api/admin/fixity/999999' }), expect: adminOnly(404), note: 'no such run: admins learn 404, others 403' }] },
  'POST /api/admin/fixity': { optional: true, cases: [{ req: () => ({ url: '/api/admin/fixity' }), expect: adminOnly([202, 409]), note: '409 while a run is in progress' }] },
  'GET /oai': { optional: true, cases: [{ req: () => ({ url: '/oai?verb=Identify' }), expect: everyone(200) }] },
  'POST /oai': {
    optional: true,
    cases: [{ req: () => ({ url: '/oai', payload: 'verb=Identify', headers: { 'content-type': 'application/x-www-form-urlencoded' } }), expect: everyone(200) }],
  },

  // Search and exchange (results filtered by the visibility rule, so open to everyone).
  'GET /api/search': { optional: true, cases: [{ req: () => ({ url: '/api/search?q=Cao%20B%E1%BA%B1ng' }), expect: everyone(200) }] },
  'GET /api/suggest': { optional: true, cases: [{ req: () => ({ url: '/api/suggest?q=cao' }), expect: everyone(200) }] },
  'GET /api/search/export': { optional: true, cases: [{ req: () => ({ url: '/api/search/export?q=cao&format=json' }), expect: everyone(200) }] },
  'GET /api/products/:id/dublin-core': { optional: true, cases: [{ req: (f) => ({ url: `/api/products/${f.product()}/dublin-core` }), expect: onRecord(200, 404, 404) }] },

  // Products.
  'POST /api/products': {
    cases: [{
      req: (f) => {
        const { body, headers } = multipartBody({ title: `Sách ${f.uniq()}`, type: 'book' }, [{ filename: 'sách.pdf', contentType: 'application/pdf', data: f.pdf }]);
        return { url: '/api/products', payload: body, headers };
      },
      expect: { ...signedIn(201), researcher: 403 },
    }],
  },
  'GET /api/products': { cases: [{ req: () => ({ url: '/api/products?state=submitted' }), expect: everyone(200) }] },
  'GET /api/products/:id': { cases: [{ req: (f) => ({ url: `/api/products/${f.product()}` }), expect: onRecord(200, 404, 404) }] },
  'PATCH /api/products/:id': {
    cases: [{ req: (f) => ({ url: `/api/products/${f.product()}`, ...json({ description: 'Mô tả mới' }, { 'if-match': '"v1"' }) }), expect: onRecord(200, 403) }],
  },
  'POST /api/products/:id/transitions': {
    cases: [
      { req: (f) => ({ url: `/api/products/${f.product()}/transitions`, ...json({ action: 'withdraw' }) }), expect: onRecord(200, 403), note: 'the agency may withdraw its own record' },
      { req: (f) => ({ url: `/api/products/${f.product()}/transitions`, ...json({ action: 'start_review' }) }), expect: { ...onRecord(200, 403), agency: 403 }, note: 'only staff review' },
    ],
  },
  'POST /api/products/bulk-transitions': {
    cases: [{ req: (f) => ({ url: '/api/products/bulk-transitions', ...json({ ids: [f.product()], action: 'start_review' }) }), expect: staff(200) }],
  },
  'GET /api/products/:id/history': { cases: [{ req: (f) => ({ url: `/api/products/${f.product()}/history` }), expect: onRecord(200, 403) }] },
  'DELETE /api/products/:id': { cases: [{ req: (f) => ({ url: `/api/products/${f.product()}` }), expect: adminOnly(204) }] },

  // Files (visibility follows the records holding the file).
  'GET /api/files/:sha256': { cases: [{ req: (f) => ({ url: `/api/files/${f.sha}` }), expect: onRecord(200, 404, 404) }] },
  'GET /api/files/:sha256/thumbnail': { cases: [{ req: (f) => ({ url: `/api/files/${f.sha}/thumbnail?size=256` }), expect: onRecord(200, 404, 404) }] },

  // Sessions.
  'POST /api/auth/login': { cases: [{ req: () => ({ url: '/api/auth/login', ...json({ username: 'luu-tru-vien', password: PASSWORD }) }), expect: everyone(200) }] },
  'POST /api/auth/logout': { cases: [{ req: () => ({ url: '/api/auth/logout' }), expect: everyone(204) }] },
  'GET /api/auth/me': { cases: [{ req: () => ({ url: '/api/auth/me' }), expect: signedIn(200) }] },

  // Accounts and tokens.
  'GET /api/users': { cases: [{ req: () => ({ url: '/api/users' }), expect: adminOnly(200) }] },
  'POST /api/users': { cases: [{ req: (f) => ({ url: '/api/users', ...json({ username: `nguoi-dung-${f.uniq()}`, role: 'researcher' }) }), expect: adminOnly(201) }] },
  'GET /api/users/:id': { cases: [{ req: (f) => ({ url: `/api/users/${f.user()}` }), expect: adminOnly(200) }] },
  'PATCH /api/users/:id': { cases: [{ req: (f) => ({ url: `/api/users/${f.user()}`, ...json({ displayName: 'Cán bộ Sở' }) }), expect: adminOnly(200) }] },
  'GET /api/tokens': { cases: [{ req: () => ({ url: '/api/tokens' }), expect: adminOnly(200) }] },
  'POST /api/tokens': { cases: [{ req: (f) => ({ url: '/api/tokens', ...json({ user: f.user(), name: 'ci', days: 30 }) }), expect: adminOnly(201) }] },
  'DELETE /api/tokens/:id': { cases: [{ req: (f) => ({ url: `/api/tokens/${f.token()}` }), expect: adminOnly(200) }] },

  // Agencies and plan tasks.
  'GET /api/agencies': { cases: [{ req: () => ({ url: '/api/agencies' }), expect: everyone(200) }] },
  'POST /api/agencies': { cases: [{ req: (f) => ({ url: '/api/agencies', ...json({ code: `huyen-${f.uniq()}`, name: 'Huyện uỷ Mới', category: 'district' }) }), expect: adminOnly(201) }] },
  'PATCH /api/agencies/:id': { cases: [{ req: (f) => ({ url: `/api/agencies/${f.agencyId}`, ...json({ shortName: 'Sở VHTTDL' }) }), expect: adminOnly(200) }] },
  'GET /api/plan-tasks': { cases: [{ req: () => ({ url: '/api/plan-tasks?year=2023' }), expect: everyone(200) }] },
  'GET /api/plan-tasks/:id': { cases: [{ req: (f) => ({ url: `/api/plan-tasks/${f.taskId}` }), expect: everyone(200) }] },
  'POST /api/plan-tasks': {
    cases: [{
      req: (f) => ({ url: '/api/plan-tasks', ...json({ code: `2024-${f.uniq()}`, planRef: 'KH/TU 2024', year: 2024, agency: 'so-vhttdl', title: 'Nhiệm vụ năm 2024', deadline: '2024-06-30' }) }),
      expect: adminOnly(201),
    }],
  },
  'PATCH /api/plan-tasks/:id': { cases: [{ req: (f) => ({ url: `/api/plan-tasks/${f.taskId}`, ...json({ deadlineLabel: 'Quý II/2023' }) }), expect: adminOnly(200) }] },

  'GET /api/store-deadlines': { cases: [{ req: () => ({ url: '/api/store-deadlines?year=2023' }), expect: everyone(200) }] },
  'PUT /api/store-deadlines/:code': {
    cases: [{
      req: () => ({ url: '/api/store-deadlines/2024-annual-report', ...json({ year: 2024, kind: 'annual_report', label: 'Báo cáo năm 2024 trước ngày 10/12/2024', deadline: '2024-12-10' }) }),
      expect: adminOnly(200),
    }],
  },

  // Reports: agencies see their own agency's rows only.
  'GET /api/reports/compliance': { cases: [{ req: () => ({ url: '/api/reports/compliance?year=2023' }), expect: { ...staff(200), agency: 200, otherAgency: 200 } }] },
};

/** Route prefixes that are operations endpoints: they need explicit entries even outside /api/. */
const OPS_PREFIXES = ['/healthz', '/readyz', '/metrics', '/oai'];
const needsEntry = (url: string) => url.startsWith('/api/') || url === '/api' || OPS_PREFIXES.some((p) => url.startsWith(p));
const isDocs = (url: string) => url === '/docs' || url.startsWith('/docs/');

describe('authorisation matrix', () => {
  let t: TestApp;
  let a: Actors;
  let fx: Fx;
  let registered: Set<string>;
  const headersFor = (c: Caller): Record<string, string> => {
    switch (c) {
      case 'anonymous':
        return {};
      case 'adminToken':
        return auth(ADMIN_TOKEN);
      default:
        return a[c].headers;
    }
  };

  beforeAll(async () => {
    t = await makeTestApp({ jobs: { workers: 0 } });
    a = await makeActors(t.app);
    const { sqlite } = t.app.db;
    const pdf = await makePdf(1, 'Ban do du lich Cao Bang');
    const { body, headers } = multipartBody({ title: 'Bản đồ du lịch Cao Bằng', type: 'map' }, [{ filename: 'bản đồ.pdf', contentType: 'application/pdf', data: pdf }]);
    const up = await t.app.inject({ method: 'POST', url: '/api/products', payload: body, headers: { ...headers, ...a.agency.headers } });
    expect(up.statusCode).toBe(201);
    const sha = up.json().files[0].sha256 as string;
    // The thumbnail job ended without a picture: visible callers get the placeholder (200).
    sqlite.prepare(`UPDATE jobs SET state = 'failed' WHERE sha256 = ? AND kind = 'thumbnail'`).run(sha);
    const taskId = taskIdOf(sqlite, '2023-ban-do-du-lich');
    let n = 0;
    fx = {
      product: () => insertProduct(sqlite, { title: `Tờ rơi ứng xử văn minh du lịch ${++n}`, type: 'leaflet', agencyId: a.agencyA, planTaskId: taskId }),
      sha,
      user: () => Number(sqlite.prepare(`INSERT INTO users (username, display_name, role, agency_id) VALUES (?, 'Cán bộ', 'agency', ?)`).run(`u-${++n}`, a.agencyA).lastInsertRowid),
      token: () => {
        const uid = Number(sqlite.prepare(`INSERT INTO users (username, display_name, role) VALUES (?, 'Kịch bản', 'archivist')`).run(`t-${++n}`).lastInsertRowid);
        return Number(sqlite.prepare(`INSERT INTO api_tokens (user_id, name, token_hash, prefix) VALUES (?, 'x', ?, 'kho_x')`).run(uid, `hash-${n}`).lastInsertRowid);
      },
      agencyId: a.agencyA,
      taskId,
      uniq: () => `${Date.now().toString(36)}-${++n}`,
      pdf: await makePdf(1, 'To roi'),
    };
    registered = new Set(t.app.routeTable.filter((r) => r.method !== 'HEAD').map((r) => `${r.method} ${r.url}`));
  });
  afterAll(() => t?.close());

  it('has an entry for every registered API and operations route', () => {
    const missing = [...registered].filter((k) => needsEntry(k.split(' ')[1]) && !(k in MATRIX));
    expect(missing, 'add these routes to MATRIX in tests/api/authz-matrix.test.ts').toEqual([]);
  });

  it('has no stale entries (every non-optional entry is a registered route)', () => {
    const stale = Object.entries(MATRIX).filter(([k, e]) => !e.optional && !registered.has(k)).map(([k]) => k);
    expect(stale).toEqual([]);
  });

  for (const [key, entry] of Object.entries(MATRIX)) {
    const method = key.split(' ')[0] as InjectOptions['method'];
    entry.cases.forEach((c, i) => {
      it(`${key}${c.note ? ` (${c.note})` : entry.cases.length > 1 ? ` #${i + 1}` : ''}`, async (ctx) => {
        if (!registered.has(key)) {
          if (entry.optional) return ctx.skip();
          throw new Error(`${key} is not registered`);
        }
        const want: Record<string, Status> = {};
        const got: Record<string, Status> = {};
        for (const caller of CALLERS) {
          const exp = c.expect[caller] ?? (caller === 'revoked' || caller === 'expired' ? 401 : caller === 'adminToken' ? c.expect.admin : undefined);
          if (exp === undefined) throw new Error(`${key}: no expectation for ${caller}`);
          const r = c.req(fx);
          const res = await t.app.inject({ ...r, method, headers: { ...(r.headers as Record<string, string>), ...headersFor(caller) } });
          want[caller] = exp;
          got[caller] = Array.isArray(exp) && exp.includes(res.statusCode) ? exp : res.statusCode;
          if (res.statusCode >= 500) throw new Error(`${key} as ${caller}: ${res.statusCode} ${res.body}`);
        }
        expect(got).toEqual(want);
      });
    });
  }

  it('prefix rule /docs*: the OpenAPI document and UI are public', async () => {
    expect((await t.app.inject({ url: '/docs/json' })).statusCode).toBe(200);
    expect((await t.app.inject({ url: '/docs/json', headers: a.revoked.headers })).statusCode).toBe(401);
  });

  it('prefix rule for web pages: every parameterless GET page outside /api answers anonymous callers without a 5xx', async () => {
    const pages = [...registered].filter((k) => k.startsWith('GET ')).map((k) => k.slice(4)).filter((u) => !needsEntry(u) && !isDocs(u) && !u.includes(':') && !u.includes('*'));
    for (const url of pages) {
      const res = await t.app.inject({ url });
      expect(res.statusCode, url).toBeLessThan(500);
    }
  });
});
