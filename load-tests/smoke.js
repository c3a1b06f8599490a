// Smoke: one shopper touches every public endpoint once, including a checkout that must end
// CONFIRMED and one with a declined card that must end CANCELLED. Any failed check fails the run.
import { check, group, sleep } from 'k6';
import { checkTraced, get, json, post } from './lib/api.js';
import { me, register, login } from './lib/auth.js';
import { checkout } from './lib/checkout.js';
import { SUMMARY_TREND_STATS, setting, thresholdsFrom } from './lib/config.js';
import { loadCatalog } from './lib/data.js';
import { listFaults } from './lib/faults.js';
import { summaryHandler } from './lib/summary.js';

// Shared with the Node harness (@tracemart/loadgen), which runs the same tour in CI.
const SCENARIOS = JSON.parse(open('./scenarios.json'));
const POLL = {
  pollTries: setting(SCENARIOS.checkout.pollTries),
  pollIntervalS: setting(SCENARIOS.checkout.pollIntervalS),
};

export const options = {
  scenarios: {
    smoke: { executor: 'shared-iterations', vus: 1, iterations: 1, maxDuration: SCENARIOS.smoke.maxDuration },
  },
  tags: { suite: 'smoke' },
  summaryTrendStats: SUMMARY_TREND_STATS,
  thresholds: thresholdsFrom(SCENARIOS.smoke.thresholds, {}),
};

export function setup() {
  return loadCatalog();
}

function expectStatus(res, label, status) {
  checkTraced(res);
  return check(res, { [`${label}: ${status}`]: (r) => r.status === status });
}

function expectErrorShape(res, label) {
  const body = json(res);
  return check(res, {
    [`${label}: body is {error:{code,message}}`]: () => Boolean(body && body.error && typeof body.error.code === 'string' && typeof body.error.message === 'string'),
  });
}

/** A product with stock, so the happy checkout can end CONFIRMED rather than OUT_OF_STOCK. */
function productInStock(products) {
  for (const product of products.slice(0, 30)) {
    const res = get(`/api/inventory/${encodeURIComponent(product.id)}`, {
      name: 'GET /api/inventory/:productId',
      kind: 'catalog',
    });
    const body = json(res);
    if (res.status === 200 && body && body.available >= 2) return product;
  }
  return products[0];
}

export default function (data) {
  const product = data.products[0];

  group('catalog', () => {
    const list = get('/api/products?page=1&limit=10', { name: 'GET /api/products', kind: 'catalog' });
    const listBody = json(list);
    expectStatus(list, 'list products', 200);
    check(list, {
      'list products: items with integer priceCents': () => Boolean(listBody && Array.isArray(listBody.items) && listBody.items.every((p) => Number.isInteger(p.priceCents))),
      'list products: total is a number': () => Boolean(listBody && typeof listBody.total === 'number'),
    });

    const category = data.categories[0];
    const byCategory = get(`/api/products?category=${encodeURIComponent(category)}&page=1&limit=10`, {
      name: 'GET /api/products',
      kind: 'catalog',
    });
    const categoryBody = json(byCategory);
    expectStatus(byCategory, 'filter by category', 200);
    check(byCategory, {
      'filter by category: only that category': () => Boolean(categoryBody && categoryBody.items.length > 0 && categoryBody.items.every((p) => p.category === category)),
    });

    const term = data.searchTerms[0];
    const found = get(`/api/products?search=${encodeURIComponent(term)}&limit=10`, {
      name: 'GET /api/products?search',
      kind: 'catalog',
    });
    const foundBody = json(found);
    expectStatus(found, 'search', 200);
    check(found, { 'search: finds something': () => Boolean(foundBody && foundBody.items.length > 0) });

    const one = get(`/api/products/${encodeURIComponent(product.id)}`, {
      name: 'GET /api/products/:id',
      kind: 'catalog',
    });
    const oneBody = json(one);
    expectStatus(one, 'get product', 200);
    check(one, { 'get product: same id': () => Boolean(oneBody && oneBody.id === product.id) });

    // 24 hex digits: a well-formed id whatever the id scheme, so the answer is "not found".
    const missing = get('/api/products/000000000000000000000000', {
      name: 'GET /api/products/:id',
      kind: 'catalog',
      expected: [404],
    });
    expectStatus(missing, 'unknown product', 404);
    expectErrorShape(missing, 'unknown product');

    const stock = get(`/api/inventory/${encodeURIComponent(product.id)}`, {
      name: 'GET /api/inventory/:productId',
      kind: 'catalog',
    });
    const stockBody = json(stock);
    expectStatus(stock, 'inventory', 200);
    check(stock, {
      'inventory: available and reserved are integers': () => Boolean(stockBody && Number.isInteger(stockBody.available) && Number.isInteger(stockBody.reserved)),
    });
  });

  let session = null;
  group('account', () => {
    const creds = register('smoke');
    if (!creds) return;
    const duplicate = post('/api/users/register', creds, {
      name: 'POST /api/users/register',
      kind: 'auth',
      expected: [409],
    });
    expectStatus(duplicate, 'duplicate register', 409);
    expectErrorShape(duplicate, 'duplicate register');

    const token = login(creds);
    if (!token) return;
    const profile = me(token);
    const profileBody = json(profile);
    expectStatus(profile, 'me', 200);
    check(profile, { 'me: same email': () => Boolean(profileBody && profileBody.email === creds.email) });

    const anonymous = get('/api/users/me', { name: 'GET /api/users/me', kind: 'auth', expected: [401] });
    expectStatus(anonymous, 'me without token', 401);
    session = { token };
  });
  if (!session) return;

  group('checkout', () => {
    const target = productInStock(data.products);
    const key = crypto.randomUUID();
    const happy = checkout(session, {
      items: [{ productId: target.id, quantity: 1 }],
      idempotencyKey: key,
      ...POLL,
    });
    checkTraced(happy.res);
    check(happy, {
      'checkout tok_visa: CONFIRMED': (r) => r.outcome === 'confirmed',
      'checkout tok_visa: integer totalCents': (r) => Boolean(r.order && Number.isInteger(r.order.totalCents)),
    });

    const replay = post(
      '/api/orders',
      { items: [{ productId: target.id, quantity: 1 }], paymentToken: 'tok_visa' },
      {
        name: 'POST /api/orders',
        kind: 'checkout',
        token: session.token,
        headers: { 'Idempotency-Key': key },
        expected: [200, 201, 202],
      },
    );
    const replayBody = json(replay);
    check(replay, { 'idempotent replay: same order id': () => Boolean(replayBody && replayBody.id === happy.id) });

    const declined = checkout(session, {
      items: [{ productId: target.id, quantity: 1 }],
      paymentToken: 'tok_chargeDeclined',
      recordSuccess: false,
      ...POLL,
    });
    check(declined, {
      'checkout tok_chargeDeclined: CANCELLED with a reason': (r) => Boolean(r.order && r.order.status === 'CANCELLED' && r.order.reason),
    });

    // The order list is a read model fed by the saga's events: it may trail the terminal status by a moment.
    const bothListed = (body) => {
      const text = JSON.stringify(body || {});
      return Boolean(happy.id && declined.id && text.includes(happy.id) && text.includes(declined.id));
    };
    let mine = get('/api/orders', { name: 'GET /api/orders', kind: 'order-read', token: session.token });
    for (let attempt = 1; attempt < 10 && mine.status === 200 && !bothListed(json(mine)); attempt++) {
      sleep(0.3);
      mine = get('/api/orders', { name: 'GET /api/orders', kind: 'order-read', token: session.token });
    }
    const mineBody = json(mine);
    expectStatus(mine, 'list orders', 200);
    check(mine, {
      'list orders: both orders listed': () => bothListed(mineBody),
    });

    const notes = get('/api/notifications', {
      name: 'GET /api/notifications',
      kind: 'notifications',
      token: session.token,
    });
    expectStatus(notes, 'notifications', 200);
    check(notes, { 'notifications: JSON body': (r) => json(r) !== null });
  });

  group('admin', () => {
    const { res } = listFaults();
    expectStatus(res, 'list faults', 200);
  });
}

export const handleSummary = summaryHandler('smoke');
