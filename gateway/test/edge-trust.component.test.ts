import type { IncomingHttpHeaders } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { IDENTITY_HEADER, verifyIdentityAssertion } from '@tracemart/platform';
import { call, INTERNAL_AUTH_SECRET, json, startGateway, startStub, tokenFor } from './support';

/** What the gateway says to services about who is calling, and what its public port does not hand out. */
const stops: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

async function gatewayInFrontOf(seen: IncomingHttpHeaders[]) {
  const service = await startStub((req, res) => {
    seen.push(req.headers);
    json(res, 200, { items: [] });
  });
  stops.push(service.close);
  const gw = await startGateway({ ORDER_URL: service.url, CATALOG_URL: service.url });
  stops.push(gw.stop);
  return gw;
}

describe('identity forwarded to services', () => {
  it('when a signed-in user calls, then the service gets an identity assertion naming that user for that request id, and neither the JWT nor a client x-user-id', async () => {
    const seen: IncomingHttpHeaders[] = [];
    const gw = await gatewayInFrontOf(seen);
    const answer = await call(`${gw.url}/api/orders`, { token: await tokenFor('alice'), headers: { 'x-user-id': 'bob', 'x-request-id': 'req-alice-1' } });
    expect(answer.status).toBe(200);
    const [headers] = seen;
    const assertion = headers?.[IDENTITY_HEADER];
    expect(typeof assertion).toBe('string');
    expect(verifyIdentityAssertion(String(assertion), INTERNAL_AUTH_SECRET)).toEqual({ sub: 'alice', requestId: 'req-alice-1' });
    expect(headers?.['x-request-id']).toBe('req-alice-1');
    expect(headers?.['x-user-id']).toBeUndefined();
    expect(headers?.authorization).toBeUndefined();
    // Signed with the internal secret only: the user service's JWT secret does not make one.
    expect(() => verifyIdentityAssertion(String(assertion), 'test-secret-that-is-long-enough-0123456789')).toThrow(expect.objectContaining({ code: 'AUTH.INVALID_IDENTITY' }));
  });

  it('when a route needs no sign-in, then no identity travels, whatever the client sends', async () => {
    const seen: IncomingHttpHeaders[] = [];
    const gw = await gatewayInFrontOf(seen);
    expect((await call(`${gw.url}/api/products`, { headers: { 'x-user-id': 'bob', [IDENTITY_HEADER]: 'forged' } })).status).toBe(200);
    expect(seen[0]?.[IDENTITY_HEADER]).toBeUndefined();
    expect(seen[0]?.['x-user-id']).toBeUndefined();
  });
});

describe('metrics off the public port', () => {
  it('when /metrics is asked of the public port, then 404; the METRICS_PORT listener serves it, and nothing else', async () => {
    const gw = await gatewayInFrontOf([]);
    const publicAnswer = await call(`${gw.url}/metrics`);
    expect(publicAnswer.status).toBe(404);
    expect(publicAnswer.body).toMatchObject({ error: { code: 'ROUTE.NOT_FOUND' } });
    expect(gw.metricsPort).not.toBe(gw.port);
    const scrape = await fetch(`${gw.metricsUrl}/metrics`, { signal: AbortSignal.timeout(5_000) });
    expect(scrape.status).toBe(200);
    expect(scrape.headers.get('content-type')).toMatch(/^text\/plain/);
    await scrape.text();
    expect((await call(`${gw.metricsUrl}/api/products`)).status).toBe(404);
    expect((await call(`${gw.metricsUrl}/admin/faults`)).status).toBe(404);
  });
});
