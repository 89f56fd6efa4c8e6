/**
 * The one interface every extractor implements. The job runner (server/ingest/jobs) picks the
 * extractor by the blob's sniffed media kind and runs it inside a worker process with a time and
 * memory cap; what it returns is written to the database in one transaction by the runner.
 */
import type { MediaKind } from '../../db/schema.ts';

/** What an extractor is asked to do with one blob. */
export interface ExtractInput {
  /** Local path of the original (read-only, never modify). */
  path: string;
  sha256: string;
  size: number;
  /** Sniffed media type, e.g. `application/pdf`. */
  mediaType: string;
  kind: MediaKind;
  /** A private scratch directory for this job; thumbnails are written here. Removed by the runner. */
  workDir: string;
  limits: ExtractLimits;
}

export interface ExtractLimits {
  /** Images larger than this many pixels are refused (pixel bomb). */
  maxImagePixels: number;
  ffmpegPath: string;
  ffprobePath: string;
  /** Soft deadline (ms since epoch): stop work and fail with `TIMEOUT` after it. The runner kills the process later anyway. */
  deadline: number;
}

/** One page of extracted text (page numbers start at 1; non-paged text is page 1). NFC-normalised. */
export interface ExtractedPage {
  page: number;
  text: string;
}

/** A derivative file the extractor wrote into `workDir`. */
export interface DerivativeFile {
  /** Name in the blob store beside the blob: `thumb-256.webp` or `thumb-1024.webp`. */
  name: string;
  /** Absolute path of the file inside workDir. */
  path: string;
  mediaType: string;
  width?: number;
  height?: number;
}

/** Result of the `extract` job: facts and text. */
export interface ExtractResult {
  /** Facts about the file, JSON-serialisable (see each extractor for its keys). */
  metadata: Record<string, unknown>;
  /** Text per page; empty when the kind has no text. */
  pages: ExtractedPage[];
}

/** Result of the `thumbnail` job: the derivative files (none when the kind has no picture). */
export interface ThumbnailResult {
  derivatives: DerivativeFile[];
  /** Why there is no picture, when derivatives is empty (e.g. `no picture for this kind`). */
  note?: string;
  /** Made, but from a damaged file: shown with the record (jobs.error_code / error_message of a done job). */
  warning?: { code: string; message: string };
}

/** One module per media kind implements this. */
export interface Extractor {
  kind: MediaKind;
  extract(input: ExtractInput): Promise<ExtractResult>;
  thumbnail(input: ExtractInput): Promise<ThumbnailResult>;
}

/**
 * A failure the runner must not retry (the file itself is the problem): encrypted, malformed,
 * pixel bomb, unsupported codec… `code` is stable and shown to archivists with `message`.
 * Any other thrown error counts as transient and is retried with back-off.
 */
export class PermanentExtractError extends Error {
  constructor(public readonly code: string, message: string) {
    super(message);
    this.name = 'PermanentExtractError';
  }
}

/** Thumbnail sizes (long side, px). */
export const THUMB_SIZES = [256, 1024] as const;
export const thumbName = (size: number) => `thumb-${size}.webp`;
