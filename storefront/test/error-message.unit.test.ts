import { describe, expect, it } from 'vitest';
import { ApiError, errorFromBody, parseRetryAfter } from '../src/lib/api-error';
import { describeError } from '../src/lib/error-message';

const err = (status: number, code: string, details?: unknown, retryAfterSeconds?: number) =>
  new ApiError(status, code, `server says ${code}`, undefined, retryAfterSeconds, details);

describe('error messages', () => {
  it('when payment is down (503 naming it), then the message names payments, reassures, and waits Retry-After', () => {
    const m = describeError(err(503, 'DEPENDENCY.UNAVAILABLE', { dependency: 'payment' }, 5));
    expect(m.title).toBe('Payments are unavailable right now');
    expect(m.detail).toContain('Nothing was charged');
    expect(m.detail).toContain('Try again in 5 seconds.');
    expect(m.retryAfterSeconds).toBe(5);
  });

  it('when another dependency is down, then it is named in words', () => {
    expect(describeError(err(503, 'GATEWAY.CIRCUIT_OPEN', { dependency: 'catalog' }, 1)).title).toBe('The catalog is unavailable right now');
    expect(describeError(err(504, 'GATEWAY.UPSTREAM_TIMEOUT', { dependency: 'user' }, 1)).title).toBe('Accounts are unavailable right now');
    expect(describeError(err(503, 'X', undefined)).title).toBe('The shop is partly unavailable right now');
  });

  it('when rate limited (429), then the wait is the Retry-After', () => {
    const m = describeError(err(429, 'AUTH.TOO_MANY_ATTEMPTS', undefined, 8));
    expect(m).toMatchObject({ title: 'Too many attempts', retryAfterSeconds: 8 });
    expect(m.detail).toContain('8 seconds');
  });

  it('when an order is refused (422), then the message says what to do', () => {
    expect(describeError(err(422, 'ORDER.UNKNOWN_PRODUCT')).detail).toContain('Remove it');
    expect(describeError(err(422, 'IDEMPOTENCY.KEY_REUSED')).title).toContain('already sent');
    expect(describeError(err(422, 'SOMETHING.ELSE')).detail).toBe('server says SOMETHING.ELSE');
  });

  it('when the credentials are wrong or the session ended, then they are told apart', () => {
    expect(describeError(err(401, 'AUTH.INVALID_CREDENTIALS')).needsLogin).toBeUndefined();
    expect(describeError(err(401, 'AUTH.TOKEN_EXPIRED')).needsLogin).toBe(true);
  });

  it('when validation fails, then the field messages are listed', () => {
    expect(describeError(err(400, 'REQUEST.VALIDATION_FAILED', [{ path: 'password', message: 'too short' }])).detail).toBe('password: too short');
  });

  it('when the body is not a tracemart error, then the status still gives a code', () => {
    const e = errorFromBody(502, '<html>', 'a'.repeat(32), undefined);
    expect(e).toMatchObject({ status: 502, code: 'HTTP.502', traceId: 'a'.repeat(32) });
  });

  it('when Retry-After is seconds or a date, then it becomes seconds; garbage is ignored', () => {
    expect(parseRetryAfter('5')).toBe(5);
    expect(parseRetryAfter(new Date(10_000 + 3_000).toUTCString(), 10_000)).toBe(3);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });
});
