/**
 * `/bao-cao` — plan compliance for a year: agencies × their plan tasks (on time / late / missing,
 * from GET /api/reports/compliance), bar charts of submissions per month and per agency (inline
 * SVG markup, so no script and no external file), and the CSV export link.
 */
import type { FastifyInstance } from 'fastify';
import { callApi } from '../api.ts';
import { formatDate, q1, type PageCtx } from '../context.ts';
import { listAgencies, submissionCounts } from '../data.ts';
import { html, type SafeHtml } from '../html.ts';
import { catalogueLang, catalogueText, notice, sendPage } from '../layout.ts';

interface ReportTask {
  task: { id: number; code: string; title: string; deadline: string };
  agency: { id: number; code: string; name: string };
  status: 'on_time' | 'late' | 'missing';
  overdue?: boolean;
  firstSubmittedAt: string | null;
}

const STATUS_KEY = { on_time: 'report.onTime', late: 'report.late', missing: 'report.missing' } as const;

/** Horizontal-free, accessible bar chart as SVG markup with a text equivalent (title + table). */
export function barChart(id: string, title: string, bars: Array<{ label: string; value: number }>, opts: { width?: number; rotate?: boolean; empty?: string; /** On each label (` lang="vi"` for agency names). */ labelAttr?: SafeHtml } = {}): SafeHtml {
  // Nothing to draw: say so instead of an empty axis.
  if (opts.empty !== undefined && bars.every((b) => b.value === 0)) {
    return html`<figure class="chart" aria-labelledby="${id}-cap"><figcaption id="${id}-cap">${title}</figcaption><p class="hint">${opts.empty}</p></figure>`;
  }
  const max = Math.max(1, ...bars.map((b) => b.value));
  const n = Math.max(1, bars.length);
  const width = opts.width ?? Math.max(360, n * 48);
  const height = 220;
  const top = 20;
  const bottom = opts.rotate ? 90 : 30;
  const plotH = height - top - bottom;
  const slot = (width - 40) / n;
  const barW = Math.max(6, slot * 0.6);
  return html`<figure class="chart" aria-labelledby="${id}-cap">
  <figcaption id="${id}-cap">${title}</figcaption>
  <div class="chart-scroll" tabindex="0" role="region" aria-labelledby="${id}-cap"><svg viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-labelledby="${id}-title" class="bar-chart">
    <title id="${id}-title">${title}: ${bars.map((b) => `${b.label} ${b.value}`).join(', ')}</title>
    <line x1="30" y1="${top + plotH}" x2="${width - 5}" y2="${top + plotH}" class="axis"></line>
    ${bars.map((b, i) => {
      const h = Math.round((b.value / max) * plotH);
      const x = 35 + i * slot + (slot - barW) / 2;
      const y = top + plotH - h;
      const cx = x + barW / 2;
      return html`<g><rect x="${x.toFixed(1)}" y="${y}" width="${barW.toFixed(1)}" height="${h}" class="bar"></rect>
      <text x="${cx.toFixed(1)}" y="${y - 4}" text-anchor="middle" class="value">${b.value}</text>
      ${opts.rotate
        ? html`<text x="${cx.toFixed(1)}" y="${top + plotH + 12}" text-anchor="end" transform="rotate(-40 ${cx.toFixed(1)} ${top + plotH + 12})" class="label"${opts.labelAttr ?? ''}>${b.label.length > 18 ? `${b.label.slice(0, 17)}…` : b.label}</text>`
        : html`<text x="${cx.toFixed(1)}" y="${top + plotH + 16}" text-anchor="middle" class="label">${b.label}</text>`}</g>`;
    })}
  </svg></div>
</figure>`;
}

export async function reportPage(app: FastifyInstance, ctx: PageCtx) {
  const { t } = ctx;
  const sqlite = app.db.sqlite;
  const planYears = (sqlite.prepare('SELECT DISTINCT year FROM plan_tasks ORDER BY year DESC').all() as Array<{ year: number }>).map((r) => r.year);
  // Years with submissions are offered too: products handed in outside the plan's years (the plan
  // seed is 2023's) were in no year of the list, so their charts could not be reached from it.
  const submittedYears = (sqlite.prepare(`SELECT DISTINCT CAST(substr(submitted_at, 1, 4) AS INTEGER) AS year FROM products WHERE state != 'withdrawn' AND submitted_at IS NOT NULL`).all() as Array<{ year: number }>).map((r) => r.year).filter((y) => y >= 2000 && y <= 2100);
  const thisYear = new Date().getUTCFullYear();
  const asked = Number.parseInt(q1(ctx.query.nam), 10);
  const year = Number.isInteger(asked) && asked >= 2000 && asked <= 2100 ? asked : (planYears[0] ?? thisYear);
  const years = [...new Set([...planYears, ...submittedYears, year])].sort((a, b) => b - a);

  const res = await callApi<{ tasks?: ReportTask[] }>(app, ctx, 'GET', `/api/reports/compliance?year=${year}`);
  const tasks = res.status === 200 ? (res.body.tasks ?? []) : [];
  const byAgency = new Map<number, { name: string; tasks: ReportTask[] }>();
  for (const tk of tasks) {
    const e = byAgency.get(tk.agency.id) ?? { name: tk.agency.name, tasks: [] };
    e.tasks.push(tk);
    byAgency.set(tk.agency.id, e);
  }
  const counts = { on_time: 0, late: 0, missing: 0 };
  for (const tk of tasks) counts[tk.status]++;

  const { byMonth, byAgency: submittedBy } = submissionCounts(sqlite, year);
  const agencies = listAgencies(sqlite);
  const agencyBars = agencies
    .map((a) => ({ label: a.shortName || a.name, value: submittedBy.get(a.id) ?? 0 }))
    .filter((b) => b.value > 0)
    .sort((a, b) => b.value - a.value);

  const matrix = tasks.length === 0
    ? html`<p class="empty">${res.status === 200 ? t('report.empty') : t('admin.unavailable')}</p>`
    : html`<div class="table-wrap" tabindex="0" role="region" aria-labelledby="matrix-cap"><table class="matrix">
  <caption id="matrix-cap">${t('report.matrix')} — ${year}</caption>
  <thead><tr><th scope="col">${t('record.agency')}</th><th scope="col">${t('report.task')}</th></tr></thead>
  <tbody>${[...byAgency.values()].map(
    (a) => html`<tr><th scope="row"${catalogueLang(ctx)}>${a.name}</th><td><ul class="cells">${a.tasks.map(
      (tk) => html`<li class="cell status-${tk.status}"><span class="status-label">${t(STATUS_KEY[tk.status])}</span> ${catalogueText(ctx, tk.task.title)} <span class="muted">(${t('report.deadline')}: ${formatDate(tk.task.deadline, ctx.lang)})</span></li>`,
    )}</ul></td></tr>`,
  )}</tbody>
</table></div>`;

  const body = html`<h1>${t('report.title')}</h1>
<form method="get" action="/bao-cao" class="inline-controls">
  <label for="nam">${t('report.year')}</label>
  <select id="nam" name="nam">${years.map((y) => html`<option value="${y}"${y === year ? html` selected` : ''}>${y}</option>`)}</select>
  <button type="submit">${t('report.show')}</button>
  <a class="button secondary" href="/api/reports/compliance?year=${year}&amp;format=csv" download>${t('report.csv')}</a>
</form>
${res.status !== 200 && res.status !== 404 ? notice('error', t('err.generic', { message: String(res.status) })) : ''}
<ul class="legend" aria-label="${t('report.legend')}">
  <li class="cell status-on_time"><span class="status-label">${t('report.onTime')}</span> ${counts.on_time}</li>
  <li class="cell status-late"><span class="status-label">${t('report.late')}</span> ${counts.late}</li>
  <li class="cell status-missing"><span class="status-label">${t('report.missing')}</span> ${counts.missing}</li>
</ul>
<div class="charts">
  ${barChart('chart-month', `${t('report.byMonth')} (${year})`, byMonth.map((v, i) => ({ label: String(i + 1), value: v })), { width: 560, empty: t('report.noSubmissions') })}
  ${barChart('chart-agency', `${t('report.byAgency')} (${year})`, agencyBars, { rotate: true, empty: t('report.noSubmissions'), labelAttr: catalogueLang(ctx) })}
</div>
${matrix}`;
  return sendPage(ctx, { title: t('report.title'), body, bodyClass: 'page-report' });
}
