import { describe, expect, it } from 'vitest';
import { replayLedger } from '../src/domain/ledger';
import { chargeStep, compensationFor } from '../src/domain/payment';

const at = new Date('2026-01-01T00:00:00Z');
const charged = replayLedger([{ type: 'charged', amountCents: 7_499, version: 1, at }]);
const refunded = replayLedger([
  { type: 'charged', amountCents: 7_499, version: 1, at },
  { type: 'refunded', amountCents: 7_499, version: 2, at },
]);
const nothing = replayLedger([]);

describe('chargeStep', () => {
  it('when no payment was opened yet, then the charge waits for orders.placed', () => {
    expect(chargeStep(null)).toBe('wait');
  });

  it('when the payment waits for stock, then it is charged', () => {
    expect(chargeStep({ status: 'AWAITING_STOCK' })).toBe('charge');
  });

  it.each(['CHARGED', 'DECLINED', 'CANCELLED', 'REFUNDED'] as const)('when the payment is %s, then nothing more is charged', (status) => {
    expect(chargeStep({ status })).toBe('done');
  });
});

describe('compensationFor', () => {
  it('when the cancellation comes before the payment was opened, then the payment is recorded closed, so a late placement charges nothing', () => {
    expect(compensationFor(null, nothing)).toEqual({ kind: 'close-unopened' });
    expect(chargeStep({ status: 'CANCELLED' })).toBe('done');
  });

  it('when the payment still waits for stock, then it is closed without money moving', () => {
    expect(compensationFor({ status: 'AWAITING_STOCK' }, nothing)).toEqual({ kind: 'close' });
  });

  it('when the card was charged, then the charged amount is refunded', () => {
    expect(compensationFor({ status: 'CHARGED' }, charged)).toEqual({ kind: 'refund', amountCents: 7_499 });
  });

  it('when the charge was already refunded, then nothing is refunded twice', () => {
    expect(compensationFor({ status: 'CHARGED' }, refunded)).toEqual({ kind: 'none' });
    expect(compensationFor({ status: 'REFUNDED' }, refunded)).toEqual({ kind: 'none' });
  });

  it('when the card was declined, then there is nothing to refund', () => {
    expect(compensationFor({ status: 'DECLINED' }, nothing)).toEqual({ kind: 'none' });
  });
});
