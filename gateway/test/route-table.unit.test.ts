import type { Router } from 'express';
import { describe, expect, it } from 'vitest';
import { createLogger, FaultInjector } from '@tracemart/platform';
import { gatewayAdminRouter } from '../src/http/admin';
import { ADMIN_ROUTES, API_ROUTES } from '../src/http/route-table';
import { apiRoutes, type Upstreams } from '../src/http/routes';
import type { UpstreamClient } from '../src/upstream/forward';
import type { PaymentHealth } from '../src/upstream/payment-health';

const logger = createLogger('gateway', 'silent');

/** `METHOD path` of every route registered directly on a router, in registration order. */
const registered = (router: Router) => router.stack.flatMap((layer) => layer.route?.stack.map((handler) => `${handler.method.toUpperCase()} ${layer.route?.path}`) ?? []);
const listed = (routes: readonly { method: string; path: string }[]) => routes.map((route) => `${route.method.toUpperCase()} ${route.path}`);

/** The public router over stand-in upstreams: nothing is called while building, the clients are only reached per request. */
function publicRouter(ownRoutes: Parameters<typeof apiRoutes>[0]['ownRoutes']) {
  const client = {} as UpstreamClient;
  const upstreams: Upstreams = { user: client, catalog: client, order: client, inventory: client, payment: client, notification: client };
  return apiRoutes({
    upstreams,
    jwtSecret: 'x'.repeat(32),
    internalAuthSecret: 'i'.repeat(32),
    payment: {} as PaymentHealth,
    deadlineMs: 1_000,
    staleEntries: 10,
    logger,
    ownRoutes,
  });
}

describe('route tables', () => {
  it('when the public router is built, then it registers exactly the API_ROUTES, in table order', () => {
    const router = publicRouter({ getClientConfig: () => undefined });
    expect(registered(router)).toEqual(listed(API_ROUTES));
  });

  it('when a route the gateway answers itself has no handler, then building the public router fails naming it', () => {
    const build = () => publicRouter({});
    expect(API_ROUTES.filter((route) => route.upstream === 'gateway').map((route) => route.operationId)).toEqual(['getClientConfig']);
    expect(build).toThrow(/getClientConfig/);
  });

  it('when the admin router is built, then it registers exactly the ADMIN_ROUTES, in table order', () => {
    const router = gatewayAdminRouter({ injector: new FaultInjector('gateway', logger), adminToken: 'token', services: {}, logger });
    expect(registered(router)).toEqual(listed(ADMIN_ROUTES));
  });

  it('when operation ids are read, then each is unique across both tables', () => {
    const ids = [...API_ROUTES, ...ADMIN_ROUTES].map((route) => route.operationId);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
