/**
 * `npm run bench`: the local system's performance on this machine, written to bench-results/
 * (`bench-<stamp>.json`, `bench-<stamp>.md`, and `latest.{json,md}`).
 *
 * Three fresh stacks (new data folder each, so stock starts full; the gateway rate limit off):
 *   A  telemetry on:  cold start, idle usage, max sustainable checkout rate (step search), usage under load
 *   B  telemetry off: the same (OTEL_SDK_DISABLED=true) -> telemetry overhead
 *   C  telemetry on:  saga time at half of A's max rate, gateway overhead (GET products, GET orders:
 *                     via gateway vs direct), catalog read throughput, 32 closed-loop customers (list,
 *                     product, order, poll to terminal: 5xx, breaker openings); then, apart from every timed
 *                     phase, V8 CPU profiles (GET /admin/profile/cpu): the gateway while it serves the
 *                     GET products comparison, and every Node process during checkouts at half the
 *                     max rate, to show where the time of the missed targets goes
 *   D  telemetry on, traces exported over OTLP to a receiver in this process: checkouts at half the max
 *                     rate, each saga's trace broken down (database, processor, hops, code)
 *   E  telemetry on, 20,000 past orders seeded: the max-rate search again
 *   F  telemetry on, two instances of every service (the saga partitioned across them): the max-rate search again,
 *                     beside A's one instance each; both on the default 3-node NATS cluster
 * A-F all run NATS as the stack's default 3-node JetStream cluster (R3 streams).
 * Everything is loopback traffic from the load harness (@tracemart/loadgen) in this process: autocannon request
 * streams and open-model checkouts over undici, percentiles from HDR histograms. Bounded: about 12 minutes.
 */
import { mkdirSync, writeFileSync, copyFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { serviceNames, startOtlpReceiver, type ProcessName } from '@tracemart/stack';
import { summarizeCpuProfile, type CpuProfile, type ProfileSummary } from './cpu-profile';
import { LOADGEN, loadgenVersion, runCheckoutStep, runComparison, runReads, type CheckoutStep, type TrendValues } from './load';
import { describeMachine, startUsageWindow, type UsageWindow } from './procfs';
import { diffBuckets, sagaStats, scrapeSagaBuckets, type SagaStats } from './saga-histogram';
import { sagaTraceStats, type SagaTraceStats } from './saga-traces';
import { openingsBetween, runCustomers, scrapeBreakers, type BreakerOpenings, type CustomersRun } from './customers';
import { countDocuments, seedPastOrders, type CollectionCounts } from './growth';
import { PROCESS_TREES, makeUsers, startFreshStack, stockFixture, type BenchStack } from './system';
import { renderMarkdown } from './report';

const root = resolve(__dirname, '..', '..');
const outDir = join(root, 'bench-results');

/** BENCH_QUICK=true: every phase cut to a few seconds, to check the harness itself (numbers meaningless). */
const QUICK = process.env.BENCH_QUICK === 'true';
/** Search: arrival-rate steps of STEP_SECONDS, x RAMP_FACTOR from START_RATE until one fails, then bisect. */
const START_RATE = 3;
const MIN_RATE = 0.5;
const RAMP_FACTOR = 1.6;
const STEP_SECONDS = QUICK ? 4 : 12;
const MAX_RAMP_STEPS = QUICK ? 2 : 7;
const BISECT_STEPS = QUICK ? 0 : 2;
/** Seconds of the fixed-rate phases: gateway comparisons, catalog reads, saga timing. */
const COMPARE_SECONDS = QUICK ? 4 : 20;
const READS_SECONDS = QUICK ? 4 : 15;
const SAGA_SECONDS = QUICK ? 6 : 30;
/** Seconds each CPU profile records (the load runs a few seconds longer on both sides). */
const PROFILE_SECONDS = QUICK ? 3 : 15;
/** A step is sustainable when all of these hold (POST p95 budget as in load-tests/load.js). */
const CRITERIA = { acceptedMin: 0.99, droppedMax: 0.01, completedMin: 0.99, postP95MaxMs: 800, pollBudgetS: 10 };
const USERS = 20;
/** Past orders in the databases before the growth search (stack E). */
const GROWTH_ORDERS = QUICK ? 300 : Number(process.env.BENCH_GROWTH_ORDERS ?? 20_000);
/** Instances of every service in stack F (the scaling row). */
const SCALE_INSTANCES = 2;
/** Closed-loop customers (issue: 32 for 60 s, 0 5xx, 0 breaker openings, every accepted order terminal within 10 s). */
const CUSTOMERS = 32;
const CUSTOMERS_SECONDS = QUICK ? 6 : 60;
/** Customers poll longer than the 10 s budget, so a late order's time is still measured. */
const CUSTOMERS_POLL_BUDGET_S = 30;

export interface StepResult {
  rate: number;
  sustainable: boolean;
  failures: string[];
  posted: number;
  accepted: number;
  dropped: number;
  completedRate: number;
  post?: TrendValues | undefined;
  timeToTerminal?: TrendValues | undefined;
  usage: UsageWindow;
  /** CPU the stack used per accepted checkout (the load generator excluded), ms; and the same less the idle CPU of that stack. */
  cpuMsPerCheckout: number;
  netCpuMsPerCheckout: number;
}

export interface SearchResult {
  steps: StepResult[];
  max?: StepResult | undefined;
  stoppedBy: string;
}

export interface Results {
  stamp: string;
  command: string;
  machine: ReturnType<typeof describeMachine>;
  durationS: number;
  coldStartMs: { telemetryOn: number[]; telemetryOff: number[] };
  idle: { telemetryOn: UsageWindow; telemetryOff: UsageWindow };
  searchOn: SearchResult;
  searchOff: SearchResult;
  gatewayGet?: { gateway?: TrendValues | undefined; direct?: TrendValues | undefined } | undefined;
  gatewayOrders?: { gateway?: TrendValues | undefined; direct?: TrendValues | undefined } | undefined;
  reads?: { rps: number; failed: number; latency?: TrendValues | undefined; usage: UsageWindow } | undefined;
  saga?: { rate: number; histogram?: SagaStats | undefined; clientTimeToTerminal?: TrendValues | undefined; completedRate: number; usage: UsageWindow } | undefined;
  profiles?: Profiles | undefined;
  /** Stack D: sagas read from their traces (OTLP export on, unlike A-C), and the saga histogram of the same run. */
  sagaTraces?: { rate: number; stats?: SagaTraceStats | undefined; histogram?: SagaStats | undefined } | undefined;
  /** Stack C: closed-loop customers, with the breaker openings over every process meanwhile (undefined: not readable). */
  customers?: (CustomersRun & { stockUnitsBefore: number; breakers?: BreakerOpenings | undefined; usage: UsageWindow }) | undefined;
  /** Stack E: the max-rate search again after `orders` past orders were seeded, with document counts. */
  growth?: { orders: number; seedSeconds: number; search: SearchResult; countsBefore: CollectionCounts; countsAfter: CollectionCounts } | undefined;
  /** Stack F: the max-rate search with `instances` of every service (A is the same with one each). */
  scaling?: { instances: number; natsNodes: number; coldStartMs: number; search: SearchResult } | undefined;
  notes: string[];
}

export interface Profiles {
  /** The gateway while it serves GET /api/products at 10/s (the gateway-overhead comparison, rerun untimed). */
  gatewayGet?: { requests: number; summary: ProfileSummary } | undefined;
  /** Every Node process while checkouts run at `rate`/s. */
  checkout?: { rate: number; accepted: number; byProcess: Partial<Record<ProcessName, ProfileSummary>> } | undefined;
  /** Where the .cpuprofile files are (open in Chrome DevTools or speedscope). */
  dir: string;
}

/** Half of the maximum sustainable rate, to one decimal, at least 0.1/s: the rate of the saga, profile and trace phases. */
const halfRate = (max: number): number => Math.max(0.1, Math.round((max / 2) * 10) / 10);

const log = (message: string) => process.stdout.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);

function stackCpuSeconds(usage: UsageWindow): number {
  return Object.entries(usage.processes)
    .filter(([name]) => name !== LOADGEN)
    .reduce((sum, [, p]) => sum + p.cpuCores * usage.seconds, 0);
}

/** Runs `run` in a usage window over the stack's processes and this one (the load generator). */
async function withUsage<T>(bench: BenchStack, run: () => Promise<T>): Promise<{ value: T; usage: UsageWindow }> {
  const window = startUsageWindow(() => bench.pids().set(LOADGEN, process.pid), { trees: PROCESS_TREES });
  try {
    const value = await run();
    return { value, usage: window.stop() };
  } catch (err) {
    window.stop();
    throw err;
  }
}

async function checkoutStep(bench: BenchStack, users: { id: string; token: string }[], ratePerS: number, seconds: number): Promise<{ step: CheckoutStep; usage: UsageWindow }> {
  const { fixture } = await stockFixture(bench.stack.gatewayUrl, users);
  const { value, usage } = await withUsage(bench, () =>
    runCheckoutStep({ baseUrl: bench.stack.gatewayUrl, fixture, ratePerS, durationS: seconds, pollBudgetS: CRITERIA.pollBudgetS }),
  );
  return { step: value, usage };
}

function judge(ratePerS: number, step: CheckoutStep, usage: UsageWindow, idle: UsageWindow): StepResult {
  const { posted, accepted, dropped, completed, post } = step;
  const offered = ratePerS * STEP_SECONDS;
  const failures: string[] = [];
  const acceptedShare = posted > 0 ? accepted / posted : 0;
  if (acceptedShare < CRITERIA.acceptedMin) failures.push(`${(acceptedShare * 100).toFixed(1)}% of POSTs accepted`);
  if (dropped > CRITERIA.droppedMax * offered) failures.push(`${dropped} arrivals dropped (every VU busy: responses too slow)`);
  const completedRate = completed?.rate ?? 0;
  if (completedRate < CRITERIA.completedMin) failures.push(`${(completedRate * 100).toFixed(1)}% of sagas terminal within ${CRITERIA.pollBudgetS}s`);
  if (!post || post['p(95)'] > CRITERIA.postP95MaxMs) failures.push(`POST p95 ${post ? post['p(95)'].toFixed(0) : '?'} ms > ${CRITERIA.postP95MaxMs} ms`);
  return {
    rate: ratePerS,
    sustainable: failures.length === 0,
    failures,
    posted,
    accepted,
    dropped,
    completedRate,
    post,
    timeToTerminal: step.timeToTerminal,
    usage,
    cpuMsPerCheckout: accepted > 0 ? (stackCpuSeconds(usage) / accepted) * 1000 : NaN,
    netCpuMsPerCheckout: accepted > 0 ? ((stackCpuSeconds(usage) - (stackCpuSeconds(idle) / idle.seconds) * usage.seconds) / accepted) * 1000 : NaN,
  };
}

async function searchMaxRate(bench: BenchStack, users: { id: string; token: string }[], label: string, idle: UsageWindow): Promise<SearchResult> {
  const steps: StepResult[] = [];
  let pass: StepResult | undefined;
  let fail: StepResult | undefined;
  let stoppedBy = 'ramp limit';
  const tryRate = async (ratePerS: number): Promise<StepResult | undefined> => {
    const { units } = await stockFixture(bench.stack.gatewayUrl, users);
    if (ratePerS * STEP_SECONDS > 0.8 * units) {
      stoppedBy = `stock: ${units} units left, a ${ratePerS}/s step needs ${Math.ceil(ratePerS * STEP_SECONDS)}`;
      return undefined;
    }
    const { step: measured, usage } = await checkoutStep(bench, users, ratePerS, STEP_SECONDS);
    const step = judge(ratePerS, measured, usage, idle);
    steps.push(step);
    log(
      `${label} ${ratePerS}/s: ${step.sustainable ? 'sustained' : `not sustained (${step.failures.join('; ')})`}; POST p50 ${step.post?.med.toFixed(1)} ms p95 ${step.post?.['p(95)'].toFixed(1)} ms; ${step.netCpuMsPerCheckout.toFixed(0)} CPU ms/checkout above idle`,
    );
    // Let a failed step's backlog drain before the next one.
    if (!step.sustainable) await new Promise((r) => setTimeout(r, 5_000));
    return step;
  };
  let next = START_RATE;
  for (let i = 0; i < MAX_RAMP_STEPS; i++) {
    const step = await tryRate(next);
    if (!step) break;
    if (!step.sustainable) {
      fail = step;
      stoppedBy = `first unsustained step at ${step.rate}/s`;
      break;
    }
    pass = step;
    next = Math.round(next * RAMP_FACTOR * 10) / 10;
  }
  // Even the first step failed: step down towards MIN_RATE until one holds.
  if (fail && !pass) {
    for (let down = Math.round((START_RATE / 2) * 10) / 10; down >= MIN_RATE; down = Math.round((down / 2) * 10) / 10) {
      const step = await tryRate(down);
      if (!step) break;
      if (step.sustainable) {
        pass = step;
        break;
      }
      fail = step;
    }
    if (!pass) stoppedBy = `not even ${MIN_RATE}/s was sustained`;
  }
  if (fail && pass) {
    let low = pass.rate;
    let high = fail.rate;
    for (let i = 0; i < BISECT_STEPS && high - low > 1; i++) {
      const mid = Math.round(((low + high) / 2) * 10) / 10;
      const step = await tryRate(mid);
      if (!step) break;
      if (step.sustainable) {
        low = mid;
        pass = step;
      } else high = mid;
    }
  }
  return { steps, max: pass, stoppedBy };
}

/** Records a CPU profile of each named process for `seconds` (in parallel), saves it, and summarises it. */
async function profileProcesses(bench: BenchStack, names: readonly ProcessName[], seconds: number, label: string): Promise<Partial<Record<ProcessName, ProfileSummary>>> {
  const dir = join(outDir, 'profiles');
  mkdirSync(dir, { recursive: true });
  const entries = await Promise.all(
    names.map(async (name) => {
      const response = await fetch(`${bench.stack.urls[name]}/admin/profile/cpu?seconds=${seconds}`, {
        headers: { 'x-admin-token': bench.stack.adminToken },
        signal: AbortSignal.timeout((seconds + 30) * 1000),
      });
      const text = await response.text();
      if (response.status !== 200) throw new Error(`profile of ${name} answered ${response.status}: ${text.slice(0, 200)}`);
      writeFileSync(join(dir, `${label}-${name}.cpuprofile`), text);
      return [name, summarizeCpuProfile(JSON.parse(text) as CpuProfile)] as const;
    }),
  );
  return Object.fromEntries(entries);
}

/** Runs `load` and, after `leadS` seconds of it, profiles `names` for PROFILE_SECONDS. */
async function profileDuring<T>(bench: BenchStack, names: readonly ProcessName[], label: string, load: () => Promise<T>, leadS = 3) {
  const loading = load();
  await new Promise((r) => setTimeout(r, leadS * 1000));
  const summaries = await profileProcesses(bench, names, PROFILE_SECONDS, label);
  return { value: await loading, summaries };
}

/** CUSTOMERS closed-loop customers on their own users, breaker openings read from every process around them. */
async function customersPhase(bench: BenchStack, notes: string[]): Promise<NonNullable<Results['customers']>> {
  const users = await makeUsers(bench.stack.gatewayUrl, CUSTOMERS);
  const { fixture, units } = await stockFixture(bench.stack.gatewayUrl, users);
  // Where each process serves /metrics: the gateway on its metrics listener, not its public port.
  const urls = bench.stack.metricsUrls;
  const processes = Object.fromEntries((['gateway', ...serviceNames] as const).map((name) => [name, urls[name]]));
  const scrape = () =>
    scrapeBreakers(processes).catch((err: unknown) => {
      notes.push(`customers phase: breaker metrics not readable (${err instanceof Error ? err.message : String(err)})`);
      return undefined;
    });
  const before = await scrape();
  const { value, usage } = await withUsage(bench, () =>
    runCustomers({
      baseUrl: bench.stack.gatewayUrl,
      fixture,
      customers: CUSTOMERS,
      durationS: CUSTOMERS_SECONDS,
      terminalBudgetS: CRITERIA.pollBudgetS,
      pollBudgetS: CUSTOMERS_POLL_BUDGET_S,
    }),
  );
  const after = await scrape();
  const breakers = before && after ? openingsBetween(before, after) : undefined;
  if (value.errors.length > 0) notes.push(`customers phase: ${value.failedVisits} visits threw, e.g. ${value.errors[0] ?? ''}`);
  return { ...value, stockUnitsBefore: units, breakers, usage };
}

async function idleUsage(bench: BenchStack): Promise<UsageWindow> {
  // Let start-up work (seeding, JIT, first scrapes) settle before calling it idle.
  await new Promise((r) => setTimeout(r, 5_000));
  const window = startUsageWindow(bench.pids, { trees: PROCESS_TREES });
  await new Promise((r) => setTimeout(r, QUICK ? 2_000 : 10_000));
  return window.stop();
}

async function main(): Promise<void> {
  const began = Date.now();
  mkdirSync(outDir, { recursive: true });
  const stamp = `${new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')}${QUICK ? '-quick' : ''}`;
  const machine = describeMachine(loadgenVersion());
  log(`machine: ${machine.cpus} x ${machine.cpuModel}, ${machine.memoryGiB} GiB, node ${machine.node}; load: ${machine.loadgen}`);
  const notes: string[] = QUICK ? ['BENCH_QUICK=true: phases cut to seconds to check the harness; the numbers mean nothing'] : [];

  log('stack A (telemetry on): cold start');
  const a = await startFreshStack(root, { telemetry: true });
  let idleOn: UsageWindow;
  let searchOn: SearchResult;
  try {
    log(`ready in ${a.coldStartMs} ms`);
    idleOn = await idleUsage(a);
    const users = await makeUsers(a.stack.gatewayUrl, USERS);
    searchOn = await searchMaxRate(a, users, 'on', idleOn);
  } finally {
    await a.stop();
  }

  log('stack B (telemetry off): cold start');
  const b = await startFreshStack(root, { telemetry: false });
  let idleOff: UsageWindow;
  let searchOff: SearchResult;
  try {
    log(`ready in ${b.coldStartMs} ms`);
    idleOff = await idleUsage(b);
    const users = await makeUsers(b.stack.gatewayUrl, USERS);
    searchOff = await searchMaxRate(b, users, 'off', idleOff);
  } finally {
    await b.stop();
  }

  log('stack C (telemetry on): cold start');
  const c = await startFreshStack(root, { telemetry: true });
  const results: Results = {
    stamp,
    command: 'npm run bench',
    machine,
    durationS: 0,
    coldStartMs: { telemetryOn: [a.coldStartMs, c.coldStartMs], telemetryOff: [b.coldStartMs] },
    idle: { telemetryOn: idleOn, telemetryOff: idleOff },
    searchOn,
    searchOff,
    notes,
  };
  try {
    log(`ready in ${c.coldStartMs} ms`);
    const users = await makeUsers(c.stack.gatewayUrl, USERS);
    const { fixture } = await stockFixture(c.stack.gatewayUrl, users);

    const maxRate = searchOn.max?.rate;
    if (maxRate !== undefined) {
      const half = halfRate(maxRate);
      log(`saga time at half the max rate: ${half}/s for ${SAGA_SECONDS} s`);
      const before = await scrapeSagaBuckets(c.stack.urls.order);
      const step = await checkoutStep(c, users, half, SAGA_SECONDS);
      const after = await scrapeSagaBuckets(c.stack.urls.order);
      results.saga = {
        rate: half,
        histogram: sagaStats(diffBuckets(after, before)),
        clientTimeToTerminal: step.step.timeToTerminal,
        completedRate: step.step.completed?.rate ?? 0,
        usage: step.usage,
      };
    } else notes.push('no sustainable checkout rate found with telemetry on, so no saga measurement at half of it');
    // Let the saga phase's last orders finish before the latency comparisons.
    await new Promise((r) => setTimeout(r, 10_000));

    log(`gateway overhead: GET /api/products?limit=20 vs catalog GET /products?limit=20 (10/s each, ${COMPARE_SECONDS} s)`);
    const getCompare = await runComparison({ mode: 'get', gatewayUrl: c.stack.gatewayUrl, directUrl: c.stack.urls.catalog, fixture, ratePerS: 10, durationS: COMPARE_SECONDS });
    results.gatewayGet = { gateway: getCompare.gateway, direct: getCompare.direct };

    log(`gateway overhead: GET /api/orders (JWT) vs order GET /orders with an identity assertion (10/s each, ${COMPARE_SECONDS} s)`);
    const ordersCompare = await runComparison({
      mode: 'orders',
      gatewayUrl: c.stack.gatewayUrl,
      directUrl: c.stack.urls.order,
      fixture,
      ratePerS: 10,
      durationS: COMPARE_SECONDS,
      internalAuthSecret: c.stack.internalAuthSecret,
    });
    results.gatewayOrders = { gateway: ordersCompare.gateway, direct: ordersCompare.direct };

    log(`catalog read throughput through the gateway (8 closed-loop clients, ${READS_SECONDS} s)`);
    const reads = await withUsage(c, () => runReads({ baseUrl: c.stack.gatewayUrl, fixture, connections: 8, durationS: READS_SECONDS }));
    results.reads = { rps: reads.value.rps, failed: reads.value.failed, latency: reads.value.latency, usage: reads.usage };

    log(`${CUSTOMERS} closed-loop customers (list products, view one, order, poll to terminal) for ${CUSTOMERS_SECONDS} s`);
    const customers = await customersPhase(c, notes);
    results.customers = customers;
    log(
      `customers: ${customers.accepted}/${customers.placed} orders accepted, ${customers.responses['5xx']}×5xx, ` +
        `${customers.breakers?.total ?? '?'} breaker openings, ${customers.notTerminalInBudget} not terminal within ${customers.terminalBudgetS} s`,
    );

    // Profiles come last and untimed: the sampling profiler costs a little CPU, so no measured figure above
    // was taken while one ran.
    const profiles: Profiles = { dir: join(outDir, 'profiles') };
    results.profiles = profiles;
    log(`CPU profile: gateway during GET /api/products at 10/s (${PROFILE_SECONDS} s)`);
    const compareSeconds = PROFILE_SECONDS + 6;
    const gatewayRun = await profileDuring(c, ['gateway'], 'gateway-get', () =>
      runComparison({ mode: 'get', gatewayUrl: c.stack.gatewayUrl, directUrl: c.stack.urls.catalog, fixture, ratePerS: 10, durationS: compareSeconds }),
    );
    const gatewaySummary = gatewayRun.summaries.gateway;
    // The comparison sends 10/s to the gateway (and 10/s straight to catalog).
    if (gatewaySummary) profiles.gatewayGet = { requests: 10 * PROFILE_SECONDS, summary: gatewaySummary };

    if (maxRate !== undefined) {
      const half = halfRate(maxRate);
      log(`CPU profiles: every Node process during checkouts at ${half}/s (${PROFILE_SECONDS} s)`);
      const checkoutRun = await profileDuring(c, ['gateway', ...serviceNames], 'checkout', () => checkoutStep(c, users, half, PROFILE_SECONDS + 6));
      profiles.checkout = {
        rate: half,
        // Accepted while the profiles recorded: the step's rate over the profiled seconds.
        accepted: Math.round(half * PROFILE_SECONDS),
        byProcess: checkoutRun.summaries,
      };
    }
  } finally {
    await c.stop();
  }

  const maxRateOn = searchOn.max?.rate;
  if (maxRateOn !== undefined) {
    log('stack D (telemetry on, traces exported to an OTLP receiver in the benchmark): cold start');
    const receiver = await startOtlpReceiver();
    const d = await startFreshStack(root, { telemetry: true, env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '200' } });
    try {
      log(`ready in ${d.coldStartMs} ms`);
      const users = await makeUsers(d.stack.gatewayUrl, USERS);
      const half = halfRate(maxRateOn);
      log(`saga traces: checkouts at ${half}/s for ${SAGA_SECONDS} s`);
      const before = await scrapeSagaBuckets(d.stack.urls.order);
      await checkoutStep(d, users, half, SAGA_SECONDS);
      const after = await scrapeSagaBuckets(d.stack.urls.order);
      // The last batches of spans (200 ms schedule delay).
      await new Promise((r) => setTimeout(r, 3_000));
      results.sagaTraces = { rate: half, stats: sagaTraceStats(receiver.spans), histogram: sagaStats(diffBuckets(after, before)) };
      if (receiver.rejected.length > 0) notes.push(`the OTLP receiver rejected ${receiver.rejected.length} requests: ${receiver.rejected[0] ?? ''}`);
    } finally {
      await d.stop();
      await receiver.close();
    }
  }

  log(`stack E (telemetry on): cold start, then ${GROWTH_ORDERS} past orders written through the services' data modules`);
  const e = await startFreshStack(root, { telemetry: true });
  try {
    const users = await makeUsers(e.stack.gatewayUrl, USERS);
    const seeded = await seedPastOrders(
      e.stack.mongoUrl,
      GROWTH_ORDERS,
      users.map((u) => u.id),
    );
    const countsBefore = await countDocuments(e.stack.mongoUrl);
    log(`seeded in ${seeded.seconds.toFixed(0)} s; order_events holds ${countsBefore['tracemart_order.order_events'] ?? '?'} documents`);
    const idle = await idleUsage(e);
    const search = await searchMaxRate(e, users, 'on, grown', idle);
    results.growth = { orders: GROWTH_ORDERS, seedSeconds: seeded.seconds, search, countsBefore, countsAfter: await countDocuments(e.stack.mongoUrl) };
  } finally {
    await e.stop();
  }

  log(`stack F (telemetry on): ${SCALE_INSTANCES} instances of every service, cold start`);
  const f = await startFreshStack(root, { telemetry: true, instances: SCALE_INSTANCES });
  try {
    log(`ready in ${f.coldStartMs} ms`);
    const idle = await idleUsage(f);
    const users = await makeUsers(f.stack.gatewayUrl, USERS);
    const search = await searchMaxRate(f, users, `on, ${SCALE_INSTANCES} instances`, idle);
    results.scaling = { instances: SCALE_INSTANCES, natsNodes: f.stack.natsNodes.length, coldStartMs: f.coldStartMs, search };
  } finally {
    await f.stop();
  }

  results.durationS = Math.round((Date.now() - began) / 1000);
  const markdown = renderMarkdown(results);
  const base = join(outDir, `bench-${stamp}`);
  writeFileSync(`${base}.json`, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(`${base}.md`, markdown);
  copyFileSync(`${base}.json`, join(outDir, 'latest.json'));
  copyFileSync(`${base}.md`, join(outDir, 'latest.md'));
  process.stdout.write(`\n${markdown}\n`);
  log(`done in ${results.durationS} s: ${base}.{json,md}`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
