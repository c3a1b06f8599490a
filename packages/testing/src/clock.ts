import type { Clock } from '@tracemart/platform';

/**
 * A clock that moves only when a test says so: time-based rules (a fault's expiry, a lease's age) are checked by
 * advancing it, not by sleeping. Starts at a fixed instant unless told where.
 */
export class ManualClock implements Clock {
  private current: number;

  constructor(startMs = Date.parse('2026-01-01T00:00:00.000Z')) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  /** Moves the clock forward by `ms`. */
  advance(ms: number): void {
    if (ms < 0) throw new Error('a clock does not run backwards');
    this.current += ms;
  }
}
