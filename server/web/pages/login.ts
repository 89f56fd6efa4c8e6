/**
 * `/dang-nhap` and `/dang-xuat`. The login form posts here; the page asks POST /api/auth/login
 * in-process and hands its session cookie to the browser. The anonymous form is protected by a
 * double-submit CSRF cookie.
 */
import type { FastifyInstance } from 'fastify';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { callApi } from '../api.ts';
import type { Principal } from '../../auth/principal.ts';
import { csrfOk, q1, type PageCtx } from '../context.ts';
import { html, type SafeHtml } from '../html.ts';
import { notice, sendPage } from '../layout.ts';
import { INITIAL_ADMIN_FILE } from '../../plugins/catalogue.ts';

/** Only local paths are allowed as the place to go after login. */
export function safeNext(next: string): string {
  return next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\') && !next.startsWith('/dang-') ? next : '/';
}

/** Form fields an editor or workflow post carries through a new login (`draft_title`, `draft_reason`, …). */
const DRAFT_PREFIX = 'draft_';
/** Where a draft may be taken back to: the record editor. */
const EDITOR_PATH = /^\/san-pham\/\d+\/sua$/;
/** … or the record page, whose workflow form (with its reason) posts to `/chuyen`. */
const RECORD_PATH = /^\/san-pham\/\d+$/;

/** The URL a draft is posted back to after the login (not saved there: shown again), or null. */
function draftTarget(next: string): string | null {
  if (EDITOR_PATH.test(next)) return next;
  if (RECORD_PATH.test(next)) return `${next}/chuyen`;
  return null;
}

export interface LoginOptions {
  error?: string;
  username?: string;
  status?: number;
  info?: string;
  /** Where to go afterwards, when not the `next` of the URL. */
  next?: string;
  /** The editor's fields (or a workflow form's reason) as the user left them when the session had ended: kept through the login. */
  draft?: Record<string, string>;
}

/** The draft fields a login form post carries. */
function draftOf(body: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(body)) if (k.startsWith(DRAFT_PREFIX) && typeof v === 'string') out[k.slice(DRAFT_PREFIX.length)] = v;
  return out;
}

const hiddenDraft = (draft: Record<string, string> | undefined): SafeHtml[] =>
  Object.entries(draft ?? {}).map(([k, v]) => html`<input type="hidden" name="${DRAFT_PREFIX}${k}" value="${v}">`);

/**
 * While the first admin's password file is still in the data folder (a fresh install), the login page
 * says where the first password is: the person who started the server finds it without the README.
 * Only the file's name is shown, never what it holds.
 */
function firstRun(ctx: PageCtx): SafeHtml | string {
  if (ctx.principal || !existsSync(join(ctx.req.server.paths.dataDir, INITIAL_ADMIN_FILE))) return '';
  return notice('info', html`${ctx.t('login.firstRun', { user: 'admin', file: INITIAL_ADMIN_FILE })}`);
}

export function loginPage(ctx: PageCtx, opts: LoginOptions = {}) {
  const { t } = ctx;
  const next = safeNext(opts.next ?? (q1(ctx.query.next) || '/'));
  // Sent here from a page that needs an account (or after the session ended): say so.
  const info = opts.info
    ?? (q1(ctx.query['mat-khau-moi']) === '1' && !opts.error ? t('login.passwordChanged') : undefined)
    ?? (next !== '/' && !opts.error && !ctx.principal ? t('login.needed') : undefined);
  const body: SafeHtml = html`<section class="narrow">
  <h1>${t('login.title')}</h1>
  ${info ? notice('info', info) : ''}
  ${opts.error ? html`<div class="notice notice-error" role="alert" id="login-error">${opts.error}</div>` : ''}
  <form method="post" action="/dang-nhap?next=${encodeURIComponent(next)}" class="stack">
    <input type="hidden" name="_csrf" value="${ctx.csrf}">
    ${hiddenDraft(opts.draft)}
    <div class="form-row"><label for="username">${t('login.username')}</label>
      <input id="username" name="username" autocomplete="username" required value="${opts.username ?? ''}"${opts.error ? html` aria-invalid="true" aria-describedby="login-error"` : ''}></div>
    <div class="form-row"><label for="password">${t('login.password')}</label>
      <input id="password" name="password" type="password" autocomplete="current-password" required${opts.error ? html` autofocus aria-invalid="true" aria-describedby="login-error"` : ''}></div>
    <button type="submit">${t('login.submit')}</button>
  </form>
  ${firstRun(ctx)}
  <p class="help">${t('login.noAccount')}</p>
</section>`;
  return sendPage(ctx, { title: t('login.title'), body, status: opts.status ?? 200 });
}

export async function loginPost(app: FastifyInstance, ctx: PageCtx) {
  const { t } = ctx;
  const b = (ctx.req.body ?? {}) as Record<string, unknown>;
  const username = typeof b.username === 'string' ? b.username.trim() : '';
  const password = typeof b.password === 'string' ? b.password : '';
  const next = safeNext(q1(ctx.query.next) || '/');
  const draft = draftTarget(next) ? draftOf(b) : {};
  if (!csrfOk(ctx, b._csrf)) return loginPage(ctx, { error: t('err.CSRF'), username, status: 403, draft });
  const res = await callApi(app, ctx, 'POST', '/api/auth/login', { username, password });
  if (res.status === 200) {
    const cookies = res.headers['set-cookie'];
    for (const c of Array.isArray(cookies) ? cookies : cookies ? [String(cookies)] : []) ctx.reply.header('set-cookie', c);
    if (Object.keys(draft).length > 0) return draftPage(ctx, res.body as unknown as LoginAnswer, next, draft);
    return ctx.reply.redirect(next, 303);
  }
  if (res.status === 429) return loginPage(ctx, { error: t('login.throttled'), username, status: 429, draft });
  if (res.status === 404) return loginPage(ctx, { error: t('admin.unavailable'), username, status: 503, draft });
  return loginPage(ctx, { error: t('login.failed'), username, status: 401, draft });
}

interface LoginAnswer {
  user: { userId: number | null; username: string; role: Principal['role']; agency: { id: number } | null; canSeeInternal: boolean };
  csrfToken: string;
}

/**
 * Logged in again with a draft in hand (the editor's fields, or a workflow form's reason): one
 * button takes it back to the editor or the record page (not saved or sent: the user checks it
 * first). The form carries the new session's CSRF token.
 */
function draftPage(ctx: PageCtx, answer: LoginAnswer, next: string, draft: Record<string, string>) {
  const u = answer.user;
  const principal: Principal = { userId: u.userId, username: u.username, role: u.role, agencyId: u.agency?.id ?? null, canSeeInternal: u.canSeeInternal, via: 'session', csrfToken: answer.csrfToken };
  const c: PageCtx = { ...ctx, principal, csrf: answer.csrfToken };
  const { t } = c;
  const editor = EDITOR_PATH.test(next);
  const title = editor ? t('login.draftContinue') : t('login.reasonContinue');
  return sendPage(c, {
    title,
    body: html`<section class="narrow">
  <h1>${title}</h1>
  ${notice('ok', editor ? t('login.draftReady') : t('login.reasonReady'))}
  <form method="post" action="${draftTarget(next) ?? next}">
    <input type="hidden" name="_csrf" value="${c.csrf}">
    ${Object.entries(draft).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`)}
    <input type="hidden" name="then" value="restore">
    <button type="submit" autofocus>${title}</button>
  </form>
</section>`,
  });
}

export function logoutPage(ctx: PageCtx) {
  const { t } = ctx;
  if (!ctx.principal) return loginPage(ctx, { info: t('logout.done') });
  return sendPage(ctx, {
    title: t('nav.logout'),
    body: html`<section class="narrow"><h1>${t('nav.logout')}</h1>
<form method="post" action="/dang-xuat"><input type="hidden" name="_csrf" value="${ctx.csrf}"><button type="submit">${t('logout.submit')}</button></form></section>`,
  });
}

export async function logoutPost(app: FastifyInstance, ctx: PageCtx) {
  const b = (ctx.req.body ?? {}) as Record<string, unknown>;
  if (ctx.principal && !csrfOk(ctx, b._csrf)) return logoutPage(ctx);
  if (ctx.principal) {
    const res = await callApi(app, ctx, 'POST', '/api/auth/logout', {});
    const cookies = res.headers['set-cookie'];
    for (const c of Array.isArray(cookies) ? cookies : cookies ? [String(cookies)] : []) ctx.reply.header('set-cookie', c);
  }
  // Clear the session cookie in any case (the API may already have).
  if (!ctx.reply.hasHeader('set-cookie')) ctx.reply.clearCookie('kho_session', { path: '/' });
  return ctx.reply.redirect('/dang-nhap?da-dang-xuat=1', 303);
}
