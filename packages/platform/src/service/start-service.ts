import type { Express } from 'express';
import type { Db } from 'mongodb';
import type { Logger } from 'pino';
import { connectMongo, type MongoHandle } from '../data/mongo';
import { faultAdminRouter } from '../faults/http';
import { FaultInjector } from '../faults/injector';
import { createBaseApp, finishApp, type Readiness } from '../http/app';
import { listen, type RunningServer } from '../http/server';
import { Lifecycle } from '../lifecycle';
import { createLogger } from '../logger';
import { KeyedLock } from '../concurrency/keyed-lock';
import { PartitionOwnership } from '../coordination/partition-ownership';
import { EventBus, type ConsumerSpec, type StreamSpec } from '../messaging/bus';
import type { EventEnvelope } from '../messaging/envelope';
import { OutboxRelay, type OutboxSource } from '../messaging/outbox';
import { deadLetterRoutes } from '../messaging/dead-letter-routes';
import { DeadLetters } from '../messaging/dead-letters';
import { ProcessedEvents } from '../messaging/processed';
import type { BackgroundJob } from './background';

export interface ServiceConfig {
  SERVICE_NAME: string;
  PORT: number;
  HOST: string;
  LOG_LEVEL: string;
  SHUTDOWN_TIMEOUT_MS: number;
  NATS_URL: string;
  /** Where the server requires a user (the cluster's per-service users, with publish/subscribe permissions). */
  NATS_USER?: string | undefined;
  NATS_PASSWORD?: string | undefined;
  NATS_REPLICAS?: number;
  INSTANCE_ID?: string;
  PARTITION_LEASE_TTL_MS?: number;
  MONGODB_URL: string;
  MONGODB_DB: string;
  /** The admin API credential; when a service's schema does not carry it, it is read once at start. */
  ADMIN_TOKEN?: string | undefined;
  /** Verifies the gateway's identity assertions (the only way a request names its caller). */
  INTERNAL_AUTH_SECRET: string;
  FAULT_ERROR_RATE?: number;
}

/** How long a claiming consumer remembers an applied event id (README: retention rules). */
export const PROCESSED_RETENTION_MS = 3600_000;

/** What a service's wiring receives: connected infrastructure and a base app to add routes to. */
export interface Infrastructure {
  logger: Logger;
  db: Db;
  bus: EventBus;
  processed: ProcessedEvents;
  /** Builds the outbox relay over the given sources (see `embeddedOutbox`). */
  outbox: (sources: OutboxSource[]) => OutboxRelay;
  app: Express;
  readiness: Readiness;
  /** Faults injected through the admin API; services may also apply them to simulated dependencies. */
  faults: FaultInjector;
  /** Which partitions this instance owns, when the service has partitioned consumers (see PartitionOwnership). */
  partitions?: PartitionOwnership;
}

export interface Wiring {
  consumers?: ConsumerSpec[];
  /** Sharded consumers: the spec of one partition's durable, run while this instance owns that partition. */
  partitionedConsumers?: ((partition: number) => ConsumerSpec)[];
  /** Background work (sweepers, outbox relays): see BackgroundJob for when each phase runs. */
  background?: BackgroundJob[];
}

export interface RunningService {
  url: string;
  port: number;
  logger: Logger;
  infra: Infrastructure;
  stop: (reason?: string) => Promise<void>;
}

/**
 * Starts one tracemart service: connects MongoDB and NATS, provisions streams, lets the service mount
 * its routes and consumers, listens, and registers graceful shutdown in the house order (not-ready,
 * stop HTTP, stop background work, drain NATS, close MongoDB, flush telemetry).
 */
export async function startService(options: {
  config: ServiceConfig;
  streams: StreamSpec[];
  validateEvent?: (event: EventEnvelope) => void;
  /** The subject each event is published on (default: its type). */
  subjectOf?: (event: EventEnvelope) => string;
  /** Partition ownership for this service's partitioned consumers: what is partitioned, into how many. */
  partitions?: { role: string; count: number };
  wire: (infra: Infrastructure) => Promise<Wiring> | Wiring;
  logger?: Logger;
}): Promise<RunningService> {
  const { config } = options;
  /** This process among its service's instances (NATS connection name, partition leases, the admin API). */
  const instanceId = config.INSTANCE_ID ?? config.SERVICE_NAME;
  const logger = options.logger ?? createLogger(config.SERVICE_NAME, config.LOG_LEVEL);
  const lifecycle = new Lifecycle(logger, config.SHUTDOWN_TIMEOUT_MS);
  let mongo: MongoHandle | undefined;
  let bus: EventBus | undefined;
  let server: RunningServer | undefined;
  try {
    mongo = await connectMongo(config.MONGODB_URL, config.MONGODB_DB, config.SERVICE_NAME);
    bus = await EventBus.connect({
      url: config.NATS_URL,
      name: instanceId,
      ...(config.NATS_USER ? { user: config.NATS_USER, pass: config.NATS_PASSWORD ?? '' } : {}),
      replicas: config.NATS_REPLICAS ?? 1,
      logger,
      ...(options.validateEvent ? { validate: options.validateEvent } : {}),
      ...(options.subjectOf ? { subjectOf: options.subjectOf } : {}),
    });
    await bus.ensureStreams(options.streams);
    const connectedBus = bus;
    const connectedMongo = mongo;
    const readiness: Readiness = {
      ready: false,
      checks: { nats: () => connectedBus.isConnected(), mongodb: () => connectedMongo.ping() },
    };
    const adminToken = config.ADMIN_TOKEN;
    const faults = new FaultInjector(config.SERVICE_NAME, logger);
    if (config.FAULT_ERROR_RATE) {
      faults.inject({ kind: 'error', errorRate: config.FAULT_ERROR_RATE, durationSeconds: 7 * 24 * 3600 });
      logger.warn({ errorRate: config.FAULT_ERROR_RATE }, 'FAULT_ERROR_RATE set: this instance is a deliberately bad version');
    }
    const admin = faultAdminRouter({ injector: faults, adminToken, consumers: connectedBus });
    const app = createBaseApp({ logger, readiness, admin, faults, identitySecret: config.INTERNAL_AUTH_SECRET });
    const infra: Infrastructure = {
      logger,
      db: mongo.db,
      bus,
      processed: await ProcessedEvents.create(mongo.db),
      outbox: (sources) => new OutboxRelay(connectedBus, sources, logger),
      app,
      readiness,
      faults,
    };
    const partitioned: { specs: ((partition: number) => ConsumerSpec)[] } = { specs: [] };
    if (options.partitions)
      infra.partitions = partitionOwnership(connectedBus, { instanceId, ttlMs: config.PARTITION_LEASE_TTL_MS ?? 5_000 }, logger, options.partitions, partitioned);
    admin.get('/partitions', (_req, res) => {
      res.json(infra.partitions?.describe() ?? { role: config.SERVICE_NAME, instance: instanceId, partitions: 0, members: [], owned: [] });
    });
    const wiring = await options.wire(infra);
    partitioned.specs = wiring.partitionedConsumers ?? [];
    // Dead letters of this service's consumers, listed and re-driven through the admin API.
    admin.use(
      deadLetterRoutes(
        new DeadLetters(bus, [
          ...(wiring.consumers ?? []).map((c) => c.group ?? c.durable),
          ...(wiring.partitionedConsumers ?? []).map((specOf) => {
            const spec = specOf(0);
            return spec.group ?? spec.durable;
          }),
        ]),
      ),
    );
    finishApp(app, logger);
    const processed = infra.processed;
    for (const consumer of wiring.consumers ?? []) await bus.consume({ processed, ...consumer });
    // Applied-event ids are kept an hour (beyond JetStream's 2-minute duplicate window and a claiming consumer's
    // redelivery horizon: maxDeliver x backoff, minutes), then swept: FerretDB has no TTL indexes.
    const expiry = setInterval(() => void processed.expire(new Date(Date.now() - PROCESSED_RETENTION_MS)).catch(() => undefined), 300_000);
    expiry.unref();
    lifecycle.onShutdown('stop processed-event expiry', () => clearInterval(expiry));
    // Partitions are taken once the shared consumers run.
    const ownership = infra.partitions;
    if (ownership) await ownership.start();
    for (const job of wiring.background ?? []) await job.start();
    server = await listen(app, config.PORT, config.HOST);
    const running = server;

    lifecycle.onShutdown('mark not ready', () => {
      readiness.ready = false;
    });
    lifecycle.onShutdown('close http', () => running.close());
    for (const job of wiring.background ?? []) lifecycle.onShutdown('stop background job', () => job.stop());
    // After the jobs that use them (a sweeper), before NATS drains: work stopped, then leases deleted for the others.
    if (ownership) lifecycle.onShutdown('release partitions', () => ownership.stop());
    lifecycle.onShutdown('drain nats', () => connectedBus.drain());
    for (const job of wiring.background ?? []) if (job.flush) lifecycle.onShutdown('wait for background bookkeeping', async () => job.flush?.());
    lifecycle.onShutdown('close mongodb', () => connectedMongo.close());
    lifecycle.onShutdown('lift faults', () => faults.dispose());

    readiness.ready = true;
    logger.info({ url: server.url }, 'service ready');
    return { url: server.url, port: server.port, logger, infra, stop: (reason = 'stop') => lifecycle.shutdown(reason).then(() => undefined) };
  } catch (err) {
    await server?.close().catch(() => undefined);
    await bus?.drain().catch(() => undefined);
    await mongo?.close().catch(() => undefined);
    throw err;
  }
}

/**
 * How long a delivery waits for a late lease renewal (telling the server it is still in hand): well beyond a JetStream
 * leader election or a lost quorum (seen: 5-11 s), so that only a partition found lost hands its message back.
 */
const OWNERSHIP_WAIT_MS = 120_000;

/**
 * The ownership of a service's partitions, wired to its partitioned consumers: a gained partition starts their
 * durables for it, a lost one stops them. Each delivery is handled only while the lease is still held (a deposed
 * owner hands the message back), and one order's events one at a time, in arrival order.
 */
function partitionOwnership(
  bus: EventBus,
  lease: { instanceId: string; ttlMs: number },
  logger: Logger,
  partitions: { role: string; count: number },
  consumers: { specs: ((partition: number) => ConsumerSpec)[] },
): PartitionOwnership {
  const perOrder = new KeyedLock();
  const ownership: PartitionOwnership = new PartitionOwnership(bus, {
    ...partitions,
    ...lease,
    logger,
    onGain: async (partition) => {
      const start = async (specOf: (partition: number) => ConsumerSpec) => {
        const spec = specOf(partition);
        await bus.consume({
          ...spec,
          handler: async (event, msg) => {
            // A late renewal (the KV bucket electing a leader) is waited out rather than handed back, which would burn
            // the message's deliveries; a message of a partition found lost goes back, for its new owner.
            const decision = ownership.holds(partition) ? 'held' : await ownership.decided(partition, OWNERSHIP_WAIT_MS, () => msg.working());
            if (decision !== 'held') {
              logger.info({ partition, consumer: spec.durable, decision, attempt: msg.info.deliveryCount }, 'partition not held: message handed back');
              // Not at once: until this partition's consumer has stopped, an immediate redelivery would come back here.
              return { nakDelayMs: 2_000 };
            }
            return perOrder.run(msg.subject.slice(msg.subject.lastIndexOf('.') + 1), () => spec.handler(event, msg));
          },
        });
      };
      await Promise.all(consumers.specs.map(start));
    },
    onLose: async (partition) => {
      await Promise.all(consumers.specs.map((specOf) => bus.stopConsuming(specOf(partition).durable)));
    },
  });
  return ownership;
}

/** The body of every service's main.ts: start, install signal handlers, fail fast on a start-up error. */
export function runMain(start: () => Promise<{ stop: (reason?: string) => Promise<void> }>): void {
  start().then(
    (running) => {
      for (const signal of ['SIGTERM', 'SIGINT'] as const) {
        process.once(signal, () => {
          running.stop(signal).then(
            () => process.exit(0),
            () => process.exit(1),
          );
        });
      }
    },
    (err: unknown) => {
      process.stderr.write(`${JSON.stringify({ level: 'fatal', msg: 'start-up failed', err: String(err) })}\n`);
      process.exit(1);
    },
  );
}
