import { MongoClient, type Db } from 'mongodb';
import { afterAll, beforeAll } from 'vitest';
import {
  consumerBindings,
  partitionDurable,
  runService,
  type ConsumerBinding,
  type EventBus,
  type EventEnvelope,
  type RunningModule,
  type ServiceConfig,
  type ServiceModule,
} from '@tracemart/platform';
import { apiClient, type ApiClient } from './api-client';
import { connectTestBus, consumerSettled, recordEvents } from './events';
import { serviceEnv, startTestInfra, type TestInfra } from './infra';

/** One service under test, started from its module on real NATS and FerretDB, with the test's own bus and client. */
export interface Component<C, D> {
  readonly infra: TestInfra;
  readonly service: RunningModule<C, D>;
  /** The running service's dependencies (stores, clients): to arrange state or turn a simulated dependency's knobs. */
  readonly deps: D;
  /** The test's own connection to the broker: publish what a neighbour would, record what the service published. */
  readonly bus: EventBus;
  /** The service's own database, through a client of the test's. */
  readonly db: Db;
  /** A client of the service with no caller (as anyone who can reach its port). */
  readonly api: ApiClient;
  /** A client of the service calling as `userId`: the gateway's identity assertion, signed with the service's secret. */
  as(userId: string): ApiClient;
  /** Stops the service and starts it again on the same infrastructure (env is merged over the fixture's). */
  restart(env?: Record<string, string>): Promise<void>;
  /**
   * Waits until the named durable consumer of the service has acknowledged everything published so far; with no
   * name, every consumer of the service and every observer made by `record`.
   */
  settled(durable?: string, timeoutMs?: number): Promise<void>;
  /** The server's view of one of the service's consumers, summed over its partitions' durables when it is partitioned. */
  consumerInfo(durable: string): Promise<ConsumerTotals>;
  /**
   * Call at the top of a test file, after `useComponent`: records every event on `subject` of `stream` (from its
   * start) into the returned array as it arrives, through an observer consumer that `settled()` waits for too.
   */
  observe(stream: string, subject: string): EventEnvelope[];
}

/** Counts of a consumer, summed over its durables. */
export interface ConsumerTotals {
  /** Not yet delivered. */
  pending: number;
  /** Delivered, not yet acknowledged. */
  ackPending: number;
  /** Pull requests waiting at the server. */
  waiting: number;
  redelivered: number;
  /** Deliveries so far (each durable's consumer sequence). */
  delivered: number;
}

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`${what} is not started: use the fixture inside a test or hook`);
  return value;
}

/**
 * Registers beforeAll/afterAll that start `module` (config from `env` over the test defaults) on fresh infrastructure
 * and stop everything afterwards, processes and temporary data included.
 */
export function useComponent<C extends ServiceConfig, D, T extends string>(
  module: ServiceModule<C, D, T>,
  /** Config over the test defaults; a function when it depends on something a `beforeAll` registered earlier starts. */
  env: Record<string, string> | (() => Record<string, string>) = {},
): Component<C, D> {
  const envOf = () => (typeof env === 'function' ? env() : env);
  let infra: TestInfra | undefined;
  let service: RunningModule<C, D> | undefined;
  let bus: EventBus | undefined;
  let mongo: MongoClient | undefined;
  // A partitioned consumer is one durable per partition on the server (the single instance here owns them all).
  const durablesOf = (binding: ConsumerBinding): string[] =>
    binding.partitioned ? Array.from({ length: module.events.partitions ?? 1 }, (_, p) => partitionDurable(binding.durable, p)) : [binding.durable];
  const streams = new Map(consumerBindings(module).map((binding) => [binding.durable, { stream: binding.stream.name, durables: durablesOf(binding) }]));
  const observers = new Map<string, string>();

  beforeAll(async () => {
    infra = await startTestInfra();
    service = await runService(module, serviceEnv(infra, envOf()));
    bus = await connectTestBus(infra.natsUrl, infra.natsReplicas);
    mongo = await MongoClient.connect(infra.mongoUrl);
  });
  afterAll(async () => {
    await mongo?.close();
    await bus?.drain();
    await service?.stop();
    await infra?.stop();
  });

  const component: Component<C, D> = {
    get infra() {
      return required(infra, 'infrastructure');
    },
    get service() {
      return required(service, module.name);
    },
    get deps() {
      return component.service.deps;
    },
    get bus() {
      return required(bus, 'test bus');
    },
    get db() {
      return required(mongo, 'test MongoDB client').db(component.service.config.MONGODB_DB);
    },
    get api() {
      return apiClient(component.service.url);
    },
    as(userId) {
      return apiClient(component.service.url, { userId, secret: component.service.config.INTERNAL_AUTH_SECRET });
    },
    async restart(more = {}) {
      await component.service.stop();
      service = undefined;
      service = await runService(module, serviceEnv(component.infra, { ...envOf(), ...more }));
    },
    async settled(durable, timeoutMs) {
      const observed = [...observers].map(([name, stream]): [string, { stream: string; durables: string[] }] => [name, { stream, durables: [name] }]);
      const all = new Map([...streams, ...observed]);
      const chosen = durable === undefined ? [...all.values()] : [all.get(durable)];
      for (const consumer of chosen) {
        if (!consumer) throw new Error(`${module.name} has no consumer ${durable}`);
        for (const name of consumer.durables) await consumerSettled(component.bus, consumer.stream, name, timeoutMs);
      }
    },
    async consumerInfo(durable) {
      const consumer = streams.get(durable);
      if (!consumer) throw new Error(`${module.name} has no consumer ${durable}`);
      const totals: ConsumerTotals = { pending: 0, ackPending: 0, waiting: 0, redelivered: 0, delivered: 0 };
      for (const name of consumer.durables) {
        const info = await component.bus.jsm.consumers.info(consumer.stream, name);
        totals.pending += info.num_pending;
        totals.ackPending += info.num_ack_pending;
        totals.waiting += info.num_waiting;
        totals.redelivered += info.num_redelivered;
        totals.delivered += info.delivered.consumer_seq;
      }
      return totals;
    },
    observe(stream, subject) {
      const events: EventEnvelope[] = [];
      beforeAll(async () => {
        const recorded = await recordEvents(component.bus, stream, subject, events);
        observers.set(recorded.durable, stream);
      });
      return events;
    },
  };
  return component;
}
