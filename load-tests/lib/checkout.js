// Checkout as a client sees it: POST /api/orders (202 PENDING), then poll GET /api/orders/:id
// until CONFIRMED or CANCELLED, a bounded number of times.
import { check, sleep } from 'k6';
import { Counter, Rate, Trend } from 'k6/metrics';
import { get, json, post } from './api.js';
import { envInt, envNumber } from './config.js';
import { pick } from './data.js';

/** Checkouts that ended CONFIRMED or CANCELLED for lack of stock (a valid business outcome); unit 1. */
export const checkoutSuccess = new Rate('tracemart_checkout_success');
/** Checkouts by `outcome` tag: confirmed|out_of_stock|declined|cancelled|rejected|timeout|error; unit {order}. */
export const checkoutOutcomes = new Counter('tracemart_checkout_outcomes');
/** Time from POST /api/orders to a terminal status seen by polling; unit ms. */
export const checkoutTimeToTerminal = new Trend('tracemart_checkout_time_to_terminal', true);

// Defaults for the suites that do not read scenarios.json (load, stress, spike, soak); smoke and
// degradation pass the values resolved from its `checkout` section (same variables, same defaults).
const POLL_TRIES = envInt('CHECKOUT_POLL_TRIES', 20, { min: 1, max: 120 });
const POLL_INTERVAL_S = envNumber('CHECKOUT_POLL_INTERVAL', 0.5, { min: 0.05, max: 10 });

const IN_PROGRESS_RETRIES = 3;

function isInProgress(res) {
  if (res.status !== 409) return false;
  const body = json(res);
  return Boolean(body && body.error && body.error.code === 'IDEMPOTENCY.IN_PROGRESS');
}

function retryAfterSeconds(res) {
  const value = Number(res.headers['Retry-After']);
  return Number.isFinite(value) && value > 0 ? Math.min(value, 5) : 1;
}

/** One or two distinct products, quantity 1: stock is tens per product, so spread the orders. */
export function randomItems(products) {
  const first = pick(products);
  const items = [{ productId: first.id, quantity: 1 }];
  if (products.length > 1 && Math.random() < 0.3) {
    const second = pick(products);
    if (second.id !== first.id) items.push({ productId: second.id, quantity: 1 });
  }
  return items;
}

function classify(order) {
  if (!order || order.status === 'PENDING') return 'timeout';
  if (order.status === 'CONFIRMED') return 'confirmed';
  const reason = JSON.stringify(order.reason || '');
  if (/OUT_OF_STOCK|INSUFFICIENT_STOCK/i.test(reason)) return 'out_of_stock';
  if (/DECLIN/i.test(reason)) return 'declined';
  return 'cancelled';
}

/** Polls GET /api/orders/:id until the order leaves PENDING, at most `tries` times. */
export function pollOrder(id, token, tags = {}, tries = POLL_TRIES, intervalS = POLL_INTERVAL_S) {
  let order = null;
  for (let attempt = 0; attempt < tries; attempt += 1) {
    sleep(intervalS);
    const res = get(`/api/orders/${encodeURIComponent(id)}`, {
      name: 'GET /api/orders/:id',
      kind: 'order-read',
      token,
      tags,
      // Just after the 202 the read side may not know the order yet.
      expected: [200, 404],
    });
    if (res.status !== 200) continue;
    order = json(res);
    if (order && order.status !== 'PENDING') break;
  }
  return order;
}

/**
 * Places an order and follows it to a terminal status.
 * @param {{ token: string, refresh?: () => string|null }} session
 * @param {object} opts { items, paymentToken, tags, idempotencyKey, expected, recordSuccess, pollTries, pollIntervalS }
 * @returns {{ outcome: string, res: object, order: object|null, id: string|null }} `id`: the order id from the 202, else null
 */
export function checkout(session, opts) {
  const { items, paymentToken = 'tok_visa', tags = {}, recordSuccess = true, pollTries = POLL_TRIES, pollIntervalS = POLL_INTERVAL_S } = opts;
  const idempotencyKey = opts.idempotencyKey || crypto.randomUUID();
  const send = () =>
    post(
      '/api/orders',
      { items, paymentToken },
      {
        name: 'POST /api/orders',
        kind: 'checkout',
        token: session.token,
        tags,
        headers: { 'Idempotency-Key': idempotencyKey },
        // 409 IN_PROGRESS is part of the idempotency protocol (retried below), not a failure.
        expected: [...(opts.expected || [202]), 409],
      },
    );
  const started = Date.now();
  let res = send();
  if (res.status === 401 && session.refresh && session.refresh()) res = send();
  // 409 IDEMPOTENCY.IN_PROGRESS: the first request with this key is still running (the gateway may
  // have retried a slow attempt). The server says "retry shortly"; a real client does, with the same key.
  for (let retry = 0; retry < IN_PROGRESS_RETRIES && isInProgress(res); retry += 1) {
    sleep(retryAfterSeconds(res));
    res = send();
  }
  const accepted = json(res);
  check(res, { 'checkout: 202 PENDING with id': (r) => r.status === 202 && Boolean(accepted && accepted.id) }, tags);

  let outcome;
  let order = null;
  if (res.status === 202 && accepted && accepted.id) {
    order = pollOrder(accepted.id, session.token, tags, pollTries, pollIntervalS);
    outcome = classify(order);
    if (outcome !== 'timeout') checkoutTimeToTerminal.add(Date.now() - started, tags);
  } else {
    outcome = res.status === 503 || res.status === 429 ? 'rejected' : 'error';
  }
  // Say why a checkout failed, so a failed threshold is actionable from the run's output.
  if (outcome !== 'confirmed' && outcome !== 'out_of_stock') {
    console.warn(
      `checkout ${outcome} (phase ${tags.phase || '-'}): HTTP ${res.status} ${String(res.body).slice(0, 160)}${order ? ` order ${order.status} ${order.reason || ''}` : ''}`,
    );
  }
  checkoutOutcomes.add(1, { ...tags, outcome });
  if (recordSuccess) checkoutSuccess.add(outcome === 'confirmed' || outcome === 'out_of_stock', tags);
  return { outcome, res, order, id: accepted && accepted.id ? accepted.id : null };
}
