/** Friendly HTML error pages: 404, 403, 500. */
import { MAPPED } from '../../plugins/errors.ts';
import type { PageCtx } from '../context.ts';
import { html } from '../html.ts';
import { sendPage } from '../layout.ts';

export function notFoundPage(ctx: PageCtx, message?: string) {
  const { t } = ctx;
  return sendPage(ctx, {
    status: 404,
    title: t('notFound.title'),
    body: html`<h1>${t('notFound.title')}</h1><p>${message ?? t('notFound.body')}</p><p><a href="/">${t('notFound.home')}</a></p>`,
  });
}

export function forbiddenPage(ctx: PageCtx) {
  const { t } = ctx;
  return sendPage(ctx, {
    status: 403,
    title: t('forbidden.title'),
    body: html`<h1>${t('forbidden.title')}</h1><p>${t('forbidden.body')}</p><p><a href="/">${t('notFound.home')}</a></p>`,
  });
}

export function errorPage(ctx: PageCtx, status = 500, message?: string, code?: string) {
  const { t } = ctx;
  return sendPage(ctx, {
    status,
    title: t('error.title'),
    body: html`<h1>${t('error.title')}</h1><p>${message ?? t('error.body')}</p>${code ? html`<p class="muted">${t('err.page.code', { code })}</p>` : ''}<p><a href="/">${t('notFound.home')}</a></p>`,
  });
}

/**
 * A request the framework refused before any page saw it (a body that is too large, of a type no
 * page reads, not well formed): said in the page language with the API's stable code, not in the
 * framework's English.
 */
export function clientErrorPage(ctx: PageCtx, status: number, frameworkCode: string | undefined) {
  const mapped = frameworkCode ? MAPPED[frameworkCode] : undefined;
  const key = `err.page.${status}`;
  const known = ctx.t(key);
  const code = mapped?.code ?? (frameworkCode && !frameworkCode.startsWith('FST_') ? frameworkCode : 'BAD_REQUEST');
  return errorPage(ctx, status, known === key ? ctx.t('err.page.other') : known, code);
}
