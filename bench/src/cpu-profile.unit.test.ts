import { describe, expect, it } from 'vitest';
import { categoryOfUrl, packageOf, summarizeCpuProfile, type CpuProfile } from './cpu-profile';

const frame = (functionName: string, url = '', lineNumber = 0) => ({ functionName, url, lineNumber });

/**
 * root ─┬─ (idle)
 *       ├─ handler (gateway/src/routes.ts) ─── stringify (native, no url)
 *       ├─ emit (@opentelemetry/sdk-trace-base) ─── write (node:net)
 *       ├─ (garbage collector)
 *       └─ tick (node:internal/timers)
 */
const profile: CpuProfile = {
  nodes: [
    { id: 1, callFrame: frame('(root)'), children: [2, 3, 5, 7, 8] },
    { id: 2, callFrame: frame('(idle)') },
    { id: 3, callFrame: frame('handler', 'file:///work/main/gateway/src/http/routes.ts', 9), children: [4] },
    { id: 4, callFrame: frame('stringify') },
    { id: 5, callFrame: frame('emit', 'file:///work/main/node_modules/@opentelemetry/sdk-trace-base/build/src/Span.js', 41), children: [6] },
    { id: 6, callFrame: frame('write', 'node:net') },
    { id: 7, callFrame: frame('(garbage collector)') },
    { id: 8, callFrame: frame('tick', 'node:internal/timers') },
  ],
  startTime: 0,
  endTime: 10_000,
  // Each sample lasts until the next one: the deltas after the first say how long.
  samples: [2, 4, 4, 6, 7, 8, 2],
  timeDeltas: [0, 4_000, 1_000, 1_000, 2_000, 500, 1_500],
};

describe('CPU profile summary', () => {
  it('when a sample has no file of its own, then it is charged to the nearest caller that has one', () => {
    const summary = summarizeCpuProfile(profile);
    const ms = Object.fromEntries(summary.categories.map((c) => [c.name, c.ms]));
    expect(ms).toEqual({
      'tracemart code: gateway': 2, // stringify x2, called by the gateway's handler
      'OpenTelemetry (SDK, instrumentation, exporter)': 2, // a socket write made by the span exporter
      'garbage collection': 0.5,
      'Node core (net, streams, timers)': 1.5,
    });
    expect(summary.wallMs).toBe(10);
    expect(summary.busyMs).toBe(6); // 10 ms less 4 ms idle (the last sample has no length)
    expect(summary.categories[0]?.pct).toBeCloseTo((2 / 6) * 100);
    expect(summary.topFunctions[0]).toMatchObject({ name: 'stringify', ms: 2 });
  });

  it('when a file is in node_modules, then its package names it, scoped or not', () => {
    expect(packageOf('/a/node_modules/@opentelemetry/api/build/x.js')).toBe('@opentelemetry/api');
    expect(packageOf('/a/node_modules/pino/lib/x.js')).toBe('pino');
    expect(packageOf('/a/node_modules/x/node_modules/undici/lib/y.js')).toBe('undici');
    expect(packageOf('/work/main/gateway/src/main.ts')).toBeUndefined();
    expect(categoryOfUrl('/a/node_modules/pino/lib/x.js')).toBe('pino (logging)');
    expect(categoryOfUrl('/a/node_modules/left-pad/index.js')).toBe('other package: left-pad');
    expect(categoryOfUrl('file:///w/packages/platform/src/http/app.ts')).toBe('tracemart code: packages/platform');
    expect(categoryOfUrl('node:internal/streams')).toBeUndefined();
  });
});
