import { LOADGEN, type TrendValues } from './load';
import type { UsageWindow } from './procfs';
import type { ProfileSummary } from './cpu-profile';
import { SAGA_CATEGORIES } from './saga-traces';
import { VISIT_REQUESTS } from './customers';
import type { Profiles, Results, StepResult } from './main';

/** The targets the results are judged against. */
export const TARGETS = {
  telemetryOverheadPct: 10,
  gatewayP50Ms: 1,
  stackRssMiB: 1536,
  coldStartMs: 20_000,
  sagaP95Ms: 150,
  customersTerminalS: 10,
  maxCheckoutRate: 15,
  grownRateShare: 0.6,
  sagaDbCalls: 10,
  nodeCpuMsPerCheckout: 40,
};

/** The Node processes: tracemart's own code (PostgreSQL, FerretDB, nats-server and Prometheus are not). */
const NODE_PROCESSES = ['gateway', 'user', 'catalog', 'order', 'inventory', 'payment', 'notification'];

/** Node CPU per accepted checkout in a step, above the same processes' idle CPU, ms. */
export function nodeCpuMsPerCheckout(step: StepResult, idle: UsageWindow): number {
  const cores = NODE_PROCESSES.reduce((sum, name) => sum + (step.usage.processes[name]?.cpuCores ?? 0) - (idle.processes[name]?.cpuCores ?? 0), 0);
  return step.accepted > 0 ? (cores * step.usage.seconds * 1000) / step.accepted : NaN;
}

const ms = (value: number | undefined, digits = 1) => (value === undefined || Number.isNaN(value) ? 'n/a' : `${value.toFixed(digits)} ms`);
const mib = (value: number) => `${Math.round(value)} MiB`;
const pct = (value: number) => `${value.toFixed(1)}%`;
const verdict = (met: boolean | undefined) => (met === undefined ? 'n/a' : met ? 'met' : '**missed**');
const median = (values: number[]) => {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? NaN;
};

function totalRss(usage: UsageWindow, key: 'last' | 'max', exclude: string[] = [LOADGEN], measure: 'rssMiB' | 'pssMiB' = 'rssMiB'): number {
  return Object.entries(usage.processes)
    .filter(([name]) => !exclude.includes(name))
    .reduce((sum, [, p]) => sum + (p[measure]?.[key] ?? 0), 0);
}

/** Processes by CPU over a window, busiest first: "name 0.62" (cores). */
function busiest(usage: UsageWindow, n = 4): string {
  return Object.entries(usage.processes)
    .sort(([, x], [, y]) => y.cpuCores - x.cpuCores)
    .slice(0, n)
    .map(([name, p]) => `${name} ${p.cpuCores.toFixed(2)}`)
    .join(', ');
}

function latency(t: TrendValues | undefined): string {
  return t ? `p50 ${ms(t.med)} / p95 ${ms(t['p(95)'])} / p99 ${ms(t['p(99)'])}` : 'n/a';
}

/** Step at the same rate in both searches, highest sustained first (else any): the fairest CPU-per-checkout comparison. */
function commonStep(on: StepResult[], off: StepResult[]): [StepResult, StepResult] | undefined {
  for (const sustainedOnly of [true, false]) {
    const offByRate = new Map(off.filter((s) => s.sustainable || !sustainedOnly).map((s) => [s.rate, s]));
    const both = on.filter((s) => (s.sustainable || !sustainedOnly) && offByRate.has(s.rate)).sort((x, y) => y.rate - x.rate)[0];
    if (both) return [both, offByRate.get(both.rate) as StepResult];
  }
  return undefined;
}

export function renderMarkdown(r: Results): string {
  const maxOn = r.searchOn.max;
  const maxOff = r.searchOff.max;
  const lines: string[] = [];
  lines.push(`### Benchmark: \`${r.command}\` (${r.stamp}, ${r.durationS} s)`);
  lines.push('');
  lines.push(
    `Machine: ${r.machine.cpus} × ${r.machine.cpuModel}, ${r.machine.memoryGiB} GiB RAM, Linux ${r.machine.kernel}, Node ${r.machine.node}; load: ${r.machine.loadgen}; ` +
      'all traffic on loopback from the autocannon/harness load generator on the same machine; FerretDB and nats-server local; gateway rate limit off.',
  );
  const loads = [maxOn?.usage, maxOff?.usage].filter((u): u is UsageWindow => u !== undefined);
  if (loads.length > 0) {
    lines.push(
      `Other work on the machine during the max-rate steps: ${loads.map((u) => `${u.foreignBusyCores.toFixed(2)} cores busy outside the benchmark, load average ${u.loadAverage[0]?.toFixed(1)}`).join('; ')}.`,
    );
  }
  lines.push('');
  lines.push('| Measure | Result | Target | Verdict |');
  lines.push('| --- | --- | --- | --- |');

  // (a) max sustainable checkout rate
  const crit = `≥99% accepted, ≥99% of sagas terminal within 10 s, POST p95 ≤ 800 ms, no dropped arrivals`;
  lines.push(
    `| Max sustainable checkout rate, telemetry on (${crit}) | ${maxOn ? `**${maxOn.rate}/s**` : 'none'} (search stopped: ${r.searchOn.stoppedBy}) | ≥ ${TARGETS.maxCheckoutRate}/s | ${verdict(maxOn ? maxOn.rate >= TARGETS.maxCheckoutRate : false)} |`,
  );
  if (r.growth) {
    const grown = r.growth.search.max;
    const share = grown && maxOn ? grown.rate / maxOn.rate : undefined;
    const events = r.growth.countsBefore['tracemart_order.order_events'];
    lines.push(
      `| Max sustainable checkout rate after ${r.growth.orders} past orders (${events ?? '?'} order events; seeded in ${r.growth.seedSeconds.toFixed(0)} s; counts below) | ${grown ? `**${grown.rate}/s**` : 'none'} = ${share !== undefined ? pct(share * 100) : 'n/a'} of the fresh figure (search stopped: ${r.growth.search.stoppedBy}) | ≥ ${pct(TARGETS.grownRateShare * 100)} of fresh | ${verdict(share === undefined ? false : share >= TARGETS.grownRateShare)} |`,
    );
  }
  if (r.scaling) {
    const scaled = r.scaling.search.max;
    lines.push(
      `| Max sustainable checkout rate, ${r.scaling.instances} instances of every service vs 1 (${r.scaling.natsNodes} NATS nodes; saga partitioned across the instances; ready in ${(r.scaling.coldStartMs / 1000).toFixed(1)} s) | ${scaled ? `**${scaled.rate}/s**` : 'none'} vs ${maxOn ? `${maxOn.rate}/s` : 'none'} (search stopped: ${r.scaling.search.stoppedBy}) | shape only: on 2 cores a second instance adds processes, not cores | — |`,
    );
  }
  if (maxOn) {
    const nodeMs = nodeCpuMsPerCheckout(maxOn, r.idle.telemetryOn);
    lines.push(
      `| Node CPU per checkout at ${maxOn.rate}/s (gateway + 6 services, above their idle CPU) | **${nodeMs.toFixed(0)} ms** (whole stack incl. PostgreSQL, FerretDB, NATS: ${maxOn.netCpuMsPerCheckout.toFixed(0)} ms) | ≤ ${TARGETS.nodeCpuMsPerCheckout} ms | ${verdict(nodeMs <= TARGETS.nodeCpuMsPerCheckout)} |`,
    );
  }
  const dbCalls = r.sagaTraces?.stats?.median.dbCalls;
  if (r.sagaTraces?.stats) {
    lines.push(
      `| Database round trips per saga, placement→CONFIRMED (median of ${r.sagaTraces.stats.sagas} traces, causal path; all services) | **${dbCalls}** on the causal path; ${r.sagaTraces.stats.median.dbCallsInTrace} in the whole trace (projections, notification, compensation checks) | ≤ ${TARGETS.sagaDbCalls} | ${verdict(dbCalls === undefined ? undefined : dbCalls <= TARGETS.sagaDbCalls)} |`,
    );
  }
  if (maxOn)
    lines.push(
      `| Checkout POST latency at ${maxOn.rate}/s | ${latency(maxOn.post)}; placement→terminal (client polling, 250 ms steps) p50 ${ms(maxOn.timeToTerminal?.med, 0)} / p95 ${ms(maxOn.timeToTerminal?.['p(95)'], 0)} | — | — |`,
    );
  lines.push(`| Max sustainable checkout rate, telemetry off | ${maxOff ? `**${maxOff.rate}/s**` : 'none'} (search stopped: ${r.searchOff.stoppedBy}) | — | — |`);
  if (maxOff) lines.push(`| Checkout POST latency at ${maxOff.rate}/s, telemetry off | ${latency(maxOff.post)} | — | — |`);

  // (b) telemetry overhead
  const pair = commonStep(r.searchOn.steps, r.searchOff.steps);
  const cpuOverhead = pair ? ((pair[0].netCpuMsPerCheckout - pair[1].netCpuMsPerCheckout) / pair[1].netCpuMsPerCheckout) * 100 : undefined;
  const rateOverhead = maxOn && maxOff ? ((maxOff.rate - maxOn.rate) / maxOff.rate) * 100 : undefined;
  const overhead = cpuOverhead ?? rateOverhead;
  lines.push(
    `| Telemetry overhead | ${pair ? `stack CPU per checkout above idle at ${pair[0].rate}/s: ${pair[0].netCpuMsPerCheckout.toFixed(0)} ms on vs ${pair[1].netCpuMsPerCheckout.toFixed(0)} ms off = **${pct(cpuOverhead ?? NaN)}**` : 'no common step'}; max rate ${rateOverhead !== undefined ? pct(rateOverhead) : 'n/a'} lower with telemetry | ≤ ${TARGETS.telemetryOverheadPct}% | ${verdict(overhead === undefined ? undefined : overhead <= TARGETS.telemetryOverheadPct)} |`,
  );

  // (c) gateway overhead
  const g = r.gatewayGet;
  const getDiff = g?.gateway && g.direct ? g.gateway.med - g.direct.med : undefined;
  lines.push(
    `| Gateway overhead, GET products (p50 via gateway − direct to catalog, 10/s each) | ${getDiff !== undefined ? `**${ms(getDiff, 2)}** (${ms(g?.gateway?.med, 2)} vs ${ms(g?.direct?.med, 2)}; p95 ${ms(g?.gateway?.['p(95)'])} vs ${ms(g?.direct?.['p(95)'])})` : 'n/a'} | ≤ ${TARGETS.gatewayP50Ms} ms p50 | ${verdict(getDiff === undefined ? undefined : getDiff <= TARGETS.gatewayP50Ms)} |`,
  );
  const o = r.gatewayOrders;
  const ordersDiff = o?.gateway && o.direct ? o.gateway.med - o.direct.med : undefined;
  lines.push(
    `| Gateway overhead, GET orders (p50 via gateway with JWT − direct to order service with an identity assertion, 10/s each) | ${ordersDiff !== undefined ? `**${ms(ordersDiff, 2)}** (${ms(o?.gateway?.med, 2)} vs ${ms(o?.direct?.med, 2)}; p95 ${ms(o?.gateway?.['p(95)'])} vs ${ms(o?.direct?.['p(95)'])})` : 'n/a'} | ≤ ${TARGETS.gatewayP50Ms} ms p50 | ${verdict(ordersDiff === undefined ? undefined : ordersDiff <= TARGETS.gatewayP50Ms)} |`,
  );

  // (d) catalog reads
  if (r.reads) {
    lines.push(
      `| Catalog read throughput via gateway (8 closed-loop clients: list page, product, stock) | **${r.reads.rps.toFixed(0)} req/s**, ${pct(r.reads.failed * 100)} failed, ${latency(r.reads.latency)}; busiest (cores): ${busiest(r.reads.usage)} | — | — |`,
    );
  }

  // (d2) closed-loop customers
  if (r.customers) lines.push(customersRow(r.customers));

  // (e) saga time
  const saga = r.saga;
  const sagaP95 = saga?.histogram?.p95Ms;
  lines.push(
    `| Saga placement→CONFIRMED at half the max rate${saga ? ` (${saga.rate}/s, 30 s, \`tracemart_saga_duration\`)` : ''} | ${saga?.histogram ? `p50 ${ms(saga.histogram.p50Ms, 0)} / **p95 ${ms(sagaP95, 0)}** / p99 ${ms(saga.histogram.p99Ms, 0)} (${saga.histogram.count} sagas, ${pct(saga.histogram.within150ms * 100)} within 150 ms)` : 'n/a'} | p95 ≤ ${TARGETS.sagaP95Ms} ms | ${verdict(sagaP95 === undefined ? undefined : sagaP95 <= TARGETS.sagaP95Ms)} |`,
  );

  // (f) memory
  const loadWindow = maxOn?.usage;
  const idleTotal = totalRss(r.idle.telemetryOn, 'last');
  const peakOf = (measure: 'rssMiB' | 'pssMiB') => Math.max(...r.searchOn.steps.map((s) => totalRss(s.usage, 'max', [LOADGEN], measure)), 0);
  const peak = peakOf('rssMiB');
  const peakPss = peakOf('pssMiB');
  lines.push(
    `| Memory, whole stack at idle (telemetry on; off) | PSS ${mib(totalRss(r.idle.telemetryOn, 'last', [LOADGEN], 'pssMiB'))}; ${mib(totalRss(r.idle.telemetryOff, 'last', [LOADGEN], 'pssMiB'))} (RSS summed per process: ${mib(idleTotal)}; ${mib(totalRss(r.idle.telemetryOff, 'last'))}) | — | — |`,
  );
  lines.push(
    `| Memory, whole stack under load (peak of per-process peaks over the search, telemetry on, PostgreSQL's backends included): PSS, which counts a page shared by several processes once; the RSS sum counts the ~44 MiB of Node code every Node process maps once per process | **PSS ${mib(peakPss)}** (RSS summed per process: ${mib(peak)}${loadWindow ? `; at max rate ${maxOn?.rate}/s: PSS ${mib(totalRss(loadWindow, 'max', [LOADGEN], 'pssMiB'))}, RSS ${mib(totalRss(loadWindow, 'max'))}` : ''}) | ≤ ${mib(TARGETS.stackRssMiB)} | ${verdict(peakPss > 0 ? peakPss <= TARGETS.stackRssMiB : undefined)} |`,
  );

  // (g) cold start
  const cold = [...r.coldStartMs.telemetryOn, ...r.coldStartMs.telemetryOff];
  const coldMedian = median(cold);
  lines.push(
    `| Cold start to all ready (\`startStack\`: nats, FerretDB, 6 services, gateway, Prometheus) | median **${(coldMedian / 1000).toFixed(1)} s** of ${cold.map((v) => (v / 1000).toFixed(1)).join(', ')} s | ≤ ${TARGETS.coldStartMs / 1000} s | ${verdict(coldMedian <= TARGETS.coldStartMs)} |`,
  );
  lines.push('');

  // Per-process detail.
  lines.push('Per process (telemetry on): RSS idle → peak under load, and CPU in cores at idle → at the max sustained rate.');
  lines.push('');
  lines.push('| Process | RSS idle | RSS peak under load | PSS peak under load | CPU idle | CPU at max rate |');
  lines.push('| --- | --- | --- | --- | --- | --- |');
  const names = Object.keys(r.idle.telemetryOn.processes);
  for (const name of [...names, ...(loadWindow?.processes[LOADGEN] ? [LOADGEN] : [])]) {
    const idle = r.idle.telemetryOn.processes[name];
    const peakRss = Math.max(0, ...r.searchOn.steps.map((s) => s.usage.processes[name]?.rssMiB.max ?? 0));
    const peakPss = Math.max(0, ...r.searchOn.steps.map((s) => s.usage.processes[name]?.pssMiB?.max ?? 0));
    const busy = loadWindow?.processes[name];
    lines.push(
      `| ${name}${name === LOADGEN ? ' (autocannon/harness load generator, the benchmark process; not in totals)' : ''} | ${idle ? mib(idle.rssMiB.last) : '—'} | ${mib(peakRss)} | ${mib(peakPss)} | ${idle ? idle.cpuCores.toFixed(2) : '—'} | ${busy ? busy.cpuCores.toFixed(2) : 'n/a'} |`,
    );
  }
  lines.push('');

  // Search steps.
  lines.push('Checkout rate search (telemetry on | off), one fresh stack each:');
  lines.push('');
  lines.push('| Telemetry | Rate | Sustained | POST p50 / p95 | Accepted | Terminal ≤ 10 s | CPU ms/checkout (above idle) | Busiest processes (cores) | Why not |');
  lines.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const [label, search] of [
    ['on', r.searchOn],
    ['off', r.searchOff],
  ] as const) {
    for (const s of search.steps) {
      lines.push(
        `| ${label} | ${s.rate}/s | ${s.sustainable ? 'yes' : 'no'} | ${ms(s.post?.med, 0)} / ${ms(s.post?.['p(95)'], 0)} | ${s.accepted}/${s.posted} | ${pct(s.completedRate * 100)} | ${s.cpuMsPerCheckout.toFixed(0)} (${s.netCpuMsPerCheckout.toFixed(0)}) | ${busiest(s.usage)} | ${s.failures.join('; ')} |`,
      );
    }
  }
  if (r.customers) lines.push('', ...renderCustomers(r.customers));
  if (r.sagaTraces) lines.push('', ...renderSagaTraces(r.sagaTraces));
  if (r.growth) lines.push('', ...renderGrowth(r.growth));
  if (r.profiles) lines.push('', ...renderProfiles(r.profiles));
  if (r.notes.length > 0) {
    lines.push('');
    for (const note of r.notes) lines.push(`- ${note}`);
  }
  return `${lines.join('\n')}\n`;
}

type Customers = NonNullable<Results['customers']>;

/** Met: no 5xx, no breaker opening, every accepted order terminal in time; n/a when nothing was accepted or the breakers were not readable. */
export function customersVerdict(c: Customers): boolean | undefined {
  if (c.responses['5xx'] > 0 || c.notTerminalInBudget > 0 || (c.breakers?.total ?? 0) > 0) return false;
  if (c.accepted === 0 || !c.breakers || c.breakers.watched.length === 0) return undefined;
  return true;
}

function customersRow(c: Customers): string {
  const seconds = (value: number | undefined) => (value === undefined ? 'n/a' : `${(value / 1000).toFixed(1)} s`);
  const late = c.notTerminalInBudget > 0 ? `, **${c.notTerminalInBudget} not terminal within ${c.terminalBudgetS} s**` : '';
  const result =
    `**${c.accepted} orders** (${c.placed} placed), ${c.responses['5xx']}×5xx, ${c.breakers ? `${c.breakers.total} breaker openings` : 'breaker openings n/a'}, ` +
    `max terminal ${seconds(c.timeToTerminal?.max)}${late}`;
  return `| ${c.customers} closed-loop customers, ${c.durationS} s (each: list products, view one, order, poll to terminal) | ${result} | 0×5xx, 0 breaker openings, all terminal ≤ ${TARGETS.customersTerminalS} s | ${verdict(customersVerdict(c))} |`;
}

/** The closed-loop customers: responses by class, latency per request kind, placement → terminal. */
export function renderCustomers(c: Customers): string[] {
  const r = c.responses;
  const opened = c.breakers ? Object.entries(c.breakers.byBreaker).map(([name, n]) => `${name} ${n}×`) : [];
  const breakers = c.breakers
    ? `breakers watched in ${c.breakers.watched.join(', ') || 'no process'}${opened.length > 0 ? `; opened: ${opened.join(', ')}` : ', none opened'}`
    : 'breaker metrics not readable';
  const lines = [
    `Closed-loop customers (stack C, after its timed phases; ${c.customers} customers for ${c.durationS} s, each on its own user; ${c.visits} visits, ${c.stockUnitsBefore} units in stock before): ` +
      `${r.total} responses: ${r['2xx']} 2xx, ${r['3xx']} 3xx, ${r['4xx']} 4xx (${r['429']} of them 429), ${r['5xx']} 5xx (${r['503']} of them 503), ${r.none} without an answer; ` +
      `${c.confirmed} orders CONFIRMED, ${c.cancelled} CANCELLED, ${c.notTerminalInBudget} of ${c.accepted} accepted not terminal within ${c.terminalBudgetS} s; ${breakers}; busiest (cores): ${busiest(c.usage)}.`,
    '',
    '| Request | Count | p50 | p95 | max |',
    '| --- | --- | --- | --- | --- |',
  ];
  for (const name of VISIT_REQUESTS) {
    const t = c.latency[name];
    lines.push(`| ${name} | ${t?.count ?? 0} | ${ms(t?.med)} | ${ms(t?.['p(95)'])} | ${ms(t?.max)} |`);
  }
  const t = c.timeToTerminal;
  lines.push(`| placement → terminal (client polling, 250 ms steps) | ${t?.count ?? 0} | ${ms(t?.med, 0)} | ${ms(t?.['p(95)'], 0)} | ${ms(t?.max, 0)} |`);
  return lines;
}

const OTEL = 'OpenTelemetry (SDK, instrumentation, exporter)';

function categoryMs(summary: ProfileSummary, name: string): number {
  return summary.categories.find((c) => c.name === name)?.ms ?? 0;
}

function topCategories(summary: ProfileSummary, n: number, per = 1): string {
  return summary.categories
    .slice(0, n)
    .map((c) => `${c.name} ${(c.ms / per).toFixed(per === 1 ? 0 : 2)} ms (${c.pct.toFixed(0)}%)`)
    .join('; ');
}

/** The CPU profiles: where the gateway's time per request goes, and OpenTelemetry's share per process. */
export function renderProfiles(p: Profiles): string[] {
  const lines: string[] = [
    'CPU profiles (V8 sampling profiler through `GET /admin/profile/cpu`, recorded after the timed phases; files in `bench-results/profiles/`, open them in Chrome DevTools or speedscope):',
    '',
  ];
  const g = p.gatewayGet;
  if (g) {
    const perRequest = g.summary.busyMs / g.requests;
    lines.push(
      `- **Gateway, GET /api/products at 10/s**: ${perRequest.toFixed(2)} ms of gateway CPU per request (${g.summary.busyMs.toFixed(0)} ms busy in ${(g.summary.wallMs / 1000).toFixed(1)} s). ` +
        `Per request: ${topCategories(g.summary, 6, g.requests)}. Top functions (self): ${g.summary.topFunctions
          .slice(0, 5)
          .map((f) => `${f.name} ${f.where} ${(f.ms / g.requests).toFixed(2)} ms`)
          .join('; ')}.`,
    );
  }
  const c = p.checkout;
  if (c) {
    const entries = Object.entries(c.byProcess).filter((e): e is [string, ProfileSummary] => e[1] !== undefined);
    const busy = entries.reduce((sum, [, s]) => sum + s.busyMs, 0);
    const otel = entries.reduce((sum, [, s]) => sum + categoryMs(s, OTEL), 0);
    lines.push(
      `- **Every Node process, checkouts at ${c.rate}/s** (about ${c.accepted} checkouts while recording): ${busy.toFixed(0)} ms of Node CPU, of which OpenTelemetry ${otel.toFixed(0)} ms = **${busy > 0 ? ((otel / busy) * 100).toFixed(1) : 'n/a'}%** (FerretDB and nats-server are not Node and not in these profiles).`,
      '',
      '| Process | Busy ms | OpenTelemetry | Largest categories |',
      '| --- | --- | --- | --- |',
    );
    for (const [name, s] of entries) {
      const o = categoryMs(s, OTEL);
      lines.push(`| ${name} | ${s.busyMs.toFixed(0)} | ${o.toFixed(0)} ms (${s.busyMs > 0 ? ((o / s.busyMs) * 100).toFixed(0) : 0}%) | ${topCategories(s, 4)} |`);
    }
  }
  return lines;
}

/** Where a saga's time goes, from its trace (stack D, OTLP export on). */
/** The grown stack's search and its collections before and after. */
export function renderGrowth(g: NonNullable<Results['growth']>): string[] {
  const lines = [
    `Growth (stack E): ${g.orders} past orders written through the services' own data modules in ${g.seedSeconds.toFixed(0)} s, then the same rate search. Documents per collection after seeding → at the end:`,
    '',
    '| Collection | After seeding | At the end |',
    '| --- | --- | --- |',
  ];
  for (const name of Object.keys({ ...g.countsBefore, ...g.countsAfter }).sort()) lines.push(`| ${name} | ${g.countsBefore[name] ?? 0} | ${g.countsAfter[name] ?? 0} |`);
  lines.push('', '| Rate | Sustained | POST p50 / p95 | Accepted | Terminal ≤ 10 s | Busiest processes (cores) | Why not |', '| --- | --- | --- | --- | --- | --- | --- |');
  for (const step of g.search.steps) {
    lines.push(
      `| ${step.rate}/s | ${step.sustainable ? 'yes' : 'no'} | ${ms(step.post?.med, 0)} / ${ms(step.post?.['p(95)'], 0)} | ${step.accepted}/${step.posted} | ${pct(step.completedRate * 100)} | ${busiest(step.usage)} | ${step.failures.join('; ')} |`,
    );
  }
  return lines;
}

export function renderSagaTraces(t: NonNullable<Results['sagaTraces']>): string[] {
  const s = t.stats;
  if (!s) return [`Saga traces at ${t.rate}/s: no complete saga trace was received.`];
  const h = t.histogram;
  const lines = [
    `Saga traces (a fourth fresh stack with OTLP trace export on, checkouts at ${t.rate}/s; ${s.sagas} sagas read from their traces; ` +
      `\`tracemart_saga_duration\` in the same run: ${h ? `p50 ${ms(h.p50Ms, 0)} / p95 ${ms(h.p95Ms, 0)}` : 'n/a'}). Order received → order CONFIRMED, along the causal path; ` +
      'each instant is charged to the first category that applies, in the order of the table:',
    '',
    `| Category | Median saga (${ms(s.median.sagaMs, 0)}, ${s.median.dbCalls} database calls on the causal path, ${s.median.dbCallsInTrace} in the whole trace, ${s.median.hops} NATS hops) | Slowest ${s.slowest.sagas} (median ${ms(s.slowest.sagaMs, 0)}, ${s.slowest.dbCalls} database calls on the causal path, ${s.slowest.dbCallsInTrace} in the whole trace) |`,
    '| --- | --- | --- |',
  ];
  for (const category of SAGA_CATEGORIES) {
    const share = (value: number, total: number) => (total > 0 ? ` (${((value / total) * 100).toFixed(0)}%)` : '');
    lines.push(
      `| ${category} | ${ms(s.median.ms[category], 1)}${share(s.median.ms[category], s.median.sagaMs)} | ${ms(s.slowest.ms[category], 1)}${share(s.slowest.ms[category], s.slowest.sagaMs)} |`,
    );
  }
  lines.push('', 'Medians per category do not add up to the median saga exactly (each is the median of its own column).');
  lines.push(
    '',
    `Database calls (spans with \`db.system\` mongodb) per saga trace, by service: median over the ${s.sagas} sagas, in the whole trace (projections, notification and work after the confirmation included) and on the causal path; the medians need not add up to the totals above.`,
    '',
    '| Service | Whole trace | Causal path |',
    '| --- | --- | --- |',
    ...s.dbCallsByService.map((d) => `| ${d.service} | ${d.trace} | ${d.path} |`),
  );
  return lines;
}
