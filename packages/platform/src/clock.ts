/**
 * Where time-based rules (fault expiry, lease age) read the time: the system clock in production, a clock a
 * test moves by hand (`ManualClock` in @tracemart/testing) so it need not sleep.
 */
export interface Clock {
  /** Milliseconds since the epoch, as Date.now(). */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
