import { describe, expect, it } from 'vitest';
import { MetricStore, evaluateThresholds, parseSelector, resolveThresholds } from '../src';

describe('k6-shaped metrics with HDR histograms', () => {
  it('when 1..1000 ms are recorded, then the percentiles are those of the samples within the histogram resolution', () => {
    const metrics = new MetricStore();
    for (let v = 1; v <= 1000; v++) metrics.trend('http_req_duration', v, { phase: v <= 500 ? 'a' : 'b' });
    const all = metrics.trendStats('http_req_duration');
    expect(all?.count).toBe(1000);
    expect(all?.min).toBe(1);
    expect(all?.max).toBe(1000);
    expect(all?.avg).toBeCloseTo(500.5, 6);
    expect(all?.med).toBeCloseTo(500, -0.3);
    expect(all?.['p(95)']).toBeGreaterThanOrEqual(949);
    expect(all?.['p(95)']).toBeLessThanOrEqual(951);
    expect(all?.['p(99)']).toBeGreaterThanOrEqual(989);
    expect(all?.['p(99)']).toBeLessThanOrEqual(991);
    expect(metrics.trendStats('http_req_duration{phase:b}')?.min).toBe(501);
  });

  it('when sub-millisecond latencies are recorded, then they keep their precision', () => {
    const metrics = new MetricStore();
    for (let i = 0; i < 100; i++) metrics.trend('t', 0.25);
    expect(metrics.trendStats('t')?.['p(95)']).toBeCloseTo(0.25, 3);
  });

  it('when a selector names tags, then only series carrying all of them are aggregated', () => {
    const metrics = new MetricStore();
    metrics.rate('http_req_failed', true, { phase: 'outage', kind: 'catalog', name: 'GET /api/products/:id' });
    metrics.rate('http_req_failed', false, { phase: 'outage', kind: 'catalog', name: 'GET /api/products' });
    metrics.rate('http_req_failed', true, { phase: 'outage', kind: 'checkout' });
    expect(metrics.rateStats('http_req_failed{phase:outage,kind:catalog}')).toEqual({ rate: 0.5, passes: 1, fails: 1 });
    expect(metrics.rateStats('http_req_failed{name:GET /api/products/:id}')?.passes).toBe(1);
    expect(metrics.rateStats('http_req_failed{phase:baseline}')).toBeUndefined();
    expect(parseSelector('http_req_duration{phase:outage,name:POST /api/orders,status:503}')).toEqual({
      name: 'http_req_duration',
      tags: { phase: 'outage', name: 'POST /api/orders', status: '503' },
    });
  });

  it('when a metric is used as two types, then it is refused', () => {
    const metrics = new MetricStore();
    metrics.counter('x');
    expect(() => metrics.rate('x', true)).toThrow(/is a counter/);
  });
});

describe('k6 threshold expressions', () => {
  const metrics = new MetricStore();
  for (let v = 1; v <= 100; v++) metrics.trend('http_req_duration', v, { kind: 'catalog' });
  metrics.rate('tracemart_checkout_success', true, { phase: 'recovery' });
  metrics.rate('tracemart_checkout_success', false, { phase: 'recovery' });
  metrics.counter('tracemart_fault_actions', 1, { action: 'injected' });

  it('when values are inside and outside their bounds, then each expression passes or fails accordingly', () => {
    const results = evaluateThresholds(metrics, {
      'http_req_duration{kind:catalog}': ['p(95)<500', 'p(95)<50', 'max<=100', 'med>60'],
      'tracemart_checkout_success{phase:recovery}': ['rate>=0.99', 'rate==0.5'],
      'tracemart_fault_actions{action:injected}': ['count>=1'],
      'tracemart_fault_actions{action:cleared}': ['count>=1'],
    });
    expect(results.map((r) => [r.metric, r.expression, r.ok])).toEqual([
      ['http_req_duration{kind:catalog}', 'p(95)<500', true],
      ['http_req_duration{kind:catalog}', 'p(95)<50', false],
      ['http_req_duration{kind:catalog}', 'max<=100', true],
      ['http_req_duration{kind:catalog}', 'med>60', false],
      ['tracemart_checkout_success{phase:recovery}', 'rate>=0.99', false],
      ['tracemart_checkout_success{phase:recovery}', 'rate==0.5', true],
      ['tracemart_fault_actions{action:injected}', 'count>=1', true],
      ['tracemart_fault_actions{action:cleared}', 'count>=1', false],
    ]);
  });

  it('when a trend or rate got no sample, then its threshold fails saying so', () => {
    const [duration, rate] = evaluateThresholds(metrics, {
      'http_req_duration{phase:outage,name:POST /api/orders,status:503}': ['p(99)<100'],
      'tracemart_checkout_failure_is_503{phase:outage}': ['rate>=0.99'],
    });
    expect(duration).toMatchObject({ ok: false, observed: 'no samples' });
    expect(rate).toMatchObject({ ok: false, observed: 'no samples' });
  });

  it('when an expression names a setting, then it is filled in, and an unknown one is refused', () => {
    expect(resolveThresholds({ m: ['p(95)<${catalogP95Ms}'] }, { catalogP95Ms: 500 })).toEqual({ m: ['p(95)<500'] });
    expect(() => resolveThresholds({ m: ['p(95)<${nope}'] }, {})).toThrow(/unknown setting "nope"/);
    expect(() => evaluateThresholds(metrics, { http_req_duration: ['p95 < 3'] })).toThrow(/not a threshold expression/);
  });
});
