/** POST `/san-pham/:id/chuyen` — a workflow action from the record page form (no JS needed). */
import type { FastifyInstance } from 'fastify';
import { ACTIONS } from '../../catalogue/workflow.ts';
import { apiError, callApi } from '../api.ts';
import { csrfOk, type PageCtx } from '../context.ts';
import { notice } from '../layout.ts';
import { loginPage } from './login.ts';
import { recordPage } from './record.ts';

/** Vietnamese message for an API refusal of a workflow action or edit. */
export function refusalMessage(ctx: PageCtx, code: string, message: string): string {
  const { t } = ctx;
  const known = ['ILLEGAL_TRANSITION', 'STALE_WRITE', 'UNAUTHORIZED', 'FORBIDDEN', 'REASON_REQUIRED'];
  if (known.includes(code)) return t(`err.${code}`);
  if (code === 'CSRF_TOKEN_INVALID') return t('err.CSRF');
  if (code === 'RECORD_LOCKED') return t('edit.notAllowed');
  if (code === 'PRODUCT_NOT_FOUND') return t('record.notFound');
  if (code === 'NOT_YOUR_RECORD' || code === 'ACTION_NOT_ALLOWED') return t('err.FORBIDDEN');
  if (code === 'VALIDATION_FAILED' && /reason/i.test(message)) return t('err.REASON_REQUIRED');
  // Unforeseen: English readers get the API's words, Vietnamese ones its stable code.
  if (ctx.lang === 'en' && message) return t('err.generic', { message });
  return t('err.refusedCode', { code });
}

export async function transitionPost(app: FastifyInstance, ctx: PageCtx, id: number) {
  const { t } = ctx;
  const b = (ctx.req.body ?? {}) as Record<string, unknown>;
  if (!csrfOk(ctx, b._csrf)) return recordPage(app, ctx, id, notice('error', t('err.CSRF')));
  const action = typeof b.action === 'string' ? b.action : '';
  const reason = typeof b.reason === 'string' ? b.reason.trim() : '';
  // Back from a new login with the reason typed before the session ended: shown, not sent.
  if (b.then === 'restore') return recordPage(app, ctx, id, notice('info', t('record.reasonRestored')), null, reason);
  if (!(ACTIONS as readonly string[]).includes(action)) return recordPage(app, ctx, id, notice('error', t('err.ILLEGAL_TRANSITION')), null, reason);
  if (action === 'return' && !reason) {
    ctx.reply.code(400);
    return recordPage(app, ctx, id, notice('error', t('err.REASON_REQUIRED')), t('err.REASON_REQUIRED'));
  }
  const res = await callApi(app, ctx, 'POST', `/api/products/${id}/transitions`, { action, ...(reason ? { reason } : {}) });
  if (res.status >= 200 && res.status < 300) return ctx.reply.redirect(`/san-pham/${id}?da=${action}`, 303);
  const e = apiError(res);
  ctx.reply.code(res.status);
  return recordPage(app, ctx, id, notice('error', refusalMessage(ctx, e.code, e.message)), null, reason);
}

/**
 * A workflow form sent after the session had ended: with a reason typed, the login page keeps it
 * (as the editor's fields are kept) and, after the login, offers it back on the record page, not
 * sent; without one, null (the login page as for any page).
 */
export function expiredTransitionPost(ctx: PageCtx, id: number) {
  const b = (ctx.req.body ?? {}) as Record<string, unknown>;
  const reason = typeof b.reason === 'string' ? b.reason : '';
  if (reason.trim() === '') return null;
  return loginPage(ctx, { status: 401, next: `/san-pham/${id}`, info: ctx.t('login.reasonKept'), draft: { reason } });
}
