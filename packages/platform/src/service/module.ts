import type { Router } from 'express';
import type { z } from 'zod';
import type { ConsumerSpec, HandlerResult, StreamSpec } from '../messaging/bus';
import type { EventEnvelope } from '../messaging/envelope';
import type { BackgroundJob } from './background';
import type { Infrastructure, ServiceConfig } from './start-service';

/** What a service knows of the system's events: the contracts package's `eventCatalog`. */
export interface EventCatalog<T extends string = string> {
  /** Every stream; each service provisions them all at start, so processes can start in any order. */
  streams: readonly StreamSpec[];
  /** Every event type (= its subject). */
  types: readonly T[];
  /** Checks an envelope against its contract and narrows its data; throws on a violation. */
  validate: (event: EventEnvelope) => EventEnvelope;
  /** The subject an event is published on (default: its type); the contracts add the order id, the partition key. */
  subjectOf?: (event: EventEnvelope) => string;
  /** The filter subject of a type's stored messages, or of one partition of them (default: the type itself). */
  filterOf?: (type: string, partition?: number) => string;
  /** Into how many partitions the streams shard events (their subject transform); needed by partitioned consumers. */
  partitions?: number;
}

/**
 * A use case run for one event type. Declared with method syntax so a use case may name the precise event
 * it takes (`TypedEvent<'orders.placed'>`): the consumer hands each one only events of its own type.
 */
export interface EventUseCase<D> {
  run(deps: D, event: EventEnvelope): Promise<HandlerResult | void>;
}
type UseCaseFn<D> = EventUseCase<D>['run'];

/** Redelivery and flow control of one durable consumer (defaults: platform/messaging). */
export type ConsumerSettings = Pick<ConsumerSpec, 'maxAckPending' | 'maxDeliver' | 'ackWaitMs' | 'backoffMs'>;

interface ConsumerBase<C> {
  /** The durable consumer's name: unique in the system, and the name of its dead letters. */
  durable: string;
  /**
   * Record each applied event id first (processed-event claims), for use cases whose effect lies outside the
   * database (an email). Off by default: the saga's use cases are idempotent by their own state.
   */
  claims?: boolean;
  settings?: ConsumerSettings | ((config: C) => ConsumerSettings);
  /**
   * Sharded by order id: one durable per partition (`<durable>-p<n>`, filtered to that partition's subjects), run
   * only by the instance that owns the partition (the service's PartitionOwnership), so each order's events are
   * handled by one instance at a time, in order, and different orders in parallel across instances.
   */
  partitioned?: boolean;
}

/** A consumer that runs a use case per event type: its subject filter and stream follow from the types. */
export interface EventConsumer<D, C, T extends string> extends ConsumerBase<C> {
  on: Partial<Record<T, UseCaseFn<D>>>;
}

/** A consumer that takes every event of one stream (a read model joining streams). */
export interface StreamConsumer<D, C> extends ConsumerBase<C> {
  stream: StreamSpec;
  all: UseCaseFn<D>;
}

export type ConsumerDeclaration<D, C, T extends string = string> = EventConsumer<D, C, T> | StreamConsumer<D, C>;

/**
 * One service, declared: its name, its configuration, what its use cases depend on, its HTTP routes, the
 * events it consumes and its background jobs. `runService(module)` starts it; the docs (AsyncAPI) read
 * `consumers` without starting anything.
 */
export interface ServiceModule<C extends ServiceConfig = ServiceConfig, D = unknown, T extends string = string> {
  name: string;
  configSchema: z.ZodType<C>;
  events: EventCatalog<T>;
  /** Builds the use cases' dependencies (stores, clients, outbox relays) once MongoDB and NATS are connected. */
  dependencies: (infra: Infrastructure, config: C) => Promise<D> | D;
  /** The service's HTTP API, mounted at the root of its app (probes and /admin are the platform's). */
  routes?: (deps: D) => Router;
  consumers?: readonly ConsumerDeclaration<D, C, T>[];
  background?: (deps: D, config: C) => BackgroundJob[];
}

/** Identity, for type inference: `export const module = defineService({ ... })`. */
export function defineService<C extends ServiceConfig, D, T extends string>(module: ServiceModule<C, D, T>): ServiceModule<C, D, T> {
  return module;
}

/** Where a consumer reads: its stream, filter subjects and the event types it acts on. */
export interface ConsumerBinding {
  durable: string;
  stream: StreamSpec;
  /** Its filter subjects: one per type it handles (the catalog's `filterOf`), or its stream's wildcard. */
  subjects: string[];
  handles: string[];
  /** One durable per partition (see `partitioned` on the declaration). */
  partitioned: boolean;
}

const covers = (pattern: string, subject: string): boolean => pattern === subject || (pattern.endsWith('.>') && subject.startsWith(pattern.slice(0, -1)));

/** Resolves a declaration against the event catalog; throws when its types span streams or are unknown. */
export function bindConsumer(declaration: ConsumerDeclaration<never, never>, events: EventCatalog): ConsumerBinding {
  const partitioned = declaration.partitioned === true;
  if ('all' in declaration) {
    const { stream } = declaration;
    const subject = stream.subjects[0];
    if (!subject || stream.subjects.length !== 1) throw new Error(`${declaration.durable}: a stream consumer needs a stream with one subject pattern`);
    if (partitioned && !events.partitions) throw new Error(`${declaration.durable}: partitioned, but the event catalog has no partitions`);
    return { durable: declaration.durable, stream, subjects: [subject], handles: events.types.filter((type) => covers(subject, type)), partitioned };
  }
  const handles = Object.keys(declaration.on);
  const unknown = handles.filter((type) => !events.types.includes(type));
  if (handles.length === 0 || unknown.length > 0) throw new Error(`${declaration.durable}: no use case, or unknown event types: ${unknown.join(', ')}`);
  const streams = new Set(handles.map((type) => events.streams.find((stream) => stream.subjects.some((pattern) => covers(pattern, type)))));
  const [stream] = streams;
  if (!stream || streams.size !== 1) throw new Error(`${declaration.durable}: its event types must all live on one stream`);
  if (partitioned && !events.partitions) throw new Error(`${declaration.durable}: partitioned, but the event catalog has no partitions`);
  return { durable: declaration.durable, stream, subjects: handles.map((type) => filterOf(events, type)), handles, partitioned };
}

const filterOf = (events: EventCatalog, type: string, partition?: number): string => (events.filterOf ? events.filterOf(type, partition) : type);

/** The durable of one partition of a partitioned consumer. */
export const partitionDurable = (durable: string, partition: number): string => `${durable}-p${partition}`;

/** What can be read of any module without starting it: its name, the events it knows and its consumers. */
export type ModuleOutline = Pick<ServiceModule<never, never>, 'name' | 'events' | 'consumers'>;

/** Every consumer of a module, resolved (for the docs and for start-up). */
export function consumerBindings(module: ModuleOutline): ConsumerBinding[] {
  return (module.consumers ?? []).map((declaration) => bindConsumer(declaration, module.events));
}

/**
 * The bus's consumer spec for one declaration, bound to the service's dependencies and config; for a partitioned
 * consumer, the spec of one partition's durable (same group: metrics, claims and dead letters stay one consumer's).
 */
export function consumerSpec<D, C>(declaration: ConsumerDeclaration<D, C>, events: EventCatalog, deps: D, config: C, partition?: number): ConsumerSpec {
  const binding = bindConsumer(declaration as ConsumerDeclaration<never, never>, events);
  const subjects = partition === undefined ? binding.subjects : binding.handles.map((type) => filterOf(events, type, partition));
  const settings = typeof declaration.settings === 'function' ? declaration.settings(config) : declaration.settings;
  const on: Partial<Record<string, UseCaseFn<D>>> = 'all' in declaration ? {} : declaration.on;
  const handler = async (event: EventEnvelope): Promise<HandlerResult | void> => {
    const useCase = 'all' in declaration ? declaration.all : on[event.type];
    return useCase ? useCase(deps, event) : 'ack';
  };
  const [subject = '>', ...more] = subjects;
  // A partitioned consumer's max ack pending bounds the whole consumer: each partition's durable gets its share, so
  // the bound holds however the partitions are spread over instances (the notification consumer's load leveling).
  const maxAckPending = partition !== undefined && settings?.maxAckPending !== undefined ? Math.ceil(settings.maxAckPending / (events.partitions ?? 1)) : settings?.maxAckPending;
  return {
    stream: binding.stream.name,
    durable: partition === undefined ? binding.durable : partitionDurable(binding.durable, partition),
    group: binding.durable,
    subject,
    ...(more.length > 0 ? { subjects } : {}),
    handles: binding.handles,
    decode: events.validate,
    handler,
    ...settings,
    ...(maxAckPending !== undefined ? { maxAckPending } : {}),
    ...(declaration.claims ? {} : { processed: undefined }),
  };
}
