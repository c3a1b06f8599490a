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

/** Where a consumer reads: its stream, filter subject and the event types it acts on. */
export interface ConsumerBinding {
  durable: string;
  stream: StreamSpec;
  /** One filter subject: the single type it handles, or its stream's wildcard (nats-server 2.9 has one filter). */
  subject: string;
  handles: string[];
}

const covers = (pattern: string, subject: string): boolean => pattern === subject || (pattern.endsWith('.>') && subject.startsWith(pattern.slice(0, -1)));

/** Resolves a declaration against the event catalog; throws when its types span streams or are unknown. */
export function bindConsumer(declaration: ConsumerDeclaration<never, never>, events: EventCatalog): ConsumerBinding {
  if ('all' in declaration) {
    const { stream } = declaration;
    const subject = stream.subjects[0];
    if (!subject || stream.subjects.length !== 1) throw new Error(`${declaration.durable}: a stream consumer needs a stream with one subject pattern`);
    return { durable: declaration.durable, stream, subject, handles: events.types.filter((type) => covers(subject, type)) };
  }
  const handles = Object.keys(declaration.on);
  const unknown = handles.filter((type) => !events.types.includes(type));
  if (handles.length === 0 || unknown.length > 0) throw new Error(`${declaration.durable}: no use case, or unknown event types: ${unknown.join(', ')}`);
  const streams = new Set(handles.map((type) => events.streams.find((stream) => stream.subjects.some((pattern) => covers(pattern, type)))));
  const [stream] = streams;
  if (!stream || streams.size !== 1) throw new Error(`${declaration.durable}: its event types must all live on one stream`);
  const subject = handles.length === 1 ? (handles[0] as string) : (stream.subjects.find((pattern) => handles.every((type) => covers(pattern, type))) ?? '>');
  return { durable: declaration.durable, stream, subject, handles };
}

/** What can be read of any module without starting it: its name, the events it knows and its consumers. */
export type ModuleOutline = Pick<ServiceModule<never, never>, 'name' | 'events' | 'consumers'>;

/** Every consumer of a module, resolved (for the docs and for start-up). */
export function consumerBindings(module: ModuleOutline): ConsumerBinding[] {
  return (module.consumers ?? []).map((declaration) => bindConsumer(declaration, module.events));
}

/** The bus's consumer spec for one declaration, bound to the service's dependencies and config. */
export function consumerSpec<D, C>(declaration: ConsumerDeclaration<D, C>, events: EventCatalog, deps: D, config: C): ConsumerSpec {
  const binding = bindConsumer(declaration as ConsumerDeclaration<never, never>, events);
  const settings = typeof declaration.settings === 'function' ? declaration.settings(config) : declaration.settings;
  const on: Partial<Record<string, UseCaseFn<D>>> = 'all' in declaration ? {} : declaration.on;
  const handler = async (event: EventEnvelope): Promise<HandlerResult | void> => {
    const useCase = 'all' in declaration ? declaration.all : on[event.type];
    return useCase ? useCase(deps, event) : 'ack';
  };
  return {
    stream: binding.stream.name,
    durable: binding.durable,
    subject: binding.subject,
    handles: binding.handles,
    decode: events.validate,
    handler,
    ...settings,
    ...(declaration.claims ? {} : { processed: undefined }),
  };
}
