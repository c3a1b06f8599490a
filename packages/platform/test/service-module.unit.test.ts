import { describe, expect, it } from 'vitest';
import { bindConsumer, consumerSpec, type EventCatalog } from '../src/service/module';
import type { EventEnvelope } from '../src/messaging/envelope';

const orders = { name: 'ORDERS', subjects: ['orders.>'] };
const payments = { name: 'PAYMENTS', subjects: ['payments.>'] };
const events: EventCatalog = {
  streams: [orders, payments],
  types: ['orders.placed', 'orders.cancelled', 'orders.confirmed', 'payments.charged'],
  validate: (event) => event,
};
/** The contracts' scheme: `<type>.<orderId>` published, `<type>.<partition>.<orderId>` stored. */
const sharded: EventCatalog = { ...events, partitions: 4, filterOf: (type, partition) => (partition === undefined ? `${type}.>` : `${type}.${partition}.*`) };
const noop = async () => undefined;
const envelope = (type: string): EventEnvelope => ({ id: '1', type, schemaVersion: 1, occurredAt: '', source: 't', correlationId: 'c', data: {} });

describe('bindConsumer', () => {
  it('when a consumer handles one event type, then it filters on exactly that subject', () => {
    expect(bindConsumer({ durable: 'a', on: { 'orders.placed': noop } }, events)).toEqual({
      durable: 'a',
      stream: orders,
      subjects: ['orders.placed'],
      handles: ['orders.placed'],
      partitioned: false,
    });
  });

  it("when it handles several types of one stream, then it filters on each type's subjects as the catalog stores them", () => {
    const binding = bindConsumer({ durable: 'a', on: { 'orders.placed': noop, 'orders.cancelled': noop } }, sharded);
    expect(binding.subjects).toEqual(['orders.placed.>', 'orders.cancelled.>']);
    expect(binding.handles).toEqual(['orders.placed', 'orders.cancelled']);
  });

  it("when a consumer is partitioned, then each partition's spec is its own durable on that partition's subjects, in one group", () => {
    const declaration = { durable: 'a', partitioned: true, on: { 'orders.placed': noop, 'orders.cancelled': noop } };
    expect(bindConsumer(declaration, sharded).partitioned).toBe(true);
    expect(consumerSpec(declaration, sharded, {}, {}, 3)).toMatchObject({
      durable: 'a-p3',
      group: 'a',
      subject: 'orders.placed.3.*',
      subjects: ['orders.placed.3.*', 'orders.cancelled.3.*'],
    });
    expect(() => bindConsumer(declaration, events)).toThrow(/no partitions/);
    // A read model over a whole stream: every type of the stream, in that partition.
    expect(consumerSpec({ durable: 'r', partitioned: true, stream: orders, all: noop }, sharded, {}, {}, 1).subjects).toEqual([
      'orders.placed.1.*',
      'orders.cancelled.1.*',
      'orders.confirmed.1.*',
    ]);
    // Max ack pending bounds the whole consumer: each of the 4 partitions gets a quarter (rounded up).
    expect(consumerSpec({ ...declaration, settings: { maxAckPending: 10 } }, sharded, {}, {}, 0).maxAckPending).toBe(3);
  });

  it('when a consumer takes a whole stream, then it handles every type on it', () => {
    expect(bindConsumer({ durable: 'read-model', stream: orders, all: noop }, events).handles).toEqual(['orders.placed', 'orders.cancelled', 'orders.confirmed']);
  });

  it('when its types span two streams, or a type is unknown, or there is none, then declaring it fails', () => {
    expect(() => bindConsumer({ durable: 'a', on: { 'orders.placed': noop, 'payments.charged': noop } }, events)).toThrow(/one stream/);
    expect(() => bindConsumer({ durable: 'a', on: { 'orders.shipped': noop } }, events)).toThrow(/unknown event types: orders.shipped/);
    expect(() => bindConsumer({ durable: 'a', on: {} }, events)).toThrow(/no use case/);
  });
});

describe('consumerSpec', () => {
  it('when an event arrives, then the use case for its type runs with the dependencies, and claims are off unless asked for', async () => {
    const seen: string[] = [];
    const spec = consumerSpec(
      {
        durable: 'a',
        on: {
          'orders.placed': async (deps: { tag: string }, event) => {
            seen.push(`${deps.tag}:${event.type}`);
            return 'ack';
          },
          'orders.cancelled': noop,
        },
        settings: (config: { max: number }) => ({ maxDeliver: config.max }),
      },
      events,
      { tag: 'deps' },
      { max: 7 },
    );
    expect(await spec.handler(envelope('orders.placed'), undefined as never)).toBe('ack');
    expect(seen).toEqual(['deps:orders.placed']);
    expect(spec).toMatchObject({
      stream: 'ORDERS',
      durable: 'a',
      group: 'a',
      subject: 'orders.placed',
      subjects: ['orders.placed', 'orders.cancelled'],
      maxDeliver: 7,
      processed: undefined,
    });
    expect('processed' in consumerSpec({ durable: 'b', on: { 'orders.placed': noop }, claims: true }, events, {}, {})).toBe(false);
  });
});
