/**
 * Typed errors with stable codes. Every 4xx the API sends is JSON:
 * `{ statusCode, code, error, message, field? }` — `code` is stable, `message` is for humans.
 */
import createError from '@fastify/error';

export interface ApiErrorBody {
  statusCode: number;
  code: string;
  error: string;
  message: string;
  field?: string;
  [extra: string]: unknown;
}

/** An error that carries a stable code, an HTTP status and optional details for the body. */
export class AppError extends Error {
  constructor(
    public readonly statusCode: number,
    public readonly code: string,
    message: string,
    public readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const err = {
  badRequest: (code: string, message: string, details: Record<string, unknown> = {}) => new AppError(400, code, message, details),
  validation: (field: string, message: string, code = 'VALIDATION_FAILED') => new AppError(400, code, message, { field }),
  unauthorized: (message = 'Authentication required') => new AppError(401, 'UNAUTHORIZED', message),
  invalidToken: (message = 'The token is invalid, expired or revoked') => new AppError(401, 'INVALID_TOKEN', message),
  forbidden: (message = 'You may not do this', code = 'FORBIDDEN') => new AppError(403, code, message),
  notFound: (what: string, code = 'NOT_FOUND') => new AppError(404, code, `${what} not found`),
  conflict: (code: string, message: string, details: Record<string, unknown> = {}) => new AppError(409, code, message, details),
  preconditionFailed: (message: string, details: Record<string, unknown> = {}) => new AppError(412, 'STALE_WRITE', message, details),
  preconditionRequired: (message = 'If-Match header required') => new AppError(428, 'PRECONDITION_REQUIRED', message),
  tooLarge: (code: string, message: string, details: Record<string, unknown> = {}) => new AppError(413, code, message, details),
  unsupportedType: (message: string, details: Record<string, unknown> = {}) => new AppError(415, 'UNSUPPORTED_MEDIA_TYPE', message, details),
  rangeNotSatisfiable: (size: number) => new AppError(416, 'RANGE_NOT_SATISFIABLE', 'Requested range not satisfiable', { size }),
  tooManyRequests: (message = 'Too many requests, try again later') => new AppError(429, 'RATE_LIMITED', message),
  unavailable: (code: string, message: string) => new AppError(503, code, message),
};

/**
 * A storage fault of the server's own disk (not the client's doing) as a stable answer instead of a
 * 500: full (`ENOSPC`, `EDQUOT`, SQLite's `SQLITE_FULL`) is 507 STORAGE_FULL; read-only (`EROFS`,
 * `SQLITE_READONLY…`) 503 STORAGE_READ_ONLY; an I/O error (`EIO`, `SQLITE_IOERR…`) 503
 * STORAGE_IO_ERROR. Anything else: null.
 */
export function storageFault(e: unknown): AppError | null {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return null;
  if (code === 'ENOSPC' || code === 'EDQUOT' || code === 'SQLITE_FULL') {
    return new AppError(507, 'STORAGE_FULL', 'The server has no storage space left: nothing was saved. Try again after an administrator frees space');
  }
  if (code === 'EROFS' || code.startsWith('SQLITE_READONLY')) {
    return new AppError(503, 'STORAGE_READ_ONLY', 'The server\'s storage is read-only at the moment: nothing was saved');
  }
  if (code === 'EIO' || code.startsWith('SQLITE_IOERR')) {
    return new AppError(503, 'STORAGE_IO_ERROR', 'The server could not read or write its storage');
  }
  return null;
}

/** Kept for plugins that prefer @fastify/error constructors. */
export const FstErrors = {
  NotReady: createError('NOT_READY', 'Service not ready: %s', 503),
};
