import { setMaxListeners } from 'node:events';
import { constantArrivalRate, sleep, type ExecutorResult } from '../executors';
import { MetricStore } from '../metrics';
import type { PhaseRow } from '../report';
import { degradationPlan, type DegradationPlan } from '../scenario-file';
import {
  catalogRequestMix,
  check,
  checkout,
  clearFaultsMatching,
  createUserPool,
  injectFault,
  isGracefulRejection,
  listFaults,
  loadCatalog,
  namesService,
  pick,
  randomItems,
  sessionFor,
  type Catalog,
  type PoolUser,
  type Shop,
} from '../shop';
import { runStream, type StreamResult } from '../stream';
import type { ThresholdResult } from '../thresholds';
import { createShop, finish, scenarioFileOf, type ScenarioOptions, type ScenarioRun } from './common';

/**
 * Degradation, as load-tests/degradation.js, with its phases, rates, bounds and thresholds read from
 * load-tests/scenarios.json:
 *
 *   baseline ─► onset ─► outage ─► healing ─► recovery
 *               ▲ payment outage injected      ▲ fault lifted; recovery starts HEALING later
 *
 * Per phase: catalog reads as an autocannon stream (paced, spread evenly) and checkouts as an
 * open-model journey (POST, 409 retry, polling) at the checkout rate, every request tagged `phase`.
 * Baseline checkouts stop `checkoutSettleS` before the fault, so none of them has its payment step
 * land in the outage. One probe VU reads the catalog from the start of baseline to the end of the
 * outage and compares the outage p95 with the baseline p95 (floored at `p95FloorMs`); the ratio goes
 * into tracemart_catalog_p95_ratio, whose threshold is an ordinary one, as in k6.
 */

/** k6 draws a catalog journey per iteration from [browse, browse, search, view], view making two requests. */
export const CATALOG_REQUESTS_PER_ITERATION = 5 / 4;

const MAX_CHECKOUT_VUS = 50;
const GRACEFUL_STOP_S = 15;

interface Probe {
  /** The probe's own latencies (status 200 only), apart from the run's metrics. */
  store: MetricStore;
  samples: { baseline: number; outage: number };
}

async function runProbe(shop: Shop, data: Catalog, plan: DegradationPlan, t0: number, probe: Probe, signal: AbortSignal): Promise<void> {
  const onset = plan.phases.find((p) => p.name === 'onset')?.startS ?? plan.fault.startS;
  const outage = plan.phases.find((p) => p.name === 'outage')?.startS ?? plan.fault.startS;
  const maxSamples = 20_000;
  for (let n = 0; n < 1_000_000 && !signal.aborted; n++) {
    const elapsedS = (performance.now() - t0) / 1000;
    if (elapsedS >= plan.fault.endS) break;
    const phase = elapsedS < onset ? 'baseline' : elapsedS < outage ? 'onset' : 'outage';
    const tags = { phase, journey: 'probe' };
    const product = pick(data.products);
    const rotation = [
      () => shop.http.get('/api/products?page=1&limit=20', { name: 'GET /api/products', kind: 'catalog', tags }),
      () => shop.http.get(`/api/products?search=${encodeURIComponent(pick(data.searchTerms))}&limit=20`, { name: 'GET /api/products?search', kind: 'catalog', tags }),
      () => shop.http.get(`/api/products/${encodeURIComponent(product.id)}`, { name: 'GET /api/products/:id', kind: 'catalog', tags }),
      () => shop.http.get(`/api/inventory/${encodeURIComponent(product.id)}`, { name: 'GET /api/inventory/:productId', kind: 'catalog', tags }),
    ];
    const request = rotation[n % rotation.length];
    if (!request) break;
    const res = await request();
    // Onset counts as outage: catalog reads should not notice the fault at any point.
    const bucket = phase === 'baseline' ? 'baseline' : 'outage';
    if (res.status === 200 && probe.samples[bucket] < maxSamples) {
      probe.store.trend(`probe_${bucket}`, res.durationMs);
      probe.samples[bucket] += 1;
    }
    await sleep(plan.settings.probeIntervalS * 1000, signal);
  }
  const base = probe.store.trendStats('probe_baseline')?.['p(95)'];
  const out = probe.store.trendStats('probe_outage')?.['p(95)'];
  if (base !== undefined && out !== undefined) {
    shop.metrics.gauge('tracemart_probe_baseline_p95_ms', base);
    shop.metrics.gauge('tracemart_probe_outage_p95_ms', out);
    shop.metrics.trend('tracemart_catalog_p95_ratio', out / Math.max(base, plan.settings.p95FloorMs));
    shop.metrics.counter('tracemart_probe_comparisons', 1);
  }
}

async function at(t0: number, offsetS: number, signal: AbortSignal): Promise<void> {
  await sleep(t0 + offsetS * 1000 - performance.now(), signal);
}

function phaseRows(metrics: MetricStore, plan: DegradationPlan, results: ThresholdResult[], checkoutRuns: Map<string, ExecutorResult>): PhaseRow[] {
  return plan.phases.map((p) => {
    const phase = p.name;
    return {
      phase,
      startS: p.startS,
      lengthS: p.lengthS,
      requests: metrics.count(`http_reqs{phase:${phase}}`),
      catalog: metrics.trendStats(`http_req_duration{phase:${phase},kind:catalog}`),
      catalogFailed: metrics.rateStats(`http_req_failed{phase:${phase},kind:catalog}`),
      checkouts: metrics.count(`tracemart_checkout_outcomes{phase:${phase}}`),
      checkoutSucceeded: metrics.rateStats(`tracemart_checkout_success{phase:${phase}}`)?.passes ?? 0,
      rejected503: metrics.trendStats(`http_req_duration{phase:${phase},name:POST /api/orders,status:503}`)?.count ?? 0,
      post503: metrics.trendStats(`http_req_duration{phase:${phase},name:POST /api/orders,status:503}`),
      droppedIterations: checkoutRuns.get(phase)?.dropped ?? 0,
      thresholds: results.filter((r) => new RegExp(`[{,]phase:${phase}[,}]`).test(r.metric)),
    };
  });
}

export async function runDegradation(options: ScenarioOptions): Promise<ScenarioRun> {
  const file = scenarioFileOf(options);
  const plan = degradationPlan(file, options.env ?? {});
  const { shop, metrics, log } = createShop(options, plan.poll);
  const progress = options.progress ?? (() => undefined);
  const startedAt = new Date();
  // Bounded: the phases, the graceful stop and a minute of slack for setup and teardown.
  const signal = AbortSignal.any([AbortSignal.timeout((plan.totalS + GRACEFUL_STOP_S + 60) * 1000), ...(options.signal ? [options.signal] : [])]);
  // Every phase's stream, executor, sleep and in-flight checkout listens to it.
  setMaxListeners(10_000, signal);
  const checkoutRuns = new Map<string, ExecutorResult>();
  const streams = new Map<string, StreamResult>();
  const { service, kind } = plan.fault;
  let pool: PoolUser[] = [];
  try {
    const data = await loadCatalog(shop);
    const { res } = await listFaults(shop, { kind: 'setup' });
    if (res.status !== 200) throw new Error(`setup: GET /admin/faults answered ${res.status}; is the admin API up and ADMIN_TOKEN right?`);
    // An outage left by an earlier run would spoil the baseline.
    await clearFaultsMatching(shop, service, kind);
    pool = await createUserPool(shop, plan.settings.userPool);
    progress(
      `degradation (${plan.scale}): ${plan.phases.map((p) => `${p.name}=${p.lengthS}s`).join(' ')}; fault ${plan.fault.startS}s..${plan.fault.endS}s; about ${Math.ceil(plan.totalS)}s of traffic`,
    );

    const t0 = performance.now();
    const nextRequest = catalogRequestMix(data);
    const tasks: Promise<unknown>[] = [];
    for (const [index, p] of plan.phases.entries()) {
      if (p.lengthS <= 0) continue;
      const phase = p.name;
      tasks.push(
        (async () => {
          await at(t0, p.startS, signal);
          progress(`${phase} starts (${p.lengthS}s)`);
          const stream = await runStream({
            baseUrl: shop.http.baseUrl,
            metrics,
            tags: { phase, kind: 'catalog' },
            ratePerS: plan.settings.catalogRate * CATALOG_REQUESTS_PER_ITERATION,
            durationS: p.lengthS,
            signal,
            next: () => {
              const r = nextRequest();
              const label = r.tags.journey === 'view' ? (r.name.includes('inventory') ? 'inventory' : 'product') : (r.tags.journey ?? 'catalog');
              return { ...r, checks: { [`${label}: 200`]: (a) => a.status === 200, 'response has x-trace-id': (a) => Boolean(a.headers['x-trace-id']) } };
            },
          });
          streams.set(phase, stream);
        })(),
      );
      const checkoutS = index === 0 ? p.lengthS - plan.settings.checkoutSettleS : p.lengthS;
      tasks.push(
        (async () => {
          await at(t0, p.startS, signal);
          const result = await constantArrivalRate({
            ratePerS: plan.settings.checkoutRate,
            durationS: checkoutS,
            maxVUs: MAX_CHECKOUT_VUS,
            gracefulStopS: GRACEFUL_STOP_S,
            signal,
            iteration: async ({ vu, signal: iterationSignal }) => {
              const result = await checkout(shop, sessionFor(shop, pool, vu), {
                items: randomItems(data.products),
                tags: { phase },
                expected: [202, 503],
                signal: iterationSignal,
              });
              if (result.outcome !== 'confirmed' && result.outcome !== 'out_of_stock') {
                metrics.rate('tracemart_checkout_failure_is_503', result.res.status === 503 && isGracefulRejection(result.res) && namesService(result.res, service), { phase });
              }
            },
          });
          checkoutRuns.set(phase, result);
          if (result.dropped > 0) metrics.counter('dropped_iterations', result.dropped, { phase, scenario: `${phase}_checkout` });
          for (const error of result.errors) shop.log(`${phase} checkout iteration failed: ${error}`);
        })(),
      );
    }
    tasks.push(
      (async () => {
        await at(t0, plan.fault.startS, signal);
        // Expires by itself at the end of the outage even if the clearing step never runs.
        const id = await injectFault(shop, { service, kind, durationSeconds: Math.ceil(plan.fault.endS - plan.fault.startS) }, { phase: 'control' });
        if (id) metrics.counter('tracemart_fault_actions', 1, { action: 'injected' });
        progress(`${service} ${kind} ${id ? `injected (${id})` : 'NOT injected'}`);
      })(),
      (async () => {
        await at(t0, plan.fault.endS, signal);
        await clearFaultsMatching(shop, service, kind);
        const { faults } = await listFaults(shop, { phase: 'control' });
        const left = faults.filter((f) => f.service === service && f.kind === kind);
        if (check(metrics, { [`${service} ${kind} lifted`]: left.length === 0 }, { phase: 'control' })) metrics.counter('tracemart_fault_actions', 1, { action: 'cleared' });
        progress(`${service} ${kind} lifted`);
      })(),
      runProbe(shop, data, plan, t0, { store: new MetricStore(), samples: { baseline: 0, outage: 0 } }, signal),
    );
    const settled = await Promise.allSettled(tasks);
    for (const s of settled) if (s.status === 'rejected') shop.log(`a part of the run stopped: ${s.reason instanceof Error ? s.reason.message : String(s.reason)}`);
  } finally {
    await clearFaultsMatching(shop, service, kind).catch(() => undefined);
    await shop.http.close();
  }

  const ms = (v: number | undefined) => (v === undefined ? 'n/a' : `${v.toFixed(1)}ms`);
  const base = metrics.trendStats('http_req_duration{phase:baseline,kind:catalog}')?.['p(95)'];
  const out = metrics.trendStats('http_req_duration{phase:outage,kind:catalog}')?.['p(95)'];
  const ratio = metrics.trendStats('tracemart_catalog_p95_ratio')?.max;
  const lines = [
    `phases (s): ${plan.phases.map((p) => `${p.name}=${p.lengthS}`).join(' ')}; ${plan.fault.service} ${plan.fault.kind} ${plan.fault.startS}s..${plan.fault.endS}s`,
    `catalog p95, probe: baseline ${ms(metrics.gaugeValue('tracemart_probe_baseline_p95_ms'))}, outage ${ms(metrics.gaugeValue('tracemart_probe_outage_p95_ms'))}, ratio ${ratio === undefined ? 'n/a' : ratio.toFixed(3)} (limit ${plan.settings.maxP95Ratio}, floor ${plan.settings.p95FloorMs}ms)`,
    `catalog p95, all traffic: baseline ${ms(base)}, outage ${ms(out)}${base !== undefined && out !== undefined ? `, ratio ${(out / Math.max(base, plan.settings.p95FloorMs)).toFixed(3)} (for reference)` : ''}`,
    `checkout 503 p99 during outage: ${ms(metrics.trendStats('http_req_duration{phase:outage,name:POST /api/orders,status:503}')?.['p(99)'])}`,
    `catalog streams (autocannon, paced ${[...streams.values()][0]?.ratePerS ?? 'n/a'} req/s for ${plan.settings.catalogRate} journeys/s): ${plan.phases
      .map((p) => {
        const s = streams.get(p.name);
        return s ? `${p.name} ${s.answered}/${s.offered} answered, ${s.errors} errors, ${s.late} late` : `${p.name} n/a`;
      })
      .join('; ')}`,
    `checkout arrivals (open model, ${plan.settings.checkoutRate}/s, max ${MAX_CHECKOUT_VUS} VUs): ${plan.phases
      .map((p) => {
        const r = checkoutRuns.get(p.name);
        return r ? `${p.name} ${r.started}/${r.scheduled} started, ${r.dropped} dropped, ${r.interrupted} interrupted` : `${p.name} n/a`;
      })
      .join('; ')}`,
  ];
  return finish('degradation', options, {
    metrics,
    thresholds: plan.thresholds,
    startedAt,
    settings: {
      scale: plan.scale,
      phases: plan.phases,
      fault: plan.fault,
      ...plan.settings,
      poll: plan.poll,
      catalogRequestsPerS: plan.settings.catalogRate * CATALOG_REQUESTS_PER_ITERATION,
    },
    phases: (results) => phaseRows(metrics, plan, results, checkoutRuns),
    lines,
    log,
  });
}
