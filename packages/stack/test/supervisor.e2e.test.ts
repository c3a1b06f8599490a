import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stackProcesses } from '../src/layout';
import { canConnect, httpOk, waitUntil } from '../src/ports';
import type { ManagedProcess } from '../src/process';
import { startStack, type Stack } from '../src/stack';

/**
 * The local supervisor on a whole stack (one NATS node, Prometheus): processes killed from outside, as a chaos run or
 * the OOM killer would, come back under their names and are counted on the stack's own /metrics, which Prometheus
 * scrapes as job `stack`; a restart by name, a kill that holds a process down and the stack's stop are not crashes.
 */
const root = resolve(__dirname, '..', '..', '..');
let stack: Stack;
let dataDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'tracemart-supervisor-'));
  // Generous: on a shared two-core machine under load, seven Node processes starting at once can take minutes.
  stack = await startStack({ root, dataDir, freePorts: true, ephemeral: true, natsNodes: 1, prometheus: true, readyTimeoutMs: 240_000 });
}, 300_000);

afterAll(async () => {
  await stack?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** tracemart_process_restarts_total of each process, from the stack's /metrics. */
async function restarts(): Promise<Record<string, number>> {
  const text = await (await fetch(`${stack.metricsUrl}/metrics`)).text();
  return Object.fromEntries([...text.matchAll(/^tracemart_process_restarts_total\{process="([^"]+)"\} (\d+)$/gm)].map((m) => [m[1], Number(m[2])]));
}

async function prometheusValue(query: string): Promise<string | undefined> {
  const res = await fetch(`${stack.prometheusUrl}/api/v1/query?${new URLSearchParams({ query }).toString()}`);
  const body = (await res.json()) as { data: { result: { value: [number, string] }[] } };
  return body.data.result[0]?.value[1];
}

const current = (name: string): ManagedProcess => {
  const proc = stack.processes.get(name);
  if (!proc) throw new Error(`no process ${name}`);
  return proc;
};

describe('the local supervisor', () => {
  it('when the stack is up, then it runs exactly the processes stackProcesses lists for its layout (what the Tiltfile local mode declares)', () => {
    expect([...stack.processes.keys()].sort()).toEqual(
      stackProcesses(stack.layout, { prometheus: true })
        .map((p) => p.name)
        .sort(),
    );
  });

  it('when a service and FerretDB are killed with SIGKILL from outside, then both run again under their names, ready, and each restart is counted', async () => {
    expect(Object.values(await restarts()).every((n) => n === 0)).toBe(true);
    const order = current('order');
    const ferretdb = current('ferretdb');
    process.kill(order.child.pid as number, 'SIGKILL');
    process.kill(ferretdb.child.pid as number, 'SIGKILL');

    const mongoPort = Number(new URL(stack.mongoUrl).port);
    await waitUntil('FerretDB restarted and accepting connections', async () => current('ferretdb') !== ferretdb && (await canConnect(mongoPort)), 30_000, 100);
    await waitUntil('order restarted and ready', async () => current('order') !== order && (await httpOk(`${stack.urls.order}/readyz`)), 90_000, 200);
    expect(current('order').child.pid).not.toBe(order.child.pid);
    expect(current('ferretdb').child.exitCode).toBeNull();

    expect(await restarts()).toMatchObject({ order: 1, ferretdb: 1, catalog: 0, 'nats-1': 0, postgres: 0 });
    await waitUntil('Prometheus scraped the restart', async () => (await prometheusValue('tracemart_process_restarts_total{job="stack",process="order"}')) === '1', 30_000, 500);
  });

  it('when a service is restarted by name or killed to stay down, then the supervisor neither restarts nor counts it', async () => {
    await stack.restart('catalog');
    const payment = await stack.kill('payment', 'SIGKILL', { restart: false });
    await sleep(2_000); // four times the first backoff
    expect(current('payment')).toBe(payment);
    expect(payment.child.signalCode).toBe('SIGKILL');
    expect(await restarts()).toMatchObject({ catalog: 0, payment: 0 });
    await stack.restart('payment');
    expect(await httpOk(`${stack.urls.payment}/readyz`)).toBe(true);
  });

  it('when the stack stops, then every process ends and none is started again', async () => {
    const before = new Map(stack.processes);
    await stack.stop();
    await sleep(2_000);
    for (const [name, proc] of stack.processes) {
      expect(proc, name).toBe(before.get(name));
      expect(proc.child.exitCode ?? proc.child.signalCode, name).not.toBeNull();
    }
  });
});
