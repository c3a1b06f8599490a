import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { buildDashboard, floorThresholds, row, statPanel, timeSeries, tracemartDashboard } from './shared.js';

const sagaQuantile = (q: number): string => `histogram_quantile(${q}, sum by (outcome, le) (rate(tracemart_saga_duration_bucket[$__rate_interval])))`;

/** The order saga end to end: what was placed, how it ended, what it earned and what had to be undone. */
export function sagaDashboard(): Dashboard {
  return buildDashboard(
    tracemartDashboard('tracemart-saga', 'Tracemart / Order saga', 'Orders placed, confirmed and cancelled (by reason), revenue, saga duration and compensations.')
      .withRow(row('Over the selected range'))
      .withPanel(
        statPanel({
          title: 'Orders placed',
          series: [{ expr: 'sum(increase(tracemart_orders_placed_total[$__range]))', legend: 'placed' }],
        }),
      )
      .withPanel(
        statPanel({
          title: 'Confirmed share',
          description: 'Confirmed / (confirmed + cancelled): orders still in flight are not counted.',
          unit: 'percentunit',
          series: [
            {
              expr:
                'sum(increase(tracemart_orders_confirmed_total[$__range]))' +
                ' / (sum(increase(tracemart_orders_confirmed_total[$__range])) + sum(increase(tracemart_orders_cancelled_total[$__range])))',
              legend: 'confirmed',
            },
          ],
          thresholds: floorThresholds(0.8, 0.95),
        }),
      )
      .withPanel(
        statPanel({
          title: 'Revenue',
          description: 'tracemart_revenue_total / 100, in the shop currency.',
          unit: 'currencyUSD',
          series: [{ expr: 'sum(increase(tracemart_revenue_total[$__range])) / 100', legend: 'revenue' }],
        }),
      )
      .withPanel(
        statPanel({
          title: 'Saga p95 (confirmed)',
          unit: 's',
          series: [
            {
              expr: 'histogram_quantile(0.95, sum by (le) (rate(tracemart_saga_duration_bucket{outcome="confirmed"}[$__range])))',
              legend: 'p95',
            },
          ],
        }),
      )
      .withRow(row('Throughput'))
      .withPanel(
        timeSeries({
          title: 'Placed / confirmed / cancelled',
          unit: 'ops',
          width: 12,
          series: [
            { expr: 'sum(rate(tracemart_orders_placed_total[$__rate_interval]))', legend: 'placed' },
            { expr: 'sum(rate(tracemart_orders_confirmed_total[$__rate_interval]))', legend: 'confirmed' },
            { expr: 'sum(rate(tracemart_orders_cancelled_total[$__rate_interval]))', legend: 'cancelled' },
          ],
        }),
      )
      .withPanel(
        timeSeries({
          title: 'Cancelled by reason',
          unit: 'ops',
          width: 12,
          stacked: true,
          series: [{ expr: 'sum by (reason) (rate(tracemart_orders_cancelled_total[$__rate_interval]))', legend: '{{reason}}' }],
        }),
      )
      .withPanel(
        timeSeries({
          title: 'Revenue per minute',
          unit: 'currencyUSD',
          width: 12,
          series: [{ expr: 'sum(rate(tracemart_revenue_total[$__rate_interval])) * 60 / 100', legend: 'revenue/min' }],
        }),
      )
      .withPanel(
        timeSeries({
          title: 'Payments by outcome',
          unit: 'ops',
          width: 12,
          stacked: true,
          series: [{ expr: 'sum by (outcome) (rate(tracemart_payments_total[$__rate_interval]))', legend: '{{outcome}}' }],
        }),
      )
      .withRow(row('Saga duration'))
      .withPanel(
        timeSeries({
          title: 'Saga duration by outcome',
          description: 'From order placed to confirmed or cancelled. Exemplars link to the saga trace.',
          unit: 's',
          width: 24,
          exemplars: true,
          series: [
            { expr: sagaQuantile(0.5), legend: 'p50 {{outcome}}' },
            { expr: sagaQuantile(0.95), legend: 'p95 {{outcome}}' },
            { expr: sagaQuantile(0.99), legend: 'p99 {{outcome}}' },
          ],
        }),
      )
      .withRow(row('Compensations and side effects'))
      .withPanel(
        timeSeries({
          title: 'Inventory released (compensation)',
          description: 'Reservations given back because the saga was cancelled after stock was reserved.',
          unit: 'ops',
          series: [{ expr: 'sum(rate(tracemart_inventory_reservations_total{outcome="released"}[$__rate_interval]))', legend: 'released' }],
        }),
      )
      .withPanel(
        timeSeries({
          title: 'Inventory reservations by outcome',
          unit: 'ops',
          stacked: true,
          series: [{ expr: 'sum by (outcome) (rate(tracemart_inventory_reservations_total[$__rate_interval]))', legend: '{{outcome}}' }],
        }),
      )
      .withPanel(
        timeSeries({
          title: 'Notifications sent by kind',
          unit: 'ops',
          stacked: true,
          series: [{ expr: 'sum by (kind) (rate(tracemart_notifications_sent_total[$__rate_interval]))', legend: '{{kind}}' }],
        }),
      ),
  );
}
