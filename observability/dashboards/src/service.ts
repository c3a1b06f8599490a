import { QueryVariableBuilder, VariableRefresh, VariableSort, type Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { PROMETHEUS, SERVICES, buildDashboard, floorThresholds, row, statPanel, tablePanel, thresholds, timeSeries, traceSearchPanel, tracemartDashboard } from './shared.js';

const SERVER = 'http_server_request_duration';
const quantile = (q: number): string => `histogram_quantile(${q}, sum by (le) (rate(${SERVER}_bucket{job="$service"}[$__rate_interval])))`;

function serviceVariable(): QueryVariableBuilder {
  return new QueryVariableBuilder('service')
    .label('Service')
    .datasource(PROMETHEUS)
    .query({ query: `label_values(${SERVER}_count, job)`, refId: 'PrometheusVariableQueryEditor-VariableQuery' })
    .definition(`label_values(${SERVER}_count, job)`)
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .sort(VariableSort.AlphabeticalAsc)
    .current({ text: SERVICES[0], value: SERVICES[0] });
}

/** One service at a time (template variable `service` = its job label): HTTP, messaging, spans, traces. */
export function serviceDashboard(): Dashboard {
  return buildDashboard(
    tracemartDashboard(
      'tracemart-service',
      'Tracemart / Service drill-down',
      'Everything about one service: per-route RED, upstream calls, messaging, span metrics and its error traces.',
    )
      .withVariable(serviceVariable())
      .withRow(row('$service'))
      .withPanel(
        statPanel({
          title: 'Up',
          series: [{ expr: 'min(up{job="$service"})', legend: 'up' }],
          thresholds: floorThresholds(0.5, 1),
        }),
      )
      .withPanel(
        statPanel({
          title: 'Request rate',
          unit: 'reqps',
          series: [{ expr: `sum(rate(${SERVER}_count{job="$service"}[$__rate_interval]))`, legend: 'rate' }],
        }),
      )
      .withPanel(
        statPanel({
          title: 'Error ratio (5xx)',
          unit: 'percentunit',
          series: [
            {
              expr:
                // `or ... * 0`: no 5xx at all reads 0, not "No data".
                `(sum(rate(${SERVER}_count{job="$service",http_response_status_code=~"5.."}[$__rate_interval]))` +
                ` or sum(rate(${SERVER}_count{job="$service"}[$__rate_interval])) * 0)` +
                ` / sum(rate(${SERVER}_count{job="$service"}[$__rate_interval]))`,
              legend: 'errors',
            },
          ],
          thresholds: thresholds(0.005, 0.05),
        }),
      )
      .withPanel(
        statPanel({
          title: 'Faults active',
          series: [{ expr: 'sum(tracemart_faults_active{service="$service"}) or vector(0)', legend: 'faults' }],
          thresholds: thresholds(0.5, 1),
        }),
      )
      .withRow(row('HTTP server'))
      .withPanel(
        timeSeries({
          title: 'Rate by route',
          unit: 'reqps',
          series: [
            {
              expr: `sum by (http_request_method, http_route) (rate(${SERVER}_count{job="$service"}[$__rate_interval]))`,
              legend: '{{http_request_method}} {{http_route}}',
            },
          ],
        }),
      )
      .withPanel(
        timeSeries({
          title: '5xx by route and status',
          unit: 'reqps',
          series: [
            {
              expr: `sum by (http_route, http_response_status_code) (rate(${SERVER}_count{job="$service",http_response_status_code=~"5.."}[$__rate_interval]))`,
              legend: '{{http_route}} {{http_response_status_code}}',
            },
          ],
        }),
      )
      .withPanel(
        timeSeries({
          title: 'Duration p50 / p95 / p99',
          unit: 's',
          exemplars: true,
          series: [
            { expr: quantile(0.5), legend: 'p50' },
            { expr: quantile(0.95), legend: 'p95' },
            { expr: quantile(0.99), legend: 'p99' },
          ],
        }),
      )
      .withPanel(
        timeSeries({
          title: 'p95 by route',
          unit: 's',
          width: 12,
          series: [
            {
              expr: `histogram_quantile(0.95, sum by (http_route, le) (rate(${SERVER}_bucket{job="$service"}[$__rate_interval])))`,
              legend: '{{http_route}}',
            },
          ],
        }),
      )
      .withPanel(
        timeSeries({
          title: 'Outgoing HTTP calls p95',
          description: 'HTTP client spans of this service (the gateway calls every other service).',
          unit: 's',
          width: 12,
          series: [
            {
              expr: 'histogram_quantile(0.95, sum by (server_address, le) (rate(http_client_request_duration_bucket{job="$service"}[$__rate_interval])))',
              legend: '{{server_address}}',
            },
          ],
        }),
      )
      .withRow(row('Messaging'))
      .withPanel(
        timeSeries({
          title: 'Published',
          unit: 'ops',
          series: [
            {
              expr: 'sum by (messaging_destination_name, outcome) (rate(tracemart_messaging_published_total{job="$service"}[$__rate_interval]))',
              legend: '{{messaging_destination_name}} {{outcome}}',
            },
          ],
        }),
      )
      .withPanel(
        timeSeries({
          title: 'Consumed',
          unit: 'ops',
          series: [
            {
              expr: 'sum by (messaging_destination_name, outcome) (rate(tracemart_messaging_consumed_total{job="$service"}[$__rate_interval]))',
              legend: '{{messaging_destination_name}} {{outcome}}',
            },
          ],
        }),
      )
      .withPanel(
        tablePanel({
          title: 'Partitions owned (sharded consumers)',
          width: 8,
          series: [{ expr: 'max by (role, owner) (tracemart_partitions_owned{job="$service"})', legend: '{{owner}}' }],
        }),
      )
      .withRow(row("Spans (the Collector's spanmetrics connector)"))
      .withPanel(
        timeSeries({
          title: 'Span rate by name',
          unit: 'ops',
          width: 12,
          series: [{ expr: 'sum by (span_name) (rate(traces_spanmetrics_calls_total{service_name="$service"}[$__rate_interval]))', legend: '{{span_name}}' }],
        }),
      )
      .withPanel(
        timeSeries({
          title: 'Span p95 by name',
          description: "From the Collector's span metrics; each exemplar point opens the trace it came from.",
          unit: 's',
          width: 12,
          exemplars: true,
          series: [
            {
              expr: 'histogram_quantile(0.95, sum by (span_name, le) (rate(traces_spanmetrics_duration_seconds_bucket{service_name="$service"}[$__rate_interval])))',
              legend: '{{span_name}}',
            },
          ],
        }),
      )
      .withPanel(traceSearchPanel('Recent error traces', '{ resource.service.name = "$service" && status = error }')),
  );
}
