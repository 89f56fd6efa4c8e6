/**
 * `/` — search and browse. The query, filters, sort and page live in the URL; facets with counts
 * toggle filters; active filters show as removable chips. An empty query lists the newest
 * published products. The search service is called in-process.
 */
import type { FastifyInstance } from 'fastify';
import type { SearchParams, SearchResponse } from '../../search/index.ts';
import { fold } from '../../search/fold.ts';
import { searcher } from '../search-access.ts';
import { q1, urlWith, type PageCtx } from '../context.ts';
import { listAgencies } from '../data.ts';
import { locale, translator } from '../i18n.ts';
import { PRODUCT_STATES, PRODUCT_TYPES } from '../../db/schema.ts';
import { html, markedSnippet, type SafeHtml } from '../html.ts';
import { catalogueLang, catalogueText, printUrl, sendPage } from '../layout.ts';

/** Values of a facet listed before the “more” toggle. */
const FACET_SHOWN = 12;

/** How a passage's page is named: a PDF page, a slide of a deck, a section of an e-book, a sheet. */
const ON_UNIT = { page: 'search.onPage', slide: 'search.onSlide', section: 'search.onSection', sheet: 'search.onSheet' } as const;

const FACETS = ['type', 'agency', 'year', 'language'] as const;
type Facet = (typeof FACETS)[number];
/** Facets where several values may be chosen at once (OR within the facet). */
const MULTI: Record<Facet, boolean> = { type: true, agency: true, year: false, language: false };
const SORTS = ['relevance', 'date', 'title'] as const;
const PAGE_SIZE = 20;

export interface SearchState {
  q: string;
  filters: Record<Facet, string[]>;
  sort: (typeof SORTS)[number] | '';
  page: number;
}

export function readState(query: PageCtx['query']): SearchState {
  const list = (k: string): string[] => {
    const v = query[k];
    const arr = Array.isArray(v) ? v : v ? [v] : [];
    return [...new Set(arr.flatMap((x) => x.split(',')).map((x) => x.trim()).filter((x) => x !== '' && x.length <= 100))].slice(0, 20);
  };
  const filters = { type: list('type'), agency: list('agency'), year: list('year').filter((y) => /^\d{4}$/.test(y)).slice(-1), language: [...new Set(list('language').map((l) => l.toLowerCase()))] };
  const sortRaw = q1(query.sort);
  const page = Math.min(Math.max(1, Number.parseInt(q1(query.page), 10) || 1), 100);
  return { q: q1(query.q).slice(0, 300).trim(), filters, sort: (SORTS as readonly string[]).includes(sortRaw) ? (sortRaw as SearchState['sort']) : '', page };
}

/** The URL of a state (stable parameter order, so links are shareable). */
export function stateUrl(s: SearchState, change: Partial<SearchState> = {}): string {
  const n = { ...s, ...change, filters: { ...s.filters, ...(change.filters ?? {}) } };
  const sp = new URLSearchParams();
  if (n.q) sp.set('q', n.q);
  for (const f of FACETS) for (const v of n.filters[f]) sp.append(f, v);
  if (n.sort) sp.set('sort', n.sort);
  if (n.page > 1) sp.set('page', String(n.page));
  const str = sp.toString();
  return str ? `/?${str}` : '/';
}

function toggle(s: SearchState, f: Facet, v: string): string {
  const cur = s.filters[f];
  const next = cur.includes(v) ? cur.filter((x) => x !== v) : MULTI[f] ? [...cur, v] : [v];
  return stateUrl(s, { filters: { ...s.filters, [f]: next }, page: 1 });
}

function searchParams(s: SearchState): SearchParams {
  const params: SearchParams = {
    page: s.page,
    limit: PAGE_SIZE,
    sort: s.sort || (s.q ? 'relevance' : 'date'),
  };
  if (s.q) params.q = s.q;
  if (s.filters.type.length) params.type = s.filters.type.join(',');
  if (s.filters.agency.length) params.agency = s.filters.agency.join(',');
  if (s.filters.year.length) params.year = Number(s.filters.year[0]);
  if (s.filters.language.length) params.language = s.filters.language[0];
  return params;
}

function runSearch(app: FastifyInstance, ctx: PageCtx, s: SearchState): SearchResponse {
  // Staff searching the public page see what the public sees: published records only.
  return searcher(app).search({ ...searchParams(s), state: 'published' }, ctx.principal);
}

/** How many of the records a staff member's query matches beyond the published ones are named on the page. */
const UNPUBLISHED_SHOWN = 5;
const UNPUBLISHED_STATES = PRODUCT_STATES.filter((st) => st !== 'published');

/**
 * Staff (agency, archivist, admin) typing a query: the records they may see that match it but are
 * not published, which this page does not list. Before, an archivist searching for a record just
 * handed in read "0 results … try other words", as if it did not exist. Null for the public, a
 * browse without words, or when there are none.
 */
function unpublishedMatches(app: FastifyInstance, ctx: PageCtx, s: SearchState): { total: number; items: Array<{ id: number; title: string; state: string }> } | null {
  const role = ctx.principal?.role;
  if (!s.q || !role || !['admin', 'archivist', 'agency'].includes(role)) return null;
  const res = searcher(app).search({ ...searchParams(s), page: 1, limit: UNPUBLISHED_SHOWN, sort: 'relevance', state: UNPUBLISHED_STATES.join(',') }, ctx.principal);
  if (res.total === 0 || res.hits.length === 0) return null;
  const stateOf = app.db.sqlite.prepare('SELECT state FROM products WHERE id = ?');
  const items = res.hits.map((h) => ({ id: h.id, title: h.title, state: (stateOf.get(h.id) as { state: string } | undefined)?.state ?? '' }));
  return { total: res.total, items };
}

/**
 * Drop filter values that cannot match (a hand-edited or stale URL): types outside the controlled
 * list, unknown agency codes, languages neither named in the UI nor used by any record.
 */
function knownFilters(app: FastifyInstance, s: SearchState, agencies: Map<string, unknown>): SearchState {
  const t = translator('vi');
  // One language at a time: the last one given that can match (`language=tay&language=xx` is Tày).
  const language = s.filters.language
    .filter((l) => {
      if (t(`language.${l}`) !== `language.${l}`) return true;
      return app.db.sqlite.prepare('SELECT 1 FROM products, json_each(products.languages) AS l WHERE l.value = ? LIMIT 1').get(l) !== undefined;
    })
    .slice(-1);
  return {
    ...s,
    filters: {
      ...s.filters,
      type: s.filters.type.filter((v) => (PRODUCT_TYPES as readonly string[]).includes(v)),
      agency: s.filters.agency.filter((v) => agencies.has(v)),
      language,
    },
  };
}

/** A syllable of a query or title, as the search tokenises them. */
const WORD = /[\p{L}\p{M}\p{N}]+/gu;

/**
 * The whole query as it was searched, when the search changed it: each misspelt syllable replaced
 * by its correction, written as the search reports it (`display`: `hmong` → H'Mông, `hochiminh` →
 * Hồ Chí Minh) or else as a hit's title spells it (`sui le nin` → `suối le nin`), the syllables found
 * nowhere left out. Null when the query was searched as typed.
 */
export function searchedFor(q: string, res: Pick<SearchResponse, 'corrections' | 'ignored' | 'hits'>): string | null {
  const corrections = res.corrections ?? [];
  const ignored = new Set(res.ignored ?? []);
  if (!q || (corrections.length === 0 && ignored.size === 0)) return null;
  const to = new Map(corrections.map((c) => [c.from, c.to]));
  const shown = new Map(corrections.filter((c) => c.display).map((c) => [c.from, c.display!]));
  // How the hits spell each correction (folded syllable → its first spelling in a title).
  const spelt = new Map<string, string>();
  const wanted = new Set(to.values());
  for (const h of res.hits) {
    for (const w of h.title.normalize('NFC').match(WORD) ?? []) {
      const f = fold(w);
      if (wanted.has(f) && !spelt.has(f)) spelt.set(f, w.toLowerCase());
    }
  }
  const out = q
    .normalize('NFC')
    .replace(WORD, (w) => {
      const f = fold(w);
      if (ignored.has(f)) return '';
      const c = to.get(f);
      return c === undefined ? w : (shown.get(f) ?? spelt.get(c) ?? c);
    })
    .replace(/\s+/g, ' ')
    .trim();
  return out && out !== q.normalize('NFC').trim() ? out : null;
}

/** The abbreviations searched in their other form too (`UBND` → "Ủy ban nhân dân"), for the notice. */
export function alsoSearched(res: Pick<SearchResponse, 'expansions'>): string | null {
  const list = (res.expansions ?? []).map((e) => e.display);
  return list.length > 0 ? list.join(', ') : null;
}

/** The edge words read as cut off (`optional`), as the query writes them. */
export function notRequired(q: string, res: Pick<SearchResponse, 'optional'>): string | null {
  const words = new Set(res.optional ?? []);
  if (words.size === 0) return null;
  const typed = (q.normalize('NFC').match(WORD) ?? []).filter((w) => words.has(fold(w)));
  const list = [...new Set(typed.length > 0 ? typed : words)];
  return list.join(', ');
}

export async function searchPage(app: FastifyInstance, ctx: PageCtx) {
  const t0 = process.hrtime.bigint();
  const { t } = ctx;
  const agencies = new Map(listAgencies(app.db.sqlite).map((a) => [a.code, a]));
  const s = knownFilters(app, readState(ctx.query), agencies);
  const res = runSearch(app, ctx, s);
  const unpublished = unpublishedMatches(app, ctx, s);
  const t1 = process.hrtime.bigint();

  const label = (f: Facet, v: string): string => {
    if (f === 'type') return t(`type.${v}`);
    if (f === 'language') return t(`language.${v}`) === `language.${v}` ? v : t(`language.${v}`);
    if (f === 'agency') return agencies.get(v)?.shortName || agencies.get(v)?.name || v;
    return v;
  };

  // Every value is reachable: the most frequent ones listed, the rest behind “more” (a 40-agency
  // list was cut at 30 before, the others out of reach).
  const facetItem = (f: Facet, selected: string[]) => ([v, n]: [string, number]) => {
    const on = selected.includes(v);
    return html`<li><a href="${toggle(s, f, v)}" class="facet-link${on ? ' is-on' : ''}" data-facet="${f}" data-value="${v}"${on ? html` aria-current="true"` : ''}><span class="facet-label"${f === 'agency' ? catalogueLang(ctx) : ''}>${label(f, v)}${on ? html`<span class="visually-hidden"> (${t('search.selected')})</span>` : ''}</span> <span class="count">${n}<span class="visually-hidden"> ${t('search.items', { n })}</span></span></a></li>`;
  };
  const facetBlock = (f: Facet): SafeHtml => {
    const counts = Object.entries(res.facets[f] ?? {}).filter(([, n]) => n > 0);
    const selected = s.filters[f];
    // Selected values stay listed even when another filter leaves them at zero, so they can be removed.
    for (const v of selected) if (!counts.some(([k]) => k === v)) counts.push([v, 0]);
    if (counts.length === 0) return html``;
    counts.sort((a, b) => (f === 'year' ? Number(b[0]) - Number(a[0]) : b[1] - a[1] || label(f, a[0]).localeCompare(label(f, b[0]), 'vi')));
    const facetList = (items: Array<[string, number]>) => html`<ul>${items.map(facetItem(f, selected))}</ul>`;
    return html`<section class="facet" aria-labelledby="facet-${f}">
  <h3 id="facet-${f}">${t(`facet.${f}`)}</h3>
  ${facetList(counts.slice(0, FACET_SHOWN))}
  ${counts.length > FACET_SHOWN
    ? html`<details class="facet-more"${counts.slice(FACET_SHOWN).some(([v]) => selected.includes(v)) ? ' open' : ''}><summary>${t('search.facetMore', { n: counts.length - FACET_SHOWN })}</summary>${facetList(counts.slice(FACET_SHOWN))}</details>`
    : ''}
</section>`;
  };

  const chips = FACETS.flatMap((f) => s.filters[f].map((v) => ({ f, v })));
  const chipsBlock = chips.length
    ? html`<div class="chips" aria-label="${t('search.activeFilters')}">
  <span class="chips-title">${t('search.activeFilters')}:</span>
  ${chips.map(({ f, v }) => html`<a class="chip" href="${toggle(s, f, v)}" aria-label="${t('search.removeFilter', { label: `${t(`facet.${f}`)}: ${label(f, v)}` })}">${t(`facet.${f}`)}: ${f === 'agency' ? catalogueText(ctx, label(f, v)) : label(f, v)} <span aria-hidden="true">×</span></a>`)}
  <a class="chip chip-clear" href="${stateUrl({ ...s, filters: { type: [], agency: [], year: [], language: [] }, page: 1 })}">${t('search.clearFilters')}</a>
</div>`
    : html``;

  const searched = searchedFor(s.q, res);
  const also = alsoSearched(res);
  const cut = notRequired(s.q, res);
  const effectiveSort = s.sort || (s.q ? 'relevance' : 'date');
  // Without words to search for there is nothing to be relevant to: no "most relevant" choice.
  const sorts = s.q ? SORTS : SORTS.filter((o) => o !== 'relevance' || effectiveSort === 'relevance');
  const sortBlock = html`<nav class="sort" aria-label="${t('search.sort')}"><span>${t('search.sort')}:</span>
  ${sorts.map((o) => (o === effectiveSort ? html`<strong aria-current="true">${t(`search.sort.${o}`)}</strong>` : html`<a href="${stateUrl(s, { sort: o, page: 1 })}">${t(`search.sort.${o}`)}</a>`))}
</nav>`;

  const hits = res.hits.map((h) => {
    const snippet = h.snippets[0];
    const page = snippet?.page;
    const href = page ? urlWith(`/san-pham/${h.id}`, { trang: page, tep: snippet?.sha256 }) : `/san-pham/${h.id}`;
    return html`<li class="hit">
  <a class="hit-thumb" href="${href}" tabindex="-1" aria-hidden="true">${h.thumbnail
    ? html`<img src="${h.thumbnail}" alt="" loading="lazy" decoding="async" width="96" height="96">`
    : html`<span class="thumb-placeholder">${t(`type.${h.type}`)}</span>`}</a>
  <div class="hit-body">
    <h3 class="hit-title"><a href="${href}">${catalogueText(ctx, h.title)}</a></h3>${printUrl(ctx, href)}
    <p class="hit-meta"><span class="badge">${t(`type.${h.type}`)}</span>${h.agency ? html` · <span${catalogueLang(ctx)}>${h.agency.name}</span>` : ''}${h.year ? html` · <span>${h.year}</span>` : ''}</p>
    ${h.snippets
      .filter((sn) => sn.field !== 'title')
      .slice(0, 2)
      .map((sn) => html`<p class="snippet">${catalogueText(ctx, markedSnippet(sn.text))}${sn.page ? html` <a class="page-link" href="${urlWith(`/san-pham/${h.id}`, { trang: sn.page, tep: sn.sha256 })}">(${t(ON_UNIT[sn.unit ?? 'page'], { n: sn.pageLabel ?? sn.page })})</a>` : ''}</p>`)}
  </div>
</li>`;
  });

  const pages = Math.max(1, Math.ceil(res.total / PAGE_SIZE));
  const lastPage = Math.min(pages, 100);
  const pageLinks: number[] = [];
  // Past the last page (an old link, fewer results now): the last pages stay reachable.
  for (let p = Math.max(1, Math.min(s.page, lastPage) - 2); p <= Math.min(lastPage, s.page + 2); p++) pageLinks.push(p);
  // The first and the last page are always one click away, with a gap (…) where pages are left out.
  const gap = html`<li class="gap" aria-hidden="true">…</li>`;
  const pageLink = (p: number) => (p === s.page ? html`<li><span aria-current="page">${p}</span></li>` : html`<li><a href="${stateUrl(s, { page: p })}" aria-label="${t('search.page', { n: p })}">${p}</a></li>`);
  const first = pageLinks[0] ?? 1;
  const last = pageLinks[pageLinks.length - 1] ?? lastPage;
  // Results past the last page that can be listed (100 pages): say so, and how to reach them.
  const reachable = lastPage * PAGE_SIZE;
  const askedPage = Number.parseInt(q1(ctx.query.page), 10);
  const capNote = res.total > reachable && (s.page >= lastPage || askedPage > lastPage)
    ? html`<p class="info">${t('search.capped', { shown: reachable.toLocaleString(locale(ctx.lang)), n: lastPage, total: res.total.toLocaleString(locale(ctx.lang)) })}</p>`
    : html``;
  const paging = lastPage > 1
    ? html`<nav class="paging" aria-label="${t('search.paging')}"><ul>
  ${s.page > 1 ? html`<li><a rel="prev" href="${stateUrl(s, { page: Math.min(s.page - 1, lastPage) })}">${t('search.prev')}</a></li>` : ''}
  ${first > 1 ? html`${pageLink(1)}${first > 2 ? gap : ''}` : ''}
  ${pageLinks.map(pageLink)}
  ${last < lastPage ? html`${last < lastPage - 1 ? gap : ''}${pageLink(lastPage)}` : ''}
  ${s.page < lastPage ? html`<li><a rel="next" href="${stateUrl(s, { page: s.page + 1 })}">${t('search.next')}</a></li>` : ''}
</ul></nav>`
    : html``;

  const hidden = FACETS.flatMap((f) => s.filters[f].map((v) => html`<input type="hidden" name="${f}" value="${v}">`));
  const isBrowse = !s.q && chips.length === 0;
  const heading = isBrowse ? t('search.newest') : t('search.results', { n: res.total.toLocaleString(ctx.lang === 'vi' ? 'vi-VN' : 'en-GB') });

  const body = html`<h1 class="visually-hidden">${t('search.title')}</h1>
<form class="search-form" role="search" method="get" action="/">
  <label for="q">${t('search.label')}</label>
  <div class="search-row">
    <div class="combo">
      <input id="q" name="q" type="search" value="${s.q}" placeholder="${t('search.placeholder')}" autocomplete="off"
        role="combobox" aria-autocomplete="list" aria-expanded="false" aria-controls="q-suggestions" data-suggest="/goi-y">
      <ul id="q-suggestions" role="listbox" aria-label="${t('search.suggestions')}" hidden></ul>
      <p id="q-suggest-count" class="visually-hidden" role="status" aria-live="polite" data-one="${t('search.suggestCount', { n: 1 })}" data-many="${t('search.suggestCount', { n: '{n}' })}" data-none="${t('search.suggestNone')}"></p>
    </div>
    ${hidden}
    ${s.sort ? html`<input type="hidden" name="sort" value="${s.sort}">` : ''}
    <button type="submit">${t('search.submit')}</button>
  </div>
  <details class="search-help"><summary>${t('search.syntax')}</summary><p>${t('search.syntaxHelp')}</p></details>
</form>
<div class="search-layout">
  <aside class="facets" id="bo-loc" aria-label="${t('search.filters')}" tabindex="-1">
    <h2 class="facets-title">${t('search.filters')}</h2>
    ${FACETS.map(facetBlock)}
  </aside>
  <section class="results" aria-labelledby="results-heading">
    <div class="results-head">
      <h2 id="results-heading">${heading}</h2>
      ${s.q || lastPage > 1 ? html`<p class="print-only">${s.q ? html`${t('search.printQuery')} “${catalogueText(ctx, s.q)}”` : ''}${s.q && lastPage > 1 ? ' · ' : ''}${lastPage > 1 ? t('search.printPage', { n: Math.min(s.page, lastPage), of: lastPage }) : ''}</p>` : ''}
      <a class="phone-only jump-filters" href="#bo-loc">${t('search.filters')}${chips.length ? ` (${chips.length})` : ''}</a>
      ${sortBlock}
    </div>
    ${searched ? html`<p class="info">${t('search.corrected', { q: searched })}</p>` : ''}
    ${also ? html`<p class="info">${t('search.expanded', { list: also })}</p>` : ''}
    ${cut ? html`<p class="info">${t('search.optional', { list: cut })}</p>` : ''}
    ${res.mode === 'or' ? html`<p class="info">${t('search.partial')}</p>` : ''}
    ${chipsBlock}
    ${unpublished
      ? html`<div class="info staff-unpublished"><p>${t('search.unpublished', { n: unpublished.total.toLocaleString(locale(ctx.lang)) })}</p>
      <ul>${unpublished.items.map((u) => html`<li><a href="/san-pham/${u.id}">${catalogueText(ctx, u.title)}</a> · ${t(`state.${u.state}`)}</li>`)}</ul></div>`
      : ''}
    ${res.hits.length
      ? html`<ol class="hits" start="${(s.page - 1) * PAGE_SIZE + 1}">${hits}</ol>`
      : res.total > 0
        // Past the last page (an old link, fewer results now): there are results, just not here.
        ? html`<p class="empty">${t('search.pastEnd', { n: lastPage, page: s.page })} <a href="${stateUrl(s, { page: lastPage })}">${t('search.toPage', { n: lastPage })}</a></p>`
        : isBrowse
          // Nothing published at all (a new archive): say so, and where to start for those who hand products in.
          ? html`<p class="empty">${t('search.emptyCatalogue')}</p>${['admin', 'archivist', 'agency'].includes(ctx.principal?.role ?? '') ? html`<p><a class="button" href="/nop">${t('search.emptyCatalogueUpload')}</a></p>` : ''}`
          : html`<p class="empty">${t(res.unsearchable ? 'search.unsearchable' : chips.length ? 'search.noResults' : 'search.noResultsNoFilter')}</p>`}
    ${capNote}
    ${paging}
  </section>
</div>`;
  const t2 = process.hrtime.bigint();
  ctx.reply.header('server-timing', `search;dur=${(Number(t1 - t0) / 1e6).toFixed(1)}, render;dur=${(Number(t2 - t1) / 1e6).toFixed(1)}`);
  return sendPage(ctx, { title: s.q ? `${s.q} — ${t('search.title')}` : t('search.title'), body, scripts: ['suggest.js'], bodyClass: 'page-search' });
}
