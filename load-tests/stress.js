// Stress: raise the arrival rate step by step until the system breaks. The run aborts once errors
// or latency cross the abort thresholds; the summary's tracemart_stress_target_rate then says the
// rate the system was asked for when it broke.
import exec from 'k6/execution';
import { Gauge } from 'k6/metrics';
import { SUMMARY_TREND_STATS, envInt, envNumber, envSeconds } from './lib/config.js';
import { parseMix, runMix, setupShop } from './lib/journeys.js';
import { summaryHandler } from './lib/summary.js';

const START = envNumber('STRESS_START_RATE', 10, { min: 1, max: 5000 });
const STEP = envNumber('STRESS_STEP_RATE', 10, { min: 1, max: 5000 });
const STEPS = envInt('STRESS_STEPS', 10, { min: 1, max: 100 });
const STEP_RAMP_S = envSeconds('STRESS_STEP_RAMP', '10s');
const STEP_HOLD_S = envSeconds('STRESS_STEP_HOLD', '50s');
const MIX = parseMix();

/** The arrival rate the executor is aiming at when an iteration starts; unit {iteration}/s. */
const targetRate = new Gauge('tracemart_stress_target_rate');

const stages = [];
for (let i = 0; i < STEPS; i += 1) {
  const target = START + STEP * i;
  stages.push({ target, duration: `${STEP_RAMP_S}s` }, { target, duration: `${STEP_HOLD_S}s` });
}

export const options = {
  scenarios: {
    stress: {
      executor: 'ramping-arrival-rate',
      startRate: START,
      timeUnit: '1s',
      preAllocatedVUs: envInt('STRESS_PREALLOCATED_VUS', 50, { min: 1, max: 5000 }),
      maxVUs: envInt('STRESS_MAX_VUS', 1000, { min: 1, max: 10000 }),
      stages,
      gracefulStop: '30s',
    },
  },
  tags: { suite: 'stress' },
  summaryTrendStats: SUMMARY_TREND_STATS,
  thresholds: {
    // The breaking point: abort once it is crossed, after a warm-up so one bad second does not count.
    http_req_failed: [{ threshold: `rate<${envNumber('STRESS_MAX_ERROR_RATE', 0.05)}`, abortOnFail: true, delayAbortEval: '30s' }],
    'http_req_duration{kind:catalog}': [{ threshold: `p(95)<${envNumber('STRESS_MAX_CATALOG_P95_MS', 2000)}`, abortOnFail: true, delayAbortEval: '30s' }],
    dropped_iterations: [{ threshold: `count<${envInt('STRESS_MAX_DROPPED', 1000)}`, abortOnFail: true }],
  },
};

function currentTarget() {
  let elapsed = (Date.now() - exec.scenario.startTime) / 1000;
  let from = START;
  for (const stage of stages) {
    const length = Number(stage.duration.slice(0, -1));
    if (elapsed <= length) return from + ((stage.target - from) * elapsed) / length;
    elapsed -= length;
    from = stage.target;
  }
  return from;
}

export function setup() {
  return setupShop();
}

export default function (data) {
  targetRate.add(currentTarget());
  runMix(data, MIX);
}

export const handleSummary = summaryHandler('stress', (data) => {
  const reached = data.metrics.tracemart_stress_target_rate;
  const failed = Object.values(data.metrics).some((m) => Object.values(m.thresholds || {}).some((t) => !t.ok));
  const rate = reached ? reached.values.max.toFixed(1) : 'n/a';
  return [failed ? `breaking point: crossed at about ${rate} iterations/s` : `no breaking point up to ${rate} iterations/s`];
});
