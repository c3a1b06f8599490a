import { describe, expect, it } from 'vitest';
import { eventSubject, partitionOf, subjectToken } from '../src';

describe('partitions', () => {
  it("when an order id is hashed, then it lands where nats-server 2.12's partition(8, ...) put it (read off a real stream)", () => {
    // Published as pay.charged.<id> on a stream with the transform of partitions.ts; stored subjects seen: pay.charged.4.ord_1, …
    expect(['ord_1', 'ord_2', 'abc', 'x'].map((id) => partitionOf(id))).toEqual([4, 5, 3, 7]);
  });

  it('when an id has characters a subject token cannot hold, then they become _', () => {
    expect(subjectToken('a.b*c>d e')).toBe('a_b_c_d_e');
    expect(subjectToken('')).toBe('_');
  });

  it('when an event is published, then its subject is its type and its order id', () => {
    const event = {
      id: 'e',
      type: 'payments.charged',
      schemaVersion: 1,
      occurredAt: '',
      source: 't',
      correlationId: 'o-12',
      data: { orderId: 'o-12', paymentId: 'p', amountCents: 1 },
    };
    expect(eventSubject(event)).toBe('payments.charged.o-12');
  });
});
