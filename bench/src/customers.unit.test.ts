import { describe, expect, it } from 'vitest';
import { breakerOpenings, openingsBetween, statusCounts } from './customers';

const metrics = (lines: string[]) => `# HELP tracemart_breaker_state Circuit breaker state\n${lines.join('\n')}\n`;

describe('closed-loop customers: responses and breaker openings', () => {
  it('when responses are counted by status, then each falls in its class, no answer apart, 429 and 503 also on their own', () => {
    expect(statusCounts({ '200': 10, '202': 5, '404': 2, '429': 1, '500': 2, '503': 3, '0': 4 })).toEqual({
      total: 27,
      '2xx': 15,
      '3xx': 0,
      '4xx': 3,
      '5xx': 5,
      none: 4,
      '429': 1,
      '503': 3,
    });
  });

  it('when a process exports breakers, then only transitions to open count, by upstream', () => {
    const text = metrics([
      'tracemart_breaker_state{upstream="catalog"} 0',
      'tracemart_breaker_transitions_total{upstream="catalog",to="open"} 2',
      'tracemart_breaker_transitions_total{upstream="catalog",to="half-open"} 2',
      'tracemart_breaker_transitions_total{to="open",upstream="order"} 1',
      'tracemart_breaker_transitions_total{upstream="order",to="closed"} 1',
    ]);
    expect(breakerOpenings(text)).toEqual(
      new Map([
        ['catalog', 2],
        ['order', 1],
      ]),
    );
    expect(breakerOpenings(metrics(['tracemart_breaker_state{upstream="catalog"} 0']))).toEqual(new Map());
    expect(breakerOpenings('tracemart_saga_duration_count{outcome="confirmed"} 3\n')).toBeUndefined();
  });

  it('when two scrapes differ, then the openings between them are the increase, a counter absent before counting from 0', () => {
    const before = { watched: ['gateway'], openings: { 'gateway → catalog': 2 } };
    const after = { watched: ['gateway', 'payment'], openings: { 'gateway → catalog': 2, 'payment → processor': 3 } };
    expect(openingsBetween(before, after)).toEqual({ watched: ['gateway', 'payment'], total: 3, byBreaker: { 'payment → processor': 3 } });
    expect(openingsBetween(after, after).total).toBe(0);
  });
});
