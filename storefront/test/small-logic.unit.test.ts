import { describe, expect, it } from 'vitest';
import { isValidKey, newCheckoutKey } from '../src/lib/checkout-key';
import { NO_TELEMETRY, parseConfig } from '../src/lib/config';
import { formatDuration, remainingSeconds } from '../src/lib/format';
import { isTraceId, traceLinks } from '../src/lib/trace-links';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';

describe('trace links', () => {
  it('when a template has {traceId}, then each occurrence is filled; other templates and bad ids give nothing', () => {
    const templates = [
      { label: 'Grafana', template: 'http://g/explore?q={traceId}&again={traceId}' },
      { label: 'Broken', template: 'http://nothing' },
    ];
    expect(traceLinks(templates, TRACE)).toEqual([{ label: 'Grafana', href: `http://g/explore?q=${TRACE}&again=${TRACE}` }]);
    expect(traceLinks(templates, 'abc')).toEqual([]);
    expect(traceLinks(templates, '0'.repeat(32))).toEqual([]);
    expect(isTraceId(null)).toBe(false);
  });
});

describe('config', () => {
  it('when the gateway answers the agreed shape, then it is used; anything else means no telemetry', () => {
    expect(parseConfig({ browserTracing: true, traceLinks: [{ label: 'Jaeger', template: 'http://j/{traceId}' }, { label: 'x' }] })).toEqual({
      browserTracing: true,
      traceLinks: [{ label: 'Jaeger', template: 'http://j/{traceId}' }],
    });
    expect(parseConfig(null)).toEqual(NO_TELEMETRY);
    expect(parseConfig({ browserTracing: 'yes' }).browserTracing).toBe(false);
  });
});

describe('checkout key', () => {
  it('when a key is made, then the order API accepts its characters and two keys differ', () => {
    const a = newCheckoutKey();
    expect(isValidKey(a)).toBe(true);
    expect(a).not.toBe(newCheckoutKey());
    expect(newCheckoutKey((b) => b.fill(255))).toBe(`checkout-${'ff'.repeat(16)}`);
  });
});

describe('fault countdown', () => {
  it('when a fault expires later, then the seconds left round up and never go negative', () => {
    const now = Date.parse('2026-12-02T01:00:00.000Z');
    expect(remainingSeconds('2026-12-02T01:01:05.200Z', now)).toBe(66);
    expect(remainingSeconds('2026-12-02T00:59:00.000Z', now)).toBe(0);
    expect(formatDuration(66)).toBe('1 min 06 s');
    expect(formatDuration(42)).toBe('42 s');
  });
});
