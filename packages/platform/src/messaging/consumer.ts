import type { ConsumerMessages, JetStreamClient, JetStreamManager, JsMsg } from '@nats-io/jetstream';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import type { ResolvedConsumerSpec } from './defaults';
import { retryOnTimeout } from './streams-setup';

type Handle = (spec: ResolvedConsumerSpec, msg: JsMsg) => Promise<void>;

const PULL_EXPIRES_MS = 10_000;
/**
 * How often the server says "still here" for a waiting pull request. When a replicated consumer's leader moves (a busy
 * first start of the cluster re-elects some, a node restarts), the request waiting at the old leader is gone and only
 * missed heartbeats (two) tell the client to pull again: at the library's default (half the expiry, 5 s) an event
 * published at the step-down waited 13.9 s (a saga step on a fresh stack, 13 s), at 1 s it waits 2.9 s
 * (consumer-leader-change.component.test.ts). The cost is one tiny message a second per idle consumer.
 */
const IDLE_HEARTBEAT_MS = 1_000;

interface RunningConsumer {
  /** Stops fetching and waits for in-flight handlers; resolves to how many fetched messages were handed back. */
  stop(): Promise<number>;
}

const isSubscription = (value: unknown): value is Subscription =>
  typeof value === 'object' && value !== null && 'drain' in value && typeof value.drain === 'function' && 'isClosed' in value && typeof value.isClosed === 'function';

/**
 * `ConsumerMessages.close()` unsubscribes its inbox at once, so a message the server sent to the outstanding
 * pull before it saw the UNSUB is dropped by the client and only comes back after the ack wait. Draining the
 * inbox first (UNSUB, then a round trip while messages still arrive) is the library's own graceful path, as on
 * `nc.drain()`; the subscription is not in the public `ConsumerMessages` type, hence the guarded lookup, with
 * `close()` alone as the fallback.
 */
async function drainInbox(messages: ConsumerMessages): Promise<void> {
  const inbox: unknown = Reflect.get(messages, 'sub');
  if (isSubscription(inbox) && !inbox.isClosed()) await inbox.drain().catch(() => undefined);
}

/**
 * Pulls one durable consumer's messages and hands each to `handle`, at most `spec.concurrency` at a time. The
 * library calls back on every message and runs its refill pulls as they fall due (no iterator queue between),
 * so when the consumer stops, everything it sent to the server has been sent by the end of the inbox drain.
 */
async function startConsumer(js: JetStreamClient, jsm: JetStreamManager, spec: ResolvedConsumerSpec, handle: Handle, logger: Logger): Promise<RunningConsumer> {
  const consumer = await retryOnTimeout(() => js.consumers.get(spec.stream, spec.durable));
  let stopping = false;
  /** Fetched and not started yet. */
  const fetched: JsMsg[] = [];
  const inFlight = new Set<Promise<void>>();
  const pump = (): void => {
    while (!stopping && inFlight.size < spec.concurrency) {
      const msg = fetched.shift();
      if (!msg) return;
      const task: Promise<void> = handle(spec, msg)
        .catch((err: unknown) => logger.error({ err, consumer: spec.durable }, 'message handling failed'))
        .finally(() => {
          inFlight.delete(task);
          pump();
        });
      inFlight.add(task);
    }
  };
  const messages = await consumer.consume({
    max_messages: spec.batch,
    // A pull request the server dropped (sent while a new replicated consumer was still electing its leader, or
    // across a leader change) is noticed by two missed heartbeats and sent again. The expiry is 10 s, not the
    // library's 30 s, which left a partition's messages waiting 45 s after a start (measured on 3 nodes).
    expires: PULL_EXPIRES_MS,
    idle_heartbeat: IDLE_HEARTBEAT_MS,
    callback: (msg) => {
      fetched.push(msg);
      pump();
    },
  });
  void messages.closed().then((err) => {
    if (err && !stopping) logger.error({ err, consumer: spec.durable }, 'consumer stopped');
  });
  // The server keeps a pull request whose subscriber is gone until something looks at it, and nats-server 2.9
  // can take a due redelivery (a nak) off its queue for such a request and drop it: that message then waits for
  // the ack wait. Asking for the consumer's info makes the server discard those requests.
  const forgetDeadPulls = () => jsm.consumers.info(spec.stream, spec.durable).catch(() => undefined);
  return {
    async stop() {
      stopping = true;
      const drained = drainInbox(messages);
      // Right behind the UNSUB, and again once the stream has ended, for refill pulls sent during the drain
      // (or, without the drain, for the UNSUB of `close()`).
      await forgetDeadPulls();
      await drained;
      await messages.close().catch(() => undefined);
      await forgetDeadPulls();
      await Promise.allSettled(inFlight);
      // Handed back only now, with no dead pull request left to take them: a nak without delay, so they are
      // redelivered as soon as anyone pulls again, not after the ack wait.
      const unhandled = fetched.splice(0);
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
  private running: (RunningConsumer & { durable: string })[] = [];
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
    if (!this.isPaused) this.running.push({ durable: spec.durable, ...(await startConsumer(this.js, this.jsm, spec, this.handle, this.logger)) });
  }

  /**
   * Stops one consumer for good (a partition this instance no longer owns): in-flight handlers finish and fetched,
   * unhandled messages go back to the stream before it resolves.
   */
  async remove(durable: string): Promise<void> {
    const index = this.specs.findIndex((spec) => spec.durable === durable);
    if (index >= 0) this.specs.splice(index, 1);
    const running = this.running.filter((consumer) => consumer.durable === durable);
    this.running = this.running.filter((consumer) => consumer.durable !== durable);
    await Promise.all(running.map((consumer) => consumer.stop()));
    if (!this.nc.isClosed()) await this.nc.flush().catch(() => undefined);
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
    for (const spec of this.specs) this.running.push({ durable: spec.durable, ...(await startConsumer(this.js, this.jsm, spec, this.handle, this.logger)) });
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
