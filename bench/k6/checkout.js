// One checkout per iteration at a constant arrival rate, as a client does it: POST /api/orders
// (Idempotency-Key, tok_visa, one unit of one product drawn by stock), then poll GET /api/orders/:id
// until CONFIRMED or CANCELLED. The harness judges the run from the summary; no thresholds here.
import http from 'k6/http';
import { sleep } from 'k6';
import { Counter, Rate, Trend } from 'k6/metrics';
import { TREND_STATS, envNumber, loadFixture, loopbackUrl, pickProduct, uuid, writeSummary } from './lib.js';

const BASE_URL = loopbackUrl('BASE_URL');
const RATE = envNumber('RATE', 5);
const DURATION_S = envNumber('DURATION', 12);
const POLL_INTERVAL_S = envNumber('POLL_INTERVAL', 0.25);
const POLL_BUDGET_S = envNumber('POLL_BUDGET', 10);
const fixture = loadFixture();

/** Orders accepted (202) that reached a terminal status within POLL_BUDGET; unit 1. */
const completed = new Rate('bench_completed');
/** POST to terminal status seen by polling; unit ms (resolution POLL_INTERVAL). */
const timeToTerminal = new Trend('bench_time_to_terminal', true);
/** Checkouts by outcome: accepted, confirmed, cancelled, rejected (429/503), error; unit {order}. */
const outcomes = new Counter('bench_outcomes');

export const options = {
  scenarios: {
    checkout: {
      executor: 'constant-arrival-rate',
      // Per 10 s, so fractional rates (e.g. 12.5/s) are exact.
      rate: Math.max(1, Math.round(RATE * 10)),
      timeUnit: '10s',
      duration: `${DURATION_S}s`,
      // Enough VUs up front: starting one mid-run takes time on a busy machine and drops arrivals.
      preAllocatedVUs: Math.ceil(RATE * 4) + 5,
      maxVUs: Math.ceil(RATE * (POLL_BUDGET_S + 2)) + 10,
      gracefulStop: `${POLL_BUDGET_S + 2}s`,
    },
  },
  summaryTrendStats: TREND_STATS,
  discardResponseBodies: false,
  thresholds: {
    // Always true; listed so that the summary carries these sub-metrics.
    'http_req_duration{name:POST /api/orders}': ['max>=0'],
    'http_req_duration{name:GET /api/orders/:id}': ['max>=0'],
    'bench_outcomes{outcome:accepted}': ['count>=0'],
    'bench_outcomes{outcome:rejected}': ['count>=0'],
    'bench_outcomes{outcome:error}': ['count>=0'],
    'bench_outcomes{outcome:confirmed}': ['count>=0'],
    'bench_outcomes{outcome:cancelled}': ['count>=0'],
  },
};

export default function () {
  const user = fixture.users[Math.floor(Math.random() * fixture.users.length)];
  const started = Date.now();
  const res = http.post(
    `${BASE_URL}/api/orders`,
    JSON.stringify({ items: [{ productId: pickProduct(fixture), quantity: 1 }], paymentToken: 'tok_visa' }),
    {
      headers: { 'content-type': 'application/json', authorization: `Bearer ${user.token}`, 'idempotency-key': uuid() },
      tags: { name: 'POST /api/orders' },
      timeout: '10s',
      responseCallback: http.expectedStatuses(202),
    },
  );
  if (res.status !== 202) {
    outcomes.add(1, { outcome: res.status === 429 || res.status === 503 ? 'rejected' : 'error' });
    return;
  }
  outcomes.add(1, { outcome: 'accepted' });
  const id = res.json('id');
  const deadline = started + POLL_BUDGET_S * 1000;
  while (Date.now() < deadline) {
    sleep(POLL_INTERVAL_S);
    const poll = http.get(`${BASE_URL}/api/orders/${id}`, {
      headers: { authorization: `Bearer ${user.token}` },
      tags: { name: 'GET /api/orders/:id' },
      timeout: '10s',
      responseCallback: http.expectedStatuses(200, 404),
    });
    const status = poll.status === 200 ? poll.json('status') : undefined;
    if (status === 'CONFIRMED' || status === 'CANCELLED') {
      timeToTerminal.add(Date.now() - started);
      completed.add(true);
      outcomes.add(1, { outcome: status === 'CONFIRMED' ? 'confirmed' : 'cancelled' });
      return;
    }
  }
  completed.add(false);
}

export const handleSummary = writeSummary;
