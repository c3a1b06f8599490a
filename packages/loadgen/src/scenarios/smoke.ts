import { randomUUID } from 'node:crypto';
import { sleep } from '../executors';
import { json, type Response } from '../http';
import { smokePlan } from '../scenario-file';
import { check, checkTraced, checkout, listFaults, loadCatalog, login, register, type Catalog, type Product, type Shop } from '../shop';
import { createShop, finish, scenarioFileOf, type ScenarioOptions, type ScenarioRun } from './common';

/**
 * Smoke, as load-tests/smoke.js: one shopper touches every public endpoint once, including a checkout
 * that must end CONFIRMED and one with a declined card that must end CANCELLED. Same requests, same
 * check names, thresholds from load-tests/scenarios.json (`checks` rate==1: any failed check fails).
 */

function expectStatus(shop: Shop, res: Response, label: string, status: number): boolean {
  checkTraced(shop, res);
  return check(shop.metrics, { [`${label}: ${status}`]: res.status === status });
}

function expectErrorShape(shop: Shop, res: Response, label: string): boolean {
  const body = json<{ error?: { code?: unknown; message?: unknown } }>(res);
  return check(shop.metrics, { [`${label}: body is {error:{code,message}}`]: typeof body?.error?.code === 'string' && typeof body.error.message === 'string' });
}

interface Page {
  items?: { id?: string; category?: string; priceCents?: unknown }[];
  total?: unknown;
}

/** A product with stock, so the happy checkout can end CONFIRMED rather than OUT_OF_STOCK. */
async function productInStock(shop: Shop, products: Product[]): Promise<Product> {
  for (const product of products.slice(0, 30)) {
    const res = await shop.http.get(`/api/inventory/${encodeURIComponent(product.id)}`, { name: 'GET /api/inventory/:productId', kind: 'catalog' });
    const body = json<{ available?: number }>(res);
    if (res.status === 200 && (body?.available ?? 0) >= 2) return product;
  }
  const first = products[0];
  if (!first) throw new Error('smoke: no products');
  return first;
}

async function tour(shop: Shop, data: Catalog, signal: AbortSignal): Promise<void> {
  const product = data.products[0];
  if (!product) throw new Error('smoke: no products');
  const { http, metrics } = shop;

  // catalog
  const list = await http.get('/api/products?page=1&limit=10', { name: 'GET /api/products', kind: 'catalog' });
  const listBody = json<Page>(list);
  expectStatus(shop, list, 'list products', 200);
  check(metrics, {
    'list products: items with integer priceCents': Array.isArray(listBody?.items) && (listBody?.items ?? []).every((p) => Number.isInteger(p.priceCents)),
    'list products: total is a number': typeof listBody?.total === 'number',
  });
  const category = data.categories[0] ?? '';
  const byCategory = await http.get(`/api/products?category=${encodeURIComponent(category)}&page=1&limit=10`, { name: 'GET /api/products', kind: 'catalog' });
  const categoryBody = json<Page>(byCategory);
  expectStatus(shop, byCategory, 'filter by category', 200);
  check(metrics, { 'filter by category: only that category': (categoryBody?.items?.length ?? 0) > 0 && (categoryBody?.items ?? []).every((p) => p.category === category) });
  const term = data.searchTerms[0] ?? 'a';
  const found = await http.get(`/api/products?search=${encodeURIComponent(term)}&limit=10`, { name: 'GET /api/products?search', kind: 'catalog' });
  expectStatus(shop, found, 'search', 200);
  check(metrics, { 'search: finds something': (json<Page>(found)?.items?.length ?? 0) > 0 });
  const one = await http.get(`/api/products/${encodeURIComponent(product.id)}`, { name: 'GET /api/products/:id', kind: 'catalog' });
  expectStatus(shop, one, 'get product', 200);
  check(metrics, { 'get product: same id': json<{ id?: string }>(one)?.id === product.id });
  // 24 hex digits: a well-formed id whatever the id scheme, so the answer is "not found".
  const missing = await http.get('/api/products/000000000000000000000000', { name: 'GET /api/products/:id', kind: 'catalog', expected: [404] });
  expectStatus(shop, missing, 'unknown product', 404);
  expectErrorShape(shop, missing, 'unknown product');
  const stock = await http.get(`/api/inventory/${encodeURIComponent(product.id)}`, { name: 'GET /api/inventory/:productId', kind: 'catalog' });
  const stockBody = json<{ available?: unknown; reserved?: unknown }>(stock);
  expectStatus(shop, stock, 'inventory', 200);
  check(metrics, { 'inventory: available and reserved are integers': Number.isInteger(stockBody?.available) && Number.isInteger(stockBody?.reserved) });

  // account
  const creds = await register(shop, 'smoke');
  if (!creds) return;
  const duplicate = await http.post('/api/users/register', creds, { name: 'POST /api/users/register', kind: 'auth', expected: [409] });
  expectStatus(shop, duplicate, 'duplicate register', 409);
  expectErrorShape(shop, duplicate, 'duplicate register');
  const token = await login(shop, creds);
  if (!token) return;
  const profile = await http.get('/api/users/me', { name: 'GET /api/users/me', kind: 'auth', token });
  expectStatus(shop, profile, 'me', 200);
  check(metrics, { 'me: same email': json<{ email?: string }>(profile)?.email === creds.email });
  const anonymous = await http.get('/api/users/me', { name: 'GET /api/users/me', kind: 'auth', expected: [401] });
  expectStatus(shop, anonymous, 'me without token', 401);
  const session = { token, refresh: async () => null };

  // checkout
  const target = await productInStock(shop, data.products);
  const key = randomUUID();
  const happy = await checkout(shop, session, { items: [{ productId: target.id, quantity: 1 }], idempotencyKey: key, signal });
  checkTraced(shop, happy.res);
  check(metrics, {
    'checkout tok_visa: CONFIRMED': happy.outcome === 'confirmed',
    'checkout tok_visa: integer totalCents': Number.isInteger(happy.order?.totalCents),
  });
  const replay = await http.post(
    '/api/orders',
    { items: [{ productId: target.id, quantity: 1 }], paymentToken: 'tok_visa' },
    {
      name: 'POST /api/orders',
      kind: 'checkout',
      token,
      headers: { 'idempotency-key': key },
      expected: [200, 201, 202],
    },
  );
  check(metrics, { 'idempotent replay: same order id': json<{ id?: string }>(replay)?.id === happy.id && happy.id !== null });
  const declined = await checkout(shop, session, { items: [{ productId: target.id, quantity: 1 }], paymentToken: 'tok_chargeDeclined', recordSuccess: false, signal });
  check(metrics, { 'checkout tok_chargeDeclined: CANCELLED with a reason': declined.order?.status === 'CANCELLED' && Boolean(declined.order.reason) });
  // The order list is a read model fed by the saga's events: it may trail the terminal status by a moment.
  const bothListed = (res: Response) => Boolean(happy.id && declined.id && res.body.includes(happy.id) && res.body.includes(declined.id));
  let mine = await http.get('/api/orders', { name: 'GET /api/orders', kind: 'order-read', token });
  for (let attempt = 1; attempt < 10 && mine.status === 200 && !bothListed(mine); attempt++) {
    await sleep(300, signal);
    mine = await http.get('/api/orders', { name: 'GET /api/orders', kind: 'order-read', token });
  }
  expectStatus(shop, mine, 'list orders', 200);
  check(metrics, { 'list orders: both orders listed': bothListed(mine) });
  const notes = await http.get('/api/notifications', { name: 'GET /api/notifications', kind: 'notifications', token });
  expectStatus(shop, notes, 'notifications', 200);
  check(metrics, { 'notifications: JSON body': json(notes) !== null });

  // admin
  const { res } = await listFaults(shop);
  expectStatus(shop, res, 'list faults', 200);
}

export async function runSmoke(options: ScenarioOptions): Promise<ScenarioRun> {
  const file = scenarioFileOf(options);
  const plan = smokePlan(file, options.env ?? {});
  const { shop, metrics, log } = createShop(options, plan.poll);
  const startedAt = new Date();
  const signal = AbortSignal.any([AbortSignal.timeout(plan.maxDurationS * 1000), ...(options.signal ? [options.signal] : [])]);
  try {
    const data = await loadCatalog(shop);
    options.progress?.(`smoke: catalog of ${data.products.length} products; touring every endpoint`);
    try {
      await tour(shop, data, signal);
    } catch (err) {
      // An interrupted tour is a failed check, as k6 counts an iteration cut by maxDuration.
      check(metrics, { 'tour finished within maxDuration': false });
      log.add(`tour stopped: ${err instanceof Error ? err.message : String(err)}`);
    }
  } finally {
    await shop.http.close();
  }
  return finish('smoke', options, { metrics, thresholds: plan.thresholds, startedAt, settings: { maxDurationS: plan.maxDurationS, poll: plan.poll }, log });
}
