import type { Request, RequestHandler, Response } from 'express';
import { request, type Dispatcher } from 'undici';
import { AppError, type Logger } from '@tracemart/platform';
import { rawBodyOf } from './raw-body';

/** Where the browser posts its spans (same origin as the shop, so no CORS); `readRawBody` reads these bodies. */
export const OTLP_TRACES_PATH = '/otlp/v1/traces';
/** What OTLP/HTTP sends: protobuf or JSON (the web SDK's default). */
const MEDIA_TYPES = new Set(['application/json', 'application/x-protobuf']);
/** Compression the Collector's receiver takes; the body is passed on as it came. */
const ENCODINGS = new Set(['identity', 'gzip']);

const refuse = (res: Response, status: number, code: string, message: string) => {
  res.status(status).json({ error: { code, message } });
};

/**
 * POST /otlp/v1/traces: the browser's OTLP/HTTP export, passed on byte for byte to the Collector's traces endpoint (and
 * only there: no other path, host or header goes through; no credential is needed, none is forwarded). The body is
 * limited (413), the media type must be OTLP's (415), and the public API's rate limit applies (start.ts). The
 * Collector's answer comes back as it is; a Collector that cannot be reached is a 502 (504 past the timeout).
 */
export function otlpPassThrough(deps: { target: string | undefined; limitBytes: number; agent: Dispatcher; timeoutMs: number; logger: Logger }): RequestHandler {
  const { target } = deps;
  return async (req: Request, res: Response) => {
    if (!target) throw new AppError('not_found', 'OTLP.DISABLED', 'browser tracing is off: the gateway has no OTLP traces endpoint (OTLP_TRACES_URL)');
    const body = rawBodyOf(req);
    if (!body) throw new Error(`${OTLP_TRACES_PATH} was routed without its body read first (readRawBody)`);
    const contentType = req.header('content-type') ?? '';
    const mediaType = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
    if (!MEDIA_TYPES.has(mediaType)) return refuse(res, 415, 'OTLP.UNSUPPORTED_MEDIA_TYPE', 'OTLP/HTTP takes application/json or application/x-protobuf');
    const encoding = req.header('content-encoding')?.trim().toLowerCase();
    if (encoding !== undefined && !ENCODINGS.has(encoding)) return refuse(res, 415, 'OTLP.UNSUPPORTED_ENCODING', 'only gzip or no content encoding');
    if (body.tooLarge) return refuse(res, 413, 'OTLP.TOO_LARGE', `an OTLP request may hold ${deps.limitBytes} bytes at most`);

    let answer: Dispatcher.ResponseData;
    try {
      answer = await request(target, {
        method: 'POST',
        headers: { 'content-type': contentType, ...(encoding && encoding !== 'identity' ? { 'content-encoding': encoding } : {}) },
        body: body.bytes,
        dispatcher: deps.agent,
        headersTimeout: deps.timeoutMs,
        bodyTimeout: deps.timeoutMs,
        signal: AbortSignal.timeout(deps.timeoutMs),
      });
    } catch (err) {
      const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'HeadersTimeoutError' || err.name === 'BodyTimeoutError');
      deps.logger.warn({ err, target }, 'OTLP pass-through: the collector did not answer');
      if (timedOut) return refuse(res, 504, 'OTLP.UPSTREAM_TIMEOUT', 'the trace collector did not answer in time');
      return refuse(res, 502, 'OTLP.UPSTREAM_UNAVAILABLE', 'the trace collector cannot be reached');
    }
    const answered = Buffer.from(await answer.body.arrayBuffer());
    // Retryable refusals (memory limiter, throttling) go back as they are; any other Collector failure is not the client's.
    if (answer.statusCode >= 500 && answer.statusCode !== 503) {
      deps.logger.warn({ status: answer.statusCode, target }, 'OTLP pass-through: the collector failed');
      return refuse(res, 502, 'OTLP.UPSTREAM_FAILED', 'the trace collector failed');
    }
    res.status(answer.statusCode);
    for (const name of ['content-type', 'retry-after']) {
      const value = answer.headers[name];
      if (typeof value === 'string') res.setHeader(name, value);
    }
    res.send(answered);
  };
}
