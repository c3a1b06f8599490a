// Spike: steady traffic, a sudden burst far above it, then steady traffic again. During the burst
// the system may shed load (429/503 with Retry-After) but must not fail any other way; once it
// has settled it must be as healthy as before the spike.
import { SUMMARY_TREND_STATS, duration, envInt, envNumber, envSeconds } from './lib/config.js';
import { parseMix, runMix, setupShop } from './lib/journeys.js';
import { summaryHandler } from './lib/summary.js';

const BASE_RATE = envNumber('SPIKE_BASE_RATE', 10, { min: 1, max: 5000 });
const PEAK_RATE = envNumber('SPIKE_PEAK_RATE', 150, { min: 1, max: 10000 });
const WARM_S = envSeconds('SPIKE_WARM', '1m');
const RISE_S = envSeconds('SPIKE_RISE', '10s');
const HOLD_S = envSeconds('SPIKE_HOLD', '1m');
const FALL_S = envSeconds('SPIKE_FALL', '10s');
const SETTLE_S = envSeconds('SPIKE_SETTLE', '30s');
const AFTER_S = envSeconds('SPIKE_AFTER', '1m');
const MAX_VUS = envInt('SPIKE_MAX_VUS', 1000, { min: 1, max: 10000 });
const MIX = parseMix();

const steady = (phase, startS, lengthS) => ({
  executor: 'constant-arrival-rate',
  rate: BASE_RATE,
  timeUnit: '1s',
  duration: duration(lengthS),
  startTime: duration(startS),
  preAllocatedVUs: Math.min(MAX_VUS, 20),
  maxVUs: Math.min(MAX_VUS, 200),
  gracefulStop: '10s',
  tags: { phase },
});

export const options = {
  scenarios: {
    spike_warm: steady('warm', 0, WARM_S),
    spike_burst: {
      executor: 'ramping-arrival-rate',
      startRate: BASE_RATE,
      timeUnit: '1s',
      startTime: duration(WARM_S),
      preAllocatedVUs: Math.min(MAX_VUS, 100),
      maxVUs: MAX_VUS,
      stages: [
        { target: PEAK_RATE, duration: duration(RISE_S) },
        { target: PEAK_RATE, duration: duration(HOLD_S) },
        { target: BASE_RATE, duration: duration(FALL_S) },
      ],
      gracefulStop: '10s',
      tags: { phase: 'burst' },
    },
    spike_settle: steady('settle', WARM_S + RISE_S + HOLD_S + FALL_S, SETTLE_S),
    spike_after: steady('after', WARM_S + RISE_S + HOLD_S + FALL_S + SETTLE_S, AFTER_S),
  },
  tags: { suite: 'spike' },
  summaryTrendStats: SUMMARY_TREND_STATS,
  thresholds: {
    'http_req_failed{phase:warm}': ['rate<0.01'],
    'tracemart_ungraceful_failures{phase:burst}': [`rate<${envNumber('SPIKE_MAX_UNGRACEFUL_RATE', 0.01)}`],
    'http_req_duration{phase:burst,kind:catalog,expected_response:true}': [`p(95)<${envNumber('SPIKE_BURST_P95_MS', 2000)}`],
    'http_req_failed{phase:after}': ['rate<0.01'],
    'http_req_duration{phase:after,kind:catalog}': [`p(95)<${envNumber('SPIKE_AFTER_P95_MS', 300)}`],
    'tracemart_checkout_success{phase:after}': ['rate>=0.99'],
  },
};

export function setup() {
  return setupShop();
}

export default function (data) {
  runMix(data, MIX);
}

export const handleSummary = summaryHandler('spike');
