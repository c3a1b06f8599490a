import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { degradationPlan, loadScenarioFile, smokePlan, withCiProfile } from '@tracemart/loadgen';

/**
 * The k6 scripts and the Node harness read one file, load-tests/scenarios.json. This evaluates the k6
 * scripts' init context here (k6's modules replaced by inert stand-ins: only `options` is read, no
 * request is made) and checks that k6 would run the same phases with the same thresholds as the
 * harness, for the default environment, the CI profile and an override.
 */

vi.mock('k6', () => ({ check: () => true, group: (_: string, fn: () => void) => fn(), sleep: () => undefined }));
vi.mock('k6/http', () => ({ default: { request: () => ({}), get: () => ({}), expectedStatuses: () => ({}) } }));
vi.mock('k6/execution', () => ({ default: { vu: { idInTest: 1 }, scenario: { name: 'x', startTime: 0 } } }));
vi.mock('k6/metrics', () => {
  class Metric {
    add(): void {}
  }
  return { Counter: Metric, Gauge: Metric, Rate: Metric, Trend: Metric };
});

interface K6Scenario {
  startTime?: string;
  duration?: string;
  rate?: number;
  timeUnit?: string;
  maxDuration?: string;
  exec?: string;
}
interface K6Options {
  scenarios: Record<string, K6Scenario>;
  thresholds: Record<string, string[]>;
}

const dir = __dirname;
const file = loadScenarioFile();

async function k6Options(script: string, env: Record<string, string>): Promise<K6Options> {
  vi.resetModules();
  vi.stubGlobal('__ENV', env);
  vi.stubGlobal('open', (path: string) => readFileSync(join(dir, path), 'utf8'));
  const module = (await import(/* @vite-ignore */ join(dir, script))) as { options: K6Options };
  return module.options;
}

const ms = (seconds: number) => `${Math.round(seconds * 1000)}ms`;

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('load-tests/scenarios.json, shared by k6 and the harness', () => {
  for (const [label, env] of [
    ['the default environment', {}],
    ['the CI profile', withCiProfile(file, {}) as Record<string, string>],
    ['overrides', { DEGRADATION_SCALE: 'short', DEGRADATION_OUTAGE: '40s', DEGRADATION_FAST_FAIL_MS: '80', DEGRADATION_CATALOG_RATE: '20' }],
  ] as const) {
    it(`when degradation.js is evaluated with ${label}, then k6 schedules the harness's phases and judges its thresholds`, async () => {
      const options = await k6Options('degradation.js', env);
      const plan = degradationPlan(file, env);
      expect(options.thresholds).toEqual(plan.thresholds);
      for (const phase of plan.phases) {
        const catalog = options.scenarios[`${phase.name}_catalog`];
        expect(catalog?.startTime).toBe(ms(phase.startS));
        expect(catalog?.duration).toBe(ms(phase.lengthS));
        expect(catalog?.rate).toBe(Math.round(plan.settings.catalogRate * 10));
        const checkoutS = phase.name === 'baseline' ? phase.lengthS - plan.settings.checkoutSettleS : phase.lengthS;
        expect(options.scenarios[`${phase.name}_checkout`]?.duration).toBe(ms(checkoutS));
      }
      expect(options.scenarios.fault_inject?.startTime).toBe(ms(plan.fault.startS));
      expect(options.scenarios.fault_clear?.startTime).toBe(ms(plan.fault.endS));
    });
  }

  it('when the CI profile is applied, then degradation runs the short preset with a 25 ms p95 floor', () => {
    const plan = degradationPlan(file, withCiProfile(file, {}));
    expect(plan.scale).toBe('short');
    expect(plan.settings.p95FloorMs).toBe(25);
    expect(plan.phases.map((p) => [p.name, p.lengthS])).toEqual([
      ['baseline', 25],
      ['onset', 5],
      ['outage', 25],
      ['healing', 60],
      ['recovery', 25],
    ]);
    expect(plan.thresholds['tracemart_catalog_p95_ratio']).toEqual(['max<=1.2']);
    expect(plan.thresholds['http_req_duration{phase:outage,name:POST /api/orders,status:503}']).toEqual(['p(99)<100']);
  });

  it('when the environment sets a variable, then it wins over the CI profile', () => {
    expect(degradationPlan(file, withCiProfile(file, { DEGRADATION_SCALE: 'full' })).scale).toBe('full');
  });

  it('when smoke.js is evaluated, then k6 judges the harness smoke thresholds within the same time bound', async () => {
    const options = await k6Options('smoke.js', {});
    const plan = smokePlan(file, {});
    expect(options.thresholds).toEqual(plan.thresholds);
    expect(options.scenarios.smoke?.maxDuration).toBe(file.smoke.maxDuration);
    expect(plan.maxDurationS).toBe(60);
  });

  it('when a variable is out of its bounds, then both refuse it naming the variable', async () => {
    const env = { DEGRADATION_CATALOG_RATE: '0' };
    expect(() => degradationPlan(file, env)).toThrow(/DEGRADATION_CATALOG_RATE must be a number in \[1, 1000\]/);
    await expect(k6Options('degradation.js', env)).rejects.toThrow(/DEGRADATION_CATALOG_RATE must be a number in \[1, 1000\]/);
  });
});
