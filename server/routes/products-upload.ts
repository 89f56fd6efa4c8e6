/**
 * POST /api/products — a new product with one or more files (multipart/form-data).
 * Metadata fields come first, then file parts named `file` (a field after a file is a 400
 * FIELD_AFTER_FILE, not dropped; an unknown field, or a single-valued one sent twice, a 400
 * VALIDATION_FAILED). Fields are validated before the first file is read; each file
 * streams to tmp/ (hash, size, sniffed type), limits give 413, unknown types 415; bytes repeated
 * within the upload are kept once (`mergedFiles`); then the ingest service commits everything in
 * one transaction and answers 201.
 */
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { visibilitySql } from '../catalogue/visibility.ts';
import { cleanText, parseNewProductFields, uploadFieldKind, type ProductInsert, type RawFields } from '../catalogue/product-fields.ts';
import { readProduct, recordForViewer } from '../catalogue/product-read.ts';
import { cached } from '../db/statements.ts';
import { AppError, err } from '../errors.ts';
import { DuplicateFilesError } from '../ingest/ingest-service.ts';
import { multipartBoundary, readMultipart } from '../ingest/multipart.ts';
import { tooSlowMessage, watchUploadRate } from '../ingest/upload-rate.ts';
import { DIRECT_WRITE_MIN_BYTES, receiveFile, type ReceivedFile } from '../ingest/receive-file.ts';
import { requireRole } from '../plugins/auth.ts';
import { errorBody } from '../plugins/errors.ts';
import { ErrorSchema } from './schemas.ts';

export default async function productUploadRoutes(app: FastifyInstance) {
  const { sqlite } = app.db;
  // Any other body type (none, octet-stream…) reaches the route, unread, so that every non-multipart
  // upload gets the same 415 NOT_MULTIPART (Fastify's own refusal said UNSUPPORTED_CONTENT_TYPE).
  // This plugin is encapsulated: other routes keep their parsers.
  app.addContentTypeParser('*', (_req, _payload, done) => done(null));

  app.post(
    '/api/products',
    {
      schema: {
        tags: ['products'],
        summary: 'Submit a product with its files (multipart/form-data: fields first, then `file` parts)',
        consumes: ['multipart/form-data'],
        querystring: Type.Object({ onDuplicate: Type.Optional(Type.Union([Type.Literal('flag'), Type.Literal('reject')])) }),
        response: {
          201: Type.Object({}, { additionalProperties: true, description: 'The new record, with `duplicates` and `mergedFiles`' }),
          400: ErrorSchema,
          401: ErrorSchema,
          403: ErrorSchema,
          409: ErrorSchema,
          413: ErrorSchema,
          415: ErrorSchema,
          503: ErrorSchema,
          507: ErrorSchema,
        },
      },
    },
    async (req, reply) => {
      const principal = requireRole(req, 'admin', 'archivist', 'agency');
      const boundary = multipartBoundary(req.headers['content-type']);
      if (boundary === null) throw err.unsupportedType('The request must be multipart/form-data (with a boundary)', { code: 'NOT_MULTIPART' });
      const limits = app.config.upload;
      const raw: RawFields = {};
      const received: ReceivedFile[] = [];
      let fields: ProductInsert | null = null;
      let sawFile = false;
      /** Unknown or repeated form fields: refused with the record's own problems, all listed at once. */
      const formProblems: AppError[] = [];
      const parseFields = (): ProductInsert => {
        if (formProblems.length === 0) return parseNewProductFields(raw, { sqlite, principal });
        const errors = formProblems.map((e) => ({ field: e.details.field as string, message: e.message }));
        try {
          parseNewProductFields(raw, { sqlite, principal });
        } catch (e) {
          if (!(e instanceof AppError) || e.code !== 'VALIDATION_FAILED') throw e;
          errors.push(...((e.details.errors as typeof errors | undefined) ?? [{ field: e.details.field as string, message: e.message }]));
        }
        const first = formProblems[0];
        throw new AppError(400, 'VALIDATION_FAILED', first.message, { field: first.details.field, errors });
      };
      /** Parts whose bytes repeat an earlier file of this upload: stored once, under the first name. */
      const mergedFiles: Array<{ sha256: string; fileName: string; mergedInto: string }> = [];
      let onDuplicate: 'flag' | 'reject' | undefined;
      /** What to do with bytes already stored: the query's onDuplicate, else the form's, else flag; any other value is refused. */
      const duplicateMode = (form: RawFields): 'flag' | 'reject' => {
        const v = (req.query as { onDuplicate?: string }).onDuplicate ?? form.onDuplicate?.at(-1) ?? 'flag';
        if (v !== 'flag' && v !== 'reject') throw err.validation('onDuplicate', 'onDuplicate must be "flag" or "reject"');
        return v;
      };
      // The body is read here, as it arrives (server/plugins/multipart.ts leaves it unread). Stopping
      // early must not destroy the socket the answer goes out on.
      const body = req.raw.iterator({ destroyOnReturn: false })[Symbol.asyncIterator]();
      // A client that stops sending without closing the connection (a phone that lost its network)
      // would hold the request, its socket and its temp file until a restart: it is dropped after
      // `idleTimeoutMs` without a byte (the catch below removes the temp files). Only while the
      // body is read: the socket's timer must not cut the answer of a long commit.
      const drop = (reason: AppError) => {
        // A client that only paused (and still reads) is told why, with the stable code, before
        // the connection is closed; the body it might still send has no request left to go to.
        const socket = req.raw.socket;
        if (socket && !socket.destroyed && !reply.raw.headersSent) {
          const json = JSON.stringify(errorBody(408, reason.code, reason.message));
          socket.end(`HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(json)}\r\nconnection: close\r\n\r\n${json}`);
        }
        req.raw.destroy(reason);
      };
      const onIdle = () => drop(new AppError(408, 'UPLOAD_STALLED', `Nothing was received for ${Math.round(limits.idleTimeoutMs / 1000)} s: the upload was dropped`));
      // (app.inject's requests have no socket timer.)
      const timed = typeof req.raw.setTimeout === 'function';
      // A trickle is dropped too: fewer than minBytesPerSecond over a window of idleTimeoutMs.
      const stopRateWatch = timed
        ? watchUploadRate(req.raw.socket, limits.idleTimeoutMs, limits.minBytesPerSecond, (received) =>
            drop(new AppError(408, 'UPLOAD_TOO_SLOW', tooSlowMessage(received, limits.idleTimeoutMs, limits.minBytesPerSecond))),
          )
        : () => {};
      const stopIdleTimer = () => {
        stopRateWatch();
        if (!timed) return;
        req.raw.setTimeout(0);
        req.raw.off('timeout', onIdle);
      };
      if (timed) req.raw.setTimeout(limits.idleTimeoutMs, onIdle);
      try {
        const parts = readMultipart(body, boundary, {
          maxFileBytes: limits.maxFileBytes,
          maxFiles: limits.maxFiles,
          maxFieldBytes: limits.maxFieldBytes,
          maxFields: 200,
          maxParts: limits.maxFiles + 200,
        });
        for await (const part of parts) {
          if (part.nameTruncated) throw err.tooLarge('FIELD_TOO_LARGE', `Field name "${part.name}…" is too long`, { field: part.name });
          if (part.type === 'field') {
            const kind = formFieldKind(part.name);
            if (kind === null) {
              formProblems.push(err.validation(part.name, `unknown field "${part.name}"`));
              continue;
            }
            // The record was read at the first file: a later field would be dropped without a word.
            if (sawFile) {
              throw err.validation(part.name, `Field "${part.name}" was sent after a file: send the record's fields before the files`, 'FIELD_AFTER_FILE');
            }
            if (kind === 'one' && raw[part.name] !== undefined) {
              formProblems.push(err.validation(part.name, `Field "${part.name}" was sent more than once`));
              continue;
            }
            (raw[part.name] ??= []).push(part.value);
            continue;
          }
          if (part.name !== 'file') {
            throw err.validation(part.name, `Unexpected file field "${part.name}": files must be sent as "file"`, 'UNEXPECTED_FILE_FIELD');
          }
          sawFile = true;
          // A required field not sent yet may still come after the file (a client sending the file
          // first): this file is skipped unread and nothing is stored, so that the late field is
          // named FIELD_AFTER_FILE; if none comes, the end of the form reports the missing field.
          if (fields === null && REQUIRED_FIELDS.some((f) => !raw[f]?.some((v) => v.trim() !== ''))) continue;
          // Refuse bad metadata before reading a possibly large file.
          fields ??= parseFields();
          onDuplicate ??= duplicateMode(raw);
          const file = await receiveFile(part.data, {
            tmpDir: app.paths.tmpDir,
            originalName: sanitiseName(part.filename),
            clientMediaType: part.mimetype || null,
            maxFileBytes: limits.maxFileBytes,
            direct: Number(req.headers['content-length'] ?? 0) >= DIRECT_WRITE_MIN_BYTES,
          });
          const first = received.find((f) => f.sha256 === file.sha256);
          if (first === undefined) {
            received.push(file);
          } else {
            mergedFiles.push({ sha256: file.sha256, fileName: file.originalName, mergedInto: first.originalName });
            await app.ingest.discard([file]);
          }
        }
        stopIdleTimer();
        if (!sawFile) throw err.validation('file', 'At least one file is required (multipart part named "file")', 'NO_FILES');
        fields ??= parseFields();
        onDuplicate ??= duplicateMode(raw);
        const refuseDuplicates = (existing: Map<string, number[]>) =>
          err.conflict('DUPLICATE_FILE', 'These exact bytes are already in the store', { duplicates: describeDuplicates(received, existing, principal) });
        if (onDuplicate === 'reject') {
          const existing = app.ingest.findExisting(received.map((f) => f.sha256));
          if (existing.size > 0) throw refuseDuplicates(existing);
        }
        // Checked again by the commit itself: another upload of the same bytes may have been
        // recorded while this one's files were moved into the store.
        const result = await app.ingest.commit(principal, fields, received, { rejectDuplicates: onDuplicate === 'reject' }).catch((e: unknown) => {
          throw e instanceof DuplicateFilesError ? refuseDuplicates(e.existing) : e;
        });
        app.events.emit('product-changed', result.productId);
        const record = recordForViewer(sqlite, principal, readProduct(sqlite, result.productId)!);
        const existing = new Map(result.duplicates.map((d) => [d.sha256, d.existingProductIds]));
        reply.code(201).header('location', `/api/products/${result.productId}`).header('etag', `"v${record.version}"`);
        return { ...record, duplicates: describeDuplicates(received, existing, principal), mergedFiles };
      } catch (e) {
        stopIdleTimer();
        // Whatever the client still sends is read and dropped, so the answer reaches it and a
        // keep-alive connection stays usable.
        // (The iterator is closed first: a stream with a 'readable' listener does not resume.)
        await body.return?.();
        if (!req.raw.complete) req.raw.resume();
        await app.ingest.discard(received);
        throw e;
      }
    },
  );

  /** Name the products that already hold the bytes; titles only where the uploader may see them. */
  function describeDuplicates(files: ReceivedFile[], existing: Map<string, number[]>, principal: Parameters<typeof visibilitySql>[0]) {
    const vis = visibilitySql(principal, 'p');
    const stmt = cached(sqlite, `SELECT p.id, p.title, (${vis.where}) AS visible FROM products p WHERE p.id = @id`);
    return files
      .filter((f) => existing.has(f.sha256))
      .map((f) => ({
        sha256: f.sha256,
        fileName: f.originalName,
        existingProducts: existing.get(f.sha256)!.map((id) => {
          const row = stmt.get({ id, ...vis.params }) as { id: number; title: string; visible: number };
          return row.visible ? { id, title: row.title, url: `/api/products/${id}` } : { id, title: null, url: null };
        }),
      }));
  }
}

/** Fields without which a record is refused (`title` and `type`). */
const REQUIRED_FIELDS = ['title', 'type'];

/**
 * Whether a form field of this name is taken: the record's fields ('list' ones may repeat),
 * `onDuplicate`, and `_csrf` (a web form's token; for multipart it is read from the query) — or null.
 */
function formFieldKind(name: string): 'one' | 'list' | null {
  return name === 'onDuplicate' || name === '_csrf' ? 'one' : uploadFieldKind(name);
}

/** Longest stored file name, in characters. */
const MAX_NAME_CHARS = 255;

/**
 * Keep the name a user gave, minus path parts (`/` or `\`: a Windows client may send its full
 * path), control characters and bidirectional overrides (which make `\u202egnp.exe` look like
 * `exe.png`); a line break becomes a space; NFC. A longer name is cut on a character
 * boundary (never inside a surrogate pair) and keeps its extension.
 */
export function sanitiseName(name: string | undefined): string {
  const base = (name ?? '').split(/[\\/]/).pop() ?? '';
  // The catalogue's text cleaning (controls, bidi overrides, lone surrogates; a line break becomes a
  // space), and the left-to-right / right-to-left marks as well.
  const clean = cleanText(base).replace(/[\u200e\u200f]/g, '').trim();
  const short = shorten(clean);
  return short === '' || short === '.' || short === '..' ? 'file' : short;
}

function shorten(name: string): string {
  const chars = [...name];
  if (chars.length <= MAX_NAME_CHARS) return name;
  const dot = name.lastIndexOf('.');
  const ext = dot > 0 ? [...name.slice(dot)] : [];
  if (ext.length > 16) return chars.slice(0, MAX_NAME_CHARS).join('');
  return [...name.slice(0, dot)].slice(0, MAX_NAME_CHARS - ext.length).join('') + ext.join('');
}
