import { context, propagation, SpanKind, trace, type Context } from '@opentelemetry/api';
import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type StreamConfig,
} from '@nats-io/jetstream';
import { connect, headers as natsHeaders, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { isAppError } from '../errors';
import { getMeter } from '../telemetry/metrics';
import { getTracer, recordSpanError } from '../telemetry/tracing';
import type { EventEnvelope } from './envelope';
import type { ProcessedEvents } from './processed';

export interface StreamSpec {
  name: string;
  subjects: string[];
  /** Seconds to keep messages; replay of read models needs the whole history, so the default is forever. */
  maxAgeSeconds?: number;
  duplicateWindowSeconds?: number;
  retention?: 'limits' | 'workqueue';
}

/** What a handler decides about one message. */
export type HandlerResult = 'ack' | 'term' | { nakDelayMs: number };

export interface ConsumerSpec {
  stream: string;
  durable: string;
  /** One filter subject (wildcards allowed; nats-server 2.9 has no multi-subject filters). */
  subject: string;
  handler: (event: EventEnvelope, msg: JsMsg) => Promise<HandlerResult | void>;
  /** Validates and narrows the envelope; a thrown error terms the message (it can never succeed). */
  decode?: (event: EventEnvelope) => EventEnvelope;
  maxAckPending?: number;
  maxDeliver?: number;
  ackWaitMs?: number;
  /** Redelivery delays (nak with delay) for transient failures, growing per attempt. */
  backoffMs?: number[];
  /**
   * Event types the handler acts on; other types matching the subject filter are acknowledged at once,
   * without a claim or a database write. Omitted: every type.
   */
  handles?: readonly string[];
  /**
   * Records applied event ids so duplicates and redeliveries have no second effect. Leave it out for a
   * handler that is idempotent on its own (e.g. a projection guarded by applied event ids): a claim costs
   * two writes per message.
   */
  processed?: Pick<ProcessedEvents, 'claim' | 'complete' | 'release'>;
}

/** What the DEADLETTER stream holds for one message that could not be processed. */
export interface DeadLetter {
  consumer: string;
  stream: string;
  subject: string;
  streamSequence: number;
  deliveryCount: number;
  reason: string;
  at: string;
  headers: Record<string, string>;
  /** The original message body, as received. */
  payload: string;
}

const meter = getMeter();
/** Messages published to JetStream, by subject and outcome (ok|error). */
const publishedCounter = meter.createCounter('tracemart.messaging.published', { unit: '{message}', description: 'Messages published to JetStream' });
/** Messages handled by a durable consumer, by consumer, subject and outcome (ack|nak|term). */
const consumedCounter = meter.createCounter('tracemart.messaging.consumed', { unit: '{message}', description: 'Messages handled by consumers' });
/** Deliveries that were redeliveries (delivery count > 1). */
const redeliveredCounter = meter.createCounter('tracemart.messaging.redelivered', { unit: '{message}', description: 'Redelivered messages' });
/** Time from the event being written to it being handled, per consumer. */
/** Messages moved to the DEADLETTER stream, by stream and consumer. */
const deadLettered = meter.createCounter('tracemart.deadletter', { unit: '{message}', description: 'Messages dead-lettered' });
const handleLatency = meter.createHistogram('tracemart.messaging.process.duration', { unit: 's', description: 'Handler duration per message' });

const tracer = getTracer('tracemart.messaging');
const nanos = (ms: number): number => Math.round(ms * 1_000_000);

const headerGetter = {
  keys: (carrier: MsgHdrs) => [...carrier.keys()],
  get: (carrier: MsgHdrs, key: string) => carrier.get(key) || undefined,
};
const headerSetter = { set: (carrier: MsgHdrs, key: string, value: string) => carrier.set(key, value) };

/** Backlog of each durable consumer, refreshed from the server every few seconds. */
const backlog = new Map<string, { stream: string; consumer: string; pending: number; ackPending: number }>();
/** Messages waiting in the stream for a consumer (its backlog: queue-based load leveling shows here). */
meter.createObservableGauge('tracemart.consumer.pending_messages', { unit: '{message}', description: 'Messages not yet delivered to a consumer' }).addCallback((result) => {
  for (const b of backlog.values()) result.observe(b.pending, { stream: b.stream, consumer: b.consumer });
});
/** Messages delivered to a consumer and not yet acknowledged (bounded by max ack pending). */
meter.createObservableGauge('tracemart.consumer.ack_pending_messages', { unit: '{message}', description: 'Messages delivered and not yet acknowledged' }).addCallback((result) => {
  for (const b of backlog.values()) result.observe(b.ackPending, { stream: b.stream, consumer: b.consumer });
});

export class EventBus {
  private readonly consumers: ConsumerMessages[] = [];
  private loops: Promise<void>[] = [];
  /** Every consumer this bus runs, so `resume()` can start them again after `pause()`. */
  private readonly specs: ConsumerSpec[] = [];
  private paused = false;
  private readonly timers: NodeJS.Timeout[] = [];

  private constructor(
    readonly nc: NatsConnection,
    readonly js: JetStreamClient,
    readonly jsm: JetStreamManager,
    private readonly logger: Logger,
    private readonly validate: (event: EventEnvelope) => void,
  ) {}

  static async connect(options: {
    url: string;
    name: string;
    logger: Logger;
    /** Checks an outgoing event against its contract; throws when it does not match. */
    validate?: (event: EventEnvelope) => void;
  }): Promise<EventBus> {
    // noAsyncTraces: no Error (and stack trace) made for every request such as a JetStream publish, only to
    // improve the stack of a failure; measured at 2-3% of each service's CPU during checkouts.
    const nc = await connect({ servers: options.url.split(','), name: options.name, maxReconnectAttempts: -1, noAsyncTraces: true });
    const jsm = await jetstreamManager(nc);
    return new EventBus(nc, jetstream(nc), jsm, options.logger, options.validate ?? (() => undefined));
  }

  isConnected(): boolean {
    return !this.nc.isClosed();
  }

  /** Creates or updates streams so every process can start in any order. */
  async ensureStreams(specs: StreamSpec[]): Promise<void> {
    for (const spec of specs) {
      const config: Partial<StreamConfig> & { name: string } = {
        name: spec.name,
        subjects: spec.subjects,
        max_age: nanos((spec.maxAgeSeconds ?? 0) * 1000),
        duplicate_window: nanos((spec.duplicateWindowSeconds ?? 120) * 1000),
        ...(spec.retention === 'workqueue' ? { retention: 'workqueue' as StreamConfig['retention'] } : {}),
      };
      try {
        await this.jsm.streams.info(spec.name);
        await this.jsm.streams.update(spec.name, config);
      } catch (err) {
        if (!String(err).includes('stream not found')) throw err;
        await this.jsm.streams.add(config);
      }
    }
  }

  /**
   * Publishes one event. The event id is the JetStream msgID, so a republish (outbox relay after a
   * crash, a retry after a lost ack) is dropped by the server's duplicate window. The PRODUCER span is a
   * child of the context the event was created in, which travels in the NATS headers.
   */
  async publish(event: EventEnvelope): Promise<void> {
    this.validate(event);
    const subject = event.type;
    const parent: Context = event.trace ? propagation.extract(context.active(), event.trace) : context.active();
    const span = tracer.startSpan(
      `publish ${subject}`,
      {
        kind: SpanKind.PRODUCER,
        attributes: {
          'messaging.system': 'nats',
          'messaging.operation.type': 'send',
          'messaging.operation.name': 'publish',
          'messaging.destination.name': subject,
          'messaging.message.id': event.id,
          'messaging.message.conversation_id': event.correlationId,
        },
      },
      parent,
    );
    const hdrs = natsHeaders();
    propagation.inject(trace.setSpan(parent, span), hdrs, headerSetter);
    hdrs.set('Nats-Event-Type', event.type);
    try {
      const { trace: _stored, ...wire } = event;
      const ack = await this.js.publish(subject, JSON.stringify(wire), { msgID: event.id, headers: hdrs, timeout: 5_000 });
      if (ack.duplicate) span.setAttribute('tracemart.messaging.duplicate', true);
      publishedCounter.add(1, { 'messaging.destination.name': subject, outcome: 'ok' });
    } catch (err) {
      recordSpanError(span, err);
      publishedCounter.add(1, { 'messaging.destination.name': subject, outcome: 'error' });
      throw err;
    } finally {
      span.end();
    }
  }

  /** Provisions a durable pull consumer and processes its messages until `drain()`. */
  async consume(spec: ConsumerSpec): Promise<void> {
    const backoff = spec.backoffMs ?? [200, 1_000, 5_000];
    const config = {
      durable_name: spec.durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: spec.subject,
      max_ack_pending: spec.maxAckPending ?? 64,
      max_deliver: spec.maxDeliver ?? 10,
      ack_wait: nanos(spec.ackWaitMs ?? 30_000),
    };
    try {
      await this.jsm.consumers.info(spec.stream, spec.durable);
      await this.jsm.consumers.update(spec.stream, spec.durable, {
        filter_subject: config.filter_subject,
        max_ack_pending: config.max_ack_pending,
        max_deliver: config.max_deliver,
        ack_wait: config.ack_wait,
      });
    } catch (err) {
      if (!String(err).includes('consumer not found')) throw err;
      await this.jsm.consumers.add(spec.stream, config);
    }
    this.specs.push(spec);
    if (!this.paused) await this.run(spec, backoff);
  }

  private async run(spec: ConsumerSpec, backoff: number[]): Promise<void> {
    const consumer = await this.js.consumers.get(spec.stream, spec.durable);
    const messages = await consumer.consume({ max_messages: Math.min(spec.maxAckPending ?? 64, 256) });
    this.consumers.push(messages);
    const concurrency = Math.max(1, Math.min(spec.maxAckPending ?? 64, 32));
    const inFlight = new Set<Promise<void>>();
    const loop = (async () => {
      for await (const msg of messages) {
        const task = this.handle(spec, msg, backoff).finally(() => inFlight.delete(task));
        inFlight.add(task);
        if (inFlight.size >= concurrency) await Promise.race(inFlight);
      }
      await Promise.allSettled(inFlight);
    })();
    this.loops.push(loop);
    const refresh = async () => {
      const info = await this.jsm.consumers.info(spec.stream, spec.durable);
      backlog.set(spec.durable, { stream: spec.stream, consumer: spec.durable, pending: info.num_pending, ackPending: info.num_ack_pending });
    };
    await refresh().catch(() => undefined);
    const timer = setInterval(() => void refresh().catch(() => undefined), 5_000);
    timer.unref();
    this.timers.push(timer);
  }

  private async handle(spec: ConsumerSpec, msg: JsMsg, backoff: number[]): Promise<void> {
    const parent = msg.headers ? propagation.extract(context.active(), msg.headers, headerGetter) : context.active();
    const subject = msg.subject;
    const attempt = msg.info.deliveryCount;
    const maxDeliver = spec.maxDeliver ?? 10;
    // Parent/child, not a link: each saga message causes exactly one unit of work, so the whole saga
    // reads as one trace. Span links are kept for fan-in work such as projection replays.
    const span = tracer.startSpan(
      `process ${subject}`,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          'messaging.system': 'nats',
          'messaging.operation.type': 'process',
          'messaging.operation.name': 'process',
          'messaging.destination.name': subject,
          'messaging.consumer.group.name': spec.durable,
          'messaging.message.id': msg.headers?.get('Nats-Msg-Id') ?? '',
          'tracemart.messaging.delivery_count': attempt,
        },
      },
      parent,
    );
    if (attempt > 1) redeliveredCounter.add(1, { 'messaging.consumer.group.name': spec.durable, 'messaging.destination.name': subject });
    const started = performance.now();
    let outcome: 'ack' | 'nak' | 'term' | 'duplicate' | 'ignored' = 'ack';
    const deadLetter = async (reason: string) => {
      outcome = 'term';
      await this.deadLetter(spec, msg, reason).catch((err: unknown) => this.logger.error({ err }, 'dead-lettering failed'));
      msg.term(reason.slice(0, 100));
    };
    await context.with(trace.setSpan(parent, span), async () => {
      try {
        let event: EventEnvelope;
        try {
          event = msg.json<EventEnvelope>();
          if (spec.decode) event = spec.decode(event);
        } catch (err) {
          recordSpanError(span, err);
          this.logger.error({ err, subject, consumer: spec.durable }, 'invalid message, dead-lettering it');
          await deadLetter(`invalid message: ${(err as Error).message}`);
          return;
        }
        span.setAttribute('messaging.message.conversation_id', event.correlationId);
        if (spec.handles && !spec.handles.includes(event.type)) {
          outcome = 'ignored';
          msg.ack();
          return;
        }
        // Idempotent consumer: claim the event first; one already applied is acknowledged and skipped,
        // one being applied right now by a concurrent delivery is retried later.
        const claim = spec.processed ? await spec.processed.claim(spec.durable, event.id) : 'claimed';
        if (claim === 'done') {
          outcome = 'duplicate';
          msg.ack();
          return;
        }
        if (claim === 'busy') {
          outcome = 'nak';
          msg.nak(backoff[0] ?? 200);
          return;
        }
        let result: HandlerResult;
        try {
          result = (await spec.handler(event, msg)) ?? 'ack';
        } catch (err) {
          await spec.processed?.release(spec.durable, event.id);
          throw err;
        }
        if (result === 'ack') {
          await spec.processed?.complete(spec.durable, event.id);
          msg.ack();
          return;
        }
        await spec.processed?.release(spec.durable, event.id);
        if (result === 'term') {
          await deadLetter('terminated by handler');
        } else if (attempt >= maxDeliver) {
          await deadLetter(`gave up after ${attempt} attempts`);
        } else {
          outcome = 'nak';
          msg.nak(result.nakDelayMs);
        }
      } catch (err) {
        recordSpanError(span, err);
        const permanent = isAppError(err) && err.operational && err.kind !== 'unavailable';
        if (permanent || attempt >= maxDeliver) {
          this.logger.error({ err, subject, consumer: spec.durable, attempt }, 'message failed for good, dead-lettering it');
          await deadLetter(String((err as Error).message));
        } else {
          outcome = 'nak';
          const delay = backoff[Math.min(attempt - 1, backoff.length - 1)] ?? 1_000;
          this.logger.warn({ err, subject, consumer: spec.durable, attempt, delayMs: delay }, 'message failed, will retry');
          msg.nak(delay);
        }
      } finally {
        const labels = { 'messaging.consumer.group.name': spec.durable, 'messaging.destination.name': subject, outcome };
        consumedCounter.add(1, labels);
        handleLatency.record((performance.now() - started) / 1000, labels);
        span.end();
      }
    });
  }

  /**
   * Dead-letter queue: a message that can never succeed (invalid, poisoned, out of attempts) is copied,
   * with why and where from, to `deadletter.<consumer>` on the DEADLETTER stream before it is termed.
   * It can be listed and re-driven (see DeadLetters).
   */
  private async deadLetter(spec: ConsumerSpec, msg: JsMsg, reason: string): Promise<void> {
    const headers: Record<string, string> = {};
    for (const key of msg.headers?.keys() ?? []) headers[key] = msg.headers?.get(key) ?? '';
    const letter: DeadLetter = {
      consumer: spec.durable,
      stream: spec.stream,
      subject: msg.subject,
      streamSequence: msg.info.streamSequence,
      deliveryCount: msg.info.deliveryCount,
      reason,
      at: new Date().toISOString(),
      headers,
      payload: msg.string(),
    };
    await this.js.publish(`deadletter.${spec.durable}`, JSON.stringify(letter), { msgID: `${spec.durable}:${msg.info.streamSequence}` });
    deadLettered.add(1, { stream: spec.stream, consumer: spec.durable });
  }

  get consumersPaused(): boolean {
    return this.paused;
  }

  /**
   * Stops fetching for every consumer (in-flight handlers finish); messages wait in the stream, and any
   * fetched but unhandled ones are redelivered after their ack wait. Used by fault injection.
   */
  async pause(): Promise<void> {
    if (this.paused) return;
    this.paused = true;
    await this.stopConsumers();
    this.logger.warn({ consumers: this.specs.map((spec) => spec.durable) }, 'consumers paused');
  }

  async resume(): Promise<void> {
    if (!this.paused) return;
    this.paused = false;
    for (const spec of this.specs) await this.run(spec, spec.backoffMs ?? [200, 1_000, 5_000]);
    this.logger.info({ consumers: this.specs.map((spec) => spec.durable) }, 'consumers resumed');
  }

  private async stopConsumers(): Promise<void> {
    for (const messages of this.consumers.splice(0)) await messages.close().catch(() => undefined);
    await Promise.allSettled(this.loops);
    this.loops = [];
  }

  /** Stops the consumers (letting in-flight handlers finish), then drains the connection. */
  async drain(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    await this.stopConsumers();
    if (!this.nc.isClosed()) await this.nc.drain();
  }
}
