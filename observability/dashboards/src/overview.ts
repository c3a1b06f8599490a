import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import * as nodegraph from '@grafana/grafana-foundation-sdk/nodegraph';
import * as tempo from '@grafana/grafana-foundation-sdk/tempo';
import { TEMPO, buildDashboard, floorThresholds, row, statPanel, tablePanel, thresholds, timeSeries, tracemartDashboard } from './shared.js';

const CHECKOUT = 'job="gateway",http_request_method="POST",http_route="/api/orders"';

/** RED for every service at once, the checkout SLO, and who calls whom. */
export function overviewDashboard(): Dashboard {
  return buildDashboard(
    tracemartDashboard('tracemart-overview', 'Tracemart / System overview', 'Rate, errors and duration of every service (job), the checkout SLO and the service graph from Tempo.')
      .withRow(row('Checkout SLO (POST /api/orders at the gateway)'))
      .withPanel(
        statPanel({
          title: 'Checkout availability, 1h',
          description: 'Share of checkouts answered without a 5xx. Objective 99.5%.',
          unit: 'percentunit',
          series: [{ expr: '1 - slo:checkout_availability:error_ratio_rate1h', legend: 'availability' }],
          thresholds: floorThresholds(0.99, 0.995),
        }),
      )
      .withPanel(
        statPanel({
          title: 'Checkouts slower than 500ms, 1h',
          description: 'Objective: at most 5% (p95 < 500ms).',
          unit: 'percentunit',
          series: [{ expr: 'slo:checkout_latency:slow_ratio_rate1h', legend: 'slow' }],
          thresholds: thresholds(0.03, 0.05),
        }),
      )
      .withPanel(
        statPanel({
          title: 'Checkout p95',
          unit: 's',
          series: [
            {
              expr: `histogram_quantile(0.95, sum by (le) (rate(http_server_request_duration_bucket{${CHECKOUT}}[$__rate_interval])))`,
              legend: 'p95',
            },
          ],
          thresholds: thresholds(0.4, 0.5),
        }),
      )
      .withPanel(
        statPanel({
          title: 'Checkout rate',
          unit: 'reqps',
          series: [
            {
              expr: `sum(rate(http_server_request_duration_count{${CHECKOUT}}[$__rate_interval]))`,
              legend: 'rate',
            },
          ],
        }),
      )
      .withRow(row('RED per service'))
      .withPanel(
        timeSeries({
          title: 'Request rate',
          unit: 'reqps',
          series: [{ expr: 'sum by (job) (rate(http_server_request_duration_count[$__rate_interval]))', legend: '{{job}}' }],
        }),
      )
      .withPanel(
        timeSeries({
          title: 'Error ratio (5xx)',
          unit: 'percentunit',
          series: [
            {
              expr:
                // `or ... * 0`: a job that served requests without a 5xx shows 0, not a missing line.
                '(sum by (job) (rate(http_server_request_duration_count{http_response_status_code=~"5.."}[$__rate_interval]))' +
                ' or sum by (job) (rate(http_server_request_duration_count[$__rate_interval])) * 0)' +
                ' / sum by (job) (rate(http_server_request_duration_count[$__rate_interval]))',
              legend: '{{job}}',
            },
          ],
        }),
      )
      .withPanel(
        timeSeries({
          title: 'p95 duration',
          unit: 's',
          exemplars: true,
          series: [
            {
              expr: 'histogram_quantile(0.95, sum by (job, le) (rate(http_server_request_duration_bucket[$__rate_interval])))',
              legend: '{{job}}',
            },
          ],
        }),
      )
      .withPanel(
        timeSeries({
          title: 'Gateway → upstream p95',
          description: 'HTTP client side of the gateway, per upstream service.',
          unit: 's',
          width: 12,
          series: [
            {
              expr: 'histogram_quantile(0.95, sum by (server_address, le) (rate(http_client_request_duration_bucket{job="gateway"}[$__rate_interval])))',
              legend: '{{server_address}}',
            },
          ],
        }),
      )
      .withPanel(
        tablePanel({
          title: 'Targets up',
          width: 12,
          series: [{ expr: 'min by (job) (up{job=~"gateway|user|catalog|order|inventory|payment|notification"})', legend: '{{job}}' }],
        }),
      )
      .withRow(row('Restarts'))
      .withPanel(
        timeSeries({
          title: 'Process restarts (local supervisor)',
          description:
            'Restarts of each process of the local stack by its supervisor (packages/stack) since the stack started: a crash, a kill -9 or the OOM ' +
            'killer, then a backoff of 0.5 s doubling to 30 s. A restart by name (stack.restart) or a stop is not counted. Every process is a line ' +
            '(0 until its first restart). In the cluster the kubelet restarts containers instead (kube_pod_container_status_restarts_total, which needs ' +
            'kube-state-metrics: not deployed here).',
          width: 24,
          series: [{ expr: 'sum by (process) (tracemart_process_restarts_total{job="stack"})', legend: '{{process}}' }],
        }),
      )
      .withRow(row('Service graph (Tempo metrics-generator)'))
      .withPanel(
        new nodegraph.PanelBuilder()
          .title('Service graph')
          .description("Edges from traces_service_graph_request_total, via the Tempo data source's service map.")
          .datasource(TEMPO)
          .span(14)
          .height(12)
          .withTarget(new tempo.DataqueryBuilder().datasource(TEMPO).refId('A').queryType('serviceMap')),
      )
      .withPanel(
        tablePanel({
          title: 'Service graph edges',
          description: 'Requests per second and failures between each client and server seen in traces.',
          width: 10,
          height: 12,
          series: [
            { expr: 'sum by (client, server) (rate(traces_service_graph_request_total[$__rate_interval]))', legend: 'requests' },
            // Tempo creates the failed counter only at an edge's first failure: `or ... * 0` reads 0 until then.
            {
              expr:
                'sum by (client, server) (rate(traces_service_graph_request_failed_total[$__rate_interval]))' +
                ' or sum by (client, server) (rate(traces_service_graph_request_total[$__rate_interval])) * 0',
              legend: 'failed',
            },
          ],
        }),
      ),
  );
}
