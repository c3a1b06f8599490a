import { eventSchemas, validateEvent, type EventType } from './events';
import { allStreams } from './streams';

/** Everything a service needs to know about the system's events: the streams to provision, every type, its validator. */
export const eventCatalog = {
  streams: allStreams,
  types: Object.keys(eventSchemas) as EventType[],
  validate: validateEvent,
};
