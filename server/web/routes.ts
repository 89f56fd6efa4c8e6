/**
 * The web UI: server-rendered pages in Vietnamese (English via `?lang=en`), static CSS/JS with
 * content-hash versions, and HTML error pages. Registered as an encapsulated plugin so its error
 * handler (HTML) does not touch the JSON API's.
 *
 * URLs: `/` search · `/san-pham/:id` record · `/san-pham/:id/sua` edit · `/nop` upload ·
 * `/cua-toi` my submissions · `/tham-dinh` archivist desk · `/bao-cao` compliance ·
 * `/quan-tri` admin · `/dang-nhap`, `/dang-xuat`.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { WEB_STATIC_DIR } from '../paths.ts';
import type { Role } from '../db/schema.ts';
import { loadAssets } from './assets.ts';
import { pageCtx, type PageCtx } from './context.ts';
import { searcher } from './search-access.ts';
import { adminPage, adminPost } from './pages/admin.ts';
import { deskBulkPost, deskPage } from './pages/desk.ts';
import { editPage, editPost, expiredEditPost } from './pages/edit.ts';
import { clientErrorPage, errorPage, forbiddenPage, notFoundPage } from './pages/errors.ts';
import { queryStringDecodes } from '../plugins/errors.ts';
import { loginPage, loginPost, logoutPage, logoutPost } from './pages/login.ts';
import { minePage } from './pages/mine.ts';
import { recordPage } from './pages/record.ts';
import { reportPage } from './pages/report.ts';
import { searchPage } from './pages/search.ts';
import { expiredTransitionPost, transitionPost } from './pages/transition.ts';
import { uploadPage, uploadPost } from './pages/upload.ts';

export const STATIC_DIR = WEB_STATIC_DIR;

/**
 * The login page, coming back afterwards to the page asked for. A form post (say, a workflow
 * action sent after the session expired) comes back to the page the form is on: the URL it posts
 * to may have no page of its own (`/san-pham/:id/chuyen`).
 */
export function loginUrl(req: FastifyRequest): string {
  const back = req.method === 'GET' || req.method === 'HEAD' ? req.url : req.url.split('?')[0].replace(/\/chuyen$/, '');
  return `/dang-nhap?next=${encodeURIComponent(back)}`;
}

export default async function webRoutes(app: FastifyInstance) {
  const assets = loadAssets(STATIC_DIR);
  const ctxOf = (req: FastifyRequest, reply: FastifyReply): PageCtx => pageCtx(req, reply, assets.url);
  const hide = { schema: { hide: true } };

  /** Gate a page to roles: anonymous → login page with `next`, wrong role → 403 page. */
  const gate = (ctx: PageCtx, roles: Role[]): FastifyReply | null => {
    if (!ctx.principal) return ctx.reply.redirect(loginUrl(ctx.req), 303);
    if (!roles.includes(ctx.principal.role)) return forbiddenPage(ctx);
    return null;
  };

  /**
   * A desk or admin form sent after the session ended (expired, or logged out in another tab): the
   * login page says that what was sent was not done, instead of the plain "log in to continue" of a
   * page visit, after which the admin, back on an empty form, could take the account or the bulk
   * action for done.
   */
  const expiredPost = (ctx: PageCtx, next: string): FastifyReply | null =>
    ctx.principal ? null : loginPage(ctx, { status: 401, next, info: ctx.t('login.postExpired') });

  app.setErrorHandler((error: FastifyError, req, reply) => {
    const ctx = ctxOf(req, reply);
    const status = error.statusCode ?? 500;
    if (status === 401) return reply.redirect(loginUrl(req), 303);
    if (status === 403) return errorPage(ctx, 403, error.code === 'CSRF_TOKEN_INVALID' ? ctx.t('err.CSRF') : ctx.t('forbidden.body'));
    if (status === 404) return notFoundPage(ctx);
    if (status >= 400 && status < 500) return clientErrorPage(ctx, status, error.code);
    req.log.error({ err: error }, 'page failed');
    return errorPage(ctx, 500);
  });

  // A browser sending a page URL a method it does not take (a stale or hand-made form): a page.
  app.pageErrors.render = (req, reply, status) => {
    const ctx = ctxOf(req, reply);
    return status === 405 ? errorPage(ctx, 405, ctx.t('err.page.405'), 'METHOD_NOT_ALLOWED') : notFoundPage(ctx);
  };

  app.get('/static/:name', hide, async (req: FastifyRequest<{ Params: { name: string } }>, reply) => {
    const a = assets.get(req.params.name);
    if (!a) return reply.code(404).type('text/plain; charset=utf-8').send('Not found');
    const etag = `"${a.hash}"`;
    const versioned = (req.query as { v?: string }).v === a.hash;
    reply
      .header('etag', etag)
      .header('cache-control', versioned ? 'public, max-age=31536000, immutable' : 'public, max-age=0, must-revalidate')
      .type(a.contentType);
    if (req.headers['if-none-match'] === etag) return reply.code(304).send();
    return reply.send(a.body);
  });

  app.get('/', hide, async (req, reply) => {
    const ctx = ctxOf(req, reply);
    // A query string that does not decode (`?q=%ED%A0%80`, a lone surrogate; `%FF`): the query parser kept
    // its raw text, which was searched for ("Đã tìm theo: %%%"). A 400 page, as the API answers BAD_URL.
    if (!queryStringDecodes(req.url)) return errorPage(ctx, 400, ctx.t('err.page.badUrl'), 'BAD_URL');
    return searchPage(app, ctx);
  });
  // Suggestions for the search box, from the search service in-process (same data as /api/suggest).
  app.get('/goi-y', hide, async (req, reply) => {
    const q = String((req.query as { q?: unknown }).q ?? '').slice(0, 100);
    reply.header('cache-control', 'private, no-cache');
    if (q.trim().length < 2) return { suggestions: [] };
    // An agency suggestion carries the agency's code, so choosing it applies the agency filter.
    return { suggestions: searcher(app).suggest(q, req.principal, 8) };
  });
  app.get('/tim-kiem', hide, async (req, reply) => reply.redirect(req.url.replace(/^\/tim-kiem/, '/'), 301));

  app.get('/san-pham/:id', hide, async (req: FastifyRequest<{ Params: { id: string } }>, reply) => recordPage(app, ctxOf(req, reply), Number(req.params.id)));
  app.post('/san-pham/:id/chuyen', hide, async (req: FastifyRequest<{ Params: { id: string } }>, reply) => {
    const ctx = ctxOf(req, reply);
    // Sent after the session ended: a reason typed is kept through the login, as the editor's fields are.
    const kept = !ctx.principal && /^\d{1,15}$/.test(req.params.id) ? expiredTransitionPost(ctx, Number(req.params.id)) : null;
    return kept ?? gate(ctx, ['admin', 'archivist', 'agency']) ?? transitionPost(app, ctx, Number(req.params.id));
  });
  // The page a workflow form's answer is shown on has no GET of its own: its links (the language
  // switch, a reload from the address bar) lead back to the record.
  app.get('/san-pham/:id/chuyen', hide, async (req: FastifyRequest<{ Params: { id: string } }>, reply) => {
    const query = req.url.includes('?') ? req.url.slice(req.url.indexOf('?')) : '';
    return reply.redirect(`/san-pham/${encodeURIComponent(req.params.id)}${query}`, 303);
  });
  app.get('/san-pham/:id/sua', hide, async (req: FastifyRequest<{ Params: { id: string } }>, reply) => {
    const ctx = ctxOf(req, reply);
    return gate(ctx, ['admin', 'archivist', 'agency']) ?? editPage(app, ctx, Number(req.params.id));
  });
  app.post('/san-pham/:id/sua', hide, async (req: FastifyRequest<{ Params: { id: string } }>, reply) => {
    const ctx = ctxOf(req, reply);
    if (!ctx.principal && /^\d{1,15}$/.test(req.params.id)) return expiredEditPost(ctx, Number(req.params.id));
    return gate(ctx, ['admin', 'archivist', 'agency']) ?? editPost(app, ctx, Number(req.params.id));
  });

  app.get('/nop', hide, async (req, reply) => {
    const ctx = ctxOf(req, reply);
    return gate(ctx, ['admin', 'archivist', 'agency']) ?? uploadPage(app, ctx);
  });
  // The upload form without JavaScript (multipart; upload.js posts to the API itself). Its CSRF
  // token is the form's first part, checked by uploadPost before any file byte is read.
  app.post('/nop', { ...hide, config: { csrfInMultipartBody: true } }, async (req, reply) => {
    const ctx = ctxOf(req, reply);
    return gate(ctx, ['admin', 'archivist', 'agency']) ?? uploadPost(app, ctx);
  });
  app.get('/cua-toi', hide, async (req, reply) => {
    const ctx = ctxOf(req, reply);
    return gate(ctx, ['admin', 'archivist', 'agency']) ?? minePage(app, ctx);
  });
  app.get('/tham-dinh', hide, async (req, reply) => {
    const ctx = ctxOf(req, reply);
    return gate(ctx, ['admin', 'archivist']) ?? deskPage(app, ctx);
  });
  app.post('/tham-dinh', hide, async (req, reply) => {
    const ctx = ctxOf(req, reply);
    return expiredPost(ctx, '/tham-dinh') ?? gate(ctx, ['admin', 'archivist']) ?? deskBulkPost(app, ctx);
  });
  app.get('/bao-cao', hide, async (req, reply) => {
    const ctx = ctxOf(req, reply);
    return gate(ctx, ['admin', 'archivist']) ?? reportPage(app, ctx);
  });
  app.get('/quan-tri', hide, async (req, reply) => {
    const ctx = ctxOf(req, reply);
    return gate(ctx, ['admin']) ?? adminPage(app, ctx);
  });
  app.post('/quan-tri', hide, async (req, reply) => {
    const ctx = ctxOf(req, reply);
    return expiredPost(ctx, '/quan-tri') ?? gate(ctx, ['admin']) ?? adminPost(app, ctx);
  });

  app.get('/dang-nhap', hide, async (req, reply) => {
    const ctx = ctxOf(req, reply);
    return loginPage(ctx, 'da-dang-xuat' in (ctx.query ?? {}) ? { info: ctx.t('logout.done') } : {});
  });
  app.post('/dang-nhap', hide, async (req, reply) => loginPost(app, ctxOf(req, reply)));
  app.get('/dang-xuat', hide, async (req, reply) => logoutPage(ctxOf(req, reply)));
  app.post('/dang-xuat', hide, async (req, reply) => logoutPost(app, ctxOf(req, reply)));

  // Any other GET: a friendly page for people, the usual JSON for API clients.
  app.get('/*', hide, async (req, reply) => {
    const path = req.url.split('?')[0];
    if (path.startsWith('/api/') || path === '/api') return app.notFoundOrNotAllowed(req, reply);
    return notFoundPage(ctxOf(req, reply));
  });
}
