import { allStreams, eventSchemas, PARTITIONS, streams, type EventType } from '@tracemart/contracts';
import { consumerBindings, type ModuleOutline } from '@tracemart/platform';
import { SERVICE_MODULES } from './modules';
import { deadLetterSchema, envelopeSchema } from './schemas';
import { sortedRecord, toJsonSchema, type JsonSchema } from './json-schema';

/** Services that record each domain's facts (the `source` of their events). */
export const eventOwners = {
  orders: 'order',
  inventory: 'inventory',
  payments: 'payment',
  notifications: 'notification',
} as const;

export interface EventConsumer {
  service: string;
  durable: string;
  stream: string;
  /** The consumer's filter subjects. */
  subjects: readonly string[];
  /** One durable per partition (`<durable>-p<n>`), each run by the instance that owns the partition. */
  partitioned: boolean;
  /** The event types its handler acts on; others on the filter are acknowledged and ignored. */
  handles: readonly EventType[];
}

/** Every durable JetStream consumer of the given services, as their modules declare them (subject and stream derived). */
export function eventConsumers(modules: readonly ModuleOutline[]): EventConsumer[] {
  return modules.flatMap((module) =>
    consumerBindings(module).map((binding) => ({
      service: module.name,
      durable: binding.durable,
      stream: binding.stream.name,
      subjects: binding.subjects,
      partitioned: binding.partitioned,
      handles: binding.handles as EventType[],
    })),
  );
}

/** `EventBus.ensureStreams` default (platform/messaging/defaults.ts) when a stream sets no duplicate window. */
const DEFAULT_DUPLICATE_WINDOW_SECONDS = 120;

export const NATS_SERVERS = {
  local: {
    host: '127.0.0.1:4250',
    description: 'The dev stack (`npm start`): a local nats-server on a fixed port (4222 is often taken).',
  },
  cluster: {
    host: 'nats:4222',
    description: 'Inside the Kubernetes namespace (deploy/k8s): the `nats` service.',
  },
} as const;

export function ownerOf(type: EventType): string {
  const domain = type.split('.')[0] as keyof typeof eventOwners;
  return eventOwners[domain];
}

export function streamOf(subject: string): string {
  const stream = allStreams.find((spec) => spec.subjects.some((pattern) => pattern.endsWith('.>') && subject.startsWith(pattern.slice(0, -1))));
  if (!stream) throw new Error(`no stream holds ${subject}`);
  return stream.name;
}

/** `orders.placed` -> `OrdersPlaced`. */
export function messageName(type: string): string {
  return type
    .split(/[.-]/)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

function envelopeFor(type: EventType): JsonSchema {
  const base = toJsonSchema(envelopeSchema, 'draft-07');
  const properties = base.properties as Record<string, JsonSchema>;
  return {
    ...base,
    properties: {
      ...properties,
      type: { ...properties.type, const: type },
      data: { $ref: `#/components/schemas/${messageName(type)}Data` },
    },
  };
}

function streamsDescription(): string {
  const rows = allStreams.map(
    (spec) => `| ${spec.name} | ${spec.subjects.map((s) => `\`${s}\``).join(', ')} | ${spec.duplicateWindowSeconds ?? DEFAULT_DUPLICATE_WINDOW_SECONDS} s |`,
  );
  return [
    'Events of the tracemart order saga on NATS JetStream. Every event is a JSON envelope whose `data` is validated against the contract for its subject (`packages/contracts/src/events.ts`) on publish and on consume; the subject equals the event `type`.',
    '',
    '## Streams',
    '',
    '| Stream | Subjects | Duplicate window |',
    '| --- | --- | --- |',
    ...rows,
    '',
    'Retention is by limits with no age limit: ORDERS, INVENTORY, PAYMENTS and NOTIFICATIONS are the history that read models replay from (`npm run projections:rebuild`), so nothing is discarded by age.',
    'The event id is published as the JetStream `Nats-Msg-Id`; a republish with the same id inside the duplicate window (an outbox relay after a crash, a retry after a lost ack) is dropped by the server. Consumers also record applied event ids, so a redelivery has no second effect.',
    'A message a consumer can never process (invalid, poisoned, out of delivery attempts) is copied to `deadletter.<consumer>` on the DEADLETTER stream, then terminated. Each service lists its dead letters at `GET /admin/deadletters` and re-drives one to its original subject with `POST /admin/deadletters/{sequence}/redrive`.',
    '',
    'Consumers are durable pull consumers with explicit acks: `ack` on success, `nak` with a delay on a transient failure, `term` after dead-lettering.',
  ].join('\n');
}

const headersSchema: JsonSchema = {
  type: 'object',
  properties: {
    traceparent: {
      type: 'string',
      description: 'W3C Trace Context of the PRODUCER span; consumers continue the trace from it. Absent when telemetry is off.',
    },
    tracestate: {
      type: 'string',
      description: 'W3C Trace Context vendor state, when there is any.',
    },
    'Nats-Msg-Id': {
      type: 'string',
      description: 'Equals the envelope `id`; JetStream drops a second publish with the same id inside the duplicate window.',
    },
    'Nats-Event-Type': {
      type: 'string',
      description: 'Equals the envelope `type` (and the subject).',
    },
  },
  required: ['Nats-Msg-Id', 'Nats-Event-Type'],
};

/** The AsyncAPI 3.0 document for every event contract. */
export function buildAsyncApi(modules: readonly ModuleOutline[] = SERVICE_MODULES): JsonSchema {
  const consumers = eventConsumers(modules);
  const types = (Object.keys(eventSchemas) as EventType[]).slice().sort();
  const channels: Record<string, JsonSchema> = {};
  const messages: Record<string, JsonSchema> = {};
  const schemas: Record<string, JsonSchema> = {
    EventHeaders: headersSchema,
    DeadLetter: toJsonSchema(deadLetterSchema, 'draft-07'),
  };
  const operations: Record<string, JsonSchema> = {};

  for (const type of types) {
    const name = messageName(type);
    const readers = consumers
      .filter((consumer) => consumer.handles.includes(type))
      .map((consumer) => consumer.durable)
      .sort();
    schemas[`${name}Data`] = toJsonSchema(eventSchemas[type], 'draft-07');
    messages[name] = {
      name,
      title: type,
      contentType: 'application/json',
      correlationId: {
        description: 'The order saga this event belongs to.',
        location: '$message.payload#/correlationId',
      },
      headers: { $ref: '#/components/schemas/EventHeaders' },
      payload: envelopeFor(type),
    };
    channels[type] = {
      address: `${type}.{orderId}`,
      title: type,
      description: `Stream ${streamOf(type)}, sharded by order id: stored as \`${type}.<partition>.<orderId>\` (the stream's subject transform, partition(${PARTITIONS}, orderId)). Published by ${ownerOf(type)}; consumed by ${readers.length > 0 ? readers.join(', ') : 'no one yet'}.`,
      parameters: { orderId: { description: 'The order the event belongs to: its partition key (characters outside [A-Za-z0-9_-] become _).' } },
      messages: { [name]: { $ref: `#/components/messages/${name}` } },
      'x-stream': streamOf(type),
    };
    operations[`${ownerOf(type)}.send.${type}`] = {
      action: 'send',
      title: `${ownerOf(type)} publishes ${type}`,
      description: 'Written to the outbox in the same database write as the state change, then relayed with msgID = event id.',
      channel: { $ref: `#/channels/${type}` },
      messages: [{ $ref: `#/channels/${type}/messages/${name}` }],
      tags: [{ name: ownerOf(type) }],
    };
  }

  for (const consumer of consumers) {
    for (const type of consumer.handles) {
      const name = messageName(type);
      operations[`${consumer.durable}.receive.${type}`] = {
        action: 'receive',
        title: `${consumer.service} consumes ${type}`,
        description: consumer.partitioned
          ? `Partitioned consumer \`${consumer.durable}\` on stream ${consumer.stream}: one durable per partition (\`${consumer.durable}-p<n>\`, filter \`${consumer.handles.map((t) => `${t}.<n>.*`).join('`, `')}\`), each run by the order instance that owns the partition.`
          : `Durable consumer \`${consumer.durable}\` on stream ${consumer.stream}, filter \`${consumer.subjects.join('`, `')}\`.`,
        channel: { $ref: `#/channels/${type}` },
        messages: [{ $ref: `#/channels/${type}/messages/${name}` }],
        tags: [{ name: consumer.service }],
      };
    }
  }

  const durables = consumers.map((consumer) => consumer.durable).sort();
  channels.deadletter = {
    address: 'deadletter.{consumer}',
    title: 'Dead letters',
    description: `Stream ${streams.deadletter.name}. Messages a consumer gave up on, with why and where from; kept for inspection and re-drive.`,
    parameters: {
      consumer: {
        description: 'The durable consumer that gave up.',
        enum: durables,
      },
    },
    messages: { DeadLetter: { $ref: '#/components/messages/DeadLetter' } },
    'x-stream': streams.deadletter.name,
  };
  messages.DeadLetter = {
    name: 'DeadLetter',
    title: 'Dead letter',
    contentType: 'application/json',
    payload: { $ref: '#/components/schemas/DeadLetter' },
  };
  operations['consumers.send.deadletter'] = {
    action: 'send',
    title: 'Any consumer dead-letters a message',
    description: 'Published with msgID `<consumer>:<stream sequence>` before the original is terminated.',
    channel: { $ref: '#/channels/deadletter' },
    messages: [{ $ref: '#/channels/deadletter/messages/DeadLetter' }],
  };

  const services = [...new Set([...Object.values(eventOwners), ...consumers.map((consumer) => consumer.service)])].sort();
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'tracemart events',
      version: '1.0.0',
      description: streamsDescription(),
      tags: services.map((service) => ({
        name: service,
        description: `The ${service} service.`,
      })),
    },
    defaultContentType: 'application/json',
    servers: Object.fromEntries(
      Object.entries(NATS_SERVERS).map(([key, server]) => [
        key,
        {
          host: server.host,
          protocol: 'nats',
          description: server.description,
        },
      ]),
    ),
    channels: sortedRecord(channels),
    operations: sortedRecord(operations),
    components: {
      schemas: sortedRecord(schemas),
      messages: sortedRecord(messages),
    },
    'x-streams': allStreams.map((spec) => ({
      name: spec.name,
      subjects: spec.subjects,
      retention: spec.retention ?? 'limits',
      maxAgeSeconds: spec.maxAgeSeconds ?? 0,
      duplicateWindowSeconds: spec.duplicateWindowSeconds ?? DEFAULT_DUPLICATE_WINDOW_SECONDS,
    })),
  };
}
