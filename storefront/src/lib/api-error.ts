/** A failed call as the shop sees it: the gateway's JSON error body plus what its headers said. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** The trace of the failed request (the gateway's `x-trace-id`, else the browser span's). */
    readonly traceId: string | undefined,
    /** Seconds the server asked us to wait (`Retry-After`), when it said. */
    readonly retryAfterSeconds: number | undefined,
    readonly details: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** `Retry-After` is either delta-seconds or an HTTP date; anything else is ignored. */
export function parseRetryAfter(header: string | null, now: number = Date.now()): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value);
  const at = Date.parse(value);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - now) / 1000));
}

/** Reads `{ error: { code, message, details } }`, the body every tracemart error has; tolerates anything else. */
export function errorFromBody(status: number, body: unknown, traceId: string | undefined, retryAfterSeconds: number | undefined): ApiError {
  const error = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | null)?.error;
  const code = typeof error?.code === 'string' ? error.code : `HTTP.${status}`;
  const message = typeof error?.message === 'string' ? error.message : `the server answered ${status}`;
  return new ApiError(status, code, message, traceId, retryAfterSeconds, error?.details);
}
