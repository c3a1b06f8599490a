// What one simulated shopper does in one iteration, and the weighted mix the load-shaped suites
// (load, stress, spike, soak) draw from. Each request is tagged with its `journey`.
import { check } from 'k6';
import { checkTraced, get, isGracefulRejection } from './api.js';
import { createUserPool, me, registerAndLogin, sessionFor } from './auth.js';
import { checkout, randomItems } from './checkout.js';
import { envInt, envString } from './config.js';
import { loadCatalog, pick } from './data.js';

const PAGE_SIZE = 20;

function ok200(res, label, tags) {
  checkTraced(res, tags);
  return check(res, { [`${label}: 200`]: (r) => r.status === 200 }, tags);
}

export function browse(data, tags) {
  const t = { ...tags, journey: 'browse' };
  const pages = Math.max(1, Math.ceil(data.products.length / PAGE_SIZE));
  const page = 1 + Math.floor(Math.random() * pages);
  const category = Math.random() < 0.5 && data.categories.length > 0 ? pick(data.categories) : '';
  const query = category ? `category=${encodeURIComponent(category)}&page=1` : `page=${page}`;
  const res = get(`/api/products?${query}&limit=${PAGE_SIZE}`, { name: 'GET /api/products', kind: 'catalog', tags: t });
  ok200(res, 'browse', t);
  return res;
}

export function search(data, tags) {
  const t = { ...tags, journey: 'search' };
  const term = pick(data.searchTerms);
  const res = get(`/api/products?search=${encodeURIComponent(term)}&limit=${PAGE_SIZE}`, {
    name: 'GET /api/products?search',
    kind: 'catalog',
    tags: t,
  });
  ok200(res, 'search', t);
  return res;
}

export function viewProduct(data, tags) {
  const t = { ...tags, journey: 'view' };
  const product = pick(data.products);
  const res = get(`/api/products/${encodeURIComponent(product.id)}`, {
    name: 'GET /api/products/:id',
    kind: 'catalog',
    tags: t,
  });
  ok200(res, 'product', t);
  const stock = get(`/api/inventory/${encodeURIComponent(product.id)}`, {
    name: 'GET /api/inventory/:productId',
    kind: 'catalog',
    tags: t,
  });
  ok200(stock, 'inventory', t);
  return res;
}

export function account(data, tags) {
  const t = { ...tags, journey: 'account' };
  const user = registerAndLogin('shopper', t);
  if (!user) return null;
  const res = me(user.token, t);
  ok200(res, 'me', t);
  return res;
}

export function checkoutJourney(data, tags) {
  const t = { ...tags, journey: 'checkout' };
  const result = checkout(sessionFor(data.pool), { items: randomItems(data.products), tags: t });
  checkTraced(result.res, t);
  check(result.res, { 'checkout: rejection carries Retry-After': (r) => r.status === 202 || isGracefulRejection(r) }, t);
  return result;
}

export const JOURNEYS = { browse, search, view: viewProduct, account, checkout: checkoutJourney };

const DEFAULT_MIX = 'browse=40,search=20,view=20,account=5,checkout=15';

/** Parses "browse=40,search=20,..." (env LOAD_MIX) into cumulative weights. */
export function parseMix(text = envString('LOAD_MIX', DEFAULT_MIX)) {
  let total = 0;
  const entries = String(text)
    .split(',')
    .map((part) => part.trim().split('='))
    .map(([name, weight]) => {
      const w = Number(weight);
      if (!JOURNEYS[name] || !Number.isFinite(w) || w < 0) {
        throw new Error(`LOAD_MIX: "${name}=${weight}" is not <journey>=<weight>; journeys: ${Object.keys(JOURNEYS).join(', ')}`);
      }
      total += w;
      return { name, upTo: total };
    });
  if (total <= 0) throw new Error('LOAD_MIX: weights must add up to more than 0');
  return entries.map((e) => ({ name: e.name, upTo: e.upTo / total }));
}

/** Runs one journey drawn from the mix. */
export function runMix(data, mix, tags = {}) {
  const roll = Math.random();
  const entry = mix.find((e) => roll < e.upTo) || mix[mix.length - 1];
  return JOURNEYS[entry.name](data, tags);
}

/** setup() for the mix-driven suites: catalog + a pool of logged-in shoppers. */
export function setupShop() {
  const catalog = loadCatalog();
  const pool = createUserPool(envInt('USER_POOL', 20, { min: 1, max: 200 }));
  return { ...catalog, pool };
}

/** Thresholds shared by the steady-traffic suites. */
export function steadyThresholds({ catalogP95 = 300, checkoutP95 = 800 } = {}) {
  return {
    http_req_failed: ['rate<0.01'],
    checks: ['rate>0.99'],
    'http_req_duration{kind:catalog}': [`p(95)<${catalogP95}`],
    'http_req_duration{name:POST /api/orders}': [`p(95)<${checkoutP95}`],
    tracemart_checkout_success: ['rate>=0.99'],
  };
}
