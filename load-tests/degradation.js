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
//
// Phases, presets, rates, bounds and thresholds come from scenarios.json, which the Node harness
// (@tracemart/loadgen) that CI runs reads too; the environment variables override them the same way
// in both (see the README).
import exec from 'k6/execution';
import { check, sleep } from 'k6';
import { Counter, Gauge, Rate, Trend } from 'k6/metrics';
import { get, isGracefulRejection, json } from './lib/api.js';
import { createUserPool, sessionFor } from './lib/auth.js';
import { checkout, randomItems } from './lib/checkout.js';
import { SUMMARY_TREND_STATS, duration, envSeconds, envString, setting, settings, thresholdsFrom } from './lib/config.js';
import { loadCatalog, pick } from './lib/data.js';
import { clearFaultsMatching, injectFault, listFaults } from './lib/faults.js';
import { browse, search, viewProduct } from './lib/journeys.js';
import { stat, summaryHandler } from './lib/summary.js';

const SCENARIO = JSON.parse(open('./scenarios.json'));
const SPEC = SCENARIO.degradation;
const SCALE = envString(SPEC.scale.env, SPEC.scale.default);
// full: 8.5 min; short (CI): <= 3 minutes in all, HEALING stays 60s because it is the rule under test.
const PRESETS = SPEC.presets;
if (!PRESETS[SCALE]) throw new Error(`${SPEC.scale.env} must be one of ${Object.keys(PRESETS).join(', ')}, got "${SCALE}"`);
const preset = PRESETS[SCALE];

const PHASES = SPEC.phases.map((p) => p.name);
const LENGTH_S = {};
const START_S = {};
let offset = 0;
for (const phase of SPEC.phases) {
  LENGTH_S[phase.name] = envSeconds(phase.env, preset[phase.name]);
  START_S[phase.name] = offset;
  offset += LENGTH_S[phase.name];
}
const FAULT = SPEC.fault;
const FAULT_START_S = START_S[FAULT.injectedAt];
const FAULT_END_S = START_S[FAULT.liftedAt];

const SETTINGS = settings(SPEC.settings);
const CATALOG_RATE = SETTINGS.catalogRate;
const CHECKOUT_RATE = SETTINGS.checkoutRate;
const MAX_P95_RATIO = SETTINGS.maxP95Ratio;
// Below a few ms, 20% is scheduler noise: compare against at least this many ms of baseline p95.
const P95_FLOOR_MS = SETTINGS.p95FloorMs;
const PROBE_INTERVAL_S = SETTINGS.probeIntervalS;
const POLL = {
  pollTries: setting(SCENARIO.checkout.pollTries),
  pollIntervalS: setting(SCENARIO.checkout.pollIntervalS),
};

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
const CHECKOUT_SETTLE_S = SETTINGS.checkoutSettleS;
if (LENGTH_S.baseline <= CHECKOUT_SETTLE_S)
  throw new Error(`the baseline (${LENGTH_S.baseline}s) must be longer than ${SPEC.settings.checkoutSettleS.env} (${CHECKOUT_SETTLE_S}s)`);

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
  // From scenarios.json. Catalog reads do not depend on payment: >= 99% success in baseline, onset and
  // outage, p95 under DEGRADATION_CATALOG_P95_MS, and the outage p95 within 20% of the baseline's (the
  // probe above). Checkout works before the fault; once the breaker is open it fails fast and honestly
  // (503 + Retry-After naming payment, p99 < DEGRADATION_FAST_FAIL_MS); the outage really happened
  // (otherwise the run proves nothing); and within HEALING (60s) of lifting the fault, checkout is back
  // to >= 99% success.
  thresholds: thresholdsFrom(SPEC.thresholds, SETTINGS),
};

export function setup() {
  const catalog = loadCatalog();
  const { res } = listFaults({ kind: 'setup' });
  if (res.status !== 200) {
    throw new Error(`setup: GET /admin/faults answered ${res.status}; is the admin API up and ADMIN_TOKEN right?`);
  }
  // A payment outage left by an earlier run would spoil the baseline.
  clearFaultsMatching(FAULT.service, FAULT.kind);
  const pool = createUserPool(SETTINGS.userPool);
  const totalS = FAULT_END_S + LENGTH_S.healing + LENGTH_S.recovery;
  console.log(
    `degradation (${SCALE}): ${PHASES.map((p) => `${p}=${LENGTH_S[p]}s`).join(' ')}; ` + `fault ${FAULT_START_S}s..${FAULT_END_S}s; about ${Math.ceil(totalS)}s of traffic`,
  );
  return { ...catalog, pool };
}

export function teardown() {
  clearFaultsMatching(FAULT.service, FAULT.kind);
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
    ...POLL,
  });
  if (result.outcome !== 'confirmed' && result.outcome !== 'out_of_stock') {
    failureIs503.add(result.res.status === 503 && isGracefulRejection(result.res) && namesService(result.res, FAULT.service), {
      phase,
    });
  }
}

/** The error body says which dependency is down: `details.dependency` or the message names it. */
function namesService(res, service) {
  const body = json(res);
  const error = body && body.error;
  if (!error) return false;
  return (error.details && error.details.dependency === service) || String(error.message || '').includes(service);
}

export function injectOutage() {
  const id = injectFault({
    service: FAULT.service,
    kind: FAULT.kind,
    // Expires by itself at the end of the outage even if fault_clear never runs.
    durationSeconds: Math.ceil(FAULT_END_S - FAULT_START_S),
  });
  if (id) faultActions.add(1, { action: 'injected' });
}

export function clearOutage() {
  clearFaultsMatching(FAULT.service, FAULT.kind);
  const { faults } = listFaults();
  const left = faults.filter((f) => f && f.service === FAULT.service && f.kind === FAULT.kind);
  if (check(left, { [`${FAULT.service} ${FAULT.kind} lifted`]: (l) => l.length === 0 })) {
    faultActions.add(1, { action: 'cleared' });
  }
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
    () => get(`/api/products/${encodeURIComponent(product.id)}`, { name: 'GET /api/products/:id', kind: 'catalog', tags }),
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
    `catalog p95, all traffic: baseline ${ms(base)}, outage ${ms(out)}` + (base && out ? `, ratio ${(out / Math.max(base, P95_FLOOR_MS)).toFixed(3)} (for reference)` : ''),
    `checkout 503 p99 during outage: ${ms(stat(data, 'http_req_duration{phase:outage,name:POST /api/orders,status:503}', 'p(99)'))}`,
  ];
});
