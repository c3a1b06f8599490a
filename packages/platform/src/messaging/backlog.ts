import type { JetStreamManager } from '@nats-io/jetstream';
import { getMeter } from '../telemetry/metrics';
import { consumerDefaults } from './defaults';

/** Backlog of each durable consumer of this process, refreshed from the server every few seconds. */
const backlog = new Map<string, { stream: string; consumer: string; pending: number; ackPending: number }>();

const meter = getMeter();
/** Messages waiting in the stream for a consumer (its backlog: queue-based load leveling shows here). */
meter.createObservableGauge('tracemart.consumer.pending_messages', { unit: '{message}', description: 'Messages not yet delivered to a consumer' }).addCallback((result) => {
  for (const b of backlog.values()) result.observe(b.pending, { stream: b.stream, consumer: b.consumer });
});
/** Messages delivered to a consumer and not yet acknowledged (bounded by max ack pending). */
meter.createObservableGauge('tracemart.consumer.ack_pending_messages', { unit: '{message}', description: 'Messages delivered and not yet acknowledged' }).addCallback((result) => {
  for (const b of backlog.values()) result.observe(b.ackPending, { stream: b.stream, consumer: b.consumer });
});

/**
 * Reads one consumer's backlog now and then every few seconds (also while paused); returns what stops it. The first
 * read is not waited for: a consumer's start (a partition taken over) does not wait on a gauge.
 */
export function trackBacklog(jsm: JetStreamManager, consumer: { stream: string; durable: string }): () => void {
  let stopped = false;
  const refresh = async () => {
    const info = await jsm.consumers.info(consumer.stream, consumer.durable);
    if (!stopped) backlog.set(consumer.durable, { stream: consumer.stream, consumer: consumer.durable, pending: info.num_pending, ackPending: info.num_ack_pending });
  };
  void refresh().catch(() => undefined);
  const timer = setInterval(() => void refresh().catch(() => undefined), consumerDefaults.backlogRefreshMs);
  timer.unref();
  return () => {
    stopped = true;
    clearInterval(timer);
    backlog.delete(consumer.durable);
  };
}
