import { describe, expect, it } from 'vitest';
import { paymentTokenSeal, PaymentTokenUnreadable, sealedPaymentTokenSchema, validateEvent, type EventEnvelope } from '../src';

const key = 'unit-test-payment-token-key-0123456789abcdef';
const seal = paymentTokenSeal(key);
const placed = (data: object): EventEnvelope => ({
  id: 'e-1',
  type: 'orders.placed',
  schemaVersion: 1,
  occurredAt: new Date().toISOString(),
  source: 'test',
  correlationId: 'o-1',
  data,
});
const placedData = { orderId: 'o-1', userId: 'u-1', items: [{ productId: 'mug', name: 'Mug', quantity: 1, unitPriceCents: 100 }], totalCents: 100 };

describe('sealing the card token of orders.placed', () => {
  it('when a token is sealed, then it opens for the same order under the same key, and the sealed form holds no part of it', () => {
    const sealed = seal.seal('tok_visa', 'o-1');
    expect(sealed).not.toContain('tok');
    expect(sealedPaymentTokenSchema.safeParse(sealed).success).toBe(true);
    expect(seal.open(sealed, 'o-1')).toBe('tok_visa');
  });

  it('when the same token is sealed twice, then the two sealed forms differ (a fresh iv each time)', () => {
    expect(seal.seal('tok_visa', 'o-1')).not.toBe(seal.seal('tok_visa', 'o-1'));
  });

  it.each([
    ['for another order', () => seal.open(seal.seal('tok_visa', 'o-1'), 'o-2')],
    ['under another key', () => paymentTokenSeal('another-key-of-at-least-32-characters!!').open(seal.seal('tok_visa', 'o-1'), 'o-1')],
    ['altered', () => seal.open(flipLastCharacter(seal.seal('tok_visa', 'o-1')), 'o-1')],
    ['truncated', () => seal.open(seal.seal('tok_visa', 'o-1').slice(0, 20), 'o-1')],
  ])('when a sealed token is opened %s, then it is refused as unreadable', (_case, open) => {
    expect(open).toThrow(PaymentTokenUnreadable);
  });

  it('when the key is shorter than 32 characters, then no seal is made', () => {
    expect(() => paymentTokenSeal('short')).toThrow(/32/);
  });

  it('when orders.placed carries the sealed token, then it is valid; the legacy clear token is still read; neither is invalid', () => {
    const sealed = validateEvent(placed({ ...placedData, paymentTokenSealed: seal.seal('tok_visa', 'o-1') }));
    expect(sealed.data).toMatchObject({ paymentTokenSealed: expect.any(String) });
    const legacy = validateEvent(placed({ ...placedData, paymentToken: 'tok_visa' }));
    expect(legacy.data).toMatchObject({ paymentToken: 'tok_visa' });
    expect(() => validateEvent(placed(placedData))).toThrow(/violates its contract/);
  });
});

function flipLastCharacter(text: string): string {
  const last = text.at(-1);
  return `${text.slice(0, -1)}${last === 'A' ? 'B' : 'A'}`;
}
