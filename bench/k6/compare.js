// Gateway overhead: the same request through the gateway and straight to the service, as two
// concurrent scenarios at the same low arrival rate (so both see the same machine), tagged `target`.
//   MODE=get:      GET /api/products?limit=20 (gateway) vs GET /products?limit=20 (catalog)
//   MODE=orders:   GET /api/orders with a JWT (gateway) vs GET /orders with x-user-id (order service)
//   MODE=checkout: POST /api/orders with a JWT (gateway) vs POST /orders with x-user-id (order service)
import http from 'k6/http';
import { TREND_STATS, envNumber, loadFixture, loopbackUrl, pickProduct, uuid, writeSummary } from './lib.js';

const MODE = __ENV.MODE || 'get';
if (!['get', 'orders', 'checkout'].includes(MODE)) throw new Error(`MODE must be get, orders or checkout, got "${MODE}"`);
const GATEWAY_URL = loopbackUrl('BASE_URL');
const DIRECT_URL = loopbackUrl('DIRECT_URL');
const RATE = envNumber('RATE', 10);
const DURATION_S = envNumber('DURATION', 20);
const fixture = loadFixture();

const scenario = (exec) => ({
  executor: 'constant-arrival-rate',
  exec,
  rate: Math.max(1, Math.round(RATE * 10)),
  timeUnit: '10s',
  duration: `${DURATION_S}s`,
  preAllocatedVUs: Math.ceil(RATE),
  maxVUs: Math.ceil(RATE * 5) + 5,
  gracefulStop: '5s',
});

export const options = {
  scenarios: { gateway: scenario('viaGateway'), direct: scenario('direct') },
  summaryTrendStats: TREND_STATS,
  thresholds: {
    'http_req_duration{target:gateway}': ['max>=0'],
    'http_req_duration{target:direct}': ['max>=0'],
    'http_req_failed{target:gateway}': ['rate>=0'],
    'http_req_failed{target:direct}': ['rate>=0'],
  },
};

function user() {
  return fixture.users[Math.floor(Math.random() * fixture.users.length)];
}

function order() {
  return JSON.stringify({ items: [{ productId: pickProduct(fixture), quantity: 1 }], paymentToken: 'tok_visa' });
}

export function viaGateway() {
  const tags = { target: 'gateway' };
  if (MODE === 'get') {
    http.get(`${GATEWAY_URL}/api/products?limit=20`, { tags, responseCallback: http.expectedStatuses(200) });
    return;
  }
  if (MODE === 'orders') {
    http.get(`${GATEWAY_URL}/api/orders`, { headers: { authorization: `Bearer ${user().token}` }, tags, responseCallback: http.expectedStatuses(200) });
    return;
  }
  http.post(`${GATEWAY_URL}/api/orders`, order(), {
    headers: { 'content-type': 'application/json', authorization: `Bearer ${user().token}`, 'idempotency-key': uuid() },
    tags,
    responseCallback: http.expectedStatuses(202),
  });
}

export function direct() {
  const tags = { target: 'direct' };
  if (MODE === 'get') {
    http.get(`${DIRECT_URL}/products?limit=20`, { tags, responseCallback: http.expectedStatuses(200) });
    return;
  }
  if (MODE === 'orders') {
    http.get(`${DIRECT_URL}/orders`, { headers: { 'x-user-id': user().id }, tags, responseCallback: http.expectedStatuses(200) });
    return;
  }
  http.post(`${DIRECT_URL}/orders`, order(), {
    headers: { 'content-type': 'application/json', 'x-user-id': user().id, 'idempotency-key': uuid() },
    tags,
    responseCallback: http.expectedStatuses(202),
  });
}

export const handleSummary = writeSummary;
