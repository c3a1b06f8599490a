/** Stable error codes; the HTTP status is chosen at the edge, from `kind`. */
export type ErrorKind = 'invalid' | 'unprocessable' | 'unauthenticated' | 'forbidden' | 'not_found' | 'conflict' | 'too_many_requests' | 'unavailable' | 'internal';

export interface AppErrorOptions {
  details?: unknown;
  cause?: unknown;
  /** Operational errors are expected (bad input, declines); programmer errors are bugs. */
  operational?: boolean;
  retryAfterSeconds?: number;
}

export class AppError extends Error {
  override name = 'AppError';
  readonly details: unknown;
  readonly operational: boolean;
  readonly retryAfterSeconds: number | undefined;

  constructor(
    readonly kind: ErrorKind,
    readonly code: string,
    message: string,
    options: AppErrorOptions = {},
  ) {
    super(message, { cause: options.cause });
    this.details = options.details;
    this.operational = options.operational ?? kind !== 'internal';
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

export const httpStatusByKind: Record<ErrorKind, number> = {
  invalid: 400,
  unprocessable: 422,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_many_requests: 429,
  unavailable: 503,
  internal: 500,
};

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError;
}
