import { setTimeout as sleep } from 'node:timers/promises';
import { AckPolicy, DeliverPolicy, type ConsumerConfig, type JetStreamManager, type StreamConfig } from '@nats-io/jetstream';
import { streamDefaults, type ResolvedConsumerSpec } from './defaults';

export interface StreamSpec {
  name: string;
  subjects: string[];
  /** Seconds to keep messages; replay of read models needs the whole history, so the default is forever. */
  maxAgeSeconds?: number;
  duplicateWindowSeconds?: number;
  retention?: 'limits' | 'workqueue';
  /** Rewrites a subject before it is stored (nats-server >= 2.10): the contracts shard by order id this way. */
  subjectTransform?: { src: string; dest: string };
}

const nanos = (ms: number): number => Math.round(ms * 1_000_000);

/** The JetStream API gave no answer in time (`TimeoutError`), or answered that it is electing a leader (503, 10008). */
const isTransient = (err: unknown): boolean => err instanceof Error && (err.name === 'TimeoutError' || /timeout|temporarily unavailable|no responders/i.test(err.message));

/**
 * Runs a JetStream set-up request again when it times out or the system is busy electing. On a cluster, a replicated stream or KV bucket that another
 * process is creating at that moment has no leader yet, and requests about it go unanswered until one is elected
 * (seen: six services starting together on 3 nodes, 2-4 of them timing out once). Bounded: `attempts` tries.
 */
export async function retryOnTimeout<T>(request: () => Promise<T>, attempts = 8): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await request();
    } catch (err) {
      if (!isTransient(err) || attempt >= attempts) throw err;
      await sleep(Math.min(2_000, 100 * 2 ** attempt) * (0.5 + Math.random() / 2));
    }
  }
}

/** Updates what exists, adds what the server reports missing (`notFound` in its error), so processes start in any order. */
function addOrUpdate(notFound: string, steps: { info: () => Promise<unknown>; update: () => Promise<unknown>; add: () => Promise<unknown> }): Promise<void> {
  return retryOnTimeout(async () => {
    try {
      await steps.info();
      await steps.update();
    } catch (err) {
      if (!String(err).includes(notFound)) throw err;
      await steps.add();
    }
  });
}

/** Creates or updates streams so every process can start in any order. */
export async function ensureStreams(jsm: JetStreamManager, specs: StreamSpec[], replicas = 1): Promise<void> {
  for (const spec of specs) {
    const config: Partial<StreamConfig> & { name: string } = {
      name: spec.name,
      subjects: spec.subjects,
      num_replicas: replicas,
      max_age: nanos((spec.maxAgeSeconds ?? streamDefaults.maxAgeSeconds) * 1000),
      duplicate_window: nanos((spec.duplicateWindowSeconds ?? streamDefaults.duplicateWindowSeconds) * 1000),
      ...(spec.retention === 'workqueue' ? { retention: 'workqueue' as StreamConfig['retention'] } : {}),
      ...(spec.subjectTransform ? { subject_transform: spec.subjectTransform } : {}),
    };
    await addOrUpdate('stream not found', {
      info: () => jsm.streams.info(spec.name),
      update: () => jsm.streams.update(spec.name, config),
      add: () => jsm.streams.add(config),
    });
  }
}

/** Whether the consumer on the server already has these settings (an update would be a no-op Raft proposal). */
function hasLimits(
  config: Partial<ConsumerConfig>,
  limits: { filter_subject: string; filter_subjects: string[]; max_ack_pending: number; max_deliver: number; ack_wait: number },
): boolean {
  return (
    (config.filter_subject ?? '') === limits.filter_subject &&
    (config.filter_subjects ?? []).join() === limits.filter_subjects.join() &&
    config.max_ack_pending === limits.max_ack_pending &&
    config.max_deliver === limits.max_deliver &&
    config.ack_wait === limits.ack_wait
  );
}

/**
 * Creates one durable pull consumer (explicit acks, from the start of the stream), or updates it when its settings
 * changed: a partition gained again finds its consumers as they were, and skips the update (a proposal through the
 * cluster's meta leader, slow under load).
 */
export async function ensureConsumer(jsm: JetStreamManager, spec: ResolvedConsumerSpec): Promise<void> {
  const filters = spec.subjects ?? [spec.subject];
  const limits = {
    // One filter as `filter_subject`, several as `filter_subjects` (nats-server >= 2.10); the other one is emptied on update.
    ...(filters.length === 1 ? { filter_subject: filters[0] ?? '', filter_subjects: [] as string[] } : { filter_subject: '', filter_subjects: filters }),
    max_ack_pending: spec.maxAckPending,
    max_deliver: spec.maxDeliver,
    ack_wait: nanos(spec.ackWaitMs),
  };
  const info = await retryOnTimeout(async () => {
    try {
      const current = await jsm.consumers.info(spec.stream, spec.durable);
      return hasLimits(current.config, limits) ? current : await jsm.consumers.update(spec.stream, spec.durable, limits);
    } catch (err) {
      if (!String(err).includes('consumer not found')) throw err;
      return jsm.consumers.add(spec.stream, { durable_name: spec.durable, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All, ...limits });
    }
  });
  if (info.cluster && !info.cluster.leader) await leaderElected(jsm, spec);
}

/**
 * Waits (bounded) until a replicated consumer has a Raft leader: a pull request sent before that is dropped, and the
 * consumer would sit idle until the client notices (missed heartbeats). A consumer with one replica has none to wait for.
 */
async function leaderElected(jsm: JetStreamManager, spec: ResolvedConsumerSpec): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const info = await jsm.consumers.info(spec.stream, spec.durable).catch(() => undefined);
    if (info && (!info.cluster || info.cluster.leader)) return;
    await sleep(100);
  }
}
