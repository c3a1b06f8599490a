import { trace } from '@opentelemetry/api';
import { ApiError, errorFromBody, parseRetryAfter } from './api-error';

export interface ApiAnswer<T> {
  status: number;
  body: T;
  headers: Headers;
  traceId: string | undefined;
}

export interface CallOptions {
  method?: 'GET' | 'POST' | 'DELETE';
  body?: unknown;
  /** Bearer token (the signed-in user's). */
  token?: string | undefined;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/** The trace of the request, as the gateway names it, else as the browser's active span does. */
function traceIdOf(headers: Headers | undefined): string | undefined {
  const fromGateway = headers?.get('x-trace-id');
  if (fromGateway) return fromGateway;
  const span = trace.getActiveSpan();
  return span?.isRecording() ? span.spanContext().traceId : undefined;
}

/**
 * One call to the gateway (same origin). `fetch` is called before anything is awaited, so the fetch
 * instrumentation sees the caller's active span (the checkout span) and sends its `traceparent`.
 * Non-2xx answers throw ApiError; so does a network failure (status 0).
 */
export async function call<T>(path: string, options: CallOptions = {}): Promise<ApiAnswer<T>> {
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const activeTraceId = traceIdOf(undefined);
  let response: Response;
  try {
    response = await fetch(path, {
      method: options.method ?? 'GET',
      headers,
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (err) {
    if ((err as Error)?.name === 'AbortError') throw err;
    throw new ApiError(0, 'NETWORK', 'the shop could not be reached', activeTraceId, undefined, undefined);
  }
  const text = await response.text();
  let body: unknown = undefined;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  const traceId = response.headers.get('x-trace-id') ?? activeTraceId;
  if (!response.ok) throw errorFromBody(response.status, body, traceId, parseRetryAfter(response.headers.get('retry-after')));
  return { status: response.status, body: body as T, headers: response.headers, traceId };
}
