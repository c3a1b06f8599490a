import { cpus, loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { MongoClient } from 'mongodb';
import { checkUntilSettled } from '@tracemart/invariants';
import { HttpClient, json, MetricStore, shop } from '@tracemart/loadgen';
import type { Stack } from '@tracemart/stack';
import { faultGroup, unknownTargets, type Fault } from './faults';
import { ordersInFlight } from './in-flight';
import { inject } from './inject';
import { CheckoutLoad } from './load';
import { faultsSeenByPrometheus } from './prometheus-job';
import { CheckoutProbe } from './probe';
import { awaitRecovery, readinessOf } from './recovery';
import { groupRows, type ChaosReport, type FaultRecord } from './report';
import { processRestarts, restartsBetween } from './restarts';
import type { FaultSignals } from './signals';

export interface ChaosOptions {
  faults: Fault[];
  /** Each fault this many times (the p50 and max are over the repeats and the faults of one kind). */
  repeats: number;
  customers: number;
  thinkMs: number;
  checkoutTries: number;
  /** Load before the first fault. */
  warmupMs: number;
  /** Steady load between one fault's recovery and the next fault. */
  gapMs: number;
  pauseMs: number;
  exhaustMs: number;
  /** How long one fault may take to recover before the run stops injecting and goes to the check. */
  recoveryTimeoutMs: number;
  /** No fault starts later than this after the first: the rest are skipped (listed in the report). */
  maxFaultsMs: number;
  /** How long the system may take to settle (sagas finished, consumers caught up) before the invariants count. */
  settleTimeoutMs: number;
  /** Products kept for the recovery probe (the most stocked ones; the load never buys them). */
  probeProducts: number;
}

export interface RunContext {
  signals: FaultSignals;
  say: (line: string) => void;
  /** The command line, for the report. */
  command: string;
  /** Interrupts the run (Ctrl-C): no further fault, a pause ends, the load stops; the check still runs. */
  signal?: AbortSignal;
}

const BASELINE_TIMEOUT_MS = 120_000;

/** Loads the catalog and each product's stock; the `keep` most stocked go to the probe, the rest to the load. */
async function splitProducts(customer: shop.Shop, keep: number): Promise<{ probe: shop.Product[]; load: shop.Product[] }> {
  const catalog = await shop.loadCatalog(customer);
  const stock = async (p: shop.Product) =>
    json<{ available?: number }>(await customer.http.get(`/api/inventory/${encodeURIComponent(p.id)}`, { name: 'GET /api/inventory/:productId', kind: 'setup' }))?.available ?? 0;
  const withStock: { product: shop.Product; available: number }[] = [];
  for (const product of catalog.products) withStock.push({ product, available: await stock(product) });
  withStock.sort((a, b) => b.available - a.available);
  const probe = withStock.slice(0, keep).map((w) => w.product);
  const load = withStock.slice(keep).map((w) => w.product);
  if (load.length === 0) throw new Error(`the catalog has ${catalog.products.length} products: none left for the load after ${keep} for the probe`);
  return { probe, load };
}

/**
 * Runs the faults one after the other under steady checkout load against a running stack (whose supervisor restarts
 * what was killed), measures each, then lets the system settle and checks every invariant. Bounded: each fault by the
 * recovery timeout, the faults together by maxFaultsMs, the check by settleTimeoutMs.
 */
export async function runChaos(stack: Stack, options: ChaosOptions, context: RunContext): Promise<ChaosReport> {
  const { say } = context;
  const unknown = unknownTargets(options.faults, new Set(stack.processes.keys()));
  if (unknown.length > 0) throw new Error(`this stack runs no ${unknown.join(', ')} (it runs ${[...stack.processes.keys()].join(', ')})`);
  const startedAt = new Date();
  const loadAverageAtStart = loadavg();

  const metrics = new MetricStore();
  const client = new HttpClient(stack.gatewayUrl, metrics);
  // Short timeouts: it reads while FerretDB or PostgreSQL may be down (in-flight count, readiness).
  const mongo = new MongoClient(stack.mongoUrl, { appName: 'chaos', serverSelectionTimeoutMS: 2_000, connectTimeoutMS: 2_000, socketTimeoutMS: 10_000, retryWrites: false });
  try {
    await mongo.connect();
    const customer: shop.Shop = { http: client, metrics, adminToken: stack.adminToken, poll: { tries: 0, intervalS: 0, inProgressRetries: 0 }, log: () => undefined };
    const products = await splitProducts(customer, options.probeProducts);
    const pool = await shop.createUserPool(customer, options.customers + 1);
    const probeUser = pool.pop() as shop.PoolUser;
    const probe = new CheckoutProbe(client, shop.sessionFor(customer, [probeUser], 1), products.probe);
    const load = new CheckoutLoad(client, customer, pool, products.load, {
      customers: options.customers,
      thinkMs: options.thinkMs,
      tries: options.checkoutTries,
      maxDurationS: Math.ceil((options.warmupMs + options.maxFaultsMs + 2 * options.recoveryTimeoutMs + options.gapMs) / 1000) + 60,
    });
    say(`load: ${options.customers} customers, ${products.load.length} products (${products.probe.length} kept for the probe); warm-up ${options.warmupMs / 1000} s`);
    load.start();
    let faults: { records: FaultRecord[]; skipped: string[] };
    try {
      await sleep(options.warmupMs, undefined, { signal: context.signal }).catch(() => undefined);
      const baseline = await awaitBaseline(probe, context.signal);
      say(`baseline: a checkout confirmed end to end in ${baseline} ms`);
      faults = await runFaults(stack, options, context, { load, probe, mongo });
    } finally {
      const result = await load.stop();
      if (result) say(`load stopped: ${result.completed} checkouts, ${load.accepted.size} orders accepted`);
    }

    const accepted = [...load.accepted, ...probe.accepted];
    say(`settling (up to ${options.settleTimeoutMs / 1000} s), then checking the invariants over ${accepted.length} accepted orders`);
    const invariants = await checkUntilSettled({ mongoUrl: stack.mongoUrl, natsUrl: stack.natsUrl, acceptedOrderIds: accepted }, options.settleTimeoutMs);
    const { records, skipped } = faults;
    const problems = [
      ...records.filter((r) => !r.recovered).map((r) => `${r.fault} did not recover (${r.error ?? ''})`),
      ...invariants.filter((r) => !r.ok).map((r) => `invariant ${r.name} violated ${r.count}×`),
    ];
    return {
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      command: context.command,
      options: { ...options, faults: options.faults.map((f) => f.id) },
      machine: { cpus: cpus().length, loadAverageAtStart, loadAverageAtEnd: loadavg() },
      stack: { natsNodes: stack.natsNodes.length, instances: Object.fromEntries(Object.entries(stack.instances).map(([name, list]) => [name, list.length])) },
      faults: records,
      groups: groupRows(records),
      load: { ordersPlaced: accepted.length, probeOrders: probe.accepted.size, answers: load.total(), skipped },
      invariants,
      ...(stack.prometheusUrl ? { prometheusFaults: await faultsSeenByPrometheus(stack.prometheusUrl) } : {}),
      passed: problems.length === 0,
      problems,
    };
  } finally {
    await mongo.close().catch(() => undefined);
    await client.close();
  }
}

const runName = (fault: Fault, repeat: number, repeats: number) => `${fault.id}${repeats > 1 ? ` #${repeat}` : ''}`;

/** Each fault in turn: in-flight count, injection, recovery, signals, steady gap; stops at the time bound or a fault that did not recover. */
async function runFaults(
  stack: Stack,
  options: ChaosOptions,
  context: RunContext,
  { load, probe, mongo }: { load: CheckoutLoad; probe: CheckoutProbe; mongo: MongoClient },
): Promise<{ records: FaultRecord[]; skipped: string[] }> {
  const { say, signals } = context;
  const ready = readinessOf(stack, mongo);
  const records: FaultRecord[] = [];
  const skipped: string[] = [];
  const plan = Array.from({ length: options.repeats }, (_, r) => options.faults.map((fault) => ({ fault, repeat: r + 1 }))).flat();
  const skip = (from: number) => skipped.push(...plan.slice(from).map((p) => runName(p.fault, p.repeat, options.repeats)));
  const firstFaultAt = Date.now();
  let restartsBefore = await processRestarts(stack.metricsUrl);
  for (const [index, { fault, repeat }] of plan.entries()) {
    const name = runName(fault, repeat, options.repeats);
    if (context.signal?.aborted || Date.now() - firstFaultAt > options.maxFaultsMs) {
      skip(index);
      say(`${context.signal?.aborted ? 'interrupted' : `time bound of ${options.maxFaultsMs / 1000} s reached`}: ${plan.length - index} fault(s) not run`);
      break;
    }
    const inFlightOrders = await ordersInFlight(mongo);
    const outstandingCheckouts = load.outstanding;
    load.setWindow(name);
    const injection = await inject(stack, fault, { pauseMs: options.pauseMs, exhaustMs: options.exhaustMs, ...(context.signal ? { signal: context.signal } : {}) });
    const open = await signals.started(fault, injection.at, { ...injection.detail, inFlightOrders, outstandingCheckouts, repeat });
    const recovery = await awaitRecovery(stack, fault, injection, {
      ready,
      probe,
      timeoutMs: options.recoveryTimeoutMs,
      ...(context.signal ? { signal: context.signal } : {}),
    });
    load.setWindow('steady');
    await signals.ended(open, Date.now(), {
      recovered: recovery.recovered,
      ...(recovery.recoveryMs !== undefined ? { recoveryMs: recovery.recoveryMs } : {}),
      ...(recovery.error ? { detail: recovery.error } : {}),
    });
    say(
      recovery.recovered
        ? `fault ${name}: ready after ${recovery.readyMs} ms, recovered after ${recovery.recoveryMs} ms (${recovery.probeTries} probe checkout(s)${recovery.probeFailures.length > 0 ? `, failed: ${recovery.probeFailures.join('; ')}` : ''}); ${inFlightOrders ?? '?'} orders were in flight`
        : `fault ${name}: NOT RECOVERED: ${recovery.error} (last probe: ${recovery.lastProbe ?? 'none'})`,
    );
    // Over already unless it did not recover; a pause or an exhaustion then ends on its own, a kill at once.
    await Promise.race([injection.over, sleep(options.pauseMs + options.exhaustMs + 5_000, undefined, { ref: false })]);
    if (recovery.recovered) await sleep(options.gapMs, undefined, { signal: context.signal }).catch(() => undefined);
    const restartsAfter = await processRestarts(stack.metricsUrl);
    const { pids: pidsAfter, ...measured } = recovery;
    records.push({
      fault: fault.id,
      group: faultGroup(fault),
      targets: fault.targets,
      repeat,
      at: new Date(injection.at).toISOString(),
      ...(inFlightOrders !== undefined ? { inFlightOrders } : {}),
      outstandingCheckouts,
      ...measured,
      answers: load.countsIn(name),
      restarts: restartsBetween(restartsBefore, restartsAfter),
      pidsBefore: injection.pids,
      pidsAfter,
      detail: injection.detail,
    });
    restartsBefore = restartsAfter;
    if (!recovery.recovered) {
      skip(index + 1);
      say(`stopping the faults: ${name} did not recover, the rest would measure nothing`);
      break;
    }
  }
  return { records, skipped };
}

/** A checkout confirmed end to end before any fault: the system works to begin with. */
async function awaitBaseline(probe: CheckoutProbe, signal?: AbortSignal): Promise<number> {
  const deadline = Date.now() + BASELINE_TIMEOUT_MS;
  let last = '';
  while (Date.now() < deadline && !signal?.aborted) {
    const result = await probe.once(signal);
    if (result.ok) return result.endedAt - result.startedAt;
    last = result.detail;
    await sleep(1_000);
  }
  throw new Error(`no checkout confirmed within ${BASELINE_TIMEOUT_MS / 1000} s before any fault (last: ${last})`);
}
