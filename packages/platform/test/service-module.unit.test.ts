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
const noop = async () => undefined;
const envelope = (type: string): EventEnvelope => ({ id: '1', type, schemaVersion: 1, occurredAt: '', source: 't', correlationId: 'c', data: {} });

describe('bindConsumer', () => {
  it('when a consumer handles one event type, then it filters on exactly that subject', () => {
    expect(bindConsumer({ durable: 'a', on: { 'orders.placed': noop } }, events)).toEqual({ durable: 'a', stream: orders, subject: 'orders.placed', handles: ['orders.placed'] });
  });

  it("when it handles several types of one stream, then it filters on the stream's wildcard and acts on those types only", () => {
    const binding = bindConsumer({ durable: 'a', on: { 'orders.placed': noop, 'orders.cancelled': noop } }, events);
    expect(binding.subject).toBe('orders.>');
    expect(binding.handles).toEqual(['orders.placed', 'orders.cancelled']);
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
    expect(spec).toMatchObject({ stream: 'ORDERS', durable: 'a', subject: 'orders.>', maxDeliver: 7, processed: undefined });
    expect('processed' in consumerSpec({ durable: 'b', on: { 'orders.placed': noop }, claims: true }, events, {}, {})).toBe(false);
  });
});
