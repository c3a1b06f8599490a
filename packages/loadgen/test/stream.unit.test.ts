import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MetricStore, runStream } from '../src';

/** autocannon against a real HTTP server on 127.0.0.1: pacing, tags, checks and failures land in the metrics. */

let server: Server;
let baseUrl: string;
const arrivals: number[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    arrivals.push(performance.now());
    // Never answered: the client's timeout ends it.
    if (req.url === '/hang') return;
    setTimeout(() => {
      if (req.url === '/missing') {
        res.statusCode = 404;
        res.end('{}');
        return;
      }
      res.setHeader('x-trace-id', 'abc');
      res.end('{"ok":true}');
    }, 2);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  baseUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

describe('autocannon request streams', () => {
  it('when paced at 10/s for 2 s, then 20 requests are offered and sent spread over the 2 s, each recorded with its tags', async () => {
    arrivals.length = 0;
    const metrics = new MetricStore();
    let n = 0;
    const result = await runStream({
      baseUrl,
      metrics,
      tags: { phase: 'outage', kind: 'catalog' },
      ratePerS: 10,
      durationS: 2,
      next: () => ({ name: n++ % 2 === 0 ? 'GET /a' : 'GET /b', path: '/ok', checks: { 'response has x-trace-id': (a) => Boolean(a.headers['x-trace-id']) } }),
    });
    expect(result).toMatchObject({ mode: 'paced', offered: 20, answered: 20, errors: 0, connections: 10 });
    expect(arrivals).toHaveLength(20);
    // Spread, not a burst per second: no more than 5 arrivals within any 50 ms (autocannon alone would send 10 at once); the machine is shared, so timers may bunch a little.
    const sorted = [...arrivals].sort((a, b) => a - b);
    const densest = Math.max(...sorted.map((t) => sorted.filter((u) => u >= t && u < t + 50).length));
    expect(densest).toBeLessThanOrEqual(5);
    expect(metrics.trendStats('http_req_duration{phase:outage,kind:catalog,name:GET /a}')?.count).toBe(10);
    expect(metrics.count('http_reqs{status:200}')).toBe(20);
    expect(metrics.rateStats('checks{check:response has x-trace-id}')).toEqual({ rate: 1, passes: 20, fails: 0 });
    expect(metrics.rateStats('http_req_failed')?.passes).toBe(0);
  });

  it('when a status is not expected, then http_req_failed counts it', async () => {
    const metrics = new MetricStore();
    await runStream({ baseUrl, metrics, tags: {}, ratePerS: 5, durationS: 1, next: () => ({ name: 'GET /missing', path: '/missing' }) });
    expect(metrics.rateStats('http_req_failed')).toEqual({ rate: 1, passes: 5, fails: 0 });
    const expected = new MetricStore();
    await runStream({ baseUrl, metrics: expected, tags: {}, ratePerS: 5, durationS: 1, next: () => ({ name: 'GET /missing', path: '/missing', expected: [404] }) });
    expect(expected.rateStats('http_req_failed')?.passes).toBe(0);
  });

  it('when closed-loop with 4 connections, then requests follow one another as fast as answered', async () => {
    const metrics = new MetricStore();
    const result = await runStream({ baseUrl, metrics, tags: {}, connections: 4, durationS: 1, next: () => ({ name: 'GET /ok', path: '/ok' }) });
    expect(result.mode).toBe('closed');
    expect(result.answered).toBeGreaterThan(40);
    expect(metrics.count('http_reqs')).toBe(result.answered);
  });

  it('when nothing listens, then the failures are recorded as status 0 and the stream still ends', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const address = closed.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    await new Promise((resolve) => closed.close(resolve));
    const metrics = new MetricStore();
    const result = await runStream({ baseUrl: `http://127.0.0.1:${port}`, metrics, tags: {}, ratePerS: 2, durationS: 1, next: () => ({ name: 'GET /ok', path: '/ok' }) });
    expect(result.answered).toBe(0);
    expect(result.errors).toBeGreaterThan(0);
    expect(metrics.rateStats('http_req_failed{status:0}')?.passes).toBeGreaterThan(0);
  }, 30_000);

  it('when a request times out, then the timeout is recorded under that request, and the next one under its own name', async () => {
    const metrics = new MetricStore();
    let sent = 0;
    // One connection: the first request hangs past the 1 s timeout, every later one is answered at once.
    await runStream({
      baseUrl,
      metrics,
      tags: {},
      connections: 1,
      durationS: 2,
      timeoutS: 1,
      next: () => (sent++ === 0 ? { name: 'hang', path: '/hang' } : { name: 'ok', path: '/ok' }),
    });
    expect(metrics.rateStats('http_req_failed{name:hang,status:0}')).toEqual({ rate: 1, passes: 1, fails: 0 });
    expect(metrics.rateStats('http_req_failed{name:ok,status:0}')).toBeUndefined();
    expect(metrics.count('http_reqs{name:ok,status:200}')).toBeGreaterThan(0);
  }, 30_000);

  it('when the target is not a loopback address, then nothing is sent', async () => {
    await expect(
      runStream({ baseUrl: 'http://10.0.0.1:8080', metrics: new MetricStore(), tags: {}, ratePerS: 1, durationS: 1, next: () => ({ name: 'x', path: '/' }) }),
    ).rejects.toThrow(/loopback/);
  });
});
