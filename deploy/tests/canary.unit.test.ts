import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, findObject, render } from './support';

interface AnalysisQuery {
  name: string;
  query: string;
  successCondition: string;
  failureCondition: string;
}

const queries: AnalysisQuery[] = JSON.parse(readFileSync(join(ROOT, 'deploy/analysis-queries.json'), 'utf8'));

/** deploy/analysis-queries.json's placeholders, as the AnalysisTemplate spells them. */
function asTemplate(query: string): string {
  return query
    .replaceAll('{{service}}', '{{args.service-name}}')
    .replaceAll('{{canary}}', 'rollouts_pod_template_hash="{{args.canary-hash}}"')
    .replaceAll('{{stable}}', 'rollouts_pod_template_hash="{{args.stable-hash}}"');
}

describe('the canary overlay', () => {
  const objects = render('canary');
  const template = findObject(objects, 'AnalysisTemplate', 'canary-health');

  it('when the AnalysisTemplate queries Prometheus, then its queries and conditions are those of deploy/analysis-queries.json', () => {
    expect(template).toBeDefined();
    const metrics = template!.spec.metrics.map((m) => ({
      name: m.name,
      query: m.provider.prometheus.query,
      successCondition: m.successCondition,
      failureCondition: m.failureCondition,
    }));
    expect(metrics).toEqual(queries.map((q) => ({ name: q.name, query: asTemplate(q.query), successCondition: q.successCondition, failureCondition: q.failureCondition })));
    for (const m of template!.spec.metrics) expect(m.provider.prometheus.address).toMatch(/^http:\/\/prometheus\.tracemart\.svc/);
  });

  it('when the queries compare canary with stable, then they use the analysed metric, both sides and no unfilled placeholder', () => {
    expect(queries.map((q) => q.name).sort()).toEqual(['error-rate-delta', 'p95-latency-excess-seconds']);
    for (const q of queries) {
      expect(q.query).toMatch(/http_server_request_duration_(bucket|count)\{job="\{\{service\}\}"/);
      expect(q.query).toContain('{{canary}}');
      expect(q.query).toContain('{{stable}}');
      expect(asTemplate(q.query)).not.toMatch(/\{\{(?!args\.)/);
    }
  });

  it.each(['order', 'payment'])('when %s is released, then a Rollout steps its weight, pauses, analyses and runs the base pod template', (name) => {
    const rollout = findObject(objects, 'Rollout', name);
    expect(rollout).toBeDefined();
    expect(rollout!.spec.workloadRef).toMatchObject({ kind: 'Deployment', name });
    const deployment = findObject(objects, 'Deployment', name);
    expect(deployment?.spec.replicas, 'the Deployment only holds the template').toBe(0);
    const steps = rollout!.spec.strategy.canary!.steps;
    expect(steps.some((s) => s.setWeight !== undefined)).toBe(true);
    expect(steps.some((s) => s.pause !== undefined)).toBe(true);
    const analyses = steps.flatMap((s) => (s.analysis ? [s.analysis] : []));
    expect(analyses.length).toBeGreaterThan(0);
    for (const analysis of analyses) {
      expect(analysis.templates.map((t) => t.templateName)).toContain('canary-health');
      const args = Object.fromEntries(analysis.args.map((a) => [a.name, a.value ?? a.valueFrom?.podTemplateHashValue]));
      expect(args).toEqual({ 'service-name': name, 'canary-hash': 'Latest', 'stable-hash': 'Stable' });
    }
    expect(rollout!.spec.strategy.canary!.maxUnavailable).toBe(0);
  });

  it('when a metric fails, then the analysis fails (and the Rollout aborts) before all measurements are taken', () => {
    for (const m of template!.spec.metrics) expect(m.failureLimit).toBeLessThan(m.count!);
  });
});
