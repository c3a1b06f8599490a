import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { buildDashboard, row, tablePanel, timeSeries, tracemartDashboard } from './shared.js';

/** NATS JetStream as the services use it: what flows, what piles up, what lags behind. */
export function messagingDashboard(): Dashboard {
  return buildDashboard(
    tracemartDashboard(
      'tracemart-messaging',
      'Tracemart / Messaging',
      'Published and consumed messages per subject, redeliveries, consumer backlog, handler duration, outbox and projection lag.',
    )
      .withRow(row('Flow'))
      .withPanel(
        timeSeries({
          title: 'Published per subject',
          unit: 'ops',
          width: 12,
          series: [
            {
              expr: 'sum by (messaging_destination_name, outcome) (rate(tracemart_messaging_published_total[$__rate_interval]))',
              legend: '{{messaging_destination_name}} {{outcome}}',
            },
          ],
        }),
      )
      .withPanel(
        timeSeries({
          title: 'Consumed per subject and outcome',
          description: 'ack = handled, nak = will be redelivered, term = given up (dead-lettered).',
          unit: 'ops',
          width: 12,
          series: [
            {
              expr: 'sum by (messaging_consumer_group_name, messaging_destination_name, outcome) (rate(tracemart_messaging_consumed_total[$__rate_interval]))',
              legend: '{{messaging_consumer_group_name}} ← {{messaging_destination_name}} {{outcome}}',
            },
          ],
        }),
      )
      .withPanel(
        timeSeries({
          title: 'Redeliveries',
          unit: 'ops',
          width: 12,
          series: [
            {
              expr: 'sum by (messaging_consumer_group_name, messaging_destination_name) (rate(tracemart_messaging_redelivered_total[$__rate_interval]))',
              legend: '{{messaging_consumer_group_name}} ← {{messaging_destination_name}}',
            },
          ],
        }),
      )
      .withPanel(
        timeSeries({
          title: 'Handler duration p95',
          unit: 's',
          width: 12,
          exemplars: true,
          series: [
            {
              expr: 'histogram_quantile(0.95, sum by (messaging_consumer_group_name, messaging_destination_name, le) (rate(tracemart_messaging_process_duration_bucket[$__rate_interval])))',
              legend: '{{messaging_consumer_group_name}} ← {{messaging_destination_name}}',
            },
          ],
        }),
      )
      .withRow(row('Backlog'))
      .withPanel(
        timeSeries({
          title: 'Consumer pending',
          description: 'Messages in the stream not yet delivered to the consumer.',
          width: 8,
          series: [{ expr: 'max by (stream, consumer) (tracemart_consumer_pending_messages)', legend: '{{stream}}/{{consumer}}' }],
        }),
      )
      .withPanel(
        timeSeries({
          title: 'Consumer ack pending',
          description: 'Delivered but neither acked nor nak-ed yet: in-flight handler work.',
          width: 8,
          series: [{ expr: 'max by (stream, consumer) (tracemart_consumer_ack_pending_messages)', legend: '{{stream}}/{{consumer}}' }],
        }),
      )
      .withPanel(
        timeSeries({
          title: 'Dead letters',
          width: 8,
          series: [{ expr: 'sum by (stream, consumer) (increase(tracemart_deadletter_total[$__rate_interval]))', legend: '{{stream}}/{{consumer}}' }],
        }),
      )
      .withRow(row('Outbox and projections'))
      .withPanel(
        timeSeries({
          title: 'Outbox lag',
          description: 'Age of the oldest event written but not yet published.',
          unit: 's',
          width: 8,
          series: [{ expr: 'max by (job) (tracemart_outbox_lag)', legend: '{{job}}' }],
        }),
      )
      .withPanel(
        timeSeries({
          title: 'Outbox relayed by path',
          description: 'immediate = published right after commit; sweep = picked up later by the relay.',
          unit: 'ops',
          width: 8,
          stacked: true,
          series: [{ expr: 'sum by (job, path) (rate(tracemart_outbox_relayed_total[$__rate_interval]))', legend: '{{job}} {{path}}' }],
        }),
      )
      .withPanel(
        timeSeries({
          title: 'Projection lag',
          unit: 's',
          width: 8,
          series: [{ expr: 'max by (job, projection) (tracemart_projection_lag)', legend: '{{job}} {{projection}}' }],
        }),
      )
      .withPanel(
        timeSeries({
          title: 'Partitions owned per instance',
          description:
            'Sharded saga processing: each order instance owns a fair share of the 8 partitions (NATS KV leases). Kill one and its share moves to the others within the lease TTL.',
          unit: 'short',
          width: 12,
          series: [{ expr: 'max by (role, owner) (tracemart_partitions_owned)', legend: '{{role}} {{owner}}' }],
        }),
      )
      .withPanel(
        tablePanel({
          title: 'Partition owners',
          description: 'tracemart_partition_owner == 1: which instance owns each partition now.',
          width: 12,
          height: 8,
          series: [{ expr: 'max by (role, partition, owner) (tracemart_partition_owner) == 1', legend: '{{role}} p{{partition}}' }],
        }),
      )
      .withPanel(
        timeSeries({
          title: 'Partition ownership rounds (p99)',
          description:
            'loop=renew: heartbeat and lease renewals, every TTL/3; a round nearing the TTL puts every lease of the instance at risk. loop=rebalance: members read, leases given up or taken, their consumers stopped or started (each change is a `partitions rebalance` trace).',
          unit: 's',
          width: 24,
          series: [
            {
              expr: 'histogram_quantile(0.99, sum by (le, job, role, loop) (rate(tracemart_partitions_tick_duration_bucket[$__rate_interval])))',
              legend: '{{job}} {{loop}}',
            },
          ],
        }),
      ),
  );
}
