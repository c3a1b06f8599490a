import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { repoRoot } from '@tracemart/testing';

/**
 * What observability/dashboards/dashboards.unit.test.ts does not cover: the checked-in JSON read as
 * Grafana reads it (not the generator's objects), and the links *between* data sources in
 * datasources.yaml (trace -> logs, trace -> metrics, exemplar -> trace, log -> trace).
 */

const grafana = join(repoRoot, 'observability', 'grafana');

interface DataSource {
  name: string;
  type: string;
  uid: string;
  isDefault?: boolean;
  jsonData?: Record<string, unknown>;
}
interface JsonPanel {
  title?: string;
  type?: string;
  datasource?: { uid?: string; type?: string };
  targets?: { refId?: string; expr?: string; query?: string; datasource?: { uid?: string; type?: string } }[];
  panels?: JsonPanel[];
}
interface JsonDashboard {
  uid?: string;
  title?: string;
  panels?: JsonPanel[];
}

const datasources = (): DataSource[] =>
  (parse(readFileSync(join(grafana, 'provisioning', 'datasources', 'datasources.yaml'), 'utf8')) as { datasources: DataSource[] }).datasources;

/** Every `datasourceUid` anywhere under a data source's jsonData, with where it was found. */
function referencedUids(value: unknown, path: string): { path: string; uid: string }[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => referencedUids(v, `${path}[${i}]`));
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, v]) =>
      key === 'datasourceUid' && typeof v === 'string' ? [{ path: `${path}.${key}`, uid: v }] : referencedUids(v, `${path}.${key}`),
    );
  }
  return [];
}

const dashboardFiles = (): { file: string; dashboard: JsonDashboard }[] =>
  readdirSync(join(grafana, 'dashboards'))
    .filter((f) => f.endsWith('.json'))
    .map((file) => ({ file, dashboard: JSON.parse(readFileSync(join(grafana, 'dashboards', file), 'utf8')) as JsonDashboard }));

const flat = (panels: JsonPanel[] = []): JsonPanel[] => panels.flatMap((p) => (p.panels ? flat(p.panels) : [p]));

describe('grafana provisioning', () => {
  it('when data sources are provisioned, then uids are unique and exactly one is the default', () => {
    const all = datasources();
    expect(new Set(all.map((d) => d.uid)).size).toBe(all.length);
    expect(all.filter((d) => d.isDefault === true).map((d) => d.uid)).toEqual(['prometheus']);
    expect(all.map((d) => d.type).sort()).toEqual(['loki', 'prometheus', 'tempo']);
  });

  it('when a data source links to another (traces to logs and metrics, exemplars, derived fields), then that uid is provisioned', () => {
    const all = datasources();
    const uids = new Set(all.map((d) => d.uid));
    const links = all.flatMap((d) => referencedUids(d.jsonData, d.uid));
    // The correlations the README promises: Tempo -> Loki, Tempo -> Prometheus, Prometheus exemplar -> Tempo, Loki -> Tempo.
    expect(links.map((l) => l.path)).toEqual(
      expect.arrayContaining([
        'tempo.tracesToLogsV2.datasourceUid',
        'tempo.tracesToMetrics.datasourceUid',
        'prometheus.exemplarTraceIdDestinations[0].datasourceUid',
        'prometheus.exemplarTraceIdDestinations[1].datasourceUid',
        'loki.derivedFields[0].datasourceUid',
      ]),
    );
    for (const link of links) expect(uids, link.path).toContain(link.uid);
  });

  it('when Grafana reads the checked-in JSON, then each file has a unique uid, a title, and panels whose queries have a query text', () => {
    const files = dashboardFiles();
    expect(files.length).toBeGreaterThan(0);
    const uids = new Set(datasources().map((d) => d.uid));
    expect(new Set(files.map((f) => f.dashboard.uid)).size).toBe(files.length);
    for (const { file, dashboard } of files) {
      expect(dashboard.uid, file).toMatch(/^[\w-]{1,40}$/);
      expect(dashboard.title, file).toMatch(/\S/);
      const panels = flat(dashboard.panels);
      expect(panels.length, file).toBeGreaterThan(0);
      for (const panel of panels) {
        for (const target of panel.targets ?? []) {
          const where = `${file} / ${panel.title} / ${target.refId}`;
          expect(uids, where).toContain(target.datasource?.uid);
          if (target.datasource?.type === 'prometheus') expect(target.expr, where).toMatch(/\S/);
          if (target.datasource?.type === 'tempo') expect(target.query ?? (target as Record<string, unknown>).queryType, where).toBeDefined();
        }
      }
    }
  });
});
