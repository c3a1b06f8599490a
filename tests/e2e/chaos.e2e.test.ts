import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultSignals, parseFaultList, renderMarkdown, runChaos, type ChaosOptions } from '@tracemart/chaos';
import { formatReport } from '@tracemart/invariants';
import { startStack, type Stack } from '@tracemart/stack';
import { repoRoot } from '@tracemart/testing';

/**
 * The CI variant of `npm run chaos` (packages/chaos): under steady keyed checkout load through the gateway, the order
 * service, the payment service and a NATS node are each SIGKILLed (kill -9 by pid, from outside the stack's API) in
 * turn; the stack's supervisor must start each again (a new pid, `tracemart_process_restarts_total` up), a new checkout
 * must then be confirmed end to end, and once the load has stopped and the system settled every invariant must hold
 * (packages/invariants). The runner never restarts anything itself: without the supervisor no fault recovers.
 */
const OPTIONS: ChaosOptions = {
  faults: parseFaultList('ci'),
  repeats: 1,
  customers: 3,
  thinkMs: 200,
  checkoutTries: 6,
  warmupMs: 8_000,
  gapMs: 5_000,
  pauseMs: 10_000,
  exhaustMs: 5_000,
  // A service takes up to a minute to start again on a busy 2-core machine (tsx compiling it).
  recoveryTimeoutMs: 120_000,
  maxFaultsMs: 300_000,
  settleTimeoutMs: 120_000,
  probeProducts: 3,
};
/** A folder to copy every process's log into before the stack's data is deleted (to read what happened in a failed run). */
const KEEP_LOGS = process.env.CHAOS_KEEP_LOGS;

let stack: Stack;
let dataDir: string;
let signals: FaultSignals | undefined;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'tracemart-chaos-e2e-'));
  stack = await startStack({ root: repoRoot, dataDir, freePorts: true, ephemeral: true, natsNodes: 3, readyTimeoutMs: 180_000, env: { LOG_LEVEL: 'info' } });
}, 300_000);

afterAll(async () => {
  await signals?.close();
  await stack?.stop();
  if (KEEP_LOGS && dataDir && existsSync(join(dataDir, 'logs'))) cpSync(join(dataDir, 'logs'), KEEP_LOGS, { recursive: true });
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

const say = (line: string) => process.stdout.write(`[chaos ${new Date().toISOString().slice(11, 23)}] ${line}\n`);

describe('chaos under checkout load (CI variant of npm run chaos)', () => {
  it('when order, payment and a NATS node are each killed -9 under load, then the supervisor brings each back, checkouts are confirmed again and every invariant holds', async () => {
    signals = new FaultSignals({ say });
    const port = await signals.serve(0);

    const report = await runChaos(stack, OPTIONS, { signals, say, command: 'vitest tests/e2e/chaos.e2e.test.ts' });
    say(`report:\n${renderMarkdown(report)}`);
    say(`invariants:\n${formatReport(report.invariants)}`);

    expect(report.faults.map((f) => [f.fault, f.recovered, f.error])).toEqual([
      ['kill:order', true, undefined],
      ['kill:payment', true, undefined],
      ['kill:nats-1', true, undefined],
    ]);
    for (const fault of report.faults) {
      const [target] = fault.targets as [string];
      // Restarted by the supervisor: a new process, counted in its metric.
      expect(fault.pidsAfter[target]).toBeGreaterThan(0);
      expect(fault.pidsAfter[target]).not.toBe(fault.pidsBefore[target]);
      expect(fault.restarts[target] ?? 0).toBeGreaterThanOrEqual(1);
      expect(fault.recoveryMs).toBeGreaterThanOrEqual(fault.readyMs ?? Infinity);
      expect(fault.inFlightOrders).toBeGreaterThanOrEqual(0);
    }
    expect(report.load.ordersPlaced).toBeGreaterThan(20);

    // Each fault was visible to Prometheus while it lasted and counted once.
    const exposition = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    for (const target of ['order', 'payment', 'nats-1']) {
      expect(exposition).toContain(`tracemart_chaos_faults_total{fault="kill",target="${target}"} 1`);
      expect(exposition).toContain(`tracemart_faults_active{kind="kill",service="${target}"} 0`);
    }

    expect(report.invariants.filter((r) => !r.ok)).toEqual([]);
    expect(report.passed).toBe(true);
  }, 600_000);
});
