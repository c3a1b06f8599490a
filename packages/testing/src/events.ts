import { randomUUID } from 'node:crypto';
import { createLogger, EventBus, newEnvelope, type EventEnvelope } from '@tracemart/platform';
import { allStreams, eventSubject, validateEvent, type EventData, type EventType } from '@tracemart/contracts';
import { eventually } from './infra';

/**
 * The test's own connection to the real broker: it arranges (publishes the events another service would
 * have published) and observes (records what the service under test published), like a neighbour service.
 */
export async function connectTestBus(natsUrl: string, replicas = 1): Promise<EventBus> {
  const bus = await EventBus.connect({
    url: natsUrl,
    name: 'test',
    logger: createLogger('test', 'silent'),
    validate: (e) => void validateEvent(e),
    subjectOf: eventSubject,
    replicas,
  });
  await bus.ensureStreams(allStreams);
  return bus;
}

/** A contract-checked envelope, correlated by its order id as the services do. */
export function testEvent<T extends EventType>(type: T, data: EventData<T> & { orderId: string }): EventEnvelope<EventData<T>> {
  return newEnvelope(type, data, { source: 'test', correlationId: data.orderId });
}

/**
 * Publishes an event again with its own id but a fresh JetStream msgID, so the broker's duplicate window
 * does not drop it: what a consumer sees when a message is redelivered after the window, or a producer
 * republished it late. Only the consumer's own idempotency stands in the way.
 */
export async function republishPastDedup(bus: EventBus, event: EventEnvelope): Promise<void> {
  const { trace: _trace, ...wire } = event;
  await bus.js.publish(eventSubject(event), JSON.stringify(wire), { msgID: randomUUID() });
}

/** Records every event on `subject` of `stream`, from the start of the stream, in arrival order (into `events`). */
export async function recordEvents(
  bus: EventBus,
  stream: string,
  subject: string,
  events: EventEnvelope[] = [],
): Promise<{ events: EventEnvelope[]; durable: string; stream: string }> {
  const durable = `test-observer-${stream.toLowerCase()}`;
  await bus.consume({
    stream,
    durable,
    subject,
    handler: async (event) => {
      events.push(event);
      return 'ack';
    },
  });
  return { events, durable, stream };
}

/** The events recorded for one order, optionally of one type. */
export function eventsOf(events: readonly EventEnvelope[], orderId: string, type?: string): EventEnvelope[] {
  return events.filter((e) => (e.data as { orderId?: string }).orderId === orderId && (type === undefined || e.type === type));
}

/**
 * Waits until a durable consumer has been handed every message of its stream and has acknowledged all of
 * them: the moment after which a service has finished reacting to what was published so far.
 */
export async function consumerSettled(bus: EventBus, stream: string, durable: string, timeoutMs = 15_000): Promise<void> {
  await eventually(
    async () => {
      const info = await bus.jsm.consumers.info(stream, durable);
      return { pending: info.num_pending, unacked: info.num_ack_pending };
    },
    ({ pending, unacked }) => pending === 0 && unacked === 0,
    timeoutMs,
  );
}

/**
 * `consumerSettled` for a logical consumer that may be partitioned: its durable, or every `<durable>-p<n>` of it on the
 * server (whichever instance owns each partition).
 */
export async function groupSettled(bus: EventBus, stream: string, group: string, timeoutMs = 15_000): Promise<void> {
  const names: string[] = [];
  for await (const info of await bus.jsm.consumers.list(stream))
    if (info.name === group || (info.name.startsWith(group) && /^-p\d+$/.test(info.name.slice(group.length)))) names.push(info.name);
  if (names.length === 0) throw new Error(`no consumer ${group} on ${stream}`);
  for (const name of names) await consumerSettled(bus, stream, name, timeoutMs);
}
