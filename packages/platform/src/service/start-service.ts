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
  MONGODB_URL: string;
  MONGODB_DB: string;
  /** The admin API credential; when a service's schema does not carry it, it is read once at start. */
  ADMIN_TOKEN?: string | undefined;
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
}

export interface Wiring {
  consumers?: ConsumerSpec[];
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
  wire: (infra: Infrastructure) => Promise<Wiring> | Wiring;
  logger?: Logger;
}): Promise<RunningService> {
  const { config } = options;
  const logger = options.logger ?? createLogger(config.SERVICE_NAME, config.LOG_LEVEL);
  const lifecycle = new Lifecycle(logger, config.SHUTDOWN_TIMEOUT_MS);
  let mongo: MongoHandle | undefined;
  let bus: EventBus | undefined;
  let server: RunningServer | undefined;
  try {
    mongo = await connectMongo(config.MONGODB_URL, config.MONGODB_DB, config.SERVICE_NAME);
    bus = await EventBus.connect({
      url: config.NATS_URL,
      name: config.SERVICE_NAME,
      logger,
      ...(options.validateEvent ? { validate: options.validateEvent } : {}),
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
    const app = createBaseApp({ logger, readiness, admin, faults });
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
    const wiring = await options.wire(infra);
    // Dead letters of this service's consumers, listed and re-driven through the admin API.
    admin.use(
      deadLetterRoutes(
        new DeadLetters(
          bus,
          (wiring.consumers ?? []).map((c) => c.durable),
        ),
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
    for (const job of wiring.background ?? []) await job.start();
    server = await listen(app, config.PORT, config.HOST);
    const running = server;

    lifecycle.onShutdown('mark not ready', () => {
      readiness.ready = false;
    });
    lifecycle.onShutdown('close http', () => running.close());
    for (const job of wiring.background ?? []) lifecycle.onShutdown('stop background job', () => job.stop());
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
