import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IDENTITY_HEADER, signAccessToken, signIdentityAssertion } from '../src/auth';
import { createBaseApp, finishApp } from '../src/http/app';
import { callerId, requireCaller } from '../src/http/identity';
import { listen, type RunningServer } from '../src/http/server';
import { createLogger } from '../src/logger';

/**
 * The platform's HTTP scaffold names a request's caller only from the gateway's identity assertion: signed with
 * INTERNAL_AUTH_SECRET, for the internal audience, unexpired, made for this very request id.
 */
const secret = 'internal-secret-for-the-platform-test-0123456789';
let withSecret: RunningServer;
let withoutSecret: RunningServer;

async function serve(identitySecret: string | undefined): Promise<RunningServer> {
  const logger = createLogger('identity-test', 'silent');
  const app = createBaseApp({ logger, readiness: { ready: true, checks: {} }, ...(identitySecret ? { identitySecret } : {}) });
  app.get('/me', (req, res) => {
    res.json({ caller: requireCaller(req) });
  });
  app.get('/public', (req, res) => {
    res.json({ caller: callerId(req) ?? null });
  });
  finishApp(app, logger);
  return listen(app, 0, '127.0.0.1');
}

beforeAll(async () => {
  withSecret = await serve(secret);
  withoutSecret = await serve(undefined);
});
afterAll(async () => {
  await withSecret?.close();
  await withoutSecret?.close();
});

async function get(server: RunningServer, path: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${server.url}${path}`, { headers, signal: AbortSignal.timeout(5_000) });
  return { status: response.status, wwwAuthenticate: response.headers.get('www-authenticate'), body: (await response.json()) as Record<string, unknown> };
}

/** An assertion as the gateway makes it, with one thing changed. */
async function assertion(change: { issuer?: string; audience?: string; expiresAt?: number; key?: string; alg?: string; sub?: string; rid?: string | number } = {}) {
  const requestId = randomUUID();
  const token = await new SignJWT({ rid: change.rid ?? requestId })
    .setProtectedHeader({ alg: change.alg ?? 'HS256' })
    .setSubject(change.sub ?? 'alice')
    .setIssuer(change.issuer ?? 'tracemart-gateway')
    .setAudience(change.audience ?? 'tracemart-internal')
    .setIssuedAt()
    .setExpirationTime(change.expiresAt ?? Math.floor(Date.now() / 1000) + 60)
    .sign(new TextEncoder().encode(change.key ?? secret));
  return { 'x-request-id': requestId, [IDENTITY_HEADER]: token };
}

describe('the caller of a request', () => {
  it('when the gateway asserts a user for this request, then that user is the caller', async () => {
    const requestId = randomUUID();
    const headers = { 'x-request-id': requestId, [IDENTITY_HEADER]: signIdentityAssertion({ sub: 'alice', requestId }, secret) };
    expect(await get(withSecret, '/me', headers)).toMatchObject({ status: 200, body: { caller: 'alice' } });
    // The same bytes again (a retry by the gateway): the same answer, from the verified-token cache.
    expect(await get(withSecret, '/me', headers)).toMatchObject({ status: 200, body: { caller: 'alice' } });
    expect((await get(withSecret, '/me', await assertion())).body).toEqual({ caller: 'alice' });
  });

  it('when a request has no assertion, then a route needing a caller answers 401 with WWW-Authenticate, and one that does not answers without a caller', async () => {
    const none = await get(withSecret, '/me');
    expect(none).toMatchObject({ status: 401, body: { error: { code: 'AUTH.REQUIRED' } } });
    expect(none.wwwAuthenticate).toMatch(/^Bearer/);
    expect(await get(withSecret, '/public')).toMatchObject({ status: 200, body: { caller: null } });
  });

  it('when a request names a user in a bare x-user-id, then it has no caller', async () => {
    expect(await get(withSecret, '/me', { 'x-user-id': 'alice' })).toMatchObject({ status: 401, body: { error: { code: 'AUTH.REQUIRED' } } });
    expect(await get(withSecret, '/public', { 'x-user-id': 'alice' })).toMatchObject({ status: 200, body: { caller: null } });
  });

  const inAMinute = () => Math.floor(Date.now() / 1000) + 60;
  const refused: [string, () => Promise<Record<string, string>>, string][] = [
    ['signed with another secret', () => assertion({ key: 'another-secret-that-is-long-enough-0123456789' }), 'AUTH.INVALID_IDENTITY'],
    ['expired', () => assertion({ expiresAt: Math.floor(Date.now() / 1000) - 30 }), 'AUTH.IDENTITY_EXPIRED'],
    ['for another audience', () => assertion({ audience: 'tracemart' }), 'AUTH.INVALID_IDENTITY'],
    ['from another issuer', () => assertion({ issuer: 'tracemart-user' }), 'AUTH.INVALID_IDENTITY'],
    ['with another algorithm', () => assertion({ alg: 'HS512', key: secret.repeat(2) }), 'AUTH.INVALID_IDENTITY'],
    ['without a request id', () => assertion({ rid: 7 }), 'AUTH.INVALID_IDENTITY'],
    ['with an empty subject', () => assertion({ sub: '' }), 'AUTH.INVALID_IDENTITY'],
    ['made for another request', async () => ({ ...(await assertion()), 'x-request-id': randomUUID() }), 'AUTH.INVALID_IDENTITY'],
    ['sent without its request id', async () => ({ [IDENTITY_HEADER]: (await assertion())[IDENTITY_HEADER] ?? '' }), 'AUTH.INVALID_IDENTITY'],
    [
      'an access token signed with the same secret',
      async () => ({ 'x-request-id': 'r1', [IDENTITY_HEADER]: await signAccessToken({ sub: 'alice', name: 'A' }, secret, 60) }),
      'AUTH.INVALID_IDENTITY',
    ],
    [
      'edited after signing',
      async () => {
        const headers = await assertion();
        const [head, , signature] = (headers[IDENTITY_HEADER] ?? '').split('.');
        const payload = Buffer.from(
          JSON.stringify({ sub: 'mallory', rid: headers['x-request-id'], iss: 'tracemart-gateway', aud: 'tracemart-internal', exp: inAMinute() }),
        ).toString('base64url');
        return { ...headers, [IDENTITY_HEADER]: `${head}.${payload}.${signature}` };
      },
      'AUTH.INVALID_IDENTITY',
    ],
    ['not a JWT at all', async () => ({ 'x-request-id': 'r1', [IDENTITY_HEADER]: 'alice' }), 'AUTH.INVALID_IDENTITY'],
  ];
  it.each(refused)('when the assertion is %s, then 401 with WWW-Authenticate, on every route', async (_what, headersOf, code) => {
    const headers = await headersOf();
    for (const path of ['/me', '/public']) {
      const answer = await get(withSecret, path, headers);
      expect(answer, path).toMatchObject({ status: 401, body: { error: { code } } });
      expect(answer.wwwAuthenticate, path).toMatch(/^Bearer/);
    }
  });

  it('when the app has no identity secret, then even a well-made assertion names no caller', async () => {
    expect(await get(withoutSecret, '/me', await assertion())).toMatchObject({ status: 401, body: { error: { code: 'AUTH.REQUIRED' } } });
  });
});
