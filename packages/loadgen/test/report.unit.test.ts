import { describe, expect, it } from 'vitest';
import { MetricStore, evaluateThresholds, phaseTable, renderText, type PhaseRow, type RunReport } from '../src';
import { RunLog } from '../src/scenarios/common';

describe('the run report', () => {
  const metrics = new MetricStore();
  for (let v = 1; v <= 20; v++) metrics.trend('http_req_duration', v, { phase: 'outage', kind: 'catalog' });
  const results = evaluateThresholds(metrics, { 'http_req_duration{phase:outage,kind:catalog}': ['p(95)<10'], tracemart_probe_comparisons: ['count>=1'] });
  const row: PhaseRow = {
    phase: 'outage',
    startS: 30,
    lengthS: 25,
    requests: 20,
    catalog: metrics.trendStats('http_req_duration{phase:outage,kind:catalog}'),
    catalogFailed: { rate: 0, passes: 0, fails: 20 },
    checkouts: 25,
    checkoutSucceeded: 0,
    rejected503: 25,
    post503: metrics.trendStats('http_req_duration{phase:outage,kind:catalog}'),
    droppedIterations: 0,
    thresholds: results.slice(0, 1),
  };

  it('when a phase crossed a threshold, then its row says FAIL and the threshold list names the observed value', () => {
    const [header, , line] = phaseTable([row]);
    expect(header).toMatch(/^phase\s+start\s+length\s+requests\s+catalog p50\/p95\/p99 ms/);
    expect(line).toMatch(/^outage\s+30s\s+25s\s+20\s+10\.0 \/ 19\.0 \/ 20\.0\s+0\/20 \(0\.00%\)\s+0\/25\s+25 \(20\.0\)\s+0\s+FAIL 1 of 1$/);
    const report: RunReport = {
      suite: 'degradation',
      driver: 'x',
      baseUrl: 'http://127.0.0.1:1',
      startedAt: 'now',
      durationS: 1,
      passed: false,
      settings: {},
      thresholds: results,
      phases: [row],
      lines: [],
      metrics: {},
      log: [],
    };
    const text = renderText(report);
    expect(text).toContain('degradation: FAILED');
    expect(text).toContain('FAIL http_req_duration{phase:outage,kind:catalog}: p(95)<10   [p(95)=19.01ms (n=20)]');
    expect(text).toContain('FAIL tracemart_probe_comparisons: count>=1   [count=0]');
  });

  it('when the same failure is logged for many orders, then it is folded into one counted line', () => {
    const log = new RunLog();
    for (let i = 0; i < 25; i++) log.add(`checkout rejected (phase outage): HTTP 503 order 1d4617f4-8ed3-40e9-a192-c57e44cb6a${String(i).padStart(2, '0')}`);
    log.add('checkout timeout (phase onset): HTTP 202');
    expect(log.entries()).toEqual(['25× checkout rejected (phase outage): HTTP 503 order 1d4617f4-8ed3-40e9-a192-c57e44cb6a00', 'checkout timeout (phase onset): HTTP 202']);
  });
});
