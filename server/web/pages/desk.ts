/**
 * `/tham-dinh` — the archivist's desk: the review queue (oldest first, duplicates flagged) and
 * bulk actions on the selected records (POST /api/products/bulk-transitions, no JS needed; desk.js
 * only adds "select all").
 */
import type { FastifyInstance } from 'fastify';
import { ACTIONS } from '../../catalogue/workflow.ts';
import { apiError, callApi } from '../api.ts';
import { csrfOk, formatDateTime, q1, urlWith, type PageCtx } from '../context.ts';
import { DESK_STATES, reviewQueue } from '../data.ts';
import { html, type SafeHtml } from '../html.ts';
import { catalogueLang, catalogueText, notice, outcomeNotice, sendPage } from '../layout.ts';
import { stateBadge } from './record.ts';
import { refusalMessage } from './transition.ts';

const BULK_ACTIONS = ['start_review', 'accept', 'publish', 'return', 'withdraw'] as const;

/** What the archivist chose, kept when the page comes back with a problem. */
interface BulkChoice {
  ids: number[];
  action: string;
  reason: string;
}

/** `reasonError`: the problem with the reason just sent, shown next to its field (which gets the focus). */
export async function deskPage(app: FastifyInstance, ctx: PageCtx, flash: SafeHtml | null = null, keep: BulkChoice | null = null, reasonError: string | null = null) {
  const { t } = ctx;
  const filter = q1(ctx.query.trang_thai);
  const states = (DESK_STATES as readonly string[]).includes(filter) ? [filter] : [...DESK_STATES];
  const rows = reviewQueue(app.db.sqlite, states);
  if (!flash && !keep) ({ flash, keep } = bulkOutcome(app, ctx));
  const body = html`<h1>${t('desk.title')}</h1>
${flash ?? ''}
<nav class="tabs" aria-label="${t('desk.filter')}"><ul>
  <li><a href="/tham-dinh"${filter === '' ? html` aria-current="page"` : ''}>${t('desk.all')}</a></li>
  ${DESK_STATES.map((s) => html`<li><a href="/tham-dinh?trang_thai=${s}"${filter === s ? html` aria-current="page"` : ''}>${t(`state.${s}`)}</a></li>`)}
</ul></nav>
<form method="post" action="${urlWith('/tham-dinh', { trang_thai: filter || undefined })}" class="desk-form">
  <input type="hidden" name="_csrf" value="${ctx.csrf}">
  <h2 id="queue-h">${t('desk.queue')}</h2>
  ${rows.length === 0
    ? html`<p class="empty">${t('desk.empty')}</p>`
    : html`<div class="table-wrap" tabindex="0" role="region" aria-labelledby="queue-h"><table class="queue stack-phone" role="table">
    <thead role="rowgroup"><tr role="row">
      <th scope="col" role="columnheader" class="pick"><input type="checkbox" id="select-all" aria-label="${t('desk.selectAll')}" hidden></th>
      <th scope="col" role="columnheader">${t('record.title')}</th><th scope="col" role="columnheader">${t('record.agency')}</th><th scope="col" role="columnheader">${t('common.state')}</th><th scope="col" role="columnheader">${t('record.submittedAt')}</th>
    </tr></thead>
    <tbody role="rowgroup">${rows.map(
      (r) => html`<tr role="row">
      <td role="cell" class="pick"><input type="checkbox" name="ids" value="${r.id}" id="sel-${r.id}" aria-label="${t('desk.select', { title: r.title })}"${keep?.ids.includes(r.id) ? html` checked` : ''}></td>
      <td role="cell"><a href="/san-pham/${r.id}">${catalogueText(ctx, r.title)}</a> <span class="muted">(${t(`type.${r.type}`)}, ${t('desk.fileCount', { n: r.files })})</span>${r.duplicateFlags > 0 ? html` <span class="badge dup-flag">${t('desk.dupFlag')}</span>` : ''}</td>
      <td role="cell" data-label="${t('record.agency')}"${r.agencyName ? catalogueLang(ctx) : ''}>${r.agencyName ?? '—'}</td>
      <td role="cell" data-label="${t('common.state')}">${stateBadge(ctx, r.state)}</td>
      <td role="cell" data-label="${t('record.submittedAt')}">${formatDateTime(r.submittedAt, ctx.lang)}</td>
    </tr>`,
    )}</tbody>
  </table></div>
  <fieldset class="bulk">
    <legend>${t('desk.bulk')}</legend>
    <div class="form-row"><label for="bulk-action">${t('desk.bulkAction')}</label>
      <select id="bulk-action" name="action">${BULK_ACTIONS.map((a) => html`<option value="${a}"${keep?.action === a ? html` selected` : ''}>${t(`action.${a}`)}</option>`)}</select></div>
    <div class="form-row${reasonError ? ' has-error' : ''}"><label for="bulk-reason">${t('record.reason')}</label>
      <input id="bulk-reason" name="reason" value="${keep?.reason ?? ''}" aria-describedby="${reasonError ? 'bulk-reason-error ' : ''}bulk-reason-help"${reasonError ? html` aria-invalid="true" autofocus` : ''}>${reasonError ? html`<p class="field-error" id="bulk-reason-error">${reasonError}</p>` : ''}<p class="help" id="bulk-reason-help">${t('record.reasonHelp')}</p></div>
    <button type="submit">${t('desk.bulkSubmit')}</button>
  </fieldset>`}
</form>`;
  // Back to the desk after a bulk action asks anew: never the queue as it was, ready to be sent again.
  ctx.reply.header('cache-control', 'private, no-store');
  return sendPage(ctx, { title: t('desk.title'), body, scripts: ['desk.js'], bodyClass: 'page-desk' });
}

/**
 * The outcome of a bulk action, read back from the URL it redirected to (`?da=accept&xong=3&loi=12:ILLEGAL_TRANSITION`):
 * how many records were done, each record that could not be changed and why (kept selected, with the
 * action and reason, to act on again).
 */
function bulkOutcome(app: FastifyInstance, ctx: PageCtx): { flash: SafeHtml | null; keep: BulkChoice | null } {
  const { t } = ctx;
  const action = q1(ctx.query.da);
  const ok = Number(q1(ctx.query.xong));
  if (!(ACTIONS as readonly string[]).includes(action) || !Number.isSafeInteger(ok) || ok < 0) return { flash: null, keep: null };
  const failures = q1(ctx.query.loi)
    .split(',')
    .map((x) => /^(\d+):([A-Z_]*)$/.exec(x))
    .filter((m): m is RegExpExecArray => m !== null)
    .slice(0, 200)
    .map((m) => ({ id: Number(m[1]), code: m[2] }));
  const failed = failures.length;
  if (!failed) return { flash: outcomeNotice('ok', t('desk.bulkDone', { ok, failed })), keep: null };
  const failedIds = failures.map((r) => r.id);
  const titles = new Map(
    (app.db.sqlite.prepare(`SELECT id, title FROM products WHERE id IN (${failedIds.map(() => '?').join(',')})`).all(...failedIds) as Array<{ id: number; title: string }>).map((r) => [r.id, r.title]),
  );
  const why = failures.map((r) => html`<li><a href="/san-pham/${r.id}">${titles.get(r.id) ?? `#${r.id}`}</a>: ${refusalMessage(ctx, r.code, r.code)}</li>`);
  return {
    flash: outcomeNotice('info', html`${t('desk.bulkDone', { ok, failed })}<ul>${why}</ul>`),
    keep: { ids: failedIds, action, reason: q1(ctx.query.ly_do) },
  };
}

export async function deskBulkPost(app: FastifyInstance, ctx: PageCtx) {
  const { t } = ctx;
  const b = (ctx.req.body ?? {}) as Record<string, unknown>;
  if (!csrfOk(ctx, b._csrf)) {
    ctx.reply.code(403);
    return deskPage(app, ctx, notice('error', t('err.CSRF')));
  }
  const ids = [b.ids].flat().map((x) => Number(x)).filter((n) => Number.isSafeInteger(n) && n > 0);
  const action = typeof b.action === 'string' ? b.action : '';
  const reason = typeof b.reason === 'string' ? b.reason.trim() : '';
  if (ids.length === 0) {
    ctx.reply.code(400);
    return deskPage(app, ctx, notice('error', t('desk.noneSelected')));
  }
  if (!(ACTIONS as readonly string[]).includes(action)) return deskPage(app, ctx, notice('error', t('err.ILLEGAL_TRANSITION')));
  const keep = { ids, action, reason };
  if (action === 'return' && !reason) {
    ctx.reply.code(400);
    return deskPage(app, ctx, notice('error', t('err.REASON_REQUIRED')), keep, t('err.REASON_REQUIRED'));
  }
  const res = await callApi(app, ctx, 'POST', '/api/products/bulk-transitions', { ids, action, ...(reason ? { reason } : {}) });
  if (res.status >= 400) {
    const e = apiError(res);
    ctx.reply.code(res.status);
    return deskPage(app, ctx, notice('error', refusalMessage(ctx, e.code, e.message)), keep);
  }
  type Result = { id?: number; ok?: boolean; status?: number; code?: string; message?: string; error?: unknown };
  const results = ((res.body as { results?: Result[] }).results ?? []) as Result[];
  const failures = results.filter((r) => r.ok === false || (typeof r.status === 'number' && r.status >= 400) || r.error);
  const ok = results.length ? results.length - failures.length : ids.length;
  // Post/redirect/get: the outcome travels in the URL, so reloading the page does not act again.
  const filter = q1(ctx.query.trang_thai);
  return ctx.reply.redirect(
    urlWith('/tham-dinh', {
      trang_thai: (DESK_STATES as readonly string[]).includes(filter) ? filter : undefined,
      da: action,
      xong: ok,
      loi: failures.map((r) => `${Number(r.id) || 0}:${r.code ?? ''}`).join(',') || undefined,
      ly_do: failures.length && reason ? reason : undefined,
    }),
    303,
  );
}
