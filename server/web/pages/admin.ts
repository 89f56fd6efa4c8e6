/**
 * `/quan-tri` — administration: users and roles, agencies, API tokens (the secret shown once),
 * plan tasks. Lists and changes go through the admin JSON API in-process.
 */
import type { FastifyInstance } from 'fastify';
import { randomBytes } from 'node:crypto';
import { dayFirstToIso } from '../../catalogue/product-fields.ts';
import { ROLES } from '../../db/schema.ts';
import { apiError, callApi } from '../api.ts';
import { csrfOk, formatDate, formatDateTime, q1, type PageCtx } from '../context.ts';
import { listAgencies, listPlanTasks } from '../data.ts';
import { html, type SafeHtml } from '../html.ts';
import { catalogueLang, notice, sendPage } from '../layout.ts';

interface UserItem { id: number; username: string; displayName: string; role: string; agency: { code: string; name: string } | null; active: boolean }
interface TokenItem { id: number; username: string; name: string; prefix: string; createdAt: string; expiresAt: string | null; lastUsedAt: string | null; status: string }

/**
 * Token forms already carried out, by their one-time `once` value: sending the same form again
 * (a reload of the answer page re-posts it) does not make a second token. In memory, for an hour.
 */
const usedOnce = new Map<string, number>();
const ONCE_TTL_MS = 3600_000;

function takeOnce(value: string): boolean {
  const now = Date.now();
  for (const [k, at] of usedOnce) if (now - at > ONCE_TTL_MS) usedOnce.delete(k);
  if (!/^[A-Za-z0-9_-]{16,64}$/.test(value) || usedOnce.has(value)) return false;
  usedOnce.set(value, now);
  return true;
}

/** A token's state in the page language (the API's `active`, `revoked`, `expired`); an unforeseen one as it is. */
function tokenStatus(ctx: PageCtx, status: string): string {
  const key = `admin.tokenStatus.${status}`;
  const m = ctx.t(key);
  return m === key ? status : m;
}

export async function adminPage(app: FastifyInstance, ctx: PageCtx, flash: SafeHtml | null = null) {
  const { t } = ctx;
  if (!flash && q1(ctx.query.luu) === '1') flash = notice('ok', t('admin.saved'));
  if (!flash && q1(ctx.query.luu) === 'token') flash = notice('info', t('admin.tokenAlreadyMade'));
  const users = await callApi<UserItem[]>(app, ctx, 'GET', '/api/users');
  const tokens = await callApi<TokenItem[]>(app, ctx, 'GET', '/api/tokens');
  const userList = users.status === 200 && Array.isArray(users.body) ? users.body : [];
  const tokenList = tokens.status === 200 && Array.isArray(tokens.body) ? tokens.body : [];
  const agencies = listAgencies(app.db.sqlite);
  const tasks = listPlanTasks(app.db.sqlite);
  const agencyName = new Map(agencies.map((a) => [a.id, a.name]));
  const csrf = html`<input type="hidden" name="_csrf" value="${ctx.csrf}">`;
  const agencyOptions = html`<option value="">—</option>${agencies.map((a) => html`<option value="${a.code}"${catalogueLang(ctx)}>${a.name}</option>`)}`;

  const body = html`<h1>${t('admin.title')}</h1>
<nav class="tabs" aria-label="${t('admin.title')}"><ul>
  <li><a href="#users">${t('admin.users')}</a></li><li><a href="#tokens">${t('admin.tokens')}</a></li>
  <li><a href="#agencies">${t('admin.agencies')}</a></li><li><a href="#tasks">${t('admin.planTasks')}</a></li>
</ul></nav>
${flash ?? ''}
<section id="users" aria-labelledby="users-h">
  <h2 id="users-h">${t('admin.users')}</h2>
  ${users.status !== 200 ? notice('error', t('admin.unavailable')) : ''}
  <div class="table-wrap" tabindex="0" role="region" aria-labelledby="users-h"><table>
    <thead><tr><th scope="col">${t('admin.username')}</th><th scope="col">${t('admin.displayName')}</th><th scope="col">${t('admin.role')}</th><th scope="col">${t('admin.agency')}</th><th scope="col">${t('admin.active')}</th><th scope="col">${t('common.actions')}</th></tr></thead>
    <tbody>${userList.map(
      (u) => html`<tr><td>${u.username}</td><td>${u.displayName}</td><td>${t(`role.${u.role}`)}</td><td${u.agency ? catalogueLang(ctx) : ''}>${u.agency?.name ?? '—'}</td><td>${u.active ? t('common.yes') : t('common.no')}</td>
      <td><form method="post" action="/quan-tri" class="inline-form role-form">${csrf}<input type="hidden" name="op" value="set_role"><input type="hidden" name="id" value="${u.id}">
        <label class="visually-hidden" for="role-${u.id}">${t('admin.changeRole')} ${u.username}</label>
        <select id="role-${u.id}" name="role">${ROLES.map((r) => html`<option value="${r}"${r === u.role ? html` selected` : ''}>${t(`role.${r}`)}</option>`)}</select>
        <label class="visually-hidden" for="agency-${u.id}">${t('admin.agency')} ${u.username}</label>
        <select id="agency-${u.id}" name="agency"><option value="">—</option>${agencies.map((a) => html`<option value="${a.code}"${catalogueLang(ctx)}${a.code === u.agency?.code ? html` selected` : ''}>${a.shortName || a.name}</option>`)}</select>
        <button type="submit" class="small">${t('admin.apply')}<span class="visually-hidden"> ${u.username}</span></button></form>
      <form method="post" action="/quan-tri" class="inline-form">${csrf}<input type="hidden" name="op" value="set_active"><input type="hidden" name="id" value="${u.id}"><input type="hidden" name="active" value="${u.active ? '0' : '1'}">
      <button type="submit" class="small secondary">${u.active ? (ctx.lang === 'vi' ? 'Khoá' : 'Disable') : (ctx.lang === 'vi' ? 'Mở khoá' : 'Enable')}<span class="visually-hidden"> ${u.username}</span></button></form>
      <form method="post" action="/quan-tri" class="inline-form role-form">${csrf}<input type="hidden" name="op" value="set_password"><input type="hidden" name="id" value="${u.id}">
        <label class="visually-hidden" for="pw-${u.id}">${t('admin.newPassword')} ${u.username}</label>
        <input id="pw-${u.id}" name="password" type="password" autocomplete="new-password" minlength="10" required>
        <button type="submit" class="small secondary">${t('admin.setPassword')}<span class="visually-hidden"> ${u.username}</span></button></form></td></tr>`,
    )}</tbody>
  </table></div>
  <form method="post" action="/quan-tri" class="admin-form">
    ${csrf}<input type="hidden" name="op" value="create_user">
    <h3>${t('admin.newUser')}</h3>
    <div class="form-grid">
      <div class="form-row"><label for="u-username">${t('admin.username')}</label><input id="u-username" name="username" required minlength="2" maxlength="64" autocomplete="off"></div>
      <div class="form-row"><label for="u-display">${t('admin.displayName')}</label><input id="u-display" name="displayName" maxlength="200"></div>
      <div class="form-row"><label for="u-role">${t('admin.role')}</label><select id="u-role" name="role">${ROLES.map((r) => html`<option value="${r}"${r === 'agency' ? html` selected` : ''}>${t(`role.${r}`)}</option>`)}</select></div>
      <div class="form-row"><label for="u-agency">${t('admin.agency')}</label><select id="u-agency" name="agency">${agencyOptions}</select></div>
      <div class="form-row"><label for="u-password">${t('admin.password')}</label><input id="u-password" name="password" type="password" autocomplete="new-password" minlength="10"></div>
    </div>
    <button type="submit">${t('admin.newUser')}</button>
  </form>
</section>
<section id="tokens" aria-labelledby="tokens-h">
  <h2 id="tokens-h">${t('admin.tokens')}</h2>
  <div class="table-wrap" tabindex="0" role="region" aria-labelledby="tokens-h"><table>
    <thead><tr><th scope="col">${t('admin.tokenName')}</th><th scope="col">${t('admin.tokenUser')}</th><th scope="col">${t('admin.prefix')}</th><th scope="col">${t('common.state')}</th><th scope="col">${t('admin.lastUsed')}</th><th scope="col">${t('common.actions')}</th></tr></thead>
    <tbody>${tokenList.map(
      (k) => html`<tr><td>${k.name}</td><td>${k.username}</td><td><code>${k.prefix}…</code></td><td>${tokenStatus(ctx, k.status)}</td><td>${formatDateTime(k.lastUsedAt, ctx.lang) || '—'}</td>
      <td>${k.status === 'active' ? html`<form method="post" action="/quan-tri" class="inline-form">${csrf}<input type="hidden" name="op" value="revoke_token"><input type="hidden" name="id" value="${k.id}"><button type="submit" class="small secondary">${t('admin.revoke')}<span class="visually-hidden"> ${k.name}</span></button></form>` : t('admin.revoked')}</td></tr>`,
    )}</tbody>
  </table></div>
  <form method="post" action="/quan-tri" class="admin-form">
    ${csrf}<input type="hidden" name="op" value="create_token"><input type="hidden" name="once" value="${randomBytes(18).toString('base64url')}">
    <h3>${t('admin.newToken')}</h3>
    <div class="form-grid">
      <div class="form-row"><label for="k-name">${t('admin.tokenName')}</label><input id="k-name" name="name" required maxlength="100"></div>
      <div class="form-row"><label for="k-user">${t('admin.tokenUser')}</label><select id="k-user" name="user">${userList.map((u) => html`<option value="${u.username}">${u.username}</option>`)}</select></div>
    </div>
    <button type="submit">${t('admin.newToken')}</button>
  </form>
</section>
<section id="agencies" aria-labelledby="agencies-h">
  <h2 id="agencies-h">${t('admin.agencies')}</h2>
  <div class="table-wrap" tabindex="0" role="region" aria-labelledby="agencies-h"><table>
    <thead><tr><th scope="col">${t('admin.code')}</th><th scope="col">${t('admin.name')}</th><th scope="col">${t('admin.shortName')}</th><th scope="col">${t('admin.active')}</th></tr></thead>
    <tbody>${agencies.map((a) => html`<tr><td><code>${a.code}</code></td><td${catalogueLang(ctx)}>${a.name}</td><td${a.shortName ? catalogueLang(ctx) : ''}>${a.shortName ?? ''}</td><td>${a.active ? t('common.yes') : t('common.no')}</td></tr>`)}</tbody>
  </table></div>
  <form method="post" action="/quan-tri" class="admin-form">
    ${csrf}<input type="hidden" name="op" value="create_agency">
    <h3>${t('admin.newAgency')}</h3>
    <div class="form-grid">
      <div class="form-row"><label for="a-code">${t('admin.code')}</label><input id="a-code" name="code" required pattern="[a-z0-9][a-z0-9\\-]{1,63}" data-pattern-message="${t('admin.codePattern')}"></div>
      <div class="form-row"><label for="a-name">${t('admin.name')}</label><input id="a-name" name="name" required maxlength="300"></div>
      <div class="form-row"><label for="a-short">${t('admin.shortName')}</label><input id="a-short" name="shortName" maxlength="100"></div>
    </div>
    <button type="submit">${t('admin.newAgency')}</button>
  </form>
</section>
<section id="tasks" aria-labelledby="tasks-h">
  <h2 id="tasks-h">${t('admin.planTasks')}</h2>
  <div class="table-wrap" tabindex="0" role="region" aria-labelledby="tasks-h"><table>
    <thead><tr><th scope="col">${t('record.year')}</th><th scope="col">${t('admin.taskTitle')}</th><th scope="col">${t('admin.agency')}</th><th scope="col">${t('report.deadline')}</th></tr></thead>
    <tbody>${tasks.map((x) => html`<tr><td>${x.year}</td><td${catalogueLang(ctx)}>${x.title}</td><td${catalogueLang(ctx)}>${agencyName.get(x.agencyId) ?? ''}</td><td>${formatDate(x.deadline, ctx.lang)}</td></tr>`)}</tbody>
  </table></div>
  <form method="post" action="/quan-tri" class="admin-form">
    ${csrf}<input type="hidden" name="op" value="create_task">
    <h3>${t('admin.newTask')}</h3>
    <div class="form-grid">
      <div class="form-row"><label for="t-code">${t('admin.code')}</label><input id="t-code" name="code" required></div>
      <div class="form-row"><label for="t-title">${t('admin.taskTitle')}</label><input id="t-title" name="title" required></div>
      <div class="form-row"><label for="t-ref">${t('admin.planRef')}</label><input id="t-ref" name="planRef" required value="199-KH/TU"></div>
      <div class="form-row"><label for="t-year">${t('record.year')}</label><input id="t-year" name="year" required inputmode="numeric" value="${new Date().getUTCFullYear()}"></div>
      <div class="form-row"><label for="t-agency">${t('admin.agency')}</label><select id="t-agency" name="agency" required>${agencyOptions}</select></div>
      <div class="form-row"><label for="t-deadline">${t('admin.deadline')}</label><input id="t-deadline" name="deadline" type="text" inputmode="numeric" placeholder="${t('form.datePlaceholder')}" maxlength="10" autocomplete="off" required></div>
    </div>
    <button type="submit">${t('admin.newTask')}</button>
  </form>
</section>`;
  return sendPage(ctx, { title: t('admin.title'), body, bodyClass: 'page-admin' });
}

/** The page's language's message for an API refusal of an admin form (the API's own is in English). */
function adminErrorMessage(ctx: PageCtx, e: { code: string; message: string; field?: string }): string {
  const { t } = ctx;
  for (const key of [`admin.err.${e.code}`, e.field ? `admin.err.field.${e.field}` : '']) {
    if (!key) continue;
    const m = t(key);
    if (m !== key) return m;
  }
  // Unforeseen: English readers get the API's words, Vietnamese ones its stable code.
  if (ctx.lang === 'en' && e.message) return t('err.generic', { message: `${e.field ? `${e.field}: ` : ''}${e.message}` });
  return t('err.refusedCode', { code: e.code });
}

export async function adminPost(app: FastifyInstance, ctx: PageCtx) {
  const { t } = ctx;
  const b = (ctx.req.body ?? {}) as Record<string, string>;
  if (!csrfOk(ctx, b._csrf)) {
    ctx.reply.code(403);
    return adminPage(app, ctx, notice('error', t('err.CSRF')));
  }
  const s = (k: string) => (typeof b[k] === 'string' ? b[k].trim() : '');
  const opt = (k: string) => (s(k) === '' ? undefined : s(k));
  let res;
  switch (b.op) {
    case 'create_user':
      res = await callApi(app, ctx, 'POST', '/api/users', { username: s('username'), displayName: opt('displayName'), role: s('role'), agency: opt('agency') ?? null, password: opt('password') });
      break;
    case 'set_role':
      res = await callApi(app, ctx, 'PATCH', `/api/users/${Number(s('id'))}`, { role: s('role'), agency: s('role') === 'agency' ? (opt('agency') ?? null) : null });
      break;
    case 'set_password':
      // A new password ends the account's sessions (server/catalogue/accounts.ts): one's own too, so
      // the admin who set their own is sent to log in again with it.
      res = await callApi(app, ctx, 'PATCH', `/api/users/${Number(s('id'))}`, { password: typeof b.password === 'string' ? b.password : '' });
      if (res.status < 400 && Number(s('id')) === ctx.principal?.userId) return ctx.reply.redirect('/dang-nhap?next=%2Fquan-tri&mat-khau-moi=1', 303);
      break;
    case 'set_active':
      res = await callApi(app, ctx, 'PATCH', `/api/users/${Number(s('id'))}`, { active: s('active') === '1' });
      break;
    case 'create_token':
      if (s('once') && !takeOnce(s('once'))) return ctx.reply.redirect('/quan-tri?luu=token', 303);
      res = await callApi(app, ctx, 'POST', '/api/tokens', { user: s('user'), name: s('name') });
      break;
    case 'revoke_token':
      res = await callApi(app, ctx, 'DELETE', `/api/tokens/${Number(s('id'))}`);
      break;
    case 'create_agency':
      res = await callApi(app, ctx, 'POST', '/api/agencies', { code: s('code'), name: s('name'), ...(opt('shortName') ? { shortName: s('shortName') } : {}) });
      break;
    case 'create_task':
      res = await callApi(app, ctx, 'POST', '/api/plan-tasks', { code: s('code'), title: s('title'), planRef: s('planRef'), year: Number(s('year')), agency: s('agency'), deadline: dayFirstToIso(s('deadline')) });
      break;
    default:
      ctx.reply.code(400);
      return adminPage(app, ctx, notice('error', t('err.refusedCode', { code: 'UNKNOWN_OP' })));
  }
  if (res.status >= 400) {
    const e = apiError(res);
    ctx.reply.code(res.status);
    return adminPage(app, ctx, notice('error', adminErrorMessage(ctx, e)));
  }
  const body = res.body as { secret?: string; generatedPassword?: string | null };
  if (b.op === 'create_token' && body.secret) {
    ctx.reply.header('cache-control', 'no-store');
    return adminPage(app, ctx, notice('ok', html`${t('admin.tokenOnce')} <code class="secret" id="new-token">${body.secret}</code>`));
  }
  if (b.op === 'create_user' && body.generatedPassword) {
    return adminPage(app, ctx, notice('ok', html`${t('admin.saved')} ${t('admin.password')}: <code class="secret">${body.generatedPassword}</code>`));
  }
  // Done: back to the page by GET, so a reload does not send the form again.
  return ctx.reply.redirect('/quan-tri?luu=1', 303);
}
