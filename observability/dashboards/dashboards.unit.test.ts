import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { OUTPUT_DIR, staleFiles } from './generate.js';
import { allDashboards, render } from './src/index.js';
import { listPromQLExpressions, panelsOf } from './src/queries.js';

const DATASOURCES_FILE = fileURLToPath(new URL('../grafana/provisioning/datasources/datasources.yaml', import.meta.url));
const PROMTOOL = ['/usr/bin/promtool', '/usr/local/bin/promtool'].find((path) => existsSync(path));

interface Ref {
  type?: string;
  uid?: string;
}

function provisionedUids(): Set<string> {
  const file = parse(readFileSync(DATASOURCES_FILE, 'utf8')) as { datasources: { uid: string }[] };
  return new Set(file.datasources.map((ds) => ds.uid));
}

const flatPanels = panelsOf;

describe('generated dashboards', () => {
  const dashboards = allDashboards();

  it('when generated, then every checked-in JSON file is identical', () => {
    for (const { file, dashboard } of dashboards) {
      expect(readFileSync(join(OUTPUT_DIR, file), 'utf8'), file).toBe(render(dashboard));
    }
    expect(staleFiles()).toEqual([]);
  });

  it('when listed, then each has the expected stable uid, a title and the faults annotation', () => {
    expect(dashboards.map(({ dashboard }) => dashboard.uid)).toEqual(['tracemart-overview', 'tracemart-saga', 'tracemart-resilience', 'tracemart-messaging', 'tracemart-service']);
    for (const { dashboard } of dashboards) {
      expect(dashboard.title).toMatch(/\S/);
      const faults = dashboard.annotations?.list?.find((a) => a.name === 'Faults');
      expect(faults?.expr, dashboard.uid).toContain('tracemart_faults_active');
    }
  });

  it('when a panel, target, annotation or variable names a data source, then its uid is provisioned', () => {
    const uids = provisionedUids();
    for (const { dashboard } of dashboards) {
      for (const panel of flatPanels(dashboard)) {
        const targets = (panel.targets ?? []) as { datasource?: Ref; refId?: string }[];
        expect(targets.length, `${dashboard.uid} / ${panel.title}`).toBeGreaterThan(0);
        for (const target of targets) {
          expect(uids, `${dashboard.uid} / ${panel.title} / ${target.refId}`).toContain(target.datasource?.uid);
        }
        if (panel.datasource) expect(uids).toContain(panel.datasource.uid);
      }
      for (const annotation of dashboard.annotations?.list ?? []) expect(uids).toContain(annotation.datasource?.uid);
      for (const variable of dashboard.templating?.list ?? []) expect(uids).toContain(variable.datasource?.uid);
    }
  });

  it('when listing PromQL, then every Prometheus target of every dashboard is there', () => {
    const listed = listPromQLExpressions();
    const targets = dashboards.flatMap(({ dashboard }) =>
      flatPanels(dashboard).flatMap((panel) => ((panel.targets ?? []) as { datasource?: Ref }[]).filter((t) => t.datasource?.type === 'prometheus')),
    );
    // Plus one faults annotation per dashboard.
    expect(listed).toHaveLength(targets.length + dashboards.length);
    for (const { runnable } of listed) expect(runnable).not.toMatch(/\$/);
  });

  // promtool parses PromQL exactly as Prometheus does; each expression becomes a
  // recording rule in a throwaway file. Skipped where promtool is not installed.
  it.skipIf(!PROMTOOL)('when parsed by promtool, then every dashboard expression is valid PromQL', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tracemart-promql-'));
    try {
      const rules = listPromQLExpressions().map((q, i) => ({ record: `tracemart_dashboard_check_${i}`, expr: q.runnable }));
      const file = join(dir, 'dashboards.rules.json');
      // JSON is YAML, and spares escaping the expressions by hand.
      writeFileSync(file, JSON.stringify({ groups: [{ name: 'dashboards', rules }] }));
      execFileSync(PROMTOOL as string, ['check', 'rules', file], { stdio: 'pipe' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
