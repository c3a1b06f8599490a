// Soak: moderate, constant traffic for a long time (SOAK_DURATION, default 2h) to surface leaks,
// growing queues and expiring tokens. Requests carry a `window` tag (first|middle|last tenth of
// the run) so the summary can compare the end of the run with its start.
import exec from 'k6/execution';
import { SUMMARY_TREND_STATS, duration, envInt, envNumber, envSeconds } from './lib/config.js';
import { parseMix, runMix, setupShop, steadyThresholds } from './lib/journeys.js';
import { stat, summaryHandler } from './lib/summary.js';

const DURATION_S = envSeconds('SOAK_DURATION', '2h');
const RATE = envNumber('SOAK_RATE', 10, { min: 1, max: 2000 });
const MIX = parseMix();
const CATALOG_P95 = envNumber('SOAK_CATALOG_P95_MS', 300);

export const options = {
  scenarios: {
    soak: {
      executor: 'constant-arrival-rate',
      rate: RATE,
      timeUnit: '1s',
      duration: duration(DURATION_S),
      preAllocatedVUs: envInt('SOAK_PREALLOCATED_VUS', 20, { min: 1, max: 2000 }),
      maxVUs: envInt('SOAK_MAX_VUS', 200, { min: 1, max: 5000 }),
      gracefulStop: '30s',
    },
  },
  tags: { suite: 'soak' },
  summaryTrendStats: SUMMARY_TREND_STATS,
  thresholds: {
    ...steadyThresholds({ catalogP95: CATALOG_P95, checkoutP95: envNumber('SOAK_CHECKOUT_P95_MS', 800) }),
    // Drift: the last tenth of the run must still meet the latency budget, not just the average.
    'http_req_duration{window:first,kind:catalog}': [`p(95)<${CATALOG_P95}`],
    'http_req_duration{window:last,kind:catalog}': [`p(95)<${CATALOG_P95}`],
  },
};

function windowTag() {
  const progress = (Date.now() - exec.scenario.startTime) / 1000 / DURATION_S;
  if (progress < 0.1) return 'first';
  return progress >= 0.9 ? 'last' : 'middle';
}

export function setup() {
  return setupShop();
}

export default function (data) {
  runMix(data, MIX, { window: windowTag() });
}

export const handleSummary = summaryHandler('soak', (data) => {
  const first = stat(data, 'http_req_duration{window:first,kind:catalog}', 'p(95)');
  const last = stat(data, 'http_req_duration{window:last,kind:catalog}', 'p(95)');
  if (!first || !last) return [];
  return [`catalog p95 drift: first tenth ${first.toFixed(1)}ms -> last tenth ${last.toFixed(1)}ms (x${(last / first).toFixed(2)})`];
});
