import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import type * as common from '@grafana/grafana-foundation-sdk/common';
import {
  AnnotationQueryBuilder,
  DashboardBuilder,
  DashboardCursorSync,
  MappingType,
  RowBuilder,
  ThresholdsConfigBuilder,
  ThresholdsMode,
  type Dashboard,
  type Panel,
  type RowPanel,
  type ValueMapping,
} from '@grafana/grafana-foundation-sdk/dashboard';
import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as table from '@grafana/grafana-foundation-sdk/table';
import * as tempo from '@grafana/grafana-foundation-sdk/tempo';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import { LegendDisplayMode, LegendPlacement, ReduceDataOptionsBuilder, StackingConfigBuilder, StackingMode, VizLegendOptionsBuilder } from '@grafana/grafana-foundation-sdk/common';

/** Data source uids, fixed in grafana/provisioning/datasources/datasources.yaml. */
export const PROMETHEUS: common.DataSourceRef = { type: 'prometheus', uid: 'prometheus' };
export const TEMPO: common.DataSourceRef = { type: 'tempo', uid: 'tempo' };

/** Every process is scraped with job=<service name>. */
export const SERVICES = ['gateway', 'user', 'catalog', 'order', 'inventory', 'payment', 'notification'] as const;

/** One series in a panel: a PromQL expression and its legend. */
export interface Series {
  expr: string;
  legend: string;
}

/** `range` for graphs, `instant` for a stat's single value, `table` for one row per label set. */
export type QueryShape = 'range' | 'instant' | 'table';

export function promQuery(series: Series, refId: string, shape: QueryShape = 'range'): prometheus.DataqueryBuilder {
  const query = new prometheus.DataqueryBuilder().datasource(PROMETHEUS).refId(refId).expr(series.expr).legendFormat(series.legend);
  switch (shape) {
    case 'range':
      return query.range();
    case 'instant':
      return query.instant();
    case 'table':
      return query.instant().format(prometheus.PromQueryFormat.Table);
  }
}

function refIds<T>(items: readonly T[], make: (item: T, refId: string) => cog.Builder<cog.Dataquery>): cog.Builder<cog.Dataquery>[] {
  return items.map((item, i) => make(item, String.fromCharCode(65 + i)));
}

interface PanelOptions {
  title: string;
  description?: string;
  unit?: string;
  series: readonly Series[];
  width?: number;
  height?: number;
}

function legend(): VizLegendOptionsBuilder {
  return new VizLegendOptionsBuilder().showLegend(true).displayMode(LegendDisplayMode.List).placement(LegendPlacement.Bottom).calcs([]);
}

/** A time series panel; latency panels ask for exemplars so a point links to its trace. */
export function timeSeries(options: PanelOptions & { stacked?: boolean; exemplars?: boolean; mappings?: ValueMapping[] }): timeseries.PanelBuilder {
  const panel = new timeseries.PanelBuilder()
    .title(options.title)
    .datasource(PROMETHEUS)
    .unit(options.unit ?? 'short')
    .span(options.width ?? 8)
    .height(options.height ?? 8)
    .legend(legend())
    .fillOpacity(10)
    .targets(refIds(options.series, (series, refId) => promQuery(series, refId).exemplar(options.exemplars ?? false)));
  if (options.description) panel.description(options.description);
  if (options.stacked) {
    panel.stacking(new StackingConfigBuilder().mode(StackingMode.Normal).group('A'));
  }
  if (options.mappings) panel.mappings(options.mappings);
  return panel;
}

/** A single number: the last value of an instant query. */
export function statPanel(options: PanelOptions & { thresholds?: ThresholdsConfigBuilder; mappings?: ValueMapping[] }): stat.PanelBuilder {
  const panel = new stat.PanelBuilder()
    .title(options.title)
    .datasource(PROMETHEUS)
    .unit(options.unit ?? 'short')
    .span(options.width ?? 6)
    .height(options.height ?? 4)
    .reduceOptions(new ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
    .targets(refIds(options.series, (series, refId) => promQuery(series, refId, 'instant')));
  if (options.description) panel.description(options.description);
  if (options.thresholds) panel.thresholds(options.thresholds);
  if (options.mappings) panel.mappings(options.mappings);
  return panel;
}

/** Current values, one row per label set (instant queries, merged on their labels). */
export function tablePanel(options: PanelOptions): table.PanelBuilder {
  const panel = new table.PanelBuilder()
    .title(options.title)
    .datasource(PROMETHEUS)
    .unit(options.unit ?? 'short')
    .span(options.width ?? 12)
    .height(options.height ?? 8)
    .targets(refIds(options.series, (series, refId) => promQuery(series, refId, 'table')))
    .withTransformation({ id: 'merge', options: {} });
  if (options.description) panel.description(options.description);
  return panel;
}

/** A TraceQL search shown as a table of traces, each row linking to the trace view. */
export function traceSearchPanel(title: string, traceql: string, width = 24, height = 8): table.PanelBuilder {
  return new table.PanelBuilder()
    .title(title)
    .datasource(TEMPO)
    .span(width)
    .height(height)
    .withTarget(new tempo.DataqueryBuilder().datasource(TEMPO).refId('A').queryType('traceql').query(traceql).limit(20).tableType(tempo.SearchTableType.Traces));
}

export function row(title: string): RowBuilder {
  return new RowBuilder(title);
}

/** For "lower is better": green below `warn`, amber from `warn`, red from `critical`. */
export function thresholds(warn: number, critical: number): ThresholdsConfigBuilder {
  return new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps([
    { value: null, color: 'green' },
    { value: warn, color: 'orange' },
    { value: critical, color: 'red' },
  ]);
}

/** For "higher is better": red below `warn`, amber from `warn`, green from `ok`. */
export function floorThresholds(warn: number, ok: number): ThresholdsConfigBuilder {
  return new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps([
    { value: null, color: 'red' },
    { value: warn, color: 'orange' },
    { value: ok, color: 'green' },
  ]);
}

/** tracemart_breaker_state: 0 closed, 1 half-open, 2 open. */
export const BREAKER_STATE_MAPPINGS: ValueMapping[] = [
  {
    type: MappingType.ValueToText,
    options: {
      '0': { text: 'closed', color: 'green', index: 0 },
      '1': { text: 'half-open', color: 'orange', index: 1 },
      '2': { text: 'open', color: 'red', index: 2 },
    },
  },
];

/**
 * Faults injected by the chaos tooling show as regions on every time series:
 * tracemart_faults_active{service,kind} is 1 while a fault is on.
 */
export const FAULTS_ANNOTATION_EXPR = 'max by (service, kind) (tracemart_faults_active) == 1';

function faultsAnnotation(): AnnotationQueryBuilder {
  return new AnnotationQueryBuilder()
    .name('Faults')
    .datasource(PROMETHEUS)
    .enable(true)
    .iconColor('red')
    .expr(FAULTS_ANNOTATION_EXPR)
    .step('10s')
    .titleFormat('fault {{kind}} on {{service}}')
    .tagKeys('service,kind')
    .useValueForTime(false);
}

/** Shared look of every tracemart dashboard: tags, time, refresh, crosshair, faults. */
export function tracemartDashboard(uid: string, title: string, description: string): DashboardBuilder {
  return new DashboardBuilder(title)
    .uid(uid)
    .description(description)
    .tags(['tracemart', 'generated'])
    .time({ from: 'now-30m', to: 'now' })
    .refresh('10s')
    .timezone('browser')
    .tooltip(DashboardCursorSync.Crosshair)
    .readonly()
    .annotation(faultsAnnotation());
}

/**
 * Builds the dashboard and numbers its panels 1..n in layout order, so the
 * JSON is stable and panel links (viewPanel=N) survive regeneration.
 */
export function buildDashboard(builder: DashboardBuilder): Dashboard {
  const dashboard = builder.build();
  let id = 0;
  const number = (panel: Panel | RowPanel): void => {
    id += 1;
    panel.id = id;
    if ('panels' in panel) {
      for (const inner of panel.panels) number(inner);
    }
  };
  for (const panel of dashboard.panels ?? []) number(panel);
  return dashboard;
}
