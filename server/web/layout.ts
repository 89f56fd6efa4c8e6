/**
 * The page shell: skip link, header with the navigation for the user's role, language switch,
 * login/logout, a `main` landmark, footer. No inline script or style (the CSP forbids them).
 */
import type { PageCtx } from './context.ts';
import { html, type SafeHtml } from './html.ts';
import { translator, type MsgKey } from './i18n.ts';

export interface PageOptions {
  title: string;
  body: SafeHtml;
  /** Static JS modules this page needs (file names in server/web/static). */
  scripts?: string[];
  /** Extra class on <body>. */
  bodyClass?: string;
  status?: number;
}

interface NavItem {
  href: string;
  key: MsgKey;
}

function navItems(ctx: PageCtx): NavItem[] {
  const items: NavItem[] = [{ href: '/', key: 'nav.search' }];
  const role = ctx.principal?.role;
  if (role === 'agency') items.push({ href: '/nop', key: 'nav.upload' }, { href: '/cua-toi', key: 'nav.mine' });
  if (role === 'archivist' || role === 'admin') {
    items.push({ href: '/nop', key: 'nav.upload' }, { href: '/tham-dinh', key: 'nav.desk' }, { href: '/bao-cao', key: 'nav.report' });
  }
  if (role === 'admin') items.push({ href: '/quan-tri', key: 'nav.admin' });
  return items;
}

/** The current URL with `lang` switched. */
function switchLangHref(ctx: PageCtx): string {
  const other = ctx.lang === 'vi' ? 'en' : 'vi';
  const sp = new URLSearchParams();
  for (const [k, v] of Object.entries(ctx.query)) {
    // A CSRF token in the URL (an upload form from before it moved into the body) never goes into a link.
    if (k === 'lang' || k === '_csrf' || v === undefined) continue;
    for (const x of Array.isArray(v) ? v : [v]) sp.append(k, x);
  }
  sp.set('lang', other);
  return `${ctx.path}?${sp.toString()}`;
}

/**
 * The service's name in the header. Its Vietnamese name is kept on English pages, marked
 * `lang="vi"` so that a screen reader does not read it with an English voice; the English gloss
 * follows it (“Kho tư liệu (Archive)”).
 */
function brand(ctx: PageCtx): SafeHtml | string {
  if (ctx.lang === 'vi') return ctx.t('app.name');
  const name = VI_NAME;
  const full = ctx.t('app.name');
  return full.startsWith(name) ? html`<span lang="vi">${name}</span>${full.slice(name.length)}` : full;
}
const VI_NAME = translator('vi')('app.name');

/** The messages of the browser's own form check in the page's language, for forms.js. */
const FORM_CHECKS = ['required', 'choose', 'format', 'number', 'email', 'url', 'tooShort', 'tooLong', 'min', 'max', 'step', 'pattern'] as const;
function formMessages(ctx: PageCtx): string {
  return JSON.stringify(Object.fromEntries(FORM_CHECKS.map((k) => [k, ctx.t(`form.check.${k}`)])));
}

export function layout(ctx: PageCtx, opts: PageOptions): SafeHtml {
  const { t } = ctx;
  const current = (href: string) => (href === '/' ? ctx.path === '/' : ctx.path.startsWith(href));
  const who = ctx.principal;
  return html`<!doctype html>
<html lang="${ctx.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="csrf-token" content="${ctx.csrf}">
<meta name="form-messages" content="${formMessages(ctx)}">
<title>${opts.title} — ${t('app.name')}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${ctx.asset('app.css')}">
${['forms.js', 'offline.js', ...(opts.scripts ?? [])].map((s) => html`<script type="module" src="${ctx.asset(s)}"></script>`)}
</head>
<body class="${opts.bodyClass ?? ''}">
<a class="skip-link" href="#main">${t('nav.skip')}</a>
<header class="site-header">
  <div class="brand"><a href="/">${brand(ctx)}</a><span class="tagline">${t('app.tagline')}</span></div>
  <nav aria-label="${t('nav.main')}" class="main-nav">
    <ul>
      ${navItems(ctx).map((i) => html`<li><a href="${i.href}"${current(i.href) ? html` aria-current="page"` : ''}>${t(i.key)}</a></li>`)}
    </ul>
  </nav>
  <div class="user-box">
    <a class="lang-switch" href="${switchLangHref(ctx)}" hreflang="${ctx.lang === 'vi' ? 'en' : 'vi'}" lang="${ctx.lang === 'vi' ? 'en' : 'vi'}">${t('lang.switchTo')}</a>
    ${who
      ? html`<span class="who">${t('nav.signedInAs', { name: who.username })}</span>
        <form method="post" action="/dang-xuat" class="inline-form"><input type="hidden" name="_csrf" value="${ctx.csrf}"><button type="submit" class="link-button">${t('nav.logout')}</button></form>`
      : html`<a href="/dang-nhap?next=${encodeURIComponent(ctx.req.url)}">${t('nav.login')}</a>`}
  </div>
</header>
<main id="main" tabindex="-1">
<div id="offline-note" class="offline-note" role="alert" hidden>${t('net.offline')}</div>
${opts.body}
</main>
<footer class="site-footer"><p>${t('app.tagline')} · <a href="/docs">${t('footer.api')}</a></p></footer>
</body>
</html>
`;
}

/** Send a page with the right headers. */
export function sendPage(ctx: PageCtx, opts: PageOptions) {
  return ctx.reply
    .code(opts.status ?? ctx.reply.statusCode)
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', String(ctx.reply.getHeader('cache-control') ?? 'private, no-cache'))
    .header('vary', 'Cookie')
    .send(layout(ctx, opts).value);
}

/**
 * A link's whole address, shown only on paper (`.print-url`, app.css): a printed list or record
 * names where each file and record is, which a link's text alone does not. The origin is the one
 * the browser asked (Host, and the protocol behind a trusted proxy).
 */
export function printUrl(ctx: PageCtx, path: string): SafeHtml {
  return html`<span class="print-url" aria-hidden="true">${`${ctx.req.protocol}://${ctx.req.host}${path}`}</span>`;
}

/** A short message box (role=status for success, role=alert for problems). */
export function notice(kind: 'ok' | 'error' | 'info', text: string | SafeHtml): SafeHtml {
  return html`<div class="notice notice-${kind}" role="${kind === 'error' ? 'alert' : 'status'}">${text}</div>`;
}

/**
 * The outcome of an action, on the page a redirect after it led to (`?da=…`): a live region that is
 * already there when the page loads is not read out, so the focus is put on it (`autofocus`), and a
 * screen reader reads what was done before the rest of the page; Tab goes on from there.
 */
export function outcomeNotice(kind: 'ok' | 'info', text: string | SafeHtml): SafeHtml {
  return html`<div class="notice notice-${kind} outcome" role="status" tabindex="-1" autofocus>${text}</div>`;
}

/**
 * Catalogue text (titles, descriptions, snippets), written in Vietnamese whatever the page's
 * language: on an English page it is marked `lang="vi"`, so a screen reader reads it with a
 * Vietnamese voice and a browser hyphenates and translates it as Vietnamese.
 */
export function catalogueText(ctx: PageCtx, text: string | SafeHtml): string | SafeHtml {
  return ctx.lang === 'vi' ? text : html`<span lang="vi">${text}</span>`;
}

/**
 * The attribute ` lang="vi"` on an English page, for an element that holds only catalogue text
 * and cannot hold a span (an `<option>`, an SVG `<text>`) or is itself the whole value (a cell).
 */
export function catalogueLang(ctx: PageCtx): SafeHtml {
  return ctx.lang === 'vi' ? html`` : html` lang="vi"`;
}
