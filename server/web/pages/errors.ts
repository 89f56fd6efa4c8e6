/** Friendly HTML error pages: 404, 403, 500. */
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

export function errorPage(ctx: PageCtx, status = 500, message?: string) {
  const { t } = ctx;
  return sendPage(ctx, {
    status,
    title: t('error.title'),
    body: html`<h1>${t('error.title')}</h1><p>${message ?? t('error.body')}</p><p><a href="/">${t('notFound.home')}</a></p>`,
  });
}
