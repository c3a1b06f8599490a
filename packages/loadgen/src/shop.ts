import { randomUUID } from 'node:crypto';
import { sleep } from './executors';
import { isGracefulRejection, json, type HttpClient, type Response } from './http';
import type { MetricStore, Tags } from './metrics';

/**
 * The shop as the k6 library (load-tests/lib/*.js) drives it, ported to the harness: the catalog
 * fixture, users, checkout with polling and the idempotency protocol, fault injection, and the
 * catalog journeys. Same request names, kinds, tags, checks and custom metrics, so a threshold
 * written for k6 reads the same numbers here.
 */

export interface Product {
  id: string;
  name: string;
  category: string;
}

export interface Catalog {
  products: Product[];
  categories: string[];
  searchTerms: string[];
}

export interface Shop {
  http: HttpClient;
  metrics: MetricStore;
  adminToken: string;
  /** Checkout polling: tries, interval, and how often a 409 IDEMPOTENCY.IN_PROGRESS is sent again. */
  poll: { tries: number; intervalS: number; inProgressRetries: number };
  /** Lines worth reading when a threshold fails (why checkouts failed), bounded. */
  log: (line: string) => void;
}

/** k6's check(): one sample per condition in the `checks` rate, tagged with the check's name. */
export function check(metrics: MetricStore, conditions: Record<string, boolean>, tags: Tags = {}): boolean {
  let all = true;
  for (const [name, ok] of Object.entries(conditions)) {
    metrics.rate('checks', ok, { ...tags, check: name });
    if (!ok) all = false;
  }
  return all;
}

export function checkTraced(shop: Shop, res: Response, tags: Tags = {}): boolean {
  return check(shop.metrics, { 'response has x-trace-id': Boolean(res.headers['x-trace-id']) }, tags);
}

export function pick<T>(list: readonly T[]): T {
  const item = list[Math.floor(Math.random() * list.length)];
  if (item === undefined) throw new Error('pick: empty list');
  return item;
}

const MAX_CATALOG_PAGES = 20;
const PAGE_SIZE = 100;

/** The catalog fixture, as load-tests/lib/data.js loadCatalog(): fails with an actionable message. */
export async function loadCatalog(shop: Shop): Promise<Catalog> {
  const probe = await shop.http.get('/api/products?limit=1', {
    name: 'GET /api/products',
    kind: 'setup',
    timeoutMs: 5_000,
    expected: Array.from({ length: 400 }, (_, i) => 200 + i),
  });
  if (probe.status === 0)
    throw new Error(
      `BASE_URL ${shop.http.baseUrl} is unreachable (${probe.error}). Start the stack with \`npm start\` or point BASE_URL at a running gateway on a loopback address.`,
    );
  if (probe.status !== 200) throw new Error(`BASE_URL ${shop.http.baseUrl} answered GET /api/products with ${probe.status}: ${probe.body.slice(0, 200)}`);
  const products: Product[] = [];
  let total = Infinity;
  for (let page = 1; page <= MAX_CATALOG_PAGES && products.length < total; page++) {
    const res = await shop.http.get(`/api/products?page=${page}&limit=${PAGE_SIZE}`, { name: 'GET /api/products', kind: 'setup' });
    const body = json<{ items?: Product[]; total?: number }>(res);
    if (res.status !== 200 || !body || !Array.isArray(body.items)) throw new Error(`setup: GET /api/products page ${page} answered ${res.status}, expected {items,total}`);
    if (body.items.length === 0) break;
    total = typeof body.total === 'number' ? body.total : products.length + body.items.length;
    for (const p of body.items) products.push({ id: p.id, name: p.name, category: p.category });
  }
  if (products.length === 0) throw new Error('setup: the catalog is empty; seed it before running load tests');
  const categories = [...new Set(products.map((p) => p.category).filter(Boolean))];
  const searchTerms = [...new Set(products.map((p) => String(p.name || '').split(/\s+/)[0] ?? '').filter((w) => w.length > 2))];
  return { products, categories, searchTerms: searchTerms.length > 0 ? searchTerms : ['a'] };
}

const PASSWORD = 'Load-test-pass-1';

export interface Credentials {
  email: string;
  password: string;
  name: string;
}

export function uniqueEmail(label: string, vu = 0): string {
  return `harness-${label}-${Date.now().toString(36)}-${vu}-${Math.random().toString(36).slice(2, 8)}@load.tracemart.test`;
}

export async function register(shop: Shop, label: string, tags: Tags = {}, vu = 0): Promise<Credentials | null> {
  const creds = { email: uniqueEmail(label, vu), password: PASSWORD, name: `harness ${label}` };
  const res = await shop.http.post('/api/users/register', creds, { name: 'POST /api/users/register', kind: 'auth', tags });
  return check(shop.metrics, { 'register: 201': res.status === 201 }, tags) ? creds : null;
}

export async function login(shop: Shop, creds: Pick<Credentials, 'email' | 'password'>, tags: Tags = {}): Promise<string | null> {
  const res = await shop.http.post('/api/users/login', { email: creds.email, password: creds.password }, { name: 'POST /api/users/login', kind: 'auth', tags });
  const body = json<{ token?: string }>(res);
  const ok = check(shop.metrics, { 'login: 200 with token': res.status === 200 && Boolean(body?.token) }, tags);
  return ok && body?.token ? body.token : null;
}

export interface PoolUser {
  creds: Credentials;
  token: string;
}

/** `size` logged-in users for checkouts; fails when none could be made. */
export async function createUserPool(shop: Shop, size: number): Promise<PoolUser[]> {
  const pool: PoolUser[] = [];
  for (let i = 0; i < size; i++) {
    const creds = await register(shop, 'pool', { kind: 'setup' });
    const token = creds ? await login(shop, creds, { kind: 'setup' }) : null;
    if (creds && token) pool.push({ creds, token });
  }
  if (pool.length === 0) throw new Error('setup: could not register and log in any user (POST /api/users/register, /login)');
  return pool;
}

export interface Session {
  readonly token: string;
  refresh: () => Promise<string | null>;
}

/** The pool user of VU `vu` (1-based), as load-tests/lib/auth.js sessionFor(). */
export function sessionFor(shop: Shop, pool: PoolUser[], vu: number): Session {
  const user = pool[(vu - 1) % pool.length];
  if (!user) throw new Error('sessionFor: empty pool');
  return {
    get token() {
      return user.token;
    },
    async refresh() {
      const token = await login(shop, user.creds);
      if (token) user.token = token;
      return token;
    },
  };
}

/** One or two distinct products, quantity 1. */
export function randomItems(products: Product[]): { productId: string; quantity: number }[] {
  const first = pick(products);
  const items = [{ productId: first.id, quantity: 1 }];
  if (products.length > 1 && Math.random() < 0.3) {
    const second = pick(products);
    if (second.id !== first.id) items.push({ productId: second.id, quantity: 1 });
  }
  return items;
}

export interface Order {
  id: string;
  status: string;
  reason?: unknown;
  totalCents?: number;
}

export type Outcome = 'confirmed' | 'out_of_stock' | 'declined' | 'cancelled' | 'rejected' | 'timeout' | 'error';

function classify(order: Order | null): Outcome {
  if (!order || order.status === 'PENDING') return 'timeout';
  if (order.status === 'CONFIRMED') return 'confirmed';
  const reason = JSON.stringify(order.reason ?? '');
  if (/OUT_OF_STOCK|INSUFFICIENT_STOCK/i.test(reason)) return 'out_of_stock';
  if (/DECLIN/i.test(reason)) return 'declined';
  return 'cancelled';
}

const isInProgress = (res: Response) => res.status === 409 && json<{ error?: { code?: string } }>(res)?.error?.code === 'IDEMPOTENCY.IN_PROGRESS';
const retryAfterS = (res: Response) => {
  const value = Number(res.headers['retry-after']);
  return Number.isFinite(value) && value > 0 ? Math.min(value, 5) : 1;
};

export async function pollOrder(shop: Shop, id: string, token: string, tags: Tags, signal?: AbortSignal): Promise<Order | null> {
  let order: Order | null = null;
  for (let attempt = 0; attempt < shop.poll.tries; attempt++) {
    await sleep(shop.poll.intervalS * 1000, signal);
    const res = await shop.http.get(`/api/orders/${encodeURIComponent(id)}`, { name: 'GET /api/orders/:id', kind: 'order-read', token, tags, expected: [200, 404] });
    if (res.status !== 200) continue;
    order = json<Order>(res);
    if (order && order.status !== 'PENDING') break;
  }
  return order;
}

export interface CheckoutOptions {
  items: { productId: string; quantity: number }[];
  paymentToken?: string;
  tags?: Tags;
  idempotencyKey?: string;
  expected?: number[];
  recordSuccess?: boolean;
  signal?: AbortSignal;
}

export interface CheckoutResult {
  outcome: Outcome;
  res: Response;
  order: Order | null;
  id: string | null;
}

/** POST /api/orders, then poll to a terminal status: load-tests/lib/checkout.js checkout(). */
export async function checkout(shop: Shop, session: Session, opts: CheckoutOptions): Promise<CheckoutResult> {
  const { items, paymentToken = 'tok_visa', tags = {}, recordSuccess = true } = opts;
  const idempotencyKey = opts.idempotencyKey ?? randomUUID();
  const send = () =>
    shop.http.post(
      '/api/orders',
      { items, paymentToken },
      {
        name: 'POST /api/orders',
        kind: 'checkout',
        token: session.token,
        tags,
        headers: { 'idempotency-key': idempotencyKey },
        // 409 IN_PROGRESS is part of the idempotency protocol (retried below), not a failure.
        expected: [...(opts.expected ?? [202]), 409],
      },
    );
  const started = performance.now();
  let res = await send();
  if (res.status === 401 && (await session.refresh())) res = await send();
  for (let retry = 0; retry < shop.poll.inProgressRetries && isInProgress(res); retry++) {
    await sleep(retryAfterS(res) * 1000, opts.signal);
    res = await send();
  }
  const accepted = json<{ id?: string }>(res);
  check(shop.metrics, { 'checkout: 202 PENDING with id': res.status === 202 && Boolean(accepted?.id) }, tags);
  let outcome: Outcome;
  let order: Order | null = null;
  if (res.status === 202 && accepted?.id) {
    order = await pollOrder(shop, accepted.id, session.token, tags, opts.signal);
    outcome = classify(order);
    if (outcome !== 'timeout') shop.metrics.trend('tracemart_checkout_time_to_terminal', performance.now() - started, tags);
  } else {
    outcome = res.status === 503 || res.status === 429 ? 'rejected' : 'error';
  }
  if (outcome !== 'confirmed' && outcome !== 'out_of_stock') {
    shop.log(
      `checkout ${outcome} (phase ${tags.phase ?? '-'}): HTTP ${res.status} ${res.error ?? res.body.slice(0, 160)}${order ? ` order ${order.status} ${JSON.stringify(order.reason ?? '')}` : ''}`,
    );
  }
  shop.metrics.counter('tracemart_checkout_outcomes', 1, { ...tags, outcome });
  if (recordSuccess) shop.metrics.rate('tracemart_checkout_success', outcome === 'confirmed' || outcome === 'out_of_stock', tags);
  return { outcome, res, order, id: accepted?.id ?? null };
}

/** The error body names the dependency that is down: `details.dependency`, or the message. */
export function namesService(res: Response, service: string): boolean {
  const error = json<{ error?: { message?: string; details?: { dependency?: string } } }>(res)?.error;
  if (!error) return false;
  return error.details?.dependency === service || String(error.message ?? '').includes(service);
}

export { isGracefulRejection };

const admin = (shop: Shop) => ({ 'x-admin-token': shop.adminToken });

export interface FaultSpec {
  service: string;
  kind: string;
  durationSeconds: number;
  latencyMs?: number;
  errorRate?: number;
  route?: string;
}

/** POST /admin/faults; the fault id, or null. */
export async function injectFault(shop: Shop, spec: FaultSpec, tags: Tags = {}): Promise<string | null> {
  const res = await shop.http.post('/admin/faults', spec, { name: 'POST /admin/faults', kind: 'admin', headers: admin(shop), tags, expected: [201] });
  const body = json<{ id?: string }>(res);
  const ok = check(shop.metrics, { 'fault injected: 201 with id': res.status === 201 && Boolean(body?.id) }, tags);
  if (!ok) shop.log(`fault injection failed: ${res.status} ${res.body.slice(0, 200)}`);
  return ok && body?.id ? body.id : null;
}

export interface Fault {
  id?: string;
  service?: string;
  kind?: string;
}

export async function listFaults(shop: Shop, tags: Tags = {}): Promise<{ res: Response; faults: Fault[] }> {
  const res = await shop.http.get('/admin/faults', { name: 'GET /admin/faults', kind: 'admin', headers: admin(shop), tags });
  const body = json<Fault[] | { items?: Fault[]; faults?: Fault[] }>(res);
  if (res.status !== 200 || !body) return { res, faults: [] };
  return { res, faults: Array.isArray(body) ? body : (body.items ?? body.faults ?? []) };
}

export async function clearFaultsMatching(shop: Shop, service: string, kind: string): Promise<void> {
  const { faults } = await listFaults(shop, { kind: 'admin' });
  for (const fault of faults.slice(0, 50)) {
    if (fault.id && fault.service === service && fault.kind === kind) {
      const res = await shop.http.del(`/admin/faults/${encodeURIComponent(fault.id)}`, {
        name: 'DELETE /admin/faults/:id',
        kind: 'admin',
        headers: admin(shop),
        expected: [200, 204, 404],
      });
      check(shop.metrics, { 'fault cleared': [200, 204, 404].includes(res.status) });
    }
  }
}

const JOURNEY_PAGE_SIZE = 20;

/**
 * The catalog requests of load-tests/lib/journeys.js as single requests, for an autocannon stream:
 * browse, browse, search, view (product, then its stock) drawn as the k6 catalog traffic draws them,
 * each request with its `journey` tag and the checks the journey makes.
 */
export function catalogRequestMix(catalog: Catalog): () => { name: string; path: string; tags: Tags } {
  const pages = Math.max(1, Math.ceil(catalog.products.length / JOURNEY_PAGE_SIZE));
  const browse = () => {
    const category = Math.random() < 0.5 && catalog.categories.length > 0 ? pick(catalog.categories) : '';
    const query = category ? `category=${encodeURIComponent(category)}&page=1` : `page=${1 + Math.floor(Math.random() * pages)}`;
    return { name: 'GET /api/products', path: `/api/products?${query}&limit=${JOURNEY_PAGE_SIZE}`, tags: { journey: 'browse' } };
  };
  const search = () => ({
    name: 'GET /api/products?search',
    path: `/api/products?search=${encodeURIComponent(pick(catalog.searchTerms))}&limit=${JOURNEY_PAGE_SIZE}`,
    tags: { journey: 'search' },
  });
  const product = (p: Product) => ({ name: 'GET /api/products/:id', path: `/api/products/${encodeURIComponent(p.id)}`, tags: { journey: 'view' } });
  const stock = (p: Product) => ({ name: 'GET /api/inventory/:productId', path: `/api/inventory/${encodeURIComponent(p.id)}`, tags: { journey: 'view' } });
  // Per request, as k6 draws per iteration from [browse, browse, search, view] and view makes two
  // requests: 2/5 browse, 1/5 search, 1/5 product, 1/5 stock.
  return () => {
    const roll = Math.floor(Math.random() * 5);
    if (roll < 2) return browse();
    if (roll === 2) return search();
    const p = pick(catalog.products);
    return roll === 3 ? product(p) : stock(p);
  };
}

/**
 * One checkout under faults: POST /api/orders with one Idempotency-Key, sent again (same key, same body) after no
 * answer, a 5xx, a 429 or a 409 in progress, up to `tries` times with a growing pause. The key makes every retry land on
 * the same order. Returns the order id of the 202, or undefined; `onAnswer` sees every status.
 */
export async function checkoutWithRetries(
  client: HttpClient,
  token: string,
  body: { items: { productId: string; quantity: number }[]; paymentToken: string },
  options: { tries: number; signal?: AbortSignal | undefined; onAnswer?: (status: number) => void },
): Promise<string | undefined> {
  const key = randomUUID();
  for (let attempt = 1; attempt <= options.tries; attempt++) {
    const res = await client.post('/api/orders', body, {
      name: 'POST /api/orders',
      kind: 'checkout',
      token,
      headers: { 'idempotency-key': key },
      expected: [202],
      timeoutMs: 10_000,
    });
    options.onAnswer?.(res.status);
    const id = res.status === 202 ? json<{ id?: string }>(res)?.id : undefined;
    if (id) return id;
    if (!(res.status === 0 || res.status >= 500 || res.status === 429 || res.status === 409)) return undefined;
    await sleep(300 * attempt, options.signal);
  }
  return undefined;
}
