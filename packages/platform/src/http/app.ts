import { randomUUID } from 'node:crypto';
import express, { type ErrorRequestHandler, type Express, type RequestHandler } from 'express';
import type { Logger } from 'pino';
import { AppError, httpStatusByKind, isAppError } from '../errors';
import { TokenBucketLimiter } from '../resilience/rate-limit';
import { faultMiddleware } from '../faults/http';
import type { FaultInjector } from '../faults/injector';
import { currentTraceId } from '../telemetry/tracing';
import { verifiedCaller } from './identity';
import { assertSafeInput } from './input';
import { metricsHandler } from './metrics';

export interface Readiness {
  /** Readiness is false while starting and from the first moment of shutdown. */
  ready: boolean;
  /** Each check answers whether one dependency is usable right now. */
  checks: Record<string, () => boolean | Promise<boolean>>;
}

export interface BaseAppOptions {
  logger: Logger;
  readiness: Readiness;
  bodyLimit?: string;
  /** The admin API, mounted at /admin behind its own credential (see `faultAdminRouter`). */
  admin?: RequestHandler;
  /** Injected faults, applied to every route added after this scaffold (never to probes or /admin). */
  faults?: FaultInjector;
  /**
   * Addresses (or CIDR ranges) of proxies whose `X-Forwarded-For` names the client. None by default: the client is
   * the connection's peer, so no caller can choose the address that rate limits and logs see.
   */
  trustedProxies?: readonly string[];
  /**
   * INTERNAL_AUTH_SECRET, with which the gateway signs the identity assertions it forwards: each request's caller is
   * verified with it (see `verifiedCaller`). Without it, no request has a caller.
   */
  identitySecret?: string;
  /** Serve /metrics here (the default); the gateway serves it on a listener of its own instead (`createMetricsApp`). */
  metrics?: boolean;
  /**
   * Paths whose bodies the JSON parsing leaves unread, for a route that reads its bytes itself after its own checks
   * (the gateway's OTLP pass-through: rate-limited first, then passed on byte for byte).
   */
  rawBodyPaths?: readonly string[];
}

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

/**
 * The Express scaffold every process uses: probes, /metrics, JSON body parsing with a size limit,
 * operator-key rejection, request and trace id headers, the caller's verified identity. Routes go on the returned
 * app, then `finishApp` adds the 404 and the central error handler.
 */
export function createBaseApp({
  logger,
  readiness,
  bodyLimit = '64kb',
  admin,
  faults,
  trustedProxies = [],
  identitySecret,
  metrics = true,
  rawBodyPaths = [],
}: BaseAppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', trustedProxies.length > 0 ? [...trustedProxies] : false);

  app.get('/livez', (_req, res) => {
    res.json({ status: 'alive' });
  });
  app.get('/readyz', async (_req, res) => {
    const results: Record<string, boolean> = {};
    for (const [name, check] of Object.entries(readiness.checks)) {
      try {
        results[name] = await check();
      } catch {
        results[name] = false;
      }
    }
    const ok = readiness.ready && Object.values(results).every(Boolean);
    res.status(ok ? 200 : 503).json({ status: ok ? 'ready' : 'not-ready', checks: results });
  });
  if (metrics) app.get('/metrics', metricsHandler);

  app.use(requestIds());
  // Every answer is JSON (or Prometheus text): no browser may sniff it into something it can run.
  app.use((_req, res, next) => {
    res.setHeader('x-content-type-options', 'nosniff');
    next();
  });
  const parseJson = express.json({ limit: bodyLimit, strict: true, type: ['application/json', 'application/*+json'] });
  // As Express routes match them: any case, trailing slashes aside.
  const routeKey = (path: string) => path.toLowerCase().replace(/\/+$/, '');
  const raw = new Set(rawBodyPaths.map(routeKey));
  // Without raw paths (every service), the parser alone: no per-request path check.
  app.use(raw.size === 0 ? parseJson : (req, res, next) => (raw.has(routeKey(req.path)) ? next() : parseJson(req, res, next)));
  app.use(rejectUnsafeInput());
  if (identitySecret) app.use(verifiedCaller(identitySecret));
  if (admin) app.use('/admin', adminRateLimit(), admin);
  if (faults) app.use(faultMiddleware(faults));
  app.locals.logger = logger;
  return app;
}

/** Admin calls per client address: plenty for an operator, a drill or a load test, far too few to guess a token. */
export const ADMIN_RATE = { ratePerSecond: 10, burst: 30 };

/** The admin API's own token bucket per client address, checked before the credential: 429 with Retry-After. */
function adminRateLimit(): RequestHandler {
  const limiter = new TokenBucketLimiter(ADMIN_RATE);
  return (req, _res, next) => {
    const result = limiter.take(req.ip ?? 'unknown');
    if (result.allowed) return next();
    next(new AppError('too_many_requests', 'ADMIN.RATE_LIMITED', 'too many admin requests', { retryAfterSeconds: result.retryAfterSeconds }));
  };
}

function requestIds(): RequestHandler {
  return (req, res, next) => {
    const incoming = req.header('x-request-id');
    const requestId = incoming && /^[\w.-]{1,128}$/.test(incoming) ? incoming : randomUUID();
    res.locals.requestId = requestId;
    res.setHeader('x-request-id', requestId);
    const traceId = currentTraceId();
    if (traceId) res.setHeader('x-trace-id', traceId);
    next();
  };
}

/**
 * Operator keys and control characters in the body, the query or the path are a 400 before any route runs, and so
 * is a `.` or `..` path segment, however encoded: URL parsers (undici's too) resolve `%2e%2e` as `..`, so
 * `/api/orders/%2e%2e/history` would reach a different route of the service behind the gateway than it matched here.
 */
function rejectUnsafeInput(): RequestHandler {
  return (req, _res, next) => {
    try {
      assertSafeInput(req.body, 'request body');
      assertSafeInput(req.query, 'query');
      const segments = req.path.split('/').map((segment) => decodeURIComponent(segment));
      assertSafeInput(segments.join('/'), 'path');
      if (segments.some((segment) => segment === '.' || segment === '..')) throw new AppError('invalid', 'REQUEST.DOT_SEGMENT', 'the path holds a . or .. segment');
      next();
    } catch (err) {
      next(err instanceof URIError ? new AppError('invalid', 'REQUEST.MALFORMED_PATH', 'the path is not valid percent-encoding') : err);
    }
  };
}

/** Adds the JSON 404 and the one error handler; call after mounting routes. */
export function finishApp(app: Express, logger: Logger): Express {
  app.use((req, _res, next) => {
    next(new AppError('not_found', 'ROUTE.NOT_FOUND', `no route for ${req.method} ${req.path}`));
  });
  app.use(errorHandler(logger));
  return app;
}

interface BodyParserError {
  type?: string;
  status?: number;
}

export function toErrorResponse(err: unknown): { status: number; body: ErrorBody; retryAfter?: number } {
  if (isAppError(err)) {
    const body: ErrorBody = { error: { code: err.code, message: err.operational ? err.message : 'internal error' } };
    if (err.details !== undefined) body.error.details = err.details;
    return {
      status: httpStatusByKind[err.kind],
      body,
      ...(err.retryAfterSeconds !== undefined ? { retryAfter: err.retryAfterSeconds } : {}),
    };
  }
  const parserError = err as BodyParserError;
  switch (parserError.type) {
    case 'entity.parse.failed':
      return { status: 400, body: { error: { code: 'REQUEST.MALFORMED_JSON', message: 'request body is not valid JSON' } } };
    case 'entity.too.large':
      return { status: 413, body: { error: { code: 'REQUEST.TOO_LARGE', message: 'request body is too large' } } };
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return { status: 415, body: { error: { code: 'REQUEST.UNSUPPORTED_ENCODING', message: 'unsupported encoding' } } };
    default:
      if (parserError.status && parserError.status >= 400 && parserError.status < 500) {
        return { status: parserError.status, body: { error: { code: 'REQUEST.REJECTED', message: 'request rejected' } } };
      }
      return { status: 500, body: { error: { code: 'INTERNAL', message: 'internal error' } } };
  }
}

function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const { status, body, retryAfter } = toErrorResponse(err);
    if (status >= 500) logger.error({ err, method: req.method, route: req.route?.path, status }, 'request failed');
    else logger.info({ code: body.error.code, method: req.method, status }, 'request rejected');
    if (retryAfter !== undefined) res.setHeader('retry-after', String(retryAfter));
    if (res.headersSent) return;
    // RFC 9110: a 401 names the scheme that would be accepted.
    if (status === 401) res.setHeader('www-authenticate', 'Bearer realm="tracemart"');
    res.status(status).json(body);
  };
}
