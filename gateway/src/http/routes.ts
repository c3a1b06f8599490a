import { Router, type Request, type RequestHandler, type Response } from 'express';
import { FailureThrottle, IDENTITY_HEADER, LOGIN_THROTTLE_PER_ADDRESS, LruCache, signIdentityAssertion, type Logger } from '@tracemart/platform';
import { toUpstreamError, UpstreamHttpError, type OutgoingRequest, type UpstreamClient, type UpstreamResponse } from '../upstream/forward';
import type { PaymentHealth } from '../upstream/payment-health';
import { authenticate } from './auth';
import { API_ROUTES, type ApiRoute, type UpstreamName } from './route-table';

export type Upstreams = Record<UpstreamName, UpstreamClient>;

/** Request headers passed to services; everything else (cookies, the JWT itself) stays at the edge. */
const forwardedRequestHeaders = ['accept', 'content-type', 'idempotency-key', 'x-request-id'];

/**
 * The public API (API_ROUTES): `/api/<resource>/...` goes to the service owning <resource>, with `/api` removed.
 * Routes marked `bearer` need a valid JWT; the verified user id travels on in an identity assertion signed with the
 * internal secret for this request (IDENTITY_HEADER), the only statement of a caller services believe. Every forwarded write
 * (not every read: reads are the bulk of the traffic and the metrics count them) leaves one log line, so a
 * write's trace id finds the gateway's line beside the services' own.
 */
export function apiRoutes(deps: {
  upstreams: Upstreams;
  jwtSecret: string;
  /** INTERNAL_AUTH_SECRET: signs the identity assertions services verify. */
  internalAuthSecret: string;
  payment: PaymentHealth;
  deadlineMs: number;
  staleEntries: number;
  logger: Logger;
  /** The handlers of the routes the gateway answers itself (`upstream: 'gateway'`), by operationId. */
  ownRoutes: Readonly<Record<string, RequestHandler>>;
}): Router {
  const { upstreams, jwtSecret, internalAuthSecret, payment } = deps;
  const stale = new LruCache<string, UpstreamResponse>(deps.staleEntries);
  const gates: Record<NonNullable<ApiRoute['gate']>, () => void> = { payments: () => payment.assertAvailable() };
  // Brute-force protection per client address (the user service throttles per account too).
  const failures = new FailureThrottle(LOGIN_THROTTLE_PER_ADDRESS);
  const router = Router();

  const to =
    (route: ApiRoute, upstream: UpstreamClient) =>
    async (req: Request, res: Response): Promise<void> => {
      const deadline = Date.now() + deps.deadlineMs;
      const userId = route.auth === 'bearer' ? await authenticate(req, jwtSecret) : undefined;
      // A signed-in user's data (orders, ledger, notifications) is kept by no cache between them and us.
      if (userId) res.setHeader('cache-control', 'no-store');
      if (route.gate) gates[route.gate]();
      const recordOutcome = route.throttleFailures ? throttledClient(failures, req) : undefined;
      const identity = userId ? signIdentityAssertion({ sub: userId, requestId: String(res.locals.requestId) }, internalAuthSecret) : undefined;
      const outgoing = toOutgoing(req, res, identity);
      const cacheKey = route.staleOnError ? outgoing.path : undefined;
      // An open breaker means the call would be refused anyway: answer from the cache without waiting.
      if (cacheKey && upstream.breakerState() === 'open' && serveStale(res, stale.get(cacheKey))) return;
      try {
        const answer = await upstream.call(outgoing, { retryable: isIdempotent(req, route), deadline });
        recordOutcome?.(answer.status);
        if (cacheKey && answer.status === 200) stale.set(cacheKey, answer);
        if (req.method !== 'GET')
          deps.logger.info({ method: req.method, route: `${req.baseUrl}${req.route?.path ?? ''}`, status: answer.status, upstream: upstream.name }, 'write forwarded');
        send(res, answer);
      } catch (err) {
        if (cacheKey && serveStale(res, stale.get(cacheKey))) return;
        if (err instanceof UpstreamHttpError) {
          send(res, err.response);
          return;
        }
        throw toUpstreamError(upstream, err);
      }
    };

  for (const route of API_ROUTES) {
    if (route.upstream !== 'gateway') {
      router[route.method](route.path, to(route, upstreams[route.upstream]));
      continue;
    }
    const own = deps.ownRoutes[route.operationId];
    if (!own) throw new Error(`no handler for the gateway's own route ${route.operationId}`);
    router[route.method](route.path, own);
  }
  return router;
}

/** Refuses a client address that must wait after failing too often; else returns how to count this request's answer. */
function throttledClient(failures: FailureThrottle, req: Request): (status: number) => void {
  const client = `ip:${req.ip ?? 'unknown'}`;
  failures.assertAllowed(client);
  return (status) => {
    if (status === 401) failures.failed(client);
    else if (status < 300) failures.succeeded(client);
  };
}

/**
 * Safe to send twice: reads, and a request the service replays when it repeats its Idempotency-Key (a
 * checkout). Any other request is sent once, whatever happens.
 */
function isIdempotent(req: Request, route: ApiRoute): boolean {
  if (req.method === 'GET' || req.method === 'HEAD') return true;
  return route.retryWithIdempotencyKey === true && Boolean(req.header('idempotency-key'));
}

function toOutgoing(req: Request, res: Response, identity: string | undefined): OutgoingRequest {
  const headers: Record<string, string> = {};
  for (const name of forwardedRequestHeaders) {
    const value = req.header(name);
    if (value) headers[name] = value;
  }
  if (res.locals.requestId) headers['x-request-id'] = String(res.locals.requestId);
  if (identity) headers[IDENTITY_HEADER] = identity;
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD' && req.body !== undefined;
  if (hasBody) headers['content-type'] = 'application/json';
  const query = req.originalUrl.includes('?') ? req.originalUrl.slice(req.originalUrl.indexOf('?')) : '';
  return { method: req.method, path: `${req.path}${query}`, headers, body: hasBody ? JSON.stringify(req.body) : null };
}

function send(res: Response, answer: UpstreamResponse): void {
  res.status(answer.status);
  for (const [name, value] of Object.entries(answer.headers)) res.setHeader(name, value);
  res.send(answer.body);
}

function serveStale(res: Response, cached: UpstreamResponse | undefined): boolean {
  if (!cached) return false;
  res.setHeader('x-cache', 'stale');
  res.setHeader('warning', '110 - "Response is Stale"');
  send(res, cached);
  return true;
}
