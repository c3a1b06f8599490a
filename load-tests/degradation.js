// Degradation: what shoppers see while the payment service is down, and after it comes back.
//
//   baseline ─► onset ─► outage ─► healing ─► recovery
//               ▲ payment outage injected      ▲ fault lifted; recovery starts HEALING later
//
// Each phase is a pair of k6 scenarios (catalog reads, checkouts) with a `phase` tag, so every
// threshold below is on a tagged sub-metric. `onset` gives the breakers time to open; `healing`
// is the time allowed for checkout to recover (60s by default) and carries no thresholds.
// Baseline checkouts stop DEGRADATION_CHECKOUT_SETTLE (5s) before the fault, so that every one of
// them has finished before it: the baseline measures the healthy system only.
//
// The "outage p95 within 20% of baseline" rule cannot be a static threshold (the baseline is only
// known during the run) and handleSummary cannot change k6's exit code. So one `catalog_probe` VU
// spans baseline, onset and outage with the same request rotation, keeps its own latencies, and
// at the end of the outage adds outage_p95 / baseline_p95 to tracemart_catalog_p95_ratio, which has
// an ordinary threshold. The probe shares the gateway with the phase traffic, so it sees the same
// load. The summary also prints the same ratio over all tagged catalog traffic, for reference.
import exec from 'k6/execution';
import { check, sleep } from 'k6';
import { Counter, Gauge, Rate, Trend } from 'k6/metrics';
import { get, isGracefulRejection } from './lib/api.js';
import { createUserPool, sessionFor } from './lib/auth.js';
import { checkout, randomItems } from './lib/checkout.js';
import { SUMMARY_TREND_STATS, duration, envInt, envNumber, envSeconds, envString } from './lib/config.js';
import { loadCatalog, pick } from './lib/data.js';
import { clearFaultsMatching, injectFault, listFaults } from './lib/faults.js';
import { browse, search, viewProduct } from './lib/journeys.js';
import { stat, summaryHandler } from './lib/summary.js';

const SCALE = envString('DEGRADATION_SCALE', 'full');
const PRESETS = {
  full: { baseline: '2m', onset: '15s', outage: '2m', healing: '60s', recovery: '2m' },
  // <= 3 minutes in all; HEALING stays 60s because it is the rule under test.
  short: { baseline: '25s', onset: '5s', outage: '25s', healing: '60s', recovery: '25s' },
};
if (!PRESETS[SCALE])
  throw new Error(`DEGRADATION_SCALE must be one of ${Object.keys(PRESETS).join(', ')}, got "${SCALE}"`);
const preset = PRESETS[SCALE];

const PHASES = ['baseline', 'onset', 'outage', 'healing', 'recovery'];
const LENGTH_S = {};
const START_S = {};
let offset = 0;
for (const phase of PHASES) {
  LENGTH_S[phase] = envSeconds(`DEGRADATION_${phase.toUpperCase()}`, preset[phase]);
  START_S[phase] = offset;
  offset += LENGTH_S[phase];
}
const FAULT_START_S = START_S.onset;
const FAULT_END_S = START_S.healing;

const CATALOG_RATE = envNumber('DEGRADATION_CATALOG_RATE', 10, { min: 1, max: 1000 });
const CHECKOUT_RATE = envNumber('DEGRADATION_CHECKOUT_RATE', 1, { min: 0.1, max: 100 });
const MAX_P95_RATIO = envNumber('DEGRADATION_MAX_P95_RATIO', 1.2, { min: 1 });
// Below a few ms, 20% is scheduler noise: compare against at least this many ms of baseline p95.
const P95_FLOOR_MS = envNumber('DEGRADATION_P95_FLOOR_MS', 10);
const CATALOG_P95_MAX_MS = envNumber('DEGRADATION_CATALOG_P95_MS', 500);
const FAST_FAIL_MS = envNumber('DEGRADATION_FAST_FAIL_MS', 100);
const PROBE_INTERVAL_S = envNumber('DEGRADATION_PROBE_INTERVAL', 0.2, { min: 0.02, max: 5 });

/** outage p95 / baseline p95 of the probe's catalog reads; one sample per run; unit 1. */
const catalogP95Ratio = new Trend('tracemart_catalog_p95_ratio');
/** Comparisons the probe made (1 per run); a threshold on it catches a probe that never compared. */
const probeComparisons = new Counter('tracemart_probe_comparisons');
/** The probe's catalog p95 per phase (baseline, outage); unit ms. */
const probeBaselineP95 = new Gauge('tracemart_probe_baseline_p95_ms');
const probeOutageP95 = new Gauge('tracemart_probe_outage_p95_ms');
/** Fault admin actions by `action` tag (injected|cleared); unit {fault}. */
const faultActions = new Counter('tracemart_fault_actions');
/** For each failed checkout: was the failure a 503 with Retry-After (a fast, honest no)? Unit 1. */
const failureIs503 = new Rate('tracemart_checkout_failure_is_503');

// A checkout placed in the last moments of the baseline would have its payment step land in the
// outage: it fails because of the fault, yet counts as a baseline checkout. So baseline checkouts stop
// this long before the fault (time to a terminal status is about 1 s at p99 here).
const CHECKOUT_SETTLE_S = envNumber('DEGRADATION_CHECKOUT_SETTLE', 5, { min: 0, max: 60 });
if (LENGTH_S.baseline <= CHECKOUT_SETTLE_S)
  throw new Error(`the baseline (${LENGTH_S.baseline}s) must be longer than DEGRADATION_CHECKOUT_SETTLE (${CHECKOUT_SETTLE_S}s)`);

const arrival = (exec, rate, phase, maxVUs, lengthS = LENGTH_S[phase]) => ({
  executor: 'constant-arrival-rate',
  exec,
  rate: Math.round(rate * 10),
  timeUnit: '10s',
  duration: duration(lengthS),
  startTime: duration(START_S[phase]),
  preAllocatedVUs: Math.min(maxVUs, Math.ceil(rate * 2)),
  maxVUs,
  gracefulStop: '15s',
  tags: { phase },
});

const once = (execName, startS) => ({
  executor: 'per-vu-iterations',
  exec: execName,
  vus: 1,
  iterations: 1,
  startTime: duration(startS),
  maxDuration: '30s',
  tags: { phase: 'control' },
});

const scenarios = {
  fault_inject: once('injectOutage', FAULT_START_S),
  fault_clear: once('clearOutage', FAULT_END_S),
  catalog_probe: {
    executor: 'constant-vus',
    exec: 'probe',
    vus: 1,
    duration: duration(FAULT_END_S + 5),
    gracefulStop: '5s',
  },
};
for (const phase of PHASES) {
  if (LENGTH_S[phase] <= 0) continue;
  scenarios[`${phase}_catalog`] = arrival('catalogTraffic', CATALOG_RATE, phase, 100);
  const checkoutS = phase === 'baseline' ? LENGTH_S.baseline - CHECKOUT_SETTLE_S : LENGTH_S[phase];
  scenarios[`${phase}_checkout`] = arrival('checkoutTraffic', CHECKOUT_RATE, phase, 50, checkoutS);
}

export const options = {
  scenarios,
  tags: { suite: 'degradation' },
  summaryTrendStats: SUMMARY_TREND_STATS,
  setupTimeout: '60s',
  teardownTimeout: '30s',
  thresholds: {
    // Catalog reads do not depend on payment: >= 99% success in every phase of the outage.
    'http_req_failed{phase:baseline,kind:catalog}': ['rate<=0.01'],
    'http_req_failed{phase:onset,kind:catalog}': ['rate<=0.01'],
    'http_req_failed{phase:outage,kind:catalog}': ['rate<=0.01'],
    'http_req_duration{phase:baseline,kind:catalog}': [`p(95)<${CATALOG_P95_MAX_MS}`],
    'http_req_duration{phase:outage,kind:catalog}': [`p(95)<${CATALOG_P95_MAX_MS}`],
    // ... and no slower than baseline by more than 20% (see the probe above).
    tracemart_catalog_p95_ratio: [`max<=${MAX_P95_RATIO}`],
    tracemart_probe_comparisons: ['count>=1'],
    // Checkout works before the fault.
    'tracemart_checkout_success{phase:baseline}': ['rate>=0.99'],
    // Once the breaker is open, checkout fails fast and honestly: 503 + Retry-After, p99 < 100ms.
    'http_req_duration{phase:outage,name:POST /api/orders,status:503}': [`p(99)<${FAST_FAIL_MS}`],
    'tracemart_checkout_failure_is_503{phase:outage}': ['rate>=0.99'],
    // The outage really happened; otherwise the run proves nothing.
    'tracemart_fault_actions{action:injected}': ['count>=1'],
    'tracemart_checkout_outcomes{phase:outage,outcome:rejected}': ['count>=1'],
    // Within HEALING (60s) of lifting the fault, checkout is back to >= 99% success.
    'tracemart_checkout_success{phase:recovery}': ['rate>=0.99'],
  },
};

export function setup() {
  const catalog = loadCatalog();
  const { res } = listFaults({ kind: 'setup' });
  if (res.status !== 200) {
    throw new Error(`setup: GET /admin/faults answered ${res.status}; is the admin API up and ADMIN_TOKEN right?`);
  }
  // A payment outage left by an earlier run would spoil the baseline.
  clearFaultsMatching('payment', 'outage');
  const pool = createUserPool(envInt('USER_POOL', 10, { min: 1, max: 200 }));
  const totalS = FAULT_END_S + LENGTH_S.healing + LENGTH_S.recovery;
  console.log(
    `degradation (${SCALE}): ${PHASES.map((p) => `${p}=${LENGTH_S[p]}s`).join(' ')}; ` +
      `fault ${FAULT_START_S}s..${FAULT_END_S}s; about ${Math.ceil(totalS)}s of traffic`,
  );
  return { ...catalog, pool };
}

export function teardown() {
  clearFaultsMatching('payment', 'outage');
}

const CATALOG_JOURNEYS = [browse, browse, search, viewProduct];

export function catalogTraffic(data) {
  pick(CATALOG_JOURNEYS)(data, {});
}

export function checkoutTraffic(data) {
  const phase = exec.scenario.name.split('_')[0];
  const result = checkout(sessionFor(data.pool), {
    items: randomItems(data.products),
    tags: { phase },
    expected: [202, 503],
  });
  if (result.outcome !== 'confirmed' && result.outcome !== 'out_of_stock') {
    failureIs503.add(result.res.status === 503 && isGracefulRejection(result.res), { phase });
  }
}

export function injectOutage() {
  const id = injectFault({
    service: 'payment',
    kind: 'outage',
    // Expires by itself at the end of the outage even if fault_clear never runs.
    durationSeconds: Math.ceil(FAULT_END_S - FAULT_START_S),
  });
  if (id) faultActions.add(1, { action: 'injected' });
}

export function clearOutage() {
  clearFaultsMatching('payment', 'outage');
  const { faults } = listFaults();
  const left = faults.filter((f) => f && f.service === 'payment' && f.kind === 'outage');
  if (check(left, { 'payment outage lifted': (l) => l.length === 0 })) faultActions.add(1, { action: 'cleared' });
}

function p95(samples) {
  if (samples.length === 0) return NaN;
  const sorted = samples.slice().sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.95) - 1)];
}

const MAX_PROBE_SAMPLES = 20000;
const probeSamples = { baseline: [], outage: [] };
let probeCount = 0;
let probeReported = false;

function probeRequest(data, phase) {
  const tags = { phase, journey: 'probe' };
  const product = pick(data.products);
  const rotation = [
    () => get('/api/products?page=1&limit=20', { name: 'GET /api/products', kind: 'catalog', tags }),
    () =>
      get(`/api/products?search=${encodeURIComponent(pick(data.searchTerms))}&limit=20`, {
        name: 'GET /api/products?search',
        kind: 'catalog',
        tags,
      }),
    () =>
      get(`/api/products/${encodeURIComponent(product.id)}`, { name: 'GET /api/products/:id', kind: 'catalog', tags }),
    () =>
      get(`/api/inventory/${encodeURIComponent(product.id)}`, {
        name: 'GET /api/inventory/:productId',
        kind: 'catalog',
        tags,
      }),
  ];
  const res = rotation[probeCount % rotation.length]();
  probeCount += 1;
  return res;
}

/** One VU, so its module state lives across the phases it spans. */
export function probe(data) {
  const elapsedS = (Date.now() - exec.scenario.startTime) / 1000;
  if (elapsedS >= FAULT_END_S) {
    if (!probeReported) {
      probeReported = true;
      const base = p95(probeSamples.baseline);
      const out = p95(probeSamples.outage);
      if (Number.isFinite(base) && Number.isFinite(out)) {
        probeBaselineP95.add(base);
        probeOutageP95.add(out);
        catalogP95Ratio.add(out / Math.max(base, P95_FLOOR_MS));
        probeComparisons.add(1);
      }
    }
    sleep(1);
    return;
  }
  const phase = elapsedS < START_S.onset ? 'baseline' : elapsedS < START_S.outage ? 'onset' : 'outage';
  const res = probeRequest(data, phase);
  // Onset counts as outage: catalog reads should not notice the fault at any point.
  const bucket = probeSamples[phase === 'baseline' ? 'baseline' : 'outage'];
  if (res.status === 200 && bucket.length < MAX_PROBE_SAMPLES) bucket.push(res.timings.duration);
  sleep(PROBE_INTERVAL_S);
}

function ms(value) {
  return typeof value === 'number' ? `${value.toFixed(1)}ms` : 'n/a';
}

export const handleSummary = summaryHandler('degradation', (data) => {
  const base = stat(data, 'http_req_duration{phase:baseline,kind:catalog}', 'p(95)');
  const out = stat(data, 'http_req_duration{phase:outage,kind:catalog}', 'p(95)');
  const ratio = stat(data, 'tracemart_catalog_p95_ratio', 'max');
  return [
    `phases (s): ${PHASES.map((p) => `${p}=${LENGTH_S[p]}`).join(' ')}`,
    `catalog p95, probe: baseline ${ms(stat(data, 'tracemart_probe_baseline_p95_ms', 'value'))}, ` +
      `outage ${ms(stat(data, 'tracemart_probe_outage_p95_ms', 'value'))}, ` +
      `ratio ${typeof ratio === 'number' ? ratio.toFixed(3) : 'n/a'} (limit ${MAX_P95_RATIO}, floor ${P95_FLOOR_MS}ms)`,
    `catalog p95, all traffic: baseline ${ms(base)}, outage ${ms(out)}` +
      (base && out ? `, ratio ${(out / Math.max(base, P95_FLOOR_MS)).toFixed(3)} (for reference)` : ''),
    `checkout 503 p99 during outage: ${ms(stat(data, 'http_req_duration{phase:outage,name:POST /api/orders,status:503}', 'p(99)'))}`,
  ];
});
