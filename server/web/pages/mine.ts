/**
 * `/cua-toi` — an agency's submissions with their state, the archivist's reasons, and edit links
 * while allowed. Each edit link names its record to a screen reader (a list of links otherwise
 * reads “Sửa, Sửa, Sửa”); an empty list offers the upload form.
 */
import type { FastifyInstance } from 'fastify';
import { formatDateTime, type PageCtx } from '../context.ts';
import { agencyProducts, userProducts } from '../data.ts';
import { html } from '../html.ts';
import { catalogueText, sendPage } from '../layout.ts';
import { stateBadge } from './record.ts';

export async function minePage(app: FastifyInstance, ctx: PageCtx) {
  const { t } = ctx;
  const p = ctx.principal!;
  const rows = p.role === 'agency' && p.agencyId !== null ? agencyProducts(app.db.sqlite, p.agencyId) : p.userId !== null ? userProducts(app.db.sqlite, p.userId) : [];
  const editable = (state: string) => p.role !== 'agency' || state === 'submitted' || state === 'returned';
  const body = html`<h1>${t('mine.title')}</h1>
<p>${t('mine.intro')}</p>
${rows.length === 0
  ? html`<p class="empty">${t('mine.empty')}</p><p><a class="button" href="/nop">${t('mine.emptyNext')}</a></p>`
  : html`<ul class="cards">
  ${rows.map(
    (r) => html`<li class="card state-row-${r.state}">
    <h2 class="card-title"><a href="/san-pham/${r.id}">${catalogueText(ctx, r.title)}</a></h2>
    <p class="card-meta">${stateBadge(ctx, r.state)} · ${t(`type.${r.type}`)}${r.year ? html` · ${r.year}` : ''} · ${t('common.updated')}: ${formatDateTime(r.updatedAt, ctx.lang)}</p>
    ${r.state === 'returned' && r.returnReason ? html`<p class="reason"><strong>${t('record.returnReason')}:</strong> ${catalogueText(ctx, r.returnReason)}</p>` : ''}
    ${editable(r.state) ? html`<p><a class="button small${r.state === 'returned' ? '' : ' secondary'}" href="/san-pham/${r.id}/sua">${r.state === 'returned' ? t('mine.fix') : t('mine.edit')}<span class="visually-hidden">: ${catalogueText(ctx, r.title)}</span></a></p>` : ''}
  </li>`,
  )}
</ul>`}`;
  return sendPage(ctx, { title: t('mine.title'), body, bodyClass: 'page-mine' });
}
