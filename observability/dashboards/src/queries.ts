import type { Dashboard, Panel, RowPanel } from '@grafana/grafana-foundation-sdk/dashboard';
import { SERVICES } from './shared.js';
import { allDashboards } from './index.js';

/** One PromQL expression as it appears in a dashboard, and a copy Prometheus can run as is. */
export interface PromQLExpression {
  dashboardUid: string;
  /** Panel title, or `annotation: <name>` for annotation queries. */
  source: string;
  refId: string;
  expr: string;
  /** `expr` with Grafana's variables replaced, for the Prometheus HTTP API or promtool. */
  runnable: string;
}

export interface Interpolation {
  /** Value for `$service` (a job label). */
  service: string;
  /** Value for `$__rate_interval` and `$__interval`. */
  rateInterval: string;
  /** Value for `$__range`. */
  range: string;
}

const DEFAULTS: Interpolation = { service: SERVICES[0], rateInterval: '1m', range: '1h' };

export function interpolate(expr: string, vars: Interpolation = DEFAULTS): string {
  return expr
    .replaceAll('$__rate_interval', vars.rateInterval)
    .replaceAll('$__interval', vars.rateInterval)
    .replaceAll('$__range', vars.range)
    .replaceAll('$service', vars.service);
}

interface Target {
  refId?: string;
  expr?: unknown;
  datasource?: { type?: string; uid?: string };
}

/** Every panel of a dashboard, rows flattened. */
export function panelsOf(dashboard: Dashboard): Panel[] {
  const flat: Panel[] = [];
  const visit = (panel: Panel | RowPanel): void => {
    if ('panels' in panel) panel.panels.forEach(visit);
    else flat.push(panel);
  };
  (dashboard.panels ?? []).forEach(visit);
  return flat;
}

/** Every Prometheus expression in one dashboard: panel targets and annotations. */
export function promqlOf(dashboard: Dashboard, vars: Interpolation = DEFAULTS): PromQLExpression[] {
  const uid = dashboard.uid ?? '';
  const found: PromQLExpression[] = [];
  for (const panel of panelsOf(dashboard)) {
    for (const target of (panel.targets ?? []) as Target[]) {
      if (target.datasource?.type !== 'prometheus' || typeof target.expr !== 'string') continue;
      found.push({
        dashboardUid: uid,
        source: panel.title ?? '',
        refId: target.refId ?? '',
        expr: target.expr,
        runnable: interpolate(target.expr, vars),
      });
    }
  }
  for (const annotation of dashboard.annotations?.list ?? []) {
    if (annotation.datasource?.type !== 'prometheus' || typeof annotation.expr !== 'string') continue;
    found.push({
      dashboardUid: uid,
      source: `annotation: ${annotation.name}`,
      refId: '',
      expr: annotation.expr,
      runnable: interpolate(annotation.expr, vars),
    });
  }
  return found;
}

/** Every PromQL expression used by every generated dashboard. */
export function listPromQLExpressions(vars: Interpolation = DEFAULTS): PromQLExpression[] {
  return allDashboards().flatMap(({ dashboard }) => promqlOf(dashboard, vars));
}
