import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseFault } from '../src/faults';
import { withChaosJob } from '../src/prometheus-job';
import { parseRestarts, restartsBetween } from '../src/restarts';
import { FaultSignals } from '../src/signals';

let dir: string | undefined;
let signals: FaultSignals | undefined;
afterEach(async () => {
  await signals?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('fault signals', () => {
  it('when a fault is on and then recovered, then /metrics counts it, shows it active meanwhile and keeps its recovery time', async () => {
    dir = mkdtempSync(join(tmpdir(), 'chaos-signals-'));
    const lines: string[] = [];
    signals = new FaultSignals({ say: (l) => lines.push(l), eventsFile: join(dir, 'events.jsonl') });
    const port = await signals.serve(0);
    const scrape = async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();

    const open = await signals.started(parseFault('kill:order+payment'), Date.parse('2026-12-01T22:00:00Z'), { signal: 'SIGKILL' });
    const during = await scrape();
    expect(during).toContain('tracemart_chaos_faults_total{fault="kill",target="order+payment"} 1');
    expect(during).toContain('tracemart_faults_active{kind="kill",service="order"} 1');
    expect(during).toContain('tracemart_faults_active{kind="kill",service="payment"} 1');

    await signals.ended(open, Date.parse('2026-12-01T22:00:12Z'), { recovered: true, recoveryMs: 12_000 });
    const after = await scrape();
    expect(after).toContain('tracemart_faults_active{kind="kill",service="order"} 0');
    expect(after).toContain('tracemart_chaos_recovery_seconds{fault="kill",target="order+payment"} 12');
    expect(after).toMatch(/# TYPE tracemart_chaos_faults_total counter/);

    const events = readFileSync(join(dir, 'events.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; fault: string });
    expect(events.map((e) => [e.event, e.fault])).toEqual([
      ['fault', 'kill:order+payment'],
      ['recovered', 'kill:order+payment'],
    ]);
    expect(lines[0]).toMatch(/^fault kill:order\+payment injected/);
  });

  it('when GRAFANA_URL is set, then the fault is an annotation whose end is set on recovery', async () => {
    const calls: { method: string; url: string; body: unknown; auth: string | undefined }[] = [];
    const { createServer } = await import('node:http');
    const grafana = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        calls.push({ method: req.method ?? '', url: req.url ?? '', body: JSON.parse(body) as unknown, auth: req.headers.authorization });
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: 42 }));
      });
    });
    await new Promise<void>((resolve) => grafana.listen(0, '127.0.0.1', () => resolve()));
    const { port } = grafana.address() as { port: number };
    try {
      signals = new FaultSignals({ say: () => undefined, grafana: { url: `http://127.0.0.1:${port}/`, token: 'glsa_test' } });
      const open = await signals.started(parseFault('pause:order'), 1_000, {});
      await signals.ended(open, 11_000, { recovered: true, recoveryMs: 10_000 });
    } finally {
      grafana.close();
    }
    expect(calls).toEqual([
      { method: 'POST', url: '/api/annotations', body: expect.objectContaining({ time: 1_000, tags: ['chaos', 'pause', 'order'] }), auth: 'Bearer glsa_test' },
      { method: 'PATCH', url: '/api/annotations/42', body: { timeEnd: 11_000 }, auth: 'Bearer glsa_test' },
    ]);
  });
});

describe('the stack around the runner', () => {
  it("when the stack's Prometheus configuration gets the chaos job, then it scrapes the runner's port once, beside the other jobs", () => {
    const config = 'scrape_configs:\n  - job_name: order\n    static_configs:\n      - targets: ["127.0.0.1:3003"]\n';
    const once = withChaosJob(config, 4567);
    const twice = withChaosJob(once, 4568);
    expect(twice).toContain('job_name: order');
    expect(twice.match(/job_name: chaos/g)).toHaveLength(1);
    expect(twice).toContain('127.0.0.1:4568');
    expect(twice).not.toContain('127.0.0.1:4567');
  });

  it("when the supervisor's restarts are read twice, then the difference names the processes restarted in between", () => {
    const before = parseRestarts(
      '# TYPE tracemart_process_restarts_total counter\ntracemart_process_restarts_total{process="order"} 0\ntracemart_process_restarts_total{process="postgres"} 1\n',
    );
    const after = parseRestarts(
      'tracemart_process_restarts_total{process="order"} 1\ntracemart_process_restarts_total{process="postgres"} 3\ntracemart_process_restarts_total{process="nats-1"} 0\n',
    );
    expect(before).toEqual({ order: 0, postgres: 1 });
    expect(restartsBetween(before, after)).toEqual({ order: 1, postgres: 2 });
    expect(restartsBetween(undefined, after)).toEqual({});
  });
});
