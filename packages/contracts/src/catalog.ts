import type { EventEnvelope } from './envelope';
import { eventSchemas, validateEvent, type EventType } from './events';
import { eventFilter, PARTITIONS, subjectToken } from './partitions';
import { allStreams } from './streams';

/**
 * The subject an event is published on: its type, then its partition key, the order id every event carries
 * (`payments.charged.o-12`); the stream's transform adds the partition (partitions.ts).
 */
export function eventSubject(event: EventEnvelope): string {
  const { data } = event;
  const key = typeof data === 'object' && data !== null && 'orderId' in data && typeof data.orderId === 'string' ? data.orderId : '';
  return `${event.type}.${subjectToken(key)}`;
}

/** Everything a service needs to know about the system's events: the streams to provision, every type, its validator, its subject. */
export const eventCatalog = {
  streams: allStreams,
  types: Object.keys(eventSchemas) as EventType[],
  validate: validateEvent,
  subjectOf: eventSubject,
  filterOf: eventFilter,
  partitions: PARTITIONS,
};
