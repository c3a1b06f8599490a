import { request as httpRequest } from 'node:http';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, call, startGateway, startStub } from './support';

/**
 * The shop at `/`: the gateway serving a storefront build (here a fake one in a temporary folder: an index.html and
 * one hashed asset, with a secret next to the folder that must never be reachable).
 */
const INDEX = '<!doctype html><title>tracemart shop</title><div id="root"></div><script type="module" src="/assets/index-C0ffee12.js"></script>';
const ASSET = 'console.log("shop");';
const SECRET = 'the-secret-next-to-the-build';
const page = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };

let root: string;
let dist: string;
const stops: (() => Promise<unknown>)[] = [];

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'tracemart-shop-'));
  dist = join(root, 'dist');
  mkdirSync(join(dist, 'assets'), { recursive: true });
  writeFileSync(join(dist, 'index.html'), INDEX);
  writeFileSync(join(dist, 'assets', 'index-C0ffee12.js'), ASSET);
  writeFileSync(join(dist, '.env'), SECRET);
  writeFileSync(join(root, 'secret.txt'), SECRET);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

async function shop(env: Record<string, string> = {}) {
  const gw = await startGateway({}, { STOREFRONT_DIR: dist, ...env });
  stops.push(gw.stop);
  return gw;
}

/** A request sent with its path exactly as written (fetch would resolve `..` and encode what it likes). */
function rawGet(base: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ hostname, port, path, method: 'GET', headers, timeout: 5_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the storefront at /', () => {
  it('when a browser opens /, then it gets index.html, revalidated on every load, with the shop security headers', async () => {
    const gw = await shop();
    const answer = await call(`${gw.url}/`, { headers: page });
    expect(answer.status).toBe(200);
    expect(answer.body).toBe(INDEX);
    expect(answer.headers.get('content-type')).toMatch(/^text\/html/);
    expect(answer.headers.get('cache-control')).toBe('no-cache');
    const csp = answer.headers.get('content-security-policy') ?? '';
    for (const directive of ["default-src 'self'", "script-src 'self'", "connect-src 'self'", "object-src 'none'", "frame-ancestors 'none'"]) expect(csp).toContain(directive);
    expect(csp).not.toContain('unsafe');
    expect(answer.headers.get('x-content-type-options')).toBe('nosniff');
    expect(answer.headers.get('referrer-policy')).toBe('same-origin');
    expect(answer.headers.get('x-powered-by')).toBeNull();
  });

  it('when a hashed asset is fetched, then it is cached for a year as immutable, with its JavaScript type', async () => {
    const gw = await shop();
    const answer = await call(`${gw.url}/assets/index-C0ffee12.js`, { headers: { accept: '*/*' } });
    expect(answer.status).toBe(200);
    expect(answer.body).toBe(ASSET);
    expect(answer.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(answer.headers.get('content-type')).toMatch(/^(text|application)\/javascript/);
    expect(answer.headers.get('etag')).toBeTruthy();
  });

  it('when a browser navigates to a client-side route, then the SPA fallback answers index.html (GET and HEAD), not cached', async () => {
    const gw = await shop();
    for (const path of ['/orders/3f1c0a52-8d9e-4c4b-9a57-0c2a3f9d1e11', '/cart', '/products?search=mug']) {
      const answer = await call(`${gw.url}${path}`, { headers: page });
      expect(answer.status, path).toBe(200);
      expect(answer.body, path).toBe(INDEX);
      expect(answer.headers.get('cache-control'), path).toBe('no-cache');
      expect(answer.headers.get('content-security-policy'), path).toContain("default-src 'self'");
    }
    const head = await fetch(`${gw.url}/orders/1`, { method: 'HEAD', headers: page });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toMatch(/^text\/html/);
  });

  it('when the request is not a page navigation, or is for the server itself, then there is no fallback: JSON 404 (or what the route says)', async () => {
    const gw = await shop();
    const notFound = async (path: string, init: RequestInit = {}) => {
      const answer = await call(`${gw.url}${path}`, init);
      expect(answer.status, `${init.method ?? 'GET'} ${path}`).toBe(404);
      expect(answer.headers.get('content-type'), path).toMatch(/^application\/json/);
      expect(answer.body, path).toMatchObject({ error: { code: 'ROUTE.NOT_FOUND' } });
    };
    await notFound('/cart', { headers: { accept: '*/*' } }); // a fetch, not a navigation
    await notFound('/cart', { headers: { accept: 'application/json' } });
    await notFound('/assets/index-missing.js', { headers: page }); // a missing script never turns into HTML
    await notFound('/api/nothing-here', { headers: page });
    await notFound('/otlp/v1/logs', { headers: page });
    await notFound('/cart', { method: 'POST', headers: page, body: '{}' });
    await notFound('/metrics', { headers: page }); // the gateway's metrics live on METRICS_PORT only
    const admin = await call(`${gw.url}/admin/faults`, { headers: page });
    expect(admin.status).toBe(401);
    expect((await call(`${gw.url}/admin/faults`, { headers: { ...page, 'x-admin-token': ADMIN_TOKEN } })).status).toBe(200);
    expect((await call(`${gw.url}/livez`, { headers: page })).body).toEqual({ status: 'alive' });
  });

  it('when a path tries to leave the folder (.., encoded .., NUL, dotfiles), then it is refused and nothing outside is read', async () => {
    const gw = await shop();
    const attempts = [
      '/../secret.txt',
      '/assets/../../secret.txt',
      '/%2e%2e/secret.txt',
      '/assets/%2e%2e/%2e%2e/secret.txt',
      '/..%2fsecret.txt',
      '/assets/..%2f..%2fsecret.txt',
      '/%2e%2e%2fsecret.txt',
      '/..%5csecret.txt',
      '/index.html%00.js',
      '/%00',
      '/.env',
      '/assets/%2e%2e%2f.env',
      `/${'..%2f'.repeat(12)}etc/passwd`,
    ];
    for (const path of attempts) {
      for (const headers of [page, { accept: '*/*' }]) {
        const answer = await rawGet(gw.url, path, headers);
        expect(answer.body, path).not.toContain(SECRET);
        expect(answer.body, path).not.toContain('root:');
        if (answer.status === 200) expect(answer.body, `${path} may only fall back to the shop`).toBe(INDEX);
        else expect(answer.status, path).toBeGreaterThanOrEqual(400);
        expect(answer.status, path).toBeLessThan(500);
      }
    }
  });

  it('when the API is rate limited, then the shop files are not; and an injected gateway outage hits the API, not the shop or its config', async () => {
    const gw = await shop({ RATE_LIMIT_PER_SECOND: '0.1', RATE_LIMIT_BURST: '2' });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await call(`${gw.url}/api/config`)).status);
    expect(statuses).toEqual([200, 200, 429, 429]);
    for (let i = 0; i < 10; i++) expect((await call(`${gw.url}/assets/index-C0ffee12.js`)).status).toBe(200);

    const open = await shop();
    const injected = await call(`${open.url}/admin/faults`, {
      method: 'POST',
      headers: { 'x-admin-token': ADMIN_TOKEN },
      body: JSON.stringify({ kind: 'outage', durationSeconds: 30 }),
    });
    expect(injected.status).toBe(201);
    expect((await call(`${open.url}/api/products`)).status).toBe(503);
    expect((await call(`${open.url}/`, { headers: page })).status).toBe(200);
    expect((await call(`${open.url}/orders/1`, { headers: page })).status).toBe(200);
    expect((await call(`${open.url}/assets/index-C0ffee12.js`)).status).toBe(200);
    expect((await call(`${open.url}/api/config`)).status).toBe(200);
  });
});

describe('no storefront build', () => {
  it('when the folder is missing, then / says "run npm run build" with 503 (HTML to a browser, JSON otherwise), not cached, and the API works', async () => {
    const service = await startStub();
    stops.push(service.close);
    const gw = await startGateway({ CATALOG_URL: service.url }, { STOREFRONT_DIR: join(root, 'not-built') });
    stops.push(gw.stop);
    const browser = await call(`${gw.url}/`, { headers: page });
    expect(browser.status).toBe(503);
    expect(browser.headers.get('content-type')).toMatch(/^text\/html/);
    expect(String(browser.body)).toContain('storefront not built: run npm run build');
    expect(browser.headers.get('cache-control')).toBe('no-store');
    const client = await call(`${gw.url}/`);
    expect(client.status).toBe(503);
    expect(client.body).toEqual({ error: { code: 'STOREFRONT.NOT_BUILT', message: 'storefront not built: run npm run build' } });
    expect((await call(`${gw.url}/orders/1`, { headers: page })).status).toBe(503);
    expect((await call(`${gw.url}/api/products`)).status).toBe(200);
    expect((await call(`${gw.url}/api/config`)).status).toBe(200);
  });

  it('when the folder has no index.html yet, then 503; once the build lands, the shop is served without a restart', async () => {
    const later = join(root, 'later');
    mkdirSync(later);
    const gw = await startGateway({}, { STOREFRONT_DIR: later });
    stops.push(gw.stop);
    expect((await call(`${gw.url}/`, { headers: page })).status).toBe(503);
    writeFileSync(join(later, 'index.html'), INDEX);
    const built = await call(`${gw.url}/cart`, { headers: page });
    expect(built.status).toBe(200);
    expect(built.body).toBe(INDEX);
  });
});
