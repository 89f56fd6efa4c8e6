/**
 * `/nop` — submit a product: the record fields and several files (drag-and-drop or picker).
 *
 * The form is a real multipart form posting to `/nop`, its CSRF token a hidden `_csrf` field that
 * is the form's first control (browsers send the parts in document order; the token is checked
 * from the first parts before any file byte is read, never carried in the URL), so it works
 * without JavaScript: the post is handed, as it streams in, to POST /api/products in-process (the
 * same pipeline, limits and codes), and answers 303 to the new record, or the form again with the
 * refusal in the page language and the text fields as they were typed.
 *
 * With JavaScript, upload.js sends the same request to POST /api/products?onDuplicate=reject
 * itself, with a progress bar per file, shows every refusal in place, then follows the
 * processing state.
 */
import type { FastifyInstance } from 'fastify';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { Readable, Transform } from 'node:stream';
import { isStaff } from '../../auth/principal.ts';
import { multipartBoundary, readMultipart } from '../../ingest/multipart.ts';
import { apiError, callApi } from '../api.ts';
import { csrfOk, formatBytes, q1, type PageCtx } from '../context.ts';
import { listAgencies, listPlanTasks } from '../data.ts';
import { html, raw, type SafeHtml } from '../html.ts';
import { catalogueText, notice, sendPage } from '../layout.ts';
import { fieldMessage, formFieldNames, productFields, type FieldErrors, type FormValues } from './product-form.ts';
import { watchUploadRate } from '../../ingest/upload-rate.ts';

/** A form post that was refused: what was typed, and why. */
interface UploadState {
  values?: FormValues;
  errors?: FieldErrors;
  /** Refusals not tied to a field, in the page language. */
  problems?: Array<string | SafeHtml>;
  /** The post was refused because files were already in the store: offer to hand them in anyway. */
  duplicate?: boolean;
  status?: number;
}

export async function uploadPage(app: FastifyInstance, ctx: PageCtx, st: UploadState = {}) {
  const { t } = ctx;
  const staff = isStaff(ctx.principal);
  const limits = app.config.upload;
  const tasks = listPlanTasks(app.db.sqlite, staff ? null : ctx.principal!.agencyId);
  const messages = {
    FILE_TOO_LARGE: t('err.FILE_TOO_LARGE'),
    TOO_MANY_FILES: t('err.TOO_MANY_FILES', { n: limits.maxFiles }),
    UNSUPPORTED_MEDIA_TYPE: t('err.UNSUPPORTED_MEDIA_TYPE'),
    ENCRYPTED_FILE: t('err.ENCRYPTED_FILE'),
    EMPTY_FILE: t('err.EMPTY_FILE'),
    NO_FILES: t('err.NO_FILES'),
    DUPLICATE_FILE: t('err.DUPLICATE_FILE'),
    DUPLICATE_HIDDEN: t('err.DUPLICATE_HIDDEN'),
    VALIDATION_FAILED: t('err.VALIDATION_FAILED'),
    UNAUTHORIZED: t('err.UNAUTHORIZED'),
    FORBIDDEN: t('err.FORBIDDEN'),
    CSRF: t('err.CSRF'),
    NETWORK: t('err.NETWORK'),
    FIELD_TOO_LARGE: t('err.FIELD_TOO_LARGE'),
    RATE_LIMITED: t('err.RATE_LIMITED'),
    SERVER: t('err.SERVER'),
    STORAGE_FULL: t('err.STORAGE_FULL'),
    STORAGE_UNAVAILABLE: t('err.STORAGE_UNAVAILABLE'),
    // An upload the API cut for stalling or trickling (408): the reason, with the limits filled in.
    UPLOAD_STALLED: cutMessage(app, ctx, 'UPLOAD_STALLED'),
    UPLOAD_TOO_SLOW: cutMessage(app, ctx, 'UPLOAD_TOO_SLOW'),
    withCode: t('err.withCode'),
    generic: t('err.generic'),
    uploading: t('upload.uploading'),
    uploadingPct: t('upload.uploadingPct'),
    cancel: t('upload.cancel'),
    cancelled: t('upload.cancelled'),
    success: t('upload.success'),
    viewRecord: t('upload.viewRecord'),
    another: t('upload.another'),
    submitAnyway: t('upload.submitAnyway'),
    processingState: t('upload.processingState'),
    remove: t('upload.remove'),
    progress: t('upload.progress'),
    // The message for each field the API may refuse (upload.js shows it next to the field).
    ...Object.fromEntries(formFieldNames(staff).map((k) => [`field.${k}`, fieldMessage(ctx, k, '')]).filter(([, m]) => m !== '')),
    'processing.queued': t('processing.queued'),
    'processing.running': t('processing.running'),
    'processing.done': t('processing.done'),
    'processing.failed': t('processing.failed'),
    maxSize: formatBytes(limits.maxFileBytes, ctx.lang),
  };
  // Without JavaScript the browser posts the form to /nop, its controls in the page's order: every
  // field must come before the file input (the API refuses a field after a file). After a duplicate refusal, the choice to hand the copy in anyway; else the
  // form asks the API to refuse bytes already in the store, as upload.js does. The hidden `_csrf`
  // is the form's first control, so its part comes first: uploadPost checks it before any file.
  const problems = st.problems ?? [];
  const duplicateChoice = st.duplicate
    ? html`<fieldset class="duplicate-choice">
      <legend>${t('upload.dupChoice')}</legend>
      <div><input type="radio" id="dup-reject" name="onDuplicate" value="reject" checked> <label for="dup-reject">${t('upload.dupReject')}</label></div>
      <div><input type="radio" id="dup-flag" name="onDuplicate" value="flag"> <label for="dup-flag">${t('upload.submitAnyway')}</label></div>
      <p class="help">${t('upload.pickAgain')}</p>
    </fieldset>`
    : html`<input type="hidden" name="onDuplicate" value="reject">`;
  const body = html`<section>
  <h1>${t('upload.title')}</h1>
  <p>${t('upload.intro')}</p>
  <form id="upload-form" class="product-form" method="post" action="/nop" enctype="multipart/form-data" novalidate
    data-max-bytes="${limits.maxFileBytes}" data-max-files="${limits.maxFiles}">
    <input type="hidden" name="_csrf" value="${ctx.csrf}">
    <script type="application/json" id="upload-messages">${raw(JSON.stringify(messages).replace(/</g, '\\u003c'))}</script>
    ${problems.length > 0 ? html`<div class="notice notice-error" role="alert" id="upload-refused"><ul>${problems.map((p) => html`<li>${p}</li>`)}</ul></div>` : ''}
    ${productFields(ctx, { values: st.values ?? { languages: 'vi' }, errors: st.errors ?? {}, agencies: listAgencies(app.db.sqlite), tasks, staff })}
    ${duplicateChoice}
    <fieldset class="files-field">
      <legend>${t('upload.files')}</legend>
      <div class="dropzone" id="dropzone">
        <p>${t('upload.drop')} <label for="file-input" class="file-pick">${t('upload.pick')}</label></p>
        <input id="file-input" name="file" type="file" multiple class="file-input" aria-describedby="file-limits">
        <p class="help" id="file-limits">${t('upload.limits', { n: limits.maxFiles, size: formatBytes(limits.maxFileBytes, ctx.lang) })}</p>
      </div>
      <ul class="file-list" id="file-list" aria-live="polite"></ul>
    </fieldset>
    <div class="upload-errors" id="upload-errors" role="alert"></div>
    <div class="button-row"><button type="submit" id="upload-submit">${t('upload.submit')}</button></div>
    <div class="upload-status" id="upload-status" role="status" aria-live="polite"></div>
  </form>
</section>`;
  return sendPage(ctx, { title: t('upload.title'), body, scripts: ['upload.js'], bodyClass: 'page-upload', status: st.status });
}

/** How much of the start of a form post is kept to show its text fields again after a refusal. */
const KEPT_PREFIX_BYTES = 1024 * 1024;

/** Why a form post was cut before its body was read to the end. */
type Cut = 'UPLOAD_STALLED' | 'UPLOAD_TOO_SLOW';

/** Why an upload was cut (408), with the configured limits filled in: the no-JS page and upload.js say the same. */
function cutMessage(app: FastifyInstance, ctx: PageCtx, code: Cut): string {
  const limits = app.config.upload;
  return ctx.t(`err.${code}`, { s: Math.round(limits.idleTimeoutMs / 1000), rate: formatBytes(limits.minBytesPerSecond, ctx.lang) });
}

class UploadCut extends Error {
  constructor(readonly code: Cut) {
    super(code === 'UPLOAD_STALLED' ? 'upload stalled' : 'upload too slow');
  }
}

/**
 * The request body as an iterator of chunks that can be cut: once `cut()` is called, a pending or
 * later `next()` rejects with UploadCut, without destroying the request (its socket must stay open
 * for the answer page). Every chunk read is also kept in `seen` until `replay()` takes them.
 */
function cuttableBody(raw: IncomingMessage) {
  const src = (raw.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  let cutWith: UploadCut | null = null;
  let onCut: ((e: UploadCut) => void) | null = null;
  const seen: Buffer[] = [];
  let recording = true;
  const next = async (): Promise<IteratorResult<Buffer>> => {
    if (cutWith) throw cutWith;
    const pending = src.next();
    // A read left pending when the post is cut rejects when the socket closes: not an unhandled rejection.
    pending.catch(() => {});
    const r = await Promise.race([pending, new Promise<never>((_, reject) => (onCut = reject))]);
    onCut = null;
    if (!r.done && recording) seen.push(r.value);
    return r;
  };
  return {
    /** The iterator the CSRF pre-read uses (no `return`: stopping it must not end the body). */
    reader: { next } as AsyncIterator<Buffer>,
    cut(code: Cut) {
      cutWith ??= new UploadCut(code);
      onCut?.(cutWith);
    },
    get cutCode(): Cut | null {
      return cutWith?.code ?? null;
    },
    /** A stream of the whole body: the chunks already read, then the rest as it comes. */
    replay(): Readable {
      recording = false;
      const early = seen.splice(0);
      return Readable.from(
        (async function* () {
          yield* early;
          for (;;) {
            const r = await next();
            if (r.done) return;
            yield r.value;
          }
        })(),
        { objectMode: false },
      );
    },
  };
}

/**
 * Read the form's first parts up to its `_csrf` field and check it, before any file byte is read:
 * the token travels in the body (a hidden field that is the form's first control; browsers send
 * parts in document order), never in the URL. True when it matches the session's; false when it is
 * wrong, missing, or comes only after a file part.
 */
async function csrfFromBody(ctx: PageCtx, reader: AsyncIterator<Buffer>, boundary: string, maxFieldBytes: number): Promise<boolean> {
  const parts = readMultipart(reader, boundary, { maxFileBytes: 0, maxFiles: 0, maxFieldBytes, maxFields: 200, maxParts: 200 });
  try {
    for (;;) {
      const r = await parts.next();
      if (r.done || r.value.type === 'file') return false;
      if (r.value.name === '_csrf') return csrfOk(ctx, r.value.value);
    }
  } catch (e) {
    if (e instanceof UploadCut) throw e;
    // A malformed start, or too many or too long fields before the token: not a form of ours.
    return false;
  }
}

/**
 * POST `/nop` — the upload form sent without JavaScript. The CSRF token is checked from the form's
 * first parts; then the body streams on to POST /api/products (nothing is buffered but the start
 * of the form, where the text fields are); a new record answers 303 to its page, a refusal the form
 * again. A post cut for being too slow or stalled, or refused while the browser is still sending
 * (a file too large), is answered with the form and the reason, and the connection is closed.
 */
export async function uploadPost(app: FastifyInstance, ctx: PageCtx) {
  const { t } = ctx;
  const req = ctx.req;
  const boundary = req.isMultipart() ? multipartBoundary(req.headers['content-type']) : null;
  if (boundary === null) {
    req.raw.resume();
    return uploadPage(app, ctx, { problems: [t('err.withCode', { code: 'NOT_MULTIPART' })], status: 415 });
  }
  const limits = app.config.upload;
  const body = cuttableBody(req.raw);
  // A browser that stops sending, or trickles, is cut as the API cuts its own uploads (the
  // in-process request has no socket to time out): the API's request then ends with an error and
  // removes its temp files, and the browser is answered with the form and the reason.
  const timed = typeof req.raw.setTimeout === 'function';
  if (timed) req.raw.setTimeout(limits.idleTimeoutMs, () => body.cut('UPLOAD_STALLED'));
  const stopRateWatch = timed ? watchUploadRate(req.raw.socket, limits.idleTimeoutMs, limits.minBytesPerSecond, () => body.cut('UPLOAD_TOO_SLOW')) : () => {};
  const stopTimers = () => {
    stopRateWatch();
    if (timed) req.raw.setTimeout(0);
  };
  /**
   * Answer, then close the connection without reading the rest of the body. A browser reads an
   * answer sent while it is still sending only once its sending fails, so the connection is not
   * dropped at once (a reset could lose the page): after the page, the server half-closes, throws
   * away what still arrives for LINGER_MS, then closes (lingeringClose).
   */
  const answerAndClose = (st: UploadState) => {
    stopTimers();
    ctx.reply.header('connection', 'close');
    lingeringClose(req.raw);
    return uploadPage(app, ctx, st);
  };
  const cutPage = (code: Cut, values?: FormValues) =>
    answerAndClose({
      values,
      problems: [cutMessage(app, ctx, code), t('err.page.code', { code })],
      status: 408,
    });

  // A session's form must carry its token first. (A bearer token is no ambient credential.)
  if (ctx.principal?.via === 'session') {
    let ok: boolean;
    try {
      ok = await csrfFromBody(ctx, body.reader, boundary, limits.maxFieldBytes);
    } catch (e) {
      if (e instanceof UploadCut) return cutPage(e.code);
      throw e;
    }
    if (!ok) return answerAndClose({ problems: [t('err.CSRF'), t('err.page.code', { code: 'CSRF_TOKEN_INVALID' })], status: 403 });
  }

  // The start of the body is kept as it passes, to read the text fields back if the upload is refused.
  const kept: Buffer[] = [];
  let keptBytes = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      if (keptBytes < KEPT_PREFIX_BYTES) {
        const piece = chunk.subarray(0, KEPT_PREFIX_BYTES - keptBytes);
        kept.push(Buffer.from(piece));
        keptBytes += piece.length;
      }
      done(null, chunk);
    },
  });
  const replay = body.replay();
  replay.on('error', (e) => tap.destroy(e));
  replay.pipe(tap);
  const headers: Record<string, string> = { 'content-type': String(req.headers['content-type']) };
  if (req.headers['content-length']) headers['content-length'] = String(req.headers['content-length']);
  // A cut body fails the in-process request itself (inject rejects with the stream's error).
  const res = await callApi(app, ctx, 'POST', '/api/products', tap, headers)
    .catch((e: unknown) => {
      if (body.cutCode) return null;
      throw e;
    })
    .finally(stopTimers);
  if (res !== null && res.status === 201) return ctx.reply.redirect(`/san-pham/${Number(res.body.id)}?nop=1`, 303);
  const staff = isStaff(ctx.principal);
  const values = await typedFields(Buffer.concat(kept), boundary, new Set(formFieldNames(staff)), limits.maxFieldBytes);
  if (res === null || body.cutCode) return cutPage(body.cutCode!, values);
  const e = apiError(res);
  const b = res.body as { fileName?: string; duplicates?: Array<{ fileName: string; existingProducts: Array<{ id: number; title: string | null }> }> };
  const name = b.fileName ?? '';
  const errors: FieldErrors = Object.fromEntries((e.errors ?? (e.field ? [{ field: e.field, message: e.message }] : [])).map((x) => [x.field, fieldMessage(ctx, x.field, x.message)]));
  const fieldShown = Object.keys(errors).some((k) => formFieldNames(staff).includes(k));
  let problems: Array<string | SafeHtml>;
  if (fieldShown) problems = [t('err.VALIDATION_FAILED')];
  else if (e.code === 'DUPLICATE_FILE') {
    problems = (b.duplicates ?? []).map(
      (d) => html`${t('err.DUPLICATE_FILE', { name: d.fileName })} ${d.existingProducts.map((p, i) => html`${i > 0 ? ', ' : ''}${p.title ? html`<a href="/san-pham/${p.id}">${catalogueText(ctx, p.title)}</a>` : t('err.DUPLICATE_HIDDEN', { id: p.id })}`)}`,
    );
  } else problems = [uploadRefusal(ctx, res.status, e.code, name)];
  const st: UploadState = { values, errors, problems, duplicate: e.code === 'DUPLICATE_FILE', status: res.status };
  // Refused before the whole body arrived (a file too large, a bad field): the rest is not waited for.
  return req.raw.complete ? uploadPage(app, ctx, st) : answerAndClose(st);
}

/** How long the server still takes (and drops) a refused form's bytes after its answer. */
const LINGER_MS = 2000;

/**
 * Once the answer has gone out, the HTTP server ends a `connection: close` socket with
 * `destroySoon()`: FIN, then close as soon as it is flushed. Closing a socket with bytes still
 * unread resets the connection, and a browser that is still sending may then lose the answer and
 * show a network error instead. Here the socket is half-closed the same way, but what the client
 * still sends is read and dropped for LINGER_MS before it is closed (the "lingering close" of
 * Apache and nginx, for the same reason).
 */
function lingeringClose(raw: IncomingMessage): void {
  const socket = raw.socket;
  socket.destroySoon = function lingerThenClose(this: Socket) {
    if (this.writable) this.end();
    // The body's reader is gone (the page has answered): drop the rest of the body as it comes.
    raw.removeAllListeners('readable');
    raw.on('data', () => {});
    raw.on('error', () => {});
    raw.resume();
    setTimeout(() => this.destroy(), LINGER_MS).unref();
  };
}

/** A refusal of POST /api/products in the page language (the messages upload.js shows, too). */
function uploadRefusal(ctx: PageCtx, status: number, code: string, name: string): string {
  const { t } = ctx;
  switch (code) {
    case 'FILE_TOO_LARGE':
      return t('err.FILE_TOO_LARGE', { name, size: formatBytes(ctx.req.server.config.upload.maxFileBytes, ctx.lang) });
    case 'TOO_MANY_FILES':
      return t('err.TOO_MANY_FILES', { n: ctx.req.server.config.upload.maxFiles });
    case 'UNSUPPORTED_MEDIA_TYPE':
      return t('err.UNSUPPORTED_MEDIA_TYPE', { name });
    case 'ENCRYPTED_FILE':
      return t('err.ENCRYPTED_FILE', { name });
    case 'EMPTY_FILE':
      return t('err.EMPTY_FILE', { name });
    case 'NO_FILES':
      return t('err.NO_FILES');
    case 'CSRF_TOKEN_INVALID':
      return t('err.CSRF');
    case 'FIELD_TOO_LARGE':
      return t('err.FIELD_TOO_LARGE');
    case 'STORAGE_FULL':
      return t('err.STORAGE_FULL');
    case 'STORAGE_READ_ONLY':
    case 'STORAGE_IO_ERROR':
      return t('err.STORAGE_UNAVAILABLE');
    default:
      if (status === 401) return t('err.UNAUTHORIZED');
      if (status === 403) return t('err.FORBIDDEN');
      if (status === 429) return t('err.RATE_LIMITED');
      if (status >= 500) return t('err.SERVER');
      return t('err.withCode', { code });
  }
}

/** The record's text fields from the start of a form post (those before the first file). */
async function typedFields(prefix: Buffer, boundary: string, names: Set<string>, maxFieldBytes: number): Promise<FormValues> {
  const values: FormValues = {};
  const source = (async function* () {
    yield prefix;
  })()[Symbol.asyncIterator]();
  try {
    for await (const part of readMultipart(source, boundary, { maxFileBytes: 0, maxFiles: 0, maxFieldBytes, maxFields: 200, maxParts: 200 })) {
      if (part.type === 'file') break;
      if (names.has(part.name)) values[part.name] = values[part.name] === undefined ? part.value : `${values[part.name]}, ${part.value}`;
    }
  } catch {
    // The kept start ends inside a field (or the form was malformed): what was read before is kept.
  }
  return values;
}
