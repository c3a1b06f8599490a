import type { ConsumerMessages, JetStreamClient, JetStreamManager, JsMsg } from '@nats-io/jetstream';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import type { ResolvedConsumerSpec } from './defaults';

type Handle = (spec: ResolvedConsumerSpec, msg: JsMsg) => Promise<void>;

interface RunningConsumer {
  /** Stops fetching and waits for in-flight handlers; resolves to how many fetched messages were handed back. */
  stop(): Promise<number>;
}

const isSubscription = (value: unknown): value is Subscription =>
  typeof value === 'object' && value !== null && 'drain' in value && typeof value.drain === 'function' && 'isClosed' in value && typeof value.isClosed === 'function';

/**
 * `ConsumerMessages.close()` unsubscribes its inbox at once: what is already buffered is still yielded, but a
 * message the server sent to the outstanding pull before it saw the UNSUB is dropped by the client and comes
 * back only after the ack wait. Draining the inbox first (UNSUB, then a round trip while messages still arrive)
 * is the library's own graceful path, as on `nc.drain()`; the subscription is not in the public
 * `ConsumerMessages` type, hence the guarded lookup, with `close()` alone as the fallback.
 */
async function drainInbox(messages: ConsumerMessages): Promise<void> {
  const inbox: unknown = Reflect.get(messages, 'sub');
  if (isSubscription(inbox) && !inbox.isClosed()) await inbox.drain().catch(() => undefined);
}

/** Pulls one durable consumer's messages and hands each to `handle`, at most `spec.concurrency` at a time. */
async function startConsumer(js: JetStreamClient, jsm: JetStreamManager, spec: ResolvedConsumerSpec, handle: Handle): Promise<RunningConsumer> {
  const consumer = await js.consumers.get(spec.stream, spec.durable);
  const messages = await consumer.consume({ max_messages: spec.batch });
  let stopping = false;
  /** Fetched but not started when the consumer stopped: handed back once it is safe (see `stop`). */
  const unhandled: JsMsg[] = [];
  const inFlight = new Set<Promise<void>>();
  const loop = (async () => {
    for await (const msg of messages) {
      if (stopping) {
        unhandled.push(msg);
        continue;
      }
      const task = handle(spec, msg).finally(() => inFlight.delete(task));
      inFlight.add(task);
      if (inFlight.size >= spec.concurrency) await Promise.race(inFlight);
    }
    await Promise.allSettled(inFlight);
  })();
  // The server keeps a pull request whose subscriber is gone until something looks at it, and nats-server 2.9
  // can take a due redelivery (a nak) off its queue for such a request and drop it: that message then waits for
  // the ack wait. Asking for the consumer's info makes the server discard those requests.
  const forgetDeadPulls = () => jsm.consumers.info(spec.stream, spec.durable).catch(() => undefined);
  return {
    async stop() {
      stopping = true;
      await drainInbox(messages);
      await forgetDeadPulls();
      // The iterator runs what it still holds, refill pulls to the dead inbox included, then ends.
      await messages.close().catch(() => undefined);
      await forgetDeadPulls();
      await Promise.allSettled([loop]);
      // A nak without delay: redelivered as soon as anyone pulls again, not after the ack wait.
      for (const msg of unhandled) msg.nak();
      return unhandled.length;
    },
  };
}

/**
 * The durable pull consumers of one connection. `pause()` stops fetching for all of them (in-flight handlers
 * finish, fetched but unhandled messages are nak'ed back to the stream), `resume()` starts them again.
 */
export class Consumers {
  /** Every consumer this connection runs, so `resume()` can start them again after `pause()`. */
  private readonly specs: ResolvedConsumerSpec[] = [];
  private running: RunningConsumer[] = [];
  private isPaused = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly logger: Logger,
    private readonly handle: Handle,
  ) {}

  get paused(): boolean {
    return this.isPaused;
  }

  async add(spec: ResolvedConsumerSpec): Promise<void> {
    this.specs.push(spec);
    if (!this.isPaused) this.running.push(await startConsumer(this.js, this.jsm, spec, this.handle));
  }

  async pause(): Promise<void> {
    if (this.isPaused) return;
    this.isPaused = true;
    await this.stop();
    this.logger.warn({ consumers: this.durables() }, 'consumers paused');
  }

  async resume(): Promise<void> {
    if (!this.isPaused) return;
    this.isPaused = false;
    for (const spec of this.specs) this.running.push(await startConsumer(this.js, this.jsm, spec, this.handle));
    this.logger.info({ consumers: this.durables() }, 'consumers resumed');
  }

  /** Stops every running consumer; when it resolves the server has every nak and holds no pull request of theirs. */
  async stop(): Promise<void> {
    const handedBack = await Promise.all(this.running.splice(0).map((consumer) => consumer.stop()));
    const returned = handedBack.reduce((sum, n) => sum + n, 0);
    if (returned > 0) this.logger.info({ returned }, 'fetched messages handed back to the stream');
    if (!this.nc.isClosed()) await this.nc.flush().catch(() => undefined);
  }

  private durables(): string[] {
    return this.specs.map((spec) => spec.durable);
  }
}
