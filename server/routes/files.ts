/**
 * Serving originals and thumbnails:
 * - GET /api/files/:sha256 — the original bytes: sniffed Content-Type, Content-Disposition with the
 *   original name (RFC 6266 / 5987, UTF-8), strong ETag (the SHA-256), Range → 206/416, HEAD.
 *   Never served as active content from our origin: `nosniff` and a sandboxing CSP.
 * - GET /api/files/:sha256/thumbnail?size=256|1024 — the WebP derivative, 404 until one exists,
 *   a neutral placeholder for files that will never have a picture.
 * A file is visible when at least one product holding it is visible to the requester.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { canSee } from '../catalogue/visibility.ts';
import type { MediaKind } from '../db/schema.ts';
import { AppError, err } from '../errors.ts';
import { placeholderImage } from '../ingest/placeholder.ts';
import { downloadName } from '../ingest/media-types.ts';
import { thumbName } from '../ingest/extractors/types.ts';
import { ErrorSchema, Sha256Params } from './schemas.ts';

export interface ParsedRange {
  start: number;
  end: number;
}

/**
 * Parse a single `bytes=` range against `size`. Returns null to serve the whole file (no header,
 * unparseable or multi-range), 'unsatisfiable' for 416, or the inclusive range.
 */
export function parseRange(header: string | undefined, size: number): ParsedRange | null | 'unsatisfiable' {
  if (!header) return null;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m) return null;
  const [, a, b] = m;
  if (a === '' && b === '') return null;
  if (a === '') {
    const n = Number(b);
    if (n === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(a);
  const end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  if (b !== '' && Number(b) < start) return null;
  if (start >= size) return 'unsatisfiable';
  return { start, end };
}

/** `Content-Disposition` with an ASCII fallback and the UTF-8 name (RFC 6266 + RFC 5987). */
export function contentDisposition(type: 'inline' | 'attachment', name: string): string {
  const ascii = name
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/đ/g, 'd')
    .replace(/Đ/g, 'D')
    .replace(/[^\x20-\x7e]/g, '_')
    .replace(/["\\]/g, '_');
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${type}; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

/** Types a browser may show inline safely (no script can run in them from our origin). */
const INLINE_KINDS = new Set(['pdf', 'image', 'video', 'audio']);

/**
 * A text file's Content-Type with the charset the extractor found (its bytes are served as stored):
 * one browsers know by that name, or none for the legacy Vietnamese ones they do not (TCVN3, VISCII);
 * UTF-8 until the file has been read.
 */
const WEB_CHARSETS = new Map([['utf-8', 'utf-8'], ['ascii', 'utf-8'], ['utf-16le', 'utf-16le'], ['utf-16be', 'utf-16be'], ['windows-1258', 'windows-1258'], ['windows-1252', 'windows-1252'], ['windows-1250', 'windows-1250'], ['windows-1251', 'windows-1251'], ['iso-8859-1', 'windows-1252'], ['latin1', 'windows-1252']]);
function textContentType(encoding: string | null): string {
  if (encoding === null) return 'text/plain; charset=utf-8';
  const cs = WEB_CHARSETS.get(encoding.toLowerCase());
  return cs !== undefined ? `text/plain; charset=${cs}` : 'text/plain';
}

export default async function fileRoutes(app: FastifyInstance) {
  const { sqlite } = app.db;
  const blobStmt = sqlite.prepare(`SELECT sha256, size, media_type, kind, CASE WHEN kind = 'text' THEN json_extract(metadata, '$.encoding') END AS encoding FROM blobs WHERE sha256 = ?`);
  const holdersStmt = sqlite.prepare(
    `SELECT p.state, p.access, p.agency_id AS agencyId, f.original_name AS name
     FROM product_files f JOIN products p ON p.id = f.product_id WHERE f.sha256 = ? ORDER BY f.id`,
  );
  const derivStmt = sqlite.prepare('SELECT size, media_type, created_at FROM derivatives WHERE sha256 = ? AND name = ?');
  const thumbJobStmt = sqlite.prepare(`SELECT state FROM jobs WHERE sha256 = ? AND kind = 'thumbnail'`);

  /** The blob row when visible to the requester, else a 404 that reveals nothing. */
  function visibleBlob(req: FastifyRequest, sha: string) {
    const blob = blobStmt.get(sha) as { sha256: string; size: number; media_type: string; kind: string; encoding: string | null } | undefined;
    if (!blob) throw err.notFound('File', 'FILE_NOT_FOUND');
    const holders = holdersStmt.all(sha) as Array<{ state: string; access: string; agencyId: number | null; name: string }>;
    const visible = holders.filter((h) => canSee(req.principal, h));
    if (visible.length === 0) throw err.notFound('File', 'FILE_NOT_FOUND');
    const isPublic = visible.some((h) => h.state === 'published' && h.access === 'public');
    return { blob, names: visible.map((h) => h.name), isPublic };
  }

  // The bytes never change, but their record may be withdrawn or made internal: shared caches keep a
  // public file a day at most (then revalidate with the strong ETag, a cheap 304), never for a year.
  const cacheControl = (isPublic: boolean) => (isPublic ? 'public, max-age=86400' : 'private, no-cache');
  // A thumbnail is made again by `npm run rederive` (e.g. after an extractor upgrade) under the same
  // URL: it is cached for a day, not as immutable, and its ETag names the version.
  const thumbCacheControl = (isPublic: boolean) => (isPublic ? 'public, max-age=86400' : 'private, no-cache');

  const notModified = (req: FastifyRequest, etag: string) => {
    const inm = req.headers['if-none-match'];
    return inm !== undefined && inm.split(',').some((t) => t.trim() === etag || t.trim() === `W/${etag}` || t.trim() === '*');
  };

  app.get(
    '/api/files/:sha256',
    {
      schema: {
        tags: ['files'],
        summary: 'Download an original file (supports Range)',
        params: Sha256Params,
        querystring: Type.Object({ name: Type.Optional(Type.String({ maxLength: 300 })), download: Type.Optional(Type.Union([Type.Boolean(), Type.Literal('1'), Type.Literal('0')], { description: 'true or 1: always as an attachment' })) }),
        response: { 404: ErrorSchema, 416: ErrorSchema },
      },
    },
    async (req: FastifyRequest<{ Params: { sha256: string }; Querystring: { name?: string; download?: boolean | '1' | '0' } }>, reply: FastifyReply) => {
      const sha = req.params.sha256.toLowerCase();
      const { blob, names, isPublic } = visibleBlob(req, sha);
      const etag = `"${sha}"`;
      const name = req.query.name && names.includes(req.query.name) ? req.query.name : names[0];
      const disposition = req.query.download === true || req.query.download === '1' || !INLINE_KINDS.has(blob.kind) ? 'attachment' : 'inline';
      reply
        .header('content-type', blob.kind === 'text' ? textContentType(blob.encoding) : blob.media_type)
        .header('etag', etag)
        .header('cache-control', cacheControl(isPublic))
        .header('accept-ranges', 'bytes')
        .header('content-disposition', contentDisposition(disposition, downloadName(name, blob.media_type)))
        .header('x-content-type-options', 'nosniff');
      if (blob.kind !== 'pdf') reply.header('content-security-policy', "sandbox; default-src 'none'; img-src 'self' data:; media-src 'self'; style-src 'unsafe-inline'");
      if (notModified(req, etag)) return reply.code(304).send();
      if ((await app.blobStore.stat(sha)) === null) {
        // The record names bytes the store no longer holds (deleted or moved on disk): say so with a
        // code of our own, and log it for the administrator (`npm run verify` lists every such file).
        req.log.error({ sha256: sha }, 'file bytes missing from the blob store');
        for (const h of ['etag', 'content-disposition', 'content-security-policy', 'content-type', 'accept-ranges']) reply.removeHeader(h);
        reply.header('cache-control', 'no-store');
        throw new AppError(404, 'BLOB_MISSING', "The file's bytes are missing from the store; an administrator can check the store with npm run verify");
      }
      const ifRange = req.headers['if-range'];
      const range = ifRange !== undefined && ifRange !== etag ? null : parseRange(req.headers.range, blob.size);
      if (range === 'unsatisfiable') {
        // The answer is a JSON error, not the file: none of the file's own headers.
        for (const h of ['etag', 'content-disposition', 'content-security-policy']) reply.removeHeader(h);
        reply.header('cache-control', 'no-store');
        throw err.rangeNotSatisfiable(blob.size);
      }
      if (range === null) {
        reply.header('content-length', blob.size);
        return reply.send(app.blobStore.read(sha));
      }
      reply
        .code(206)
        .header('content-range', `bytes ${range.start}-${range.end}/${blob.size}`)
        .header('content-length', range.end - range.start + 1);
      return reply.send(app.blobStore.read(sha, range));
    },
  );

  app.get(
    '/api/files/:sha256/thumbnail',
    {
      schema: {
        tags: ['files'],
        summary: 'WebP thumbnail (256 or 1024 px on the long side)',
        params: Sha256Params,
        querystring: Type.Object({ size: Type.Optional(Type.Union([Type.Literal(256), Type.Literal(1024)], { default: 256 })) }),
        response: { 404: ErrorSchema },
      },
    },
    async (req: FastifyRequest<{ Params: { sha256: string }; Querystring: { size?: 256 | 1024 } }>, reply: FastifyReply) => {
      const sha = req.params.sha256.toLowerCase();
      const size = req.query.size ?? 256;
      const { blob, isPublic } = visibleBlob(req, sha);
      const name = thumbName(size);
      const row = derivStmt.get(sha, name) as { size: number; media_type: string; created_at: string } | undefined;
      if (row) {
        const etag = `"${sha}-${size}-${row.created_at.replace(/\D/g, '')}"`;
        reply.header('etag', etag).header('cache-control', thumbCacheControl(isPublic)).header('x-content-type-options', 'nosniff');
        if (notModified(req, etag)) return reply.code(304).send();
        if ((await app.blobStore.statDerivative(sha, name)) === null) {
          req.log.error({ sha256: sha, name }, 'thumbnail missing from the blob store');
          reply.removeHeader('etag').header('cache-control', 'no-store');
          throw new AppError(404, 'THUMBNAIL_MISSING', 'The thumbnail is missing from the store; an administrator can make it again with npm run rederive');
        }
        reply.header('content-type', row.media_type).header('content-length', row.size);
        return reply.send(app.blobStore.readDerivative(sha, name));
      }
      const job = thumbJobStmt.get(sha) as { state: string } | undefined;
      if (!job || job.state === 'queued' || job.state === 'running') {
        throw err.notFound('Thumbnail (not made yet)', 'THUMBNAIL_NOT_READY');
      }
      // Done without a picture (text, office) or failed: a neutral placeholder for the kind.
      const png = await placeholderImage(blob.kind as MediaKind, size);
      reply
        .header('content-type', png.mediaType)
        .header('cache-control', 'public, max-age=300')
        .header('x-placeholder', 'true')
        .header('x-content-type-options', 'nosniff');
      return reply.send(png.data);
    },
  );
}
