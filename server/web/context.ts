/**
 * Per-request page context: language, translator, principal, CSRF token, and helpers to build
 * URLs that keep the language. Anonymous forms (login) use a double-submit cookie; logged-in
 * forms echo the session's CSRF token.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Principal } from '../auth/principal.ts';
import { langOf, translator, type Lang, type Translate } from './i18n.ts';

export const ANON_CSRF_COOKIE = 'kho_csrf';

export interface PageCtx {
  req: FastifyRequest;
  reply: FastifyReply;
  lang: Lang;
  t: Translate;
  principal: Principal | null;
  /** Token the page's forms carry in `_csrf` (and JS sends as `x-csrf-token`). */
  csrf: string;
  /** Path of the request without the query. */
  path: string;
  query: Record<string, string | string[] | undefined>;
  /** Versioned URL of a static asset (`app.css` → `/static/app.css?v=1a2b3c4d`). */
  asset: (name: string) => string;
}

export function pageCtx(req: FastifyRequest, reply: FastifyReply, asset: (name: string) => string): PageCtx {
  const lang = langOf(req, reply);
  const principal = req.principal;
  let csrf = principal?.csrfToken ?? '';
  if (!csrf) {
    csrf = req.cookies?.[ANON_CSRF_COOKIE] ?? '';
    if (!/^[A-Za-z0-9_-]{20,}$/.test(csrf)) {
      csrf = randomBytes(24).toString('base64url');
      reply.setCookie(ANON_CSRF_COOKIE, csrf, { path: '/', httpOnly: true, sameSite: 'strict', secure: req.protocol === 'https' });
    }
  }
  return {
    req,
    reply,
    lang,
    t: translator(lang),
    principal,
    csrf,
    path: req.url.split('?')[0],
    query: (req.query ?? {}) as PageCtx['query'],
    asset,
  };
}

const same = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
};

/** Does a form post carry the right CSRF token? Bearer-token callers have no ambient credential, so need none. */
export function csrfOk(ctx: PageCtx, given: unknown): boolean {
  if (ctx.principal && ctx.principal.via !== 'session') return true;
  const token = typeof given === 'string' ? given : '';
  if (ctx.principal?.csrfToken) return same(token, ctx.principal.csrfToken);
  const cookie = ctx.req.cookies?.[ANON_CSRF_COOKIE] ?? '';
  return same(token, cookie);
}

/** One query value as a string. */
export const q1 = (v: string | string[] | undefined): string => (Array.isArray(v) ? (v.at(-1) ?? '') : (v ?? ''));

/** Build `path?query` from a map, dropping empty values. */
export function urlWith(path: string, params: Record<string, string | number | undefined | null>): string {
  const sp = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') sp.set(k, String(v));
  const s = sp.toString();
  return s ? `${path}?${s}` : path;
}

export function formatBytes(n: number, lang: Lang): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toLocaleString(lang === 'vi' ? 'vi-VN' : 'en-GB', { maximumFractionDigits: i === 0 ? 0 : 1 })} ${units[i]}`;
}

export function formatDuration(sec: number): string {
  const s = Math.round(sec);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  const mm = h > 0 ? String(m).padStart(2, '0') : String(m);
  return `${h > 0 ? `${h}:` : ''}${mm}:${String(r).padStart(2, '0')}`;
}

const VN_PARTS = new Intl.DateTimeFormat('en-GB', { timeZone: 'Asia/Ho_Chi_Minh', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });

/** A moment in Cao Bằng time, date first with the whole year: `27/11/2026 14:31` (both languages). */
export function formatDateTime(iso: string | null | undefined, _lang: Lang): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = Object.fromEntries(VN_PARTS.formatToParts(d).map((x) => [x.type, x.value]));
  return `${p.day}/${p.month}/${p.year} ${p.hour}:${p.minute}`;
}

/** A calendar date (`YYYY-MM-DD`) as `27/11/2026`; a full timestamp as formatDateTime. */
export function formatDate(iso: string | null | undefined, lang: Lang): string {
  if (!iso) return '';
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
  if (m) return `${m[3]}/${m[2]}/${m[1]}`;
  return formatDateTime(iso, lang);
}
