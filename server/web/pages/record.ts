/**
 * `/san-pham/:id` — a record: every catalogue field, each file with its facts, a preview (zoomable
 * image, PDF at `#page=N`, video/audio players or a still for formats browsers do not play, document
 * text, a deck's text slide by slide) and a download link, the plan task,
 * workflow actions for those allowed, and the history for staff.
 */
import type { FastifyInstance } from 'fastify';
import { isStaff } from '../../auth/principal.ts';
import { readHistory, type AuditEntry } from '../../catalogue/audit.ts';
import { readProduct, type ProductFile, type ProductRecord } from '../../catalogue/product-read.ts';
import { canSee } from '../../catalogue/visibility.ts';
import { TRANSITIONS, type Action } from '../../catalogue/workflow.ts';
import { formatBytes, formatDate, formatDateTime, formatDuration, q1, type PageCtx } from '../context.ts';
import { locale } from '../i18n.ts';
import { hasNumberedPages, isEbook, isSpreadsheet, mediaTypeInfo, pageUnitOf, playsInBrowser, type PageUnit } from '../../ingest/media-types.ts';
import { blobPageText, blobPages, blobText, listAgencies, listPlanTasks } from '../data.ts';
import { html, type SafeHtml } from '../html.ts';
import { catalogueLang, catalogueText, notice, outcomeNotice, printUrl, sendPage } from '../layout.ts';
import { notFoundPage } from './errors.ts';

/** Actions the viewer may take on the record now, in display order. */
export function allowedActions(ctx: PageCtx, rec: ProductRecord): Action[] {
  const p = ctx.principal;
  if (!p) return [];
  const staff = p.role === 'admin' || p.role === 'archivist';
  const own = p.role === 'agency' && p.agencyId !== null && rec.agency?.id === p.agencyId;
  return (Object.keys(TRANSITIONS) as Action[]).filter((a) => {
    const rule = TRANSITIONS[a];
    if (!rule.from.includes(rec.state as never)) return false;
    if (staff) return true;
    return own && rule.agency && (rule.agencyFrom ?? rule.from).includes(rec.state as never);
  });
}

/** Whether the viewer may edit the record's fields now. */
export function canEdit(ctx: PageCtx, rec: ProductRecord): boolean {
  const p = ctx.principal;
  if (!p) return false;
  if (p.role === 'admin' || p.role === 'archivist') return true;
  return p.role === 'agency' && p.agencyId !== null && rec.agency?.id === p.agencyId && (rec.state === 'submitted' || rec.state === 'returned');
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** What a PDF calls its physical page `n`: its own label ("ii") when it has page labels, else the number. */
export function pdfPageName(metadata: Record<string, unknown> | null | undefined, n: number): string {
  const labels = metadata?.pageLabels;
  const label = Array.isArray(labels) ? labels[n - 1] : undefined;
  return typeof label === 'string' && label ? label : String(n);
}

/** Page numbers as ranges: 1–3, 7, 9–10. */
function pageRanges(pages: number[]): string {
  const out: string[] = [];
  for (let i = 0; i < pages.length; i++) {
    let j = i;
    while (j + 1 < pages.length && pages[j + 1] === pages[j] + 1) j++;
    out.push(j > i ? `${pages[i]}–${pages[j]}` : String(pages[i]));
    i = j;
  }
  return out.join(', ');
}

/**
 * A PDF's pages whose text could not be read (glyph numbers instead of letters: the extractor's
 * garbled-text check), named by their labels when the PDF has them, for the archivist: they need OCR;
 * and a PDF in which no text was found at all (a scan): it needs OCR too.
 */
function garbledNote(ctx: PageCtx, f: ProductFile): SafeHtml | '' {
  const m = f.metadata ?? {};
  const pages = Array.isArray(m.garbledPages) ? m.garbledPages.filter((p): p is number => typeof p === 'number') : [];
  // A PDF with pages but no text at all that is not all glyph numbers (a scan, photographs pasted
  // into pages): nothing in it can be found either, and it said nothing of it.
  const noText = m.textChars === 0 && typeof m.pages === 'number' && m.pages > pages.length;
  const noTextNote = noText ? html`<p class="hint no-pdf-text">${ctx.t('record.noPdfText')}</p>` : '';
  if (!pages.length) return noTextNote;
  const labelled = Array.isArray(m.pageLabels);
  const names = labelled ? pages.map((p) => pdfPageName(m, p)).join(', ') : pageRanges(pages);
  return html`<p class="hint garbled-pages">${ctx.t('record.garbledPages', { n: pages.length, pages: names })}</p>${noTextNote}`;
}

function facts(ctx: PageCtx, f: ProductFile): string[] {
  const { t } = ctx;
  const m = f.metadata ?? {};
  const out: string[] = [];
  const slides = num(m.slideCount);
  const sections = isEbook(f.mediaType) ? num(m.sections) : null;
  const pages = num(m.pages) ?? num(m.pageCount) ?? (f.kind === 'pdf' ? f.pageCount : null);
  // A still image is one picture, not "1 page"; multi-page images (TIFF, animations) say how many.
  if (slides !== null) out.push(t('record.slides', { n: slides }));
  else if (sections !== null) out.push(t('record.sections', { n: sections }));
  else if (isSpreadsheet(f.mediaType) && num(m.sheetCount) !== null) out.push(t('record.sheets', { n: num(m.sheetCount)! }));
  else if (pages && !(f.kind === 'image' && pages === 1)) out.push(t('record.pages', { n: pages }));
  // Text typed in a legacy Vietnamese font, read in it (server/ingest/adapters/text-encoding.ts).
  if (m.legacyFont === 'tcvn3' || m.legacyFont === 'vni') out.push(t('record.legacyFont', { font: m.legacyFont === 'vni' ? 'VNI' : 'TCVN3' }));
  const w = num(m.width);
  const h = num(m.height);
  if (w && h) out.push(t('record.dimensions', { w, h }));
  const d = num(m.durationSec);
  if (d !== null) out.push(t('record.duration', { d: formatDuration(d) }));
  out.push(t('record.size', { s: formatBytes(f.size, ctx.lang) }));
  out.push(formatLabel(f.mediaType, ctx.lang));
  return out;
}

/**
 * What kind of format the Vietnamese label of the media-type table names, in English (the label's
 * own name of the format kept, its qualifier after it): "Ảnh JPEG" → "JPEG image",
 * "Bảng tính Excel (XLSX)" → "Excel spreadsheet (XLSX)".
 */
const EN_KINDS: Array<[string, string]> = [
  ['Tài liệu', 'document'], ['Ảnh', 'image'], ['Video', 'video'], ['Âm thanh', 'audio'], ['Văn bản', 'document'],
  ['Sách điện tử', 'e-book'], ['Bảng tính', 'spreadsheet'], ['Bài trình chiếu', 'slide deck'],
];

/** A file's format by name in the page's language (the media-type table's label), the media type when unknown. */
export function formatLabel(mediaType: string, lang: 'vi' | 'en'): string {
  const label = mediaTypeInfo(mediaType)?.label;
  if (label === undefined) return mediaType;
  if (lang === 'vi') return label;
  if (label === 'Văn bản thuần') return 'Plain text';
  for (const [vi, en] of EN_KINDS) {
    const m = new RegExp(`^${vi} (.+?)( \\(.+\\))?$`).exec(label);
    if (m) return `${m[1]} ${en}${m[2] ?? ''}`;
  }
  return mediaType;
}

function preview(app: FastifyInstance, ctx: PageCtx, rec: ProductRecord, f: ProductFile, index: number, page: number | null): SafeHtml {
  const { t } = ctx;
  const id = `file-${index + 1}`;
  switch (f.kind) {
    case 'image': {
      const src = f.thumbnails.size1024 ?? f.url;
      return html`<figure class="image-preview">
  <div class="zoom-box" id="${id}-zoom"><a href="${f.url}" class="zoom-link"><img src="${src}" data-full="${f.url}" alt="${rec.title}"${catalogueLang(ctx)} loading="lazy" decoding="async"${num(f.metadata?.width) ? html` width="${String(f.metadata?.width)}" height="${String(f.metadata?.height)}"` : ''}></a></div>
  <button type="button" class="zoom-toggle" aria-controls="${id}-zoom" aria-pressed="false" hidden>${t('record.zoom')}</button>
</figure>`;
    }
    case 'pdf': {
      // A PDF that pdf.js could not read at all is no better in the browser's viewer (an empty
      // frame and an "Open at page 1" link): say so, and leave the download link below.
      if (f.derivatives.some((d) => d.kind === 'extract' && d.state === 'failed' && d.errorCode === 'PDF_MALFORMED')) {
        return html`<p class="hint pdf-unreadable">${t('record.pdfUnreadable')}</p>`;
      }
      // A page past the end (a stale link, ?trang=99) opens the last one.
      const total = Number((f.metadata as { pages?: unknown } | null)?.pages) || page || 1;
      const n = page && page > 0 ? Math.min(page, total) : 1;
      const src = `${f.url}#page=${n}`;
      return html`<div class="pdf-preview">
  <iframe src="${src}" title="${f.originalName}" loading="lazy" class="pdf-frame"></iframe>
  <p class="hint"><a href="${src}" class="open-at-page">${t('search.openAtPage', { n: pdfPageName(f.metadata, n) })}</a></p>
</div>
${pdfPageReader(app, ctx, f, index, n, total)}
${garbledNote(ctx, f)}`;
    }
    case 'video':
      if (!playsInBrowser(f.mediaType)) return notPlayable(ctx, f, f.thumbnails.size1024);
      return html`<video class="player" controls preload="metadata" src="${f.url}"${f.thumbnails.size1024 ? html` poster="${f.thumbnails.size1024}"` : ''} aria-label="${f.originalName}"></video>`;
    case 'audio':
      if (!playsInBrowser(f.mediaType)) return notPlayable(ctx, f, f.thumbnails.size256);
      return html`<div class="audio-preview">${f.thumbnails.size256 ? html`<img src="${f.thumbnails.size256}" alt="" loading="lazy" width="256" height="256">` : ''}<audio class="player" controls preload="metadata" src="${f.url}" aria-label="${f.originalName}"></audio></div>`;
    case 'office':
      {
        // Decks, books and spreadsheets: their text part by part.
        const unit = pageUnitOf(f.mediaType);
        if (unit !== null && unit !== 'page') return partsPreview(app, ctx, f, index, page, unit);
      }
    // falls through: a word-processing document shows its text like a text file
    case 'text': {
      const text = blobText(app.db.sqlite, f.sha256);
      return text
        ? html`<details class="doc-text" open><summary>${t('record.docText')}</summary><div class="doc-text-body" tabindex="0" role="region" aria-label="${t('record.docText')}">${text}</div></details>`
        : html`<p class="hint">${t('record.noPreview')}</p>`;
    }
    default:
      return html`<p class="hint">${t('record.noPreview')}</p>`;
  }
}

/**
 * One page of a PDF as text, with links to the pages before and after it and a field to go to any
 * page: what a phone shows, whose browser draws no PDF inside a page (the frame is hidden there by
 * app.css; "Open at page N" hands the file to the phone's own viewer, which zooms). The links stay on
 * the record page (`?trang=N&tep=…#file-K-page`); record.js makes them replace the history entry, so
 * Back still goes to the search results in one step however many pages were turned.
 */
function pdfPageReader(app: FastifyInstance, ctx: PageCtx, f: ProductFile, index: number, n: number, total: number): SafeHtml {
  const { t } = ctx;
  const text = blobPageText(app.db.sqlite, f.sha256, n);
  if (text === null && total <= 1) return html``;
  const id = `file-${index + 1}-page`;
  const href = (p: number) => `?trang=${p}&tep=${f.sha256}#${id}`;
  const name = (p: number) => pdfPageName(f.metadata, p);
  return html`<section class="pdf-page" id="${id}" aria-labelledby="${id}-h">
  <h4 id="${id}-h">${t('record.pdfPage', { n: name(n), total })}</h4>
  <nav class="page-nav" aria-label="${t('record.pdfPages')}">
    ${n > 1 ? html`<a href="${href(n - 1)}" rel="prev" class="button secondary">${t('record.pdfPrev')}</a>` : ''}
    ${n < total ? html`<a href="${href(n + 1)}" rel="next" class="button secondary">${t('record.pdfNext')}</a>` : ''}
    ${total > 2 ? html`<form method="get" action="#${id}" class="page-jump" novalidate><input type="hidden" name="tep" value="${f.sha256}"><label for="${id}-n">${t('record.pdfGoTo')}</label> <input type="number" id="${id}-n" name="trang" min="1" max="${String(total)}" value="${String(n)}" inputmode="numeric"> <button type="submit" class="secondary">${t('record.pdfGo')}</button></form>` : ''}
  </nav>
  <div class="page-text" tabindex="0" role="region" aria-label="${t('record.pdfPageText', { n: name(n) })}"${catalogueLang(ctx)}>${text && text.trim() ? text : t('record.pdfPageEmpty')}</div>
</section>`;
}

/** A video or sound in a format browsers do not play: its picture (frame or waveform) and a word on downloading it. */
function notPlayable(ctx: PageCtx, f: ProductFile, picture: string | null | undefined): SafeHtml {
  const format = formatLabel(f.mediaType, ctx.lang);
  return html`<figure class="media-still">${picture ? html`<img src="${picture}" alt="" loading="lazy">` : ''}<figcaption class="hint">${ctx.t('record.notPlayable', { format })}</figcaption></figure>`;
}

/**
 * A deck's text slide by slide (each slide's text, then its speaker notes), or an e-book's section by
 * section, or a spreadsheet's sheet by sheet, each part an anchor (`#file-1-slide-3`, `#file-1-section-3`,
 * `#file-1-sheet-3`); a search hit's part
 * (`?trang=3`) is shown first, marked.
 */
function partsPreview(app: FastifyInstance, ctx: PageCtx, f: ProductFile, index: number, page: number | null, part: Exclude<PageUnit, 'page'>): SafeHtml {
  const { t } = ctx;
  const parts = blobPages(app.db.sqlite, f.sha256);
  if (parts.pages.length === 0) return html`<p class="hint">${t('record.noPreview')}</p>`;
  const id = (n: number) => `file-${index + 1}-${part}-${n}`;
  const target = page !== null ? parts.pages.find((p) => p.page === page) : undefined;
  const body = (p: { text: string }) => html`<div class="slide-text">${p.text || t(`record.${part}Empty`)}</div>`;
  const one = (p: { page: number; text: string }) =>
    html`<section class="slide${p === target ? ' current' : ''}" id="${id(p.page)}" aria-labelledby="${id(p.page)}-h"><h4 id="${id(p.page)}-h">${t(`record.${part}`, { n: p.page })}</h4>${body(p)}</section>`;
  return html`${target ? html`<div class="slide-target"><p class="hint"><a href="#${id(target.page)}">${t(`record.${part}Found`, { n: target.page })}</a></p>${body(target)}</div>` : ''}<details class="doc-text slides" open><summary>${t(`record.${part}sText`)}</summary><div class="doc-text-body" tabindex="0" role="region" aria-label="${t(`record.${part}sText`)}">${parts.pages.map(one)}${parts.truncated ? html`<p class="hint">${t('record.textCut')}</p>` : ''}</div></details>`;
}

/** The name of an audit entry's action in the page's language (the code itself when unknown). */
function historyAction(ctx: PageCtx, action: string): string {
  for (const key of [`history.action.${action}`, `action.${action}`]) {
    const m = ctx.t(key);
    if (m !== key) return m;
  }
  return action;
}

/** The record form's label of a field named in an audit entry's changes. */
const HISTORY_LABELS: Record<string, string> = {
  title: 'record.title', altTitle: 'record.altTitle', type: 'record.type', description: 'record.description', agency: 'record.agency',
  coIssuers: 'record.coIssuers', releaseDate: 'record.releaseDate', year: 'record.year', publisher: 'record.publisher',
  identifier: 'record.identifier', isbn: 'record.isbn', printRun: 'record.printRun', languages: 'record.languages',
  subjects: 'record.subjects', planTask: 'record.planTask', copyReceivedOn: 'record.copyReceivedOn', copyCondition: 'record.copyCondition',
  copyShelf: 'record.copyShelf', access: 'record.access', state: 'record.state', returnReason: 'record.returnReason',
  publishedAt: 'record.publishedAt', submittedAt: 'record.submittedAt', files: 'record.files', mediaType: 'history.fileType',
};
const HISTORY_MAX = 80;

/** A value of the history, shortened with an ellipsis (the whole value in its tooltip). */
function shortValue(text: string): SafeHtml {
  return text.length > HISTORY_MAX ? html`<span title="${text}">${text.slice(0, HISTORY_MAX - 1).trimEnd()}…</span>` : html`${text}`;
}

/** How the history names the agencies and plan tasks its changes refer to by id. */
interface HistoryNames {
  agencies: Map<number, string>;
  tasks: Map<number, string>;
}

/** One value of a change in the page's language: labels for codes, names for ids, formatted dates. */
function historyValue(ctx: PageCtx, names: HistoryNames, key: string, v: unknown): string {
  const { t } = ctx;
  if (v === null || v === undefined || v === '' || (Array.isArray(v) && v.length === 0)) return t('history.empty');
  const labelled = (prefix: string, code: unknown) => (t(`${prefix}.${String(code)}`) === `${prefix}.${String(code)}` ? String(code) : t(`${prefix}.${String(code)}`));
  const list = Array.isArray(v) ? v : [v];
  switch (key) {
    case 'state':
      return labelled('state', v);
    case 'type':
      return labelled('type', v);
    case 'access':
      return labelled('access', v);
    case 'languages':
      return list.map((c) => labelled('language', c)).join(', ');
    case 'agency':
    case 'coIssuers':
      return list.map((id) => names.agencies.get(Number(id)) ?? `#${String(id)}`).join('; ');
    case 'planTask':
      return names.tasks.get(Number(v)) ?? `#${String(v)}`;
    case 'releaseDate':
    case 'copyReceivedOn':
      return formatDate(String(v), ctx.lang);
    case 'publishedAt':
    case 'submittedAt':
      return formatDateTime(String(v), ctx.lang);
    case 'printRun':
      return typeof v === 'number' ? v.toLocaleString(locale(ctx.lang)) : String(v);
    case 'files':
      return list.map((f) => {
        const o = (f ?? {}) as { name?: unknown; original_name?: unknown };
        return String(o.name ?? o.original_name ?? f);
      }).join(', ');
  }
  return list.map((x) => (x !== null && typeof x === 'object' ? Object.values(x as Record<string, unknown>).filter((y) => typeof y === 'string' || typeof y === 'number').join(' ') : String(x))).join('; ');
}

/** Changed fields whose values are the catalogue's own (Vietnamese) text, marked lang="vi" on English pages. */
const CATALOGUE_TEXT_KEYS = new Set(['title', 'altTitle', 'description', 'agency', 'coIssuers', 'planTask', 'subjects', 'publisher', 'copyCondition', 'copyShelf', 'returnReason']);

/** An audit entry's details: each changed field by its label, old → new (a new record: its values). */
function historyDetails(ctx: PageCtx, names: HistoryNames, h: AuditEntry): SafeHtml {
  const { t } = ctx;
  const changes = Object.entries(h.changes ?? {});
  const value = (key: string, v: unknown) => {
    const text = historyValue(ctx, names, key, v);
    return CATALOGUE_TEXT_KEYS.has(key) && text !== t('history.empty') ? catalogueText(ctx, shortValue(text)) : shortValue(text);
  };
  const items = changes.map(([key, pair]) => {
    const label = HISTORY_LABELS[key] ? t(HISTORY_LABELS[key]) : key;
    const [from, to] = Array.isArray(pair) && pair.length === 2 ? pair : [null, pair];
    const created = h.action === 'create' && (from === null || from === undefined);
    return html`<li><span class="change-field">${label}:</span> ${created ? '' : html`${value(key, from)} <span aria-hidden="true">→</span><span class="visually-hidden">${t('history.to')}</span> `}${value(key, to)}</li>`;
  });
  // A return's reason is both the entry's note and its returnReason change: shown once.
  const reasonShown = changes.some(([key, pair]) => key === 'returnReason' && Array.isArray(pair) && pair[1] === h.note);
  const note = h.note && !reasonShown ? html`<p class="change-note">${catalogueText(ctx, shortValue(h.note))}</p>` : '';
  return html`${note}${items.length ? html`<ul class="changes">${items}</ul>` : ''}`;
}

const field = (label: string, value: SafeHtml | string | number | null | undefined): SafeHtml =>
  value === null || value === undefined || value === '' ? html`` : html`<div class="field"><dt>${label}</dt><dd>${value}</dd></div>`;

export function processingBadge(ctx: PageCtx, state: string): SafeHtml {
  return html`<span class="badge processing-${state}">${ctx.t(`processing.${state}`)}</span>`;
}

export function stateBadge(ctx: PageCtx, state: string): SafeHtml {
  return html`<span class="badge state-${state}">${ctx.t(`state.${state}`)}</span>`;
}

/** Why a processing job failed, in the page's language. */
export function jobFailure(ctx: PageCtx, code: string | null, reason: string | null): string {
  const key = `job.error.${code ?? ''}`;
  const known = ctx.t(key);
  if (code && known !== key) return known;
  // An unforeseen code: English readers get the worker's message, Vietnamese ones the code.
  if (ctx.lang === 'en' && reason) return reason;
  return ctx.t('job.error.other', { code: code ?? '?' });
}

/**
 * `reasonError`: the problem with the return reason just sent, shown next to its field;
 * `reason`: the reason as typed (a refused action, or one kept through a new login).
 */
export async function recordPage(app: FastifyInstance, ctx: PageCtx, id: number, flash: SafeHtml | null = null, reasonError: string | null = null, reason = '') {
  const { t } = ctx;
  const rec = Number.isSafeInteger(id) && id > 0 ? readProduct(app.db.sqlite, id) : null;
  if (!rec || !canSee(ctx.principal, { state: rec.state, access: rec.access, agencyId: rec.agency?.id ?? null })) {
    return notFoundPage(ctx, t('record.notFound'));
  }
  const pageParam = Number.parseInt(q1(ctx.query.trang), 10);
  const page = Number.isSafeInteger(pageParam) && pageParam > 0 ? pageParam : null;
  const fileParam = q1(ctx.query.tep);
  // The file a search hit's page (or slide) belongs to: the one named, else the first PDF.
  const paged = (f: ProductFile) => hasNumberedPages(f.mediaType);
  const pageTarget = (fileParam ? rec.files.find((f) => paged(f) && f.sha256 === fileParam) : undefined) ?? rec.files.find((f) => f.kind === 'pdf');

  const staff = isStaff(ctx.principal);
  // Titles of the records a flag names, so staff see what they are before following the link.
  const flagged = [...new Set(rec.duplicateFlags.map((d) => d.productId))];
  const duplicateTitles = new Map(
    staff && flagged.length
      ? (app.db.sqlite.prepare(`SELECT id, title FROM products WHERE id IN (${flagged.map(() => '?').join(',')})`).all(...flagged) as Array<{ id: number; title: string }>).map((r) => [r.id, r.title])
      : [],
  );
  const done = q1(ctx.query.da);
  if (!flash && done && done in TRANSITIONS) flash = outcomeNotice('ok', t('action.done', { action: t(`action.${done}`) }));
  if (!flash && q1(ctx.query.luu) === '1') flash = outcomeNotice('ok', t('edit.saved'));
  // Just submitted through the upload form (without JavaScript).
  if (!flash && q1(ctx.query.nop) === '1') flash = outcomeNotice('ok', t('upload.success', { id: rec.id }));
  const actions = allowedActions(ctx, rec);
  // One line per failed file, in the page's language: each distinct problem once (a damaged file
  // fails its thumbnail and its text jobs alike), the worker's own English text only as a fallback.
  const failed = rec.files.flatMap((f) => {
    const reasons = [...new Set(f.derivatives.filter((d) => d.state === 'failed').map((d) => jobFailure(ctx, d.errorCode, d.reason)))];
    return reasons.length ? [`${f.originalName}: ${reasons.join(' ')}`] : [];
  });
  // Made from a damaged file (a truncated image: the thumbnail shows only what could be decoded).
  const damaged = rec.files.flatMap((f) => f.derivatives.filter((d) => d.warning).map((d) => t(`record.warning.${d.warning!.code}`, { name: f.originalName })));

  const filesBlock = rec.files.map(
    (f, i) => html`<section class="file" id="file-${i + 1}" aria-labelledby="file-${i + 1}-name">
  <h3 id="file-${i + 1}-name" class="file-name">${f.originalName}</h3>
  <p class="facts">${facts(ctx, f).join(' · ')} · ${processingBadge(ctx, f.processing)}</p>
  ${preview(app, ctx, rec, f, i, f === pageTarget ? page : null)}
  <p><a class="download" href="${f.url}?download=true" download>${t('record.download', { name: f.originalName })}</a>${printUrl(ctx, f.url)}</p>
</section>`,
  );

  const lang = (c: string) => (t(`language.${c}`) === `language.${c}` ? c : t(`language.${c}`));
  const fields = html`<dl class="fields">
  ${field(t('record.title'), catalogueText(ctx, rec.title))}
  ${field(t('record.altTitle'), rec.altTitle ? catalogueText(ctx, rec.altTitle) : null)}
  ${field(t('record.type'), t(`type.${rec.type}`))}
  ${field(t('record.agency'), rec.agency ? catalogueText(ctx, rec.agency.name) : null)}
  ${field(t('record.coIssuers'), rec.coIssuers.length ? catalogueText(ctx, rec.coIssuers.map((a) => a.name).join('; ')) : null)}
  ${field(t('record.releaseDate'), formatDate(rec.releaseDate, ctx.lang))}
  ${field(t('record.year'), rec.year)}
  ${field(t('record.publisher'), rec.publisher ? catalogueText(ctx, rec.publisher) : null)}
  ${field(t('record.identifier'), rec.identifier)}
  ${field(t('record.isbn'), rec.isbn)}
  ${field(t('record.printRun'), rec.printRun)}
  ${field(t('record.languages'), rec.languages.map(lang).join(', '))}
  ${field(t('record.subjects'), rec.subjects.length ? catalogueText(ctx, rec.subjects.join('; ')) : null)}
  ${field(t('record.planTask'), rec.planTask ? html`${catalogueText(ctx, rec.planTask.title)} <span class="muted">(${t('record.planTaskDeadline', { date: formatDate(rec.planTask.deadline, ctx.lang) })})</span>` : null)}
  ${field(t('record.description'), rec.description ? html`<span class="prewrap"${ctx.lang === 'vi' ? '' : html` lang="vi"`}>${rec.description}</span>` : null)}
  ${field(t('record.copyReceivedOn'), formatDate(rec.physicalCopy.receivedOn, ctx.lang))}
  ${field(t('record.copyCondition'), rec.physicalCopy.condition)}
  ${field(t('record.copyShelf'), rec.physicalCopy.shelf)}
  ${field(t('record.access'), t(`access.${rec.access}`))}
  ${ctx.principal ? field(t('record.state'), stateBadge(ctx, rec.state)) : ''}
  ${field(t('record.submittedAt'), ctx.principal ? formatDateTime(rec.submittedAt, ctx.lang) : null)}
  ${field(t('record.publishedAt'), formatDateTime(rec.publishedAt, ctx.lang))}
</dl>`;

  // The reason field comes with a return, which needs one, and with a withdrawal, which may give one
  // (kept as the note of its history entry).
  const workflow = actions.length || canEdit(ctx, rec)
    ? html`<section class="workflow" aria-labelledby="wf-h">
  <h2 id="wf-h">${t('record.workflow')}</h2>
  ${canEdit(ctx, rec) ? html`<p><a class="button secondary" href="/san-pham/${rec.id}/sua">${t('record.edit')}</a></p>` : ''}
  ${actions.length
    ? html`<form method="post" action="/san-pham/${rec.id}/chuyen" class="transition-form">
    <input type="hidden" name="_csrf" value="${ctx.csrf}">
    ${actions.includes('return') || actions.includes('withdraw') ? html`<div class="form-row${reasonError ? ' has-error' : ''}"><label for="reason">${t('record.reason')}</label>
      <textarea id="reason" name="reason" rows="2" aria-describedby="reason-help${reasonError ? ' reason-error' : ''}"${reasonError ? html` aria-invalid="true" autofocus` : reason ? html` autofocus` : ''}>${reason}</textarea>
      <p class="help" id="reason-help">${t('record.reasonHelp')}</p>${reasonError ? html`<p class="field-error" id="reason-error">${reasonError}</p>` : ''}</div>` : ''}
    <div class="button-row">${actions.map((a) => html`<button type="submit" name="action" value="${a}" class="${a === 'return' || a === 'withdraw' ? 'secondary' : ''}">${t(`action.${a}`)}</button>`)}</div>
  </form>`
    : ''}
</section>`
    : html``;

  let names: HistoryNames | null = null;
  const historyNames = (): HistoryNames =>
    (names ??= {
      agencies: new Map(listAgencies(app.db.sqlite).map((a) => [a.id, a.name])),
      tasks: new Map(listPlanTasks(app.db.sqlite).map((x) => [x.id, x.title])),
    });
  const history = staff
    ? html`<section class="history" aria-labelledby="hist-h"><h2 id="hist-h">${t('record.history')}</h2>
  <div class="table-wrap" tabindex="0" role="region" aria-labelledby="hist-h"><table class="stack-phone" role="table">
    <thead role="rowgroup"><tr role="row"><th scope="col" role="columnheader">${t('record.history.at')}</th><th scope="col" role="columnheader">${t('record.history.actor')}</th><th scope="col" role="columnheader">${t('record.history.action')}</th><th scope="col" role="columnheader">${t('record.history.detail')}</th></tr></thead>
    <tbody role="rowgroup">${readHistory(app.db.sqlite, 'product', rec.id).map(
      (h) => html`<tr role="row"><td role="cell" data-label="${t('record.history.at')}">${formatDateTime(h.at, ctx.lang)}</td><td role="cell" data-label="${t('record.history.actor')}">${h.actor}</td><td role="cell" data-label="${t('record.history.action')}">${historyAction(ctx, h.action)}</td><td role="cell" class="small detail" data-label="${t('record.history.detail')}">${historyDetails(ctx, historyNames(), h)}</td></tr>`,
    )}</tbody>
  </table></div></section>`
    : html``;

  const processingNote = rec.processing === 'queued' || rec.processing === 'running'
    ? html`<p class="processing-status" role="status" aria-live="polite" data-poll="/api/products/${rec.id}" data-label-done="${t('record.processingDone')}" data-label-show="${t('record.processingShow')}">${t('record.processing')}</p>`
    : failed.length && ctx.principal
      ? notice('error', t('record.processingFailed', { reason: failed.join('; ') }))
      : damaged.length && ctx.principal
        ? notice('info', damaged.join(' '))
        : html``;

  const body = html`<article class="record">
  <header class="record-head">
    <p class="kicker"><span class="badge">${t(`type.${rec.type}`)}</span>${rec.agency ? html` · ${catalogueText(ctx, rec.agency.name)}` : ''}${rec.year ? html` · ${rec.year}` : ''}</p>
    <h1>${catalogueText(ctx, rec.title)}</h1>
    ${rec.altTitle ? html`<p class="alt-title">${rec.altTitle}</p>` : ''}
  </header>
  ${flash ?? ''}
  ${rec.state === 'returned' && rec.returnReason && ctx.principal ? notice('info', html`<strong>${t('record.returnReason')}:</strong> ${catalogueText(ctx, rec.returnReason)}`) : ''}
  ${staff && rec.duplicateFlags.length
    ? notice('info', html`${t('record.duplicates')}: ${[...new Set(rec.duplicateFlags.map((d) => d.productId))].map((pid, i) => html`${i > 0 ? '; ' : ''}<a href="/san-pham/${pid}">${catalogueText(ctx, duplicateTitles.get(pid) ?? '')} (#${pid})</a>`)}`)
    : ''}
  ${processingNote}
  <div class="record-layout">
    <section class="files" aria-labelledby="files-h"><h2 id="files-h">${t('record.files')}</h2>${filesBlock}</section>
    <section class="meta" aria-labelledby="fields-h"><h2 id="fields-h">${t('record.fields')}</h2>${fields}${workflow}</section>
  </div>
  ${history}
</article>`;
  // With workflow buttons, going Back to this page after an action must not show the buttons of
  // the state before it (and the reason as typed, ready to be sent again): the browser asks anew.
  if (actions.length > 0) ctx.reply.header('cache-control', 'private, no-store');
  return sendPage(ctx, { title: rec.title, body, scripts: ['record.js'], bodyClass: 'page-record' });
}
