import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { trackBacklog } from './backlog';
import { Consumers } from './consumer';
import type { ConsumerSpec } from './consumer-spec';
import { withDefaults } from './defaults';
import type { EventEnvelope } from './envelope';
import { processMessage } from './process-message';
import { publishEvent } from './publisher';
import { ensureConsumer, ensureStreams, type StreamSpec } from './streams-setup';

export type { ConsumerSpec, HandlerResult } from './consumer-spec';
export type { DeadLetter } from './dead-letters';
export type { StreamSpec } from './streams-setup';

/**
 * One process's connection to NATS JetStream: stream setup, publishing, durable consumers (with pause and
 * resume for fault injection) and shutdown. Each part lives in its own module beside this one.
 */
export class EventBus {
  private readonly consumers: Consumers;
  private readonly backlogTrackers = new Map<string, () => void>();

  private constructor(
    readonly nc: NatsConnection,
    readonly js: JetStreamClient,
    readonly jsm: JetStreamManager,
    /** For stream and consumer set-up only: a short timeout, retried (streams-setup.ts), so a start on a busy cluster does not wait 5 s per lost request. */
    private readonly setupJsm: JetStreamManager,
    private readonly logger: Logger,
    private readonly validate: (event: EventEnvelope) => void,
    /** Replicas of every stream and KV bucket this process provisions (NATS_REPLICAS). */
    readonly replicas: number,
    private readonly subjectOf: (event: EventEnvelope) => string,
  ) {
    this.consumers = new Consumers(nc, js, jsm, logger, (spec, msg) => processMessage(spec, msg, { js, logger }));
  }

  static async connect(options: {
    url: string;
    name: string;
    /**
     * Credentials, where the server requires them. Replies then come to `_INBOX.<user>.>`, the only inboxes that user
     * may subscribe to: with the shared `_INBOX.>` any user could read the messages pulled by another.
     */
    user?: string;
    pass?: string;
    logger: Logger;
    /** Checks an outgoing event against its contract; throws when it does not match. */
    validate?: (event: EventEnvelope) => void;
    replicas?: number;
    /** The subject of an event (the contracts' `eventSubject`: type and partition key); default its type. */
    subjectOf?: (event: EventEnvelope) => string;
  }): Promise<EventBus> {
    // noAsyncTraces: no Error (and stack trace) made for every request such as a JetStream publish, only to
    // improve the stack of a failure; measured at 2-3% of each service's CPU during checkouts.
    const credentials = options.user ? { user: options.user, pass: options.pass ?? '', inboxPrefix: `_INBOX.${options.user}` } : {};
    const nc = await connect({ servers: options.url.split(','), name: options.name, maxReconnectAttempts: -1, noAsyncTraces: true, ...credentials });
    const jsm = await jetstreamManager(nc);
    const setupJsm = await jetstreamManager(nc, { timeout: 2_000 });
    return new EventBus(
      nc,
      jetstream(nc),
      jsm,
      setupJsm,
      options.logger,
      options.validate ?? (() => undefined),
      options.replicas ?? 1,
      options.subjectOf ?? ((event) => event.type),
    );
  }

  isConnected(): boolean {
    return !this.nc.isClosed();
  }

  /** Creates or updates streams so every process can start in any order. */
  async ensureStreams(specs: StreamSpec[]): Promise<void> {
    await ensureStreams(this.setupJsm, specs, this.replicas);
  }

  /** Publishes one event after checking it against its contract; its id is the JetStream msgID. */
  async publish(event: EventEnvelope): Promise<void> {
    this.validate(event);
    await publishEvent(this.js, event, this.subjectOf(event));
  }

  /** Provisions a durable pull consumer and processes its messages until `drain()`. */
  async consume(spec: ConsumerSpec): Promise<void> {
    const resolved = withDefaults(spec);
    await ensureConsumer(this.setupJsm, resolved);
    await this.consumers.add(resolved);
    this.backlogTrackers.set(resolved.durable, trackBacklog(this.jsm, resolved));
  }

  /** Stops one consumer this process runs (its durable stays on the server for the next owner). */
  async stopConsuming(durable: string): Promise<void> {
    this.backlogTrackers.get(durable)?.();
    this.backlogTrackers.delete(durable);
    await this.consumers.remove(durable);
  }

  get consumersPaused(): boolean {
    return this.consumers.paused;
  }

  /**
   * Stops fetching for every consumer (in-flight handlers finish); messages wait in the stream, and any
   * fetched but unhandled ones are nak'ed back so they come again as soon as consumers resume. Used by fault
   * injection.
   */
  async pause(): Promise<void> {
    await this.consumers.pause();
  }

  async resume(): Promise<void> {
    await this.consumers.resume();
  }

  /** Stops the consumers (letting in-flight handlers finish), then drains the connection. */
  async drain(): Promise<void> {
    for (const stop of this.backlogTrackers.values()) stop();
    this.backlogTrackers.clear();
    await this.consumers.stop();
    if (!this.nc.isClosed()) await this.nc.drain();
  }
}
