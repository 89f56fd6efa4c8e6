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

/** Kept for plugins that prefer @fastify/error constructors. */
export const FstErrors = {
  NotReady: createError('NOT_READY', 'Service not ready: %s', 503),
};
