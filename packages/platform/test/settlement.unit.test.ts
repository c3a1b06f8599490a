import { describe, expect, it } from 'vitest';
import { AppError } from '../src/errors';
import { settle, type Delivery } from '../src/messaging/settlement';

/** The first of up to 4 deliveries, retried after 100, 500, then 2 000 ms. */
const first: Delivery = { attempt: 1, maxDeliver: 4, backoffMs: [100, 500, 2_000] };
const attempt = (n: number): Delivery => ({ ...first, attempt: n });

describe('settling a delivery', () => {
  it('when the message is not valid JSON or fails decode, then it is termed (dead-lettered) with why', () => {
    expect(settle({ ...first, step: 'decode', error: new SyntaxError('Unexpected token n') })).toEqual({
      action: 'term',
      reason: 'invalid message: Unexpected token n',
      metricOutcome: 'term',
    });
  });

  it('when the event type is not one the consumer handles, then it is acknowledged as ignored', () => {
    expect(settle({ ...first, step: 'filter' })).toEqual({ action: 'ack', metricOutcome: 'ignored' });
  });

  it('when the claim finds the event applied already, then it is acknowledged as a duplicate', () => {
    expect(settle({ ...first, step: 'claim', claim: 'done' })).toEqual({ action: 'ack', metricOutcome: 'duplicate' });
  });

  it('when the claim finds the event being applied right now, then it is nak-ed with the first backoff, whatever the attempt', () => {
    expect(settle({ ...attempt(3), step: 'claim', claim: 'busy' })).toEqual({ action: 'nak', delayMs: 100, metricOutcome: 'nak' });
  });

  it('when the handler acks, then the message is acknowledged', () => {
    expect(settle({ ...first, step: 'handler', result: 'ack' })).toEqual({ action: 'ack', metricOutcome: 'ack' });
  });

  it('when the handler terms, then the message is termed as terminated by handler', () => {
    expect(settle({ ...first, step: 'handler', result: 'term' })).toEqual({ action: 'term', reason: 'terminated by handler', metricOutcome: 'term' });
  });

  it('when the handler asks for a nak below max deliveries, then it is nak-ed with the handler delay', () => {
    expect(settle({ ...attempt(3), step: 'handler', result: { nakDelayMs: 250 } })).toEqual({ action: 'nak', delayMs: 250, metricOutcome: 'nak' });
  });

  it('when the handler asks for a nak at max deliveries, then it is termed after giving up', () => {
    expect(settle({ ...attempt(4), step: 'handler', result: { nakDelayMs: 250 } })).toEqual({ action: 'term', reason: 'gave up after 4 attempts', metricOutcome: 'term' });
  });

  it('when an operational AppError other than unavailable is thrown, then it is termed at once with its message', () => {
    const declined = new AppError('unprocessable', 'PAYMENT.DECLINED', 'card declined');
    expect(settle({ ...first, step: 'failed', error: declined })).toEqual({ action: 'term', reason: 'card declined', metricOutcome: 'term' });
  });

  it('when an unavailable, non-operational or plain error is thrown, then it is transient and nak-ed with backoff', () => {
    const transient = [
      new AppError('unavailable', 'PROCESSOR.DOWN', 'processor down'),
      new AppError('invalid', 'BUG', 'a bug', { operational: false }),
      new Error('socket hang up'),
      'a thrown string',
    ];
    for (const error of transient) expect(settle({ ...first, step: 'failed', error })).toEqual({ action: 'nak', delayMs: 100, metricOutcome: 'nak' });
  });

  it('when a transient error is thrown again, then the delay follows the backoff per attempt and stays at its last entry', () => {
    const failing = (n: number) => settle({ ...attempt(n), maxDeliver: 10, step: 'failed', error: new Error('timeout') });
    expect([1, 2, 3, 4, 9].map((n) => failing(n))).toEqual([100, 500, 2_000, 2_000, 2_000].map((delayMs) => ({ action: 'nak', delayMs, metricOutcome: 'nak' })));
  });

  it('when a transient error is thrown at max deliveries, then it is termed with the error message', () => {
    expect(settle({ ...attempt(4), step: 'failed', error: new Error('timeout') })).toEqual({ action: 'term', reason: 'timeout', metricOutcome: 'term' });
  });
});
