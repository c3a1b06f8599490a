import { AckPolicy, DeliverPolicy, type JetStreamManager, type StreamConfig } from '@nats-io/jetstream';
import { streamDefaults, type ResolvedConsumerSpec } from './defaults';

export interface StreamSpec {
  name: string;
  subjects: string[];
  /** Seconds to keep messages; replay of read models needs the whole history, so the default is forever. */
  maxAgeSeconds?: number;
  duplicateWindowSeconds?: number;
  retention?: 'limits' | 'workqueue';
}

const nanos = (ms: number): number => Math.round(ms * 1_000_000);

/** Updates what exists, adds what the server reports missing (`notFound` in its error), so processes start in any order. */
async function addOrUpdate(notFound: string, steps: { info: () => Promise<unknown>; update: () => Promise<unknown>; add: () => Promise<unknown> }): Promise<void> {
  try {
    await steps.info();
    await steps.update();
  } catch (err) {
    if (!String(err).includes(notFound)) throw err;
    await steps.add();
  }
}

/** Creates or updates streams so every process can start in any order. */
export async function ensureStreams(jsm: JetStreamManager, specs: StreamSpec[]): Promise<void> {
  for (const spec of specs) {
    const config: Partial<StreamConfig> & { name: string } = {
      name: spec.name,
      subjects: spec.subjects,
      max_age: nanos((spec.maxAgeSeconds ?? streamDefaults.maxAgeSeconds) * 1000),
      duplicate_window: nanos((spec.duplicateWindowSeconds ?? streamDefaults.duplicateWindowSeconds) * 1000),
      ...(spec.retention === 'workqueue' ? { retention: 'workqueue' as StreamConfig['retention'] } : {}),
    };
    await addOrUpdate('stream not found', {
      info: () => jsm.streams.info(spec.name),
      update: () => jsm.streams.update(spec.name, config),
      add: () => jsm.streams.add(config),
    });
  }
}

/** Creates or updates one durable pull consumer (explicit acks, from the start of the stream). */
export async function ensureConsumer(jsm: JetStreamManager, spec: ResolvedConsumerSpec): Promise<void> {
  const limits = {
    filter_subject: spec.subject,
    max_ack_pending: spec.maxAckPending,
    max_deliver: spec.maxDeliver,
    ack_wait: nanos(spec.ackWaitMs),
  };
  await addOrUpdate('consumer not found', {
    info: () => jsm.consumers.info(spec.stream, spec.durable),
    update: () => jsm.consumers.update(spec.stream, spec.durable, limits),
    add: () => jsm.consumers.add(spec.stream, { durable_name: spec.durable, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All, ...limits }),
  });
}
