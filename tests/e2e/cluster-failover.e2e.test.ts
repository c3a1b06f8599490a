import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkUntilSettled, formatReport } from '@tracemart/invariants';
import { closedLoop, HttpClient, MetricStore, shop } from '@tracemart/loadgen';
import { startStack, type NatsNode, type Stack } from '@tracemart/stack';
import { repoRoot } from '@tracemart/testing';

/**
 * Failover of the 3-node JetStream cluster under checkout load (R3 streams and KV buckets). While a few customers
 * place orders through the gateway without pause, the node leading the JetStream meta layer and the node leading the
 * ORDERS stream are SIGKILLed (one kill when one node leads both; when they differ, two of three nodes are down at
 * once and the cluster has no quorum until they are back), then restarted; FAILOVER_GAP_MS later (the issue says a
 * minute; 20 s by default keeps the test near 3 minutes) another node is killed and restarted. A probe publishes to an
 * R3 stream of its own every 50 ms, its leader moved onto the node about to be killed, and the longest time between
 * two acknowledged writes around each kill is printed: the write pause that kill caused. Once the load has stopped
 * and the system settled, every invariant must hold (packages/invariants): each accepted order terminal and none lost,
 * none charged twice, refunds exact, stock exact, one notification each, nothing left unconsumed.
 */

const envMs = (name: string, fallback: number): number => {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a number of milliseconds, not ${raw}`);
  return value;
};

/** Between the first restart and the second kill (the issue's "a minute later"), tunable. */
const FAILOVER_GAP_MS = envMs('FAILOVER_GAP_MS', 20_000);
/** Load before the first kill, and after the last restart. */
const WARMUP_MS = 8_000;
const COOLDOWN_MS = 8_000;
/** How long a killed node stays down before it is restarted. */
const DOWN_MS = 5_000;
/** Orders still PENDING this long are cancelled (SAGA_TIMEOUT) and compensated: short, so that the pauses cause some. */
const SAGA_TIMEOUT_MS = 6_000;
const SETTLE_TIMEOUT_MS = 90_000;
const CUSTOMERS = 4;
/** Between one customer's orders. */
const THINK_MS = 150;
/** Tries of one checkout with the same Idempotency-Key when there is no answer, a 5xx, a 429 or a 409 in progress. */
const CHECKOUT_TRIES = 6;
const PROBE_STREAM = 'FAILOVER_PROBE';
const PROBE_SUBJECT = 'failover.probe';
const PROBE_INTERVAL_MS = 50;
const PROBE_ACK_TIMEOUT_MS = 1_000;
/** A folder to copy every process's log into before the stack's data is deleted (to read what happened in a failed run). */
const KEEP_LOGS = process.env.FAILOVER_KEEP_LOGS;

let stack: Stack;
let dataDir: string;
let probeConnection: NatsConnection | undefined;
let http: HttpClient | undefined;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'tracemart-failover-'));
  stack = await startStack({
    root: repoRoot,
    dataDir,
    freePorts: true,
    ephemeral: true,
    natsNodes: 3,
    readyTimeoutMs: 120_000,
    env: { LOG_LEVEL: 'info' },
    envFor: { order: { SAGA_TIMEOUT_MS: String(SAGA_TIMEOUT_MS), SAGA_SWEEP_INTERVAL_MS: '1000' } },
  });
});

afterAll(async () => {
  await probeConnection?.close().catch(() => undefined);
  await http?.close();
  await stack?.stop();
  if (KEEP_LOGS && dataDir && existsSync(join(dataDir, 'logs'))) cpSync(join(dataDir, 'logs'), KEEP_LOGS, { recursive: true });
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

interface Jsz {
  meta_cluster?: { leader?: string };
  account_details?: { stream_detail?: { name: string; cluster?: { leader?: string } }[] }[];
}

async function jsz(node: NatsNode, query = ''): Promise<Jsz | undefined> {
  try {
    const response = await fetch(`${node.monitorUrl}/jsz${query}`, { signal: AbortSignal.timeout(2_000) });
    return response.ok ? ((await response.json()) as Jsz) : undefined;
  } catch {
    return undefined; // a killed node
  }
}

/** The meta leader and the ORDERS stream leader (server names), as the first node that knows both reports them. */
async function leaders(nodes: readonly NatsNode[]): Promise<{ meta: string; orders: string } | undefined> {
  for (const node of nodes) {
    const info = await jsz(node, '?streams=true');
    const meta = info?.meta_cluster?.leader;
    const orders = info?.account_details?.flatMap((a) => a.stream_detail ?? []).find((s) => s.name === 'ORDERS')?.cluster?.leader;
    if (meta && orders) return { meta, orders };
  }
  return undefined;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; attempt < 10_000; attempt++) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) break;
    await sleep(200);
  }
  throw new Error(`${what}: not within ${timeoutMs} ms`);
}

/** Every node answers /healthz (JetStream current) and the meta layer and ORDERS have leaders again. */
async function clusterHealthy(nodes: readonly NatsNode[]): Promise<{ meta: string; orders: string }> {
  return waitFor(
    'cluster healthy with meta and ORDERS leaders',
    async () => {
      for (const node of nodes) {
        const ok = await fetch(`${node.monitorUrl}/healthz`, { signal: AbortSignal.timeout(2_000) }).then(
          (r) => r.ok,
          () => false,
        );
        if (!ok) return undefined;
      }
      return leaders(nodes);
    },
    30_000,
  );
}

/**
 * Writes to an R3 stream of its own every PROBE_INTERVAL_MS and keeps the time of every acknowledged write: a gap
 * between two is a time in which JetStream took no write (a leader being elected, a lost quorum, a reconnect).
 */
class WriteProbe {
  readonly acks: number[] = [];
  failures = 0;
  private stopped = false;
  private loop: Promise<void> | undefined;

  constructor(private readonly js: JetStreamClient) {}

  /** Writes until stopped, for at most `maxMs`. */
  start(maxMs: number): void {
    const until = Date.now() + maxMs;
    this.loop = (async () => {
      for (let i = 0; i < Math.ceil(maxMs / PROBE_INTERVAL_MS) && Date.now() < until && !this.stopped; i++) {
        const started = Date.now();
        try {
          await this.js.publish(PROBE_SUBJECT, String(i), { timeout: PROBE_ACK_TIMEOUT_MS });
          this.acks.push(Date.now());
        } catch {
          this.failures += 1;
        }
        const wait = PROBE_INTERVAL_MS - (Date.now() - started);
        if (wait > 0) await sleep(wait);
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }

  /** The longest time without an acknowledged write that overlaps [from, to]. */
  longestGap(from: number, to: number): { ms: number; from: number; to: number } {
    let longest = { ms: 0, from, to: from };
    for (let i = 1; i < this.acks.length; i++) {
      const a = this.acks[i - 1] as number;
      const b = this.acks[i] as number;
      if (b < from || a > to) continue;
      if (b - a > longest.ms) longest = { ms: b - a, from: a, to: b };
    }
    return longest;
  }
}

/** Moves a stream's leadership to `server` (leader stepdown with a preferred placement, nats-server >= 2.11). */
async function moveLeader(nc: NatsConnection, jsm: JetStreamManager, stream: string, server: string): Promise<string> {
  const current = async () => (await jsm.streams.info(stream).catch(() => undefined))?.cluster?.leader;
  if ((await current()) === server) return server;
  await nc.request(`$JS.API.STREAM.LEADER.STEPDOWN.${stream}`, JSON.stringify({ placement: { preferred: server } }), { timeout: 5_000 }).catch(() => undefined);
  // When the stepdown did not land there, the probe measures whichever node leads it (printed).
  return waitFor(`${stream} leader elected`, async () => ((await current()) === server ? server : undefined), 10_000).catch(async () => (await current()) ?? 'none');
}

const signed = (ms: number): string => (ms < 0 ? `${ms}` : `+${ms}`);

interface Kill {
  label: string;
  nodes: string[];
  at: number;
  /** When every killed node was back (restarted, /healthz OK). */
  backAt: number;
  probeLeader: string;
}

describe('JetStream cluster failover under checkout load', () => {
  it('when the meta and ORDERS leaders and later another node are killed and restarted under load, then no order is lost, none charged twice, and stock is exact', async () => {
    expect(stack.natsNodes).toHaveLength(3);
    expect(stack.natsReplicas).toBe(3);
    const nodes = stack.natsNodes;
    const say = (line: string) => process.stdout.write(`[failover ${new Date().toISOString().slice(11, 23)}] ${line}\n`);

    probeConnection = await connect({ servers: nodes.map((n) => n.url), name: 'failover-probe', maxReconnectAttempts: -1, reconnectTimeWait: 100 });
    const jsm = await jetstreamManager(probeConnection);
    await jsm.streams.add({ name: PROBE_STREAM, subjects: [PROBE_SUBJECT], num_replicas: 3, max_msgs: 20_000 });
    const probe = new WriteProbe(jetstream(probeConnection));

    const metrics = new MetricStore();
    const client = new HttpClient(stack.gatewayUrl, metrics);
    http = client;
    const customer: shop.Shop = { http: client, metrics, adminToken: stack.adminToken, poll: { tries: 0, intervalS: 0, inProgressRetries: 0 }, log: () => undefined };
    const catalog = await shop.loadCatalog(customer);
    const pool = await shop.createUserPool(customer, CUSTOMERS);

    /** The order ids the gateway answered 202 with; every answer counted by phase and status. */
    const accepted = new Set<string>();
    const answers = new Map<string, number>();
    let phase = 'warm-up';
    const count = (status: number) => answers.set(`${phase} ${status}`, (answers.get(`${phase} ${status}`) ?? 0) + 1);

    const stopLoad = new AbortController();
    const load = closedLoop({
      vus: CUSTOMERS,
      // Bounds only: the load is stopped by `stopLoad` once the kills are done.
      durationS: 300,
      gracefulStopS: 15,
      maxIterationsPerVu: 5_000,
      signal: stopLoad.signal,
      iteration: async ({ vu, signal }) => {
        const session = shop.sessionFor(customer, pool, vu);
        const body = { items: shop.randomItems(catalog.products), paymentToken: Math.random() < 0.1 ? 'tok_chargeDeclined' : 'tok_visa' };
        const id = await shop.checkoutWithRetries(client, session.token, body, { tries: CHECKOUT_TRIES, signal, onAnswer: count });
        if (id) accepted.add(id);
        await sleep(THINK_MS, undefined, { signal });
      },
    });
    probe.start(300_000 + FAILOVER_GAP_MS);

    const kills: Kill[] = [];
    /** SIGKILLs `victims` (the probe stream led by the first), keeps them down DOWN_MS, restarts them and waits for a healthy cluster. */
    const killAndRestart = async (label: string, victims: string[]): Promise<void> => {
      const probeLeader = await moveLeader(probeConnection as NatsConnection, jsm, PROBE_STREAM, victims[0] as string);
      phase = `${label} down`;
      const at = Date.now();
      say(`${label}: SIGKILL ${victims.join(' and ')} (probe stream led by ${probeLeader})`);
      // Held down (no supervisor restart): they stay down DOWN_MS, then come back here.
      await Promise.all(victims.map((name) => stack.kill(name, 'SIGKILL', { restart: false })));
      await sleep(DOWN_MS);
      for (const name of victims) await stack.restart(name);
      const after = await clusterHealthy(nodes);
      const backAt = Date.now();
      kills.push({ label, nodes: victims, at, backAt, probeLeader });
      say(`${label}: ${victims.join(' and ')} back after ${backAt - at} ms; meta leader ${after.meta}, ORDERS leader ${after.orders}`);
    };

    let warmupDone = Date.now();
    try {
      await sleep(WARMUP_MS);
      warmupDone = Date.now();
      const first = await clusterHealthy(nodes);
      say(`meta leader ${first.meta}, ORDERS leader ${first.orders}`);
      // The ORDERS leader first: the probe stream is moved onto it, so the probe's pause is the one ORDERS saw.
      const firstVictims = [...new Set([first.orders, first.meta])];
      await killAndRestart('kill 1', firstVictims);

      phase = 'gap';
      await sleep(FAILOVER_GAP_MS);
      const now = await clusterHealthy(nodes);
      // Another node than the first kill's, preferably one that leads something now (a failover, not a bystander).
      const others = nodes.map((n) => n.name).filter((name) => !firstVictims.includes(name));
      const second = others.find((name) => name === now.orders) ?? others.find((name) => name === now.meta) ?? (others[0] as string);
      await killAndRestart('kill 2', [second]);

      phase = 'after';
      await sleep(COOLDOWN_MS);
    } finally {
      stopLoad.abort();
      const result = await load;
      await probe.stop();
      say(
        `load: ${result.completed} checkouts completed, ${result.failed} failed, ${result.interrupted} interrupted${result.errors.length ? `: ${result.errors.join('; ')}` : ''}`,
      );
    }

    // Before any kill or leader move: what the probe sees on a healthy cluster under the same load.
    const baseline = probe.longestGap(warmupDone - WARMUP_MS + 2_000, warmupDone);
    say(`probe: ${probe.acks.length} writes acknowledged, ${probe.failures} failed or timed out; longest gap before any kill ${baseline.ms} ms`);
    for (const kill of kills) {
      const gap = probe.longestGap(kill.at, kill.backAt + 2_000);
      say(
        `WRITE PAUSE ${kill.label} (${kill.nodes.join(' + ')}${kill.nodes.length > 1 ? ', quorum lost' : ''}; probe leader ${kill.probeLeader}): ` +
          `${gap.ms} ms, from ${signed(gap.from - kill.at)} ms to ${signed(gap.to - kill.at)} ms after the kill (nodes back after ${kill.backAt - kill.at} ms)`,
      );
    }
    const latency = metrics.trendStats('http_req_duration{name:POST /api/orders}');
    say(`checkout answers by phase: ${[...answers.entries()].map(([k, n]) => `${k}: ${n}`).join(', ')}`);
    say(`checkout latency: p95 ${latency?.['p(95)'].toFixed(0)} ms, max ${latency?.max.toFixed(0)} ms; ${accepted.size} orders accepted (202)`);

    expect(kills.map((k) => k.label)).toEqual(['kill 1', 'kill 2']);
    expect(accepted.size).toBeGreaterThan(50);
    // Orders kept being taken after the cluster recovered.
    expect(answers.get('after 202') ?? 0).toBeGreaterThan(0);

    // Settled: the sagas finish (or time out and are compensated) and the consumers catch up.
    const results = await checkUntilSettled({ mongoUrl: stack.mongoUrl, natsUrl: stack.natsUrl, acceptedOrderIds: [...accepted] }, SETTLE_TIMEOUT_MS);
    say(`invariants:\n${formatReport(results)}`);
    expect(results.filter((r) => !r.ok)).toEqual([]);
  }, 420_000);
});
