import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { BREAKER_STATE_MAPPINGS, buildDashboard, row, statPanel, tablePanel, thresholds, timeSeries, tracemartDashboard } from './shared.js';

/** Breakers, retries, bulkheads and rate limits in the gateway and payment, next to the faults that provoke them. */
export function resilienceDashboard(): Dashboard {
  return buildDashboard(
    tracemartDashboard(
      'tracemart-resilience',
      'Tracemart / Resilience',
      'Circuit breakers, retries, bulkhead and rate-limit rejections, dead letters and the faults that are active.',
    )
      .withRow(row('Now'))
      .withPanel(
        statPanel({
          title: 'Breaker state',
          description: 'Worst state per upstream: closed, half-open or open.',
          width: 12,
          series: [{ expr: 'max by (job, upstream) (tracemart_breaker_state)', legend: '{{job}} → {{upstream}}' }],
          mappings: BREAKER_STATE_MAPPINGS,
          thresholds: thresholds(1, 2),
        }),
      )
      .withPanel(
        tablePanel({
          title: 'Faults active',
          description: 'tracemart_faults_active == 1: injected faults currently switched on.',
          width: 12,
          height: 4,
          series: [{ expr: 'max by (service, kind) (tracemart_faults_active) == 1', legend: '{{service}} {{kind}}' }],
        }),
      )
      .withRow(row('Circuit breakers'))
      .withPanel(
        timeSeries({
          title: 'Breaker state over time',
          width: 12,
          mappings: BREAKER_STATE_MAPPINGS,
          series: [{ expr: 'max by (job, upstream) (tracemart_breaker_state)', legend: '{{job}} → {{upstream}}' }],
        }),
      )
      .withPanel(
        timeSeries({
          title: 'Breaker transitions',
          unit: 'short',
          width: 12,
          series: [
            {
              expr: 'sum by (job, upstream, to) (increase(tracemart_breaker_transitions_total[$__rate_interval]))',
              legend: '{{job}} → {{upstream}}: {{to}}',
            },
          ],
        }),
      )
      .withRow(row('Load shedding and retries'))
      .withPanel(
        timeSeries({
          title: 'Retries',
          unit: 'ops',
          series: [{ expr: 'sum by (job, upstream) (rate(tracemart_retries_total[$__rate_interval]))', legend: '{{job}} → {{upstream}}' }],
        }),
      )
      .withPanel(
        timeSeries({
          title: 'Bulkhead rejections',
          unit: 'ops',
          series: [{ expr: 'sum by (job, upstream) (rate(tracemart_bulkhead_rejections_total[$__rate_interval]))', legend: '{{job}} → {{upstream}}' }],
        }),
      )
      .withPanel(
        timeSeries({
          title: 'Rate-limit rejections',
          unit: 'ops',
          series: [{ expr: 'sum by (job) (rate(tracemart_ratelimit_rejections_total[$__rate_interval]))', legend: '{{job}}' }],
        }),
      )
      .withRow(row('Effect on callers'))
      .withPanel(
        timeSeries({
          title: 'Gateway → upstream error ratio',
          description: "Share of the gateway's upstream calls answered with a 5xx.",
          unit: 'percentunit',
          width: 12,
          series: [
            {
              expr:
                // `or ... * 0`: an upstream that answered without a 5xx shows 0, not a missing line.
                '(sum by (server_address) (rate(http_client_request_duration_count{job="gateway",http_response_status_code=~"5.."}[$__rate_interval]))' +
                ' or sum by (server_address) (rate(http_client_request_duration_count{job="gateway"}[$__rate_interval])) * 0)' +
                ' / sum by (server_address) (rate(http_client_request_duration_count{job="gateway"}[$__rate_interval]))',
              legend: '{{server_address}}',
            },
          ],
        }),
      )
      .withPanel(
        timeSeries({
          title: 'Dead letters',
          description: 'Messages terminated after exhausting deliveries, per stream and consumer.',
          unit: 'short',
          width: 12,
          series: [{ expr: 'sum by (stream, consumer) (increase(tracemart_deadletter_total[$__rate_interval]))', legend: '{{stream}}/{{consumer}}' }],
        }),
      )
      .withPanel(
        timeSeries({
          title: 'Faults active over time',
          width: 24,
          height: 6,
          series: [{ expr: 'max by (service, kind) (tracemart_faults_active)', legend: '{{service}} {{kind}}' }],
        }),
      ),
  );
}
