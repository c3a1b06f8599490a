import { describe, expect, it } from 'vitest';
import { messageFor, notificationId, retentionCutoff } from '../src/domain/messages';

const orderId = '0123456789abcdef';

describe('messageFor', () => {
  it('when an order is confirmed, then the customer is told the total charged', () => {
    expect(messageFor({ type: 'orders.confirmed', data: { orderId, totalCents: 12_345 } })).toEqual({
      kind: 'order-confirmed',
      subject: 'Order 01234567 confirmed',
      body: 'Your order is confirmed. Total charged: $123.45.',
    });
  });

  it.each([
    ['OUT_OF_STOCK', 'an item is out of stock'],
    ['PAYMENT_DECLINED', 'the payment was declined'],
    ['SAGA_TIMEOUT', 'it could not be completed in time'],
  ] as const)('when an order is cancelled with %s, then the customer is told why and that nothing was charged', (reason, why) => {
    expect(messageFor({ type: 'orders.cancelled', data: { orderId, reason } })).toEqual({
      kind: 'order-cancelled',
      subject: 'Order 01234567 cancelled',
      body: `Your order was cancelled because ${why}. You have not been charged.`,
    });
  });
});

describe('notificationId', () => {
  it('when the same order outcome arrives again, then it names the same notification; another kind names another', () => {
    expect(notificationId(orderId, 'order-confirmed')).toBe(notificationId(orderId, 'order-confirmed'));
    expect(notificationId(orderId, 'order-confirmed')).not.toBe(notificationId(orderId, 'order-cancelled'));
    expect(notificationId(orderId, 'order-cancelled')).toBe(`${orderId}:order-cancelled`);
  });
});

describe('retentionCutoff', () => {
  it('when notifications are kept 30 days, then those sent more than 30 days ago are past the cutoff', () => {
    expect(retentionCutoff(new Date('2026-07-01T12:00:00Z'), 30)).toEqual(new Date('2026-06-01T12:00:00Z'));
  });
});
