/**
 * `/san-pham/:id/sua` — the record editor (archivists: every field; the owning agency: while the
 * record is submitted or returned). Saves through PATCH /api/products/:id with If-Match; a stale
 * version keeps the user's input, shows the latest values beside the fields that differ, and a
 * warning. A returned record can be saved and resubmitted in one go.
 */
import type { FastifyInstance } from 'fastify';
import { isStaff } from '../../auth/principal.ts';
import { readProduct } from '../../catalogue/product-read.ts';
import { canSee } from '../../catalogue/visibility.ts';
import { apiError, callApi } from '../api.ts';
import { csrfOk, type PageCtx } from '../context.ts';
import { listAgencies, listPlanTasks } from '../data.ts';
import { html, type SafeHtml } from '../html.ts';
import { catalogueText, notice, sendPage } from '../layout.ts';
import { forbiddenPage, notFoundPage } from './errors.ts';
import { loginPage } from './login.ts';
import { fieldMessage, formFieldNames, productFields, valuesOf, type FieldErrors, type FormValues } from './product-form.ts';
import { canEdit } from './record.ts';
import { refusalMessage } from './transition.ts';

interface EditState {
  values?: FormValues;
  errors?: FieldErrors;
  latest?: FormValues;
  version?: number;
  flash?: SafeHtml;
}

export async function editPage(app: FastifyInstance, ctx: PageCtx, id: number, st: EditState = {}) {
  const { t } = ctx;
  const rec = Number.isSafeInteger(id) && id > 0 ? readProduct(app.db.sqlite, id) : null;
  if (!rec || !canSee(ctx.principal, { state: rec.state, access: rec.access, agencyId: rec.agency?.id ?? null })) return notFoundPage(ctx, t('record.notFound'));
  if (!canEdit(ctx, rec)) return forbiddenPage(ctx);
  const staff = isStaff(ctx.principal);
  const agencyId = staff ? null : ctx.principal!.agencyId;
  const returned = rec.state === 'returned' && !staff;
  const body = html`<section>
  <p><a href="/san-pham/${rec.id}">${t('common.back')}</a></p>
  <h1>${editHeading(ctx, rec.title)}</h1>
  <p class="muted">${t('edit.version', { v: st.version ?? rec.version })} · ${t(`state.${rec.state}`)}</p>
  ${st.flash ?? ''}
  ${rec.returnReason && rec.state === 'returned' ? notice('info', html`<strong>${t('record.returnReason')}:</strong> ${rec.returnReason}`) : ''}
  <form method="post" action="/san-pham/${rec.id}/sua" class="product-form" novalidate>
    <input type="hidden" name="_csrf" value="${ctx.csrf}">
    <input type="hidden" name="version" value="${st.version ?? rec.version}">
    ${productFields(ctx, { values: st.values ?? valuesOf(rec), errors: st.errors ?? {}, agencies: listAgencies(app.db.sqlite), tasks: listPlanTasks(app.db.sqlite, agencyId), staff, latest: st.latest })}
    <div class="button-row">
      <button type="submit" name="then" value="save">${t('common.save')}</button>
      ${returned ? html`<button type="submit" name="then" value="resubmit">${t('mine.fix')}</button>` : ''}
      <a class="button secondary" href="/san-pham/${rec.id}">${t('common.cancel')}</a>
    </div>
  </form>
</section>`;
  return sendPage(ctx, { title: t('edit.title', { title: rec.title }), body, bodyClass: 'page-edit' });
}

/** "Sửa hồ sơ: …" with the record's title marked as catalogue text (lang="vi" on an English page). */
function editHeading(ctx: PageCtx, title: string): SafeHtml {
  const [before, after = ''] = ctx.t('edit.title', { title: '\u0000' }).split('\u0000');
  return html`${before}${catalogueText(ctx, title)}${after}`;
}

export async function editPost(app: FastifyInstance, ctx: PageCtx, id: number) {
  const { t } = ctx;
  const b = (ctx.req.body ?? {}) as Record<string, unknown>;
  const staff = isStaff(ctx.principal);
  const before = readProduct(app.db.sqlite, id);
  if (!before) return notFoundPage(ctx, t('record.notFound'));
  const current = valuesOf(before);
  // Fields the form did not send keep their current value.
  const values: FormValues = {};
  for (const k of formFieldNames(staff)) values[k] = typeof b[k] === 'string' ? (b[k] as string) : (current[k] ?? '');
  const version = Number(b.version);
  if (!csrfOk(ctx, b._csrf)) {
    ctx.reply.code(403);
    return editPage(app, ctx, id, { values, version, flash: notice('error', t('err.CSRF')) });
  }
  // Back from a new login with what was typed before the session ended: shown, not saved.
  if (b.then === 'restore') return editPage(app, ctx, id, { values, version, flash: notice('info', t('edit.restored')) });
  // Send only what changed compared with the record as it is now: unchanged fields stay untouched.
  const patch: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(values)) {
    if (val.trim() === (current[k] ?? '').trim()) continue;
    patch[k] = val.trim() === '' ? null : val;
  }
  if (Object.keys(patch).length > 0) {
    const res = await callApi(app, ctx, 'PATCH', `/api/products/${id}`, patch, { 'if-match': `"v${Number.isFinite(version) ? version : 0}"` });
    if (res.status === 412) {
      ctx.reply.code(409);
      return editPage(app, ctx, id, { values, latest: current, version: before.version, flash: notice('error', t('err.STALE_WRITE')) });
    }
    if (res.status >= 400) {
      const e = apiError(res);
      ctx.reply.code(res.status);
      const errors: FieldErrors = Object.fromEntries((e.errors ?? (e.field ? [{ field: e.field, message: e.message }] : [])).map((x) => [x.field, fieldMessage(ctx, x.field, x.message)]));
      return editPage(app, ctx, id, { values, errors, version, flash: notice('error', e.field ? t('err.VALIDATION_FAILED') : refusalMessage(ctx, e.code, e.message)) });
    }
  }
  if (b.then === 'resubmit') {
    const res = await callApi(app, ctx, 'POST', `/api/products/${id}/transitions`, { action: 'resubmit' });
    if (res.status >= 400) {
      const e = apiError(res);
      ctx.reply.code(res.status);
      return editPage(app, ctx, id, { flash: notice('error', refusalMessage(ctx, e.code, e.message)) });
    }
    return ctx.reply.redirect(`/san-pham/${id}?da=resubmit`, 303);
  }
  return ctx.reply.redirect(`/san-pham/${id}?luu=1`, 303);
}

/**
 * The editor was sent after the session had ended: the login page keeps what was typed (every
 * field the form has, and the version it was based on) and, after the login, offers it back.
 */
export function expiredEditPost(ctx: PageCtx, id: number) {
  const b = (ctx.req.body ?? {}) as Record<string, unknown>;
  const draft: Record<string, string> = {};
  for (const k of [...formFieldNames(true), 'version']) if (typeof b[k] === 'string') draft[k] = b[k] as string;
  return loginPage(ctx, { status: 401, next: `/san-pham/${id}/sua`, info: ctx.t('login.draftKept'), draft });
}
