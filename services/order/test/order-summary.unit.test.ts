import { describe, expect, it } from 'vitest';
import { newEnvelope, type EventEnvelope } from '@tracemart/platform';
import { eventCatalog, paymentTokenSeal, type EventData, type EventType } from '@tracemart/contracts';
import { deriveStatuses, orderIdOf, summaryChanges, summaryUpdate, summaryView, type OrderSummary } from '../src/projections/order-summary';

const orderId = 'order-1';
const userId = 'user-1';
const items = [{ productId: 'mug', name: 'Mug', quantity: 2, unitPriceCents: 1_250 }];
const start = Date.parse('2026-01-01T10:00:00.000Z');
const paymentTokenSealed = paymentTokenSeal('k'.repeat(32)).seal('tok_visa', orderId);

/** The events of one order as its services publish them, a second apart. */
function history(...events: [EventType, EventData<EventType>][]): EventEnvelope[] {
  return events.map(([type, data], index) => newEnvelope(type, data, { source: type.split('.')[0] ?? 'test', correlationId: orderId, now: new Date(start + index * 1_000) }));
}

const confirmedOrder = history(
  ['orders.placed', { orderId, userId, items, totalCents: 2_500, paymentTokenSealed }],
  ['inventory.reserved', { orderId, items: [{ productId: 'mug', quantity: 2 }] }],
  ['payments.charged', { orderId, paymentId: 'pay-1', amountCents: 2_500 }],
  ['orders.confirmed', { orderId, userId, totalCents: 2_500 }],
  ['inventory.committed', { orderId }],
  ['notifications.sent', { notificationId: `${orderId}:confirmation`, orderId, userId, kind: 'confirmation' }],
);

const cancelledAfterCharge = history(
  ['orders.placed', { orderId, userId, items, totalCents: 2_500, paymentTokenSealed }],
  ['inventory.reserved', { orderId, items: [{ productId: 'mug', quantity: 2 }] }],
  ['payments.charged', { orderId, paymentId: 'pay-1', amountCents: 2_500 }],
  ['orders.cancelled', { orderId, userId, reason: 'SAGA_TIMEOUT' }],
  ['inventory.released', { orderId }],
  ['payments.refunded', { orderId, paymentId: 'pay-1', amountCents: 2_500 }],
  ['notifications.sent', { notificationId: `${orderId}:cancellation`, orderId, userId, kind: 'cancellation' }],
);

function* permutations<T>(values: readonly T[]): Generator<T[]> {
  if (values.length <= 1) {
    yield [...values];
    return;
  }
  for (const [index, first] of values.entries()) {
    for (const rest of permutations([...values.slice(0, index), ...values.slice(index + 1)])) yield [first, ...rest];
  }
}

const union = (values: string[] | undefined, value: string | undefined): string[] | undefined =>
  value === undefined || values?.includes(value) ? values : [...(values ?? []), value];
const earliest = (a: Date | undefined, b: Date) => (a && a.getTime() <= b.getTime() ? a : b);
const latest = (a: Date | undefined, b: Date) => (a && a.getTime() >= b.getTime() ? a : b);

/**
 * What the projector's update does to a summary document, done in memory: the update `summaryChanges` builds
 * ($set, $push, $addToSet, $min, $max), guarded by the applied event ids as the projector's filter is.
 */
function project(summary: OrderSummary | undefined, event: EventEnvelope): OrderSummary | undefined {
  const id = orderIdOf(event);
  const update = summaryUpdate(event);
  if (!id || !update || summary?.appliedEvents?.includes(event.id)) return summary;
  const changes = summaryChanges(event, update);
  return {
    ...summary,
    ...changes.$set,
    _id: id,
    timeline: [...(summary?.timeline ?? []), changes.$push.timeline],
    appliedEvents: union(summary?.appliedEvents, changes.$addToSet.appliedEvents),
    facts: union(summary?.facts, changes.$addToSet.facts),
    notifications: union(summary?.notifications, changes.$addToSet.notifications),
    createdAt: earliest(summary?.createdAt, changes.$min.createdAt),
    updatedAt: latest(summary?.updatedAt, changes.$max.updatedAt),
  };
}

function summaryOf(events: readonly EventEnvelope[]) {
  const summary = events.reduce<OrderSummary | undefined>(project, undefined);
  if (!summary) throw new Error('no summary');
  return summaryView(summary);
}

/** Projects `events` in every possible arrival order, expecting `expected` each time; returns how many orders it tried. */
function arrivalOrdersGiving(expected: ReturnType<typeof summaryOf>, events: readonly EventEnvelope[]): number {
  let arrivals = 0;
  for (const arrival of permutations(events)) {
    expect(summaryOf(arrival)).toEqual(expected);
    arrivals += 1;
  }
  return arrivals;
}

describe('the order summary read model', () => {
  it('when a confirmed order’s events arrive in every possible order, then every arrival order gives the same summary', () => {
    const expected = summaryOf(confirmedOrder);
    expect(expected).toMatchObject({
      id: orderId,
      status: 'CONFIRMED',
      paymentStatus: 'CHARGED',
      inventoryStatus: 'COMMITTED',
      items,
      totalCents: 2_500,
      notifications: ['confirmation'],
      createdAt: new Date(start).toISOString(),
      updatedAt: new Date(start + 5_000).toISOString(),
    });
    expect(expected.timeline.map((entry) => entry.type)).toEqual(confirmedOrder.map((event) => event.type));
    expect(arrivalOrdersGiving(expected, confirmedOrder)).toBe(720);
  });

  it('when the events of an order cancelled after its charge arrive in every possible order, then every arrival order gives the same summary', () => {
    const expected = summaryOf(cancelledAfterCharge);
    expect(expected).toMatchObject({ status: 'CANCELLED', reason: 'SAGA_TIMEOUT', paymentStatus: 'REFUNDED', inventoryStatus: 'RELEASED', notifications: ['cancellation'] });
    expect(arrivalOrdersGiving(expected, cancelledAfterCharge)).toBe(5_040);
  });

  it('when an event is delivered again, then the summary does not change', () => {
    expect(summaryOf([...confirmedOrder, ...confirmedOrder.slice(2)])).toEqual(summaryOf(confirmedOrder));
  });

  it('when the facts are seen in any order, then the statuses are those of the latest stage', () => {
    for (const facts of permutations(cancelledAfterCharge.map((event) => event.type))) {
      expect(deriveStatuses(facts)).toEqual({ status: 'CANCELLED', paymentStatus: 'REFUNDED', inventoryStatus: 'RELEASED' });
    }
    expect(deriveStatuses(['orders.placed'])).toEqual({ status: 'PENDING', paymentStatus: 'PENDING', inventoryStatus: 'PENDING' });
    expect(deriveStatuses(['orders.placed', 'inventory.rejected', 'orders.cancelled'])).toEqual({ status: 'CANCELLED', paymentStatus: 'PENDING', inventoryStatus: 'REJECTED' });
    expect(deriveStatuses(['payments.declined'])).toMatchObject({ paymentStatus: 'DECLINED' });
  });

  it('when an event of any type of the joined streams arrives, then it is projected; one of another stream is not', () => {
    const projected = eventCatalog.types.filter((type) => summaryUpdate({ ...confirmedOrder[0], type } as EventEnvelope) !== undefined);
    expect(projected.sort()).toEqual(
      [
        'inventory.committed',
        'inventory.rejected',
        'inventory.released',
        'inventory.reserved',
        'notifications.sent',
        'orders.cancelled',
        'orders.confirmed',
        'orders.placed',
        'payments.charged',
        'payments.declined',
        'payments.refunded',
      ].sort(),
    );
    expect(summaryUpdate({ ...confirmedOrder[0], type: 'deadletter.order-payments' } as EventEnvelope)).toBeUndefined();
  });
});
