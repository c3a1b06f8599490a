// Load: the expected busy-day traffic. A ramping arrival rate (open model, so a slow system does
// not slow the load down) of shopper journeys drawn from LOAD_MIX.
import { SUMMARY_TREND_STATS, envInt, envNumber, envString } from './lib/config.js';
import { parseMix, runMix, setupShop, steadyThresholds } from './lib/journeys.js';
import { summaryHandler } from './lib/summary.js';

const RATE = envNumber('LOAD_RATE', 20, { min: 1, max: 2000 });
const MIX = parseMix();

export const options = {
  scenarios: {
    load: {
      executor: 'ramping-arrival-rate',
      startRate: 1,
      timeUnit: '1s',
      preAllocatedVUs: envInt('LOAD_PREALLOCATED_VUS', 20, { min: 1, max: 2000 }),
      maxVUs: envInt('LOAD_MAX_VUS', 200, { min: 1, max: 5000 }),
      stages: [
        { target: RATE, duration: envString('LOAD_RAMP_UP', '1m') },
        { target: RATE, duration: envString('LOAD_HOLD', '5m') },
        { target: 0, duration: envString('LOAD_RAMP_DOWN', '30s') },
      ],
      gracefulStop: '30s',
    },
  },
  tags: { suite: 'load' },
  summaryTrendStats: SUMMARY_TREND_STATS,
  thresholds: steadyThresholds({
    catalogP95: envNumber('LOAD_CATALOG_P95_MS', 300),
    checkoutP95: envNumber('LOAD_CHECKOUT_P95_MS', 800),
  }),
};

export function setup() {
  return setupShop();
}

export default function (data) {
  runMix(data, MIX);
}

export const handleSummary = summaryHandler('load');
