import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PARTITIONS, partitionOf } from '@tracemart/contracts';
import { stockChanges } from '@tracemart/inventory-service/stock-ledger';
import { checkUntilSettled, formatReport } from '@tracemart/invariants';
import { closedLoop, HttpClient, json, MetricStore, shop } from '@tracemart/loadgen';
import { startStack, type Instance, type Stack } from '@tracemart/stack';
import { eventually, repoRoot } from '@tracemart/testing';

/**
 * Sharded processing across instances, under checkout load through the gateway: two order instances split the saga's
 * partitions (NATS KV leases), two inventory instances sell the same few, scarce products. One order instance is
 * SIGKILLed mid-load: the survivor must own all partitions within the lease TTL, no order may stay PENDING past the
 * saga timeout, each order's events must be one gap-free sequence in the event store, and stock must come out exact
 * (never oversold, initial = available + reserved + sold): every invariant of packages/invariants.
 */
const LEASE_TTL_MS = 3_000;
const SAGA_TIMEOUT_MS = 8_000;
const SWEEP_MS = 500;
/**
 * A sweep's own time under this test's load, on two cores (2.3-3.1 s measured: finding the stalled orders 0.2-0.6 s,
 * their partitions' fences 0.9-1.0 s, cancelling them 1.1-1.6 s). An order that falls due just after a sweep began
 * waits for that sweep and the next.
 */
const SWEEP_UNDER_LOAD_MS = 4_000;
const CUSTOMERS = 6;
const WARMUP_MS = 6_000;
const AFTER_KILL_MS = 12_000;
const SETTLE_TIMEOUT_MS = 90_000;
/** The products everyone buys: the three with the least stock. */
const HOT_PRODUCTS = 3;

let stack: Stack;
let dataDir: string;
let http: HttpClient | undefined;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'tracemart-partitions-'));
  stack = await startStack({
    root: repoRoot,
    dataDir,
    freePorts: true,
    ephemeral: true,
    instances: { order: 2, inventory: 2 },
    readyTimeoutMs: 120_000,
    env: { LOG_LEVEL: 'info', PARTITION_LEASE_TTL_MS: String(LEASE_TTL_MS) },
    envFor: { order: { SAGA_TIMEOUT_MS: String(SAGA_TIMEOUT_MS), SAGA_SWEEP_INTERVAL_MS: String(SWEEP_MS) } },
  });
});

afterAll(async () => {
  await http?.close();
  await stack?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

const say = (line: string) => process.stdout.write(`[partitions ${new Date().toISOString().slice(11, 23)}] ${line}\n`);

async function ownedBy(instance: Instance): Promise<number[] | undefined> {
  const res = await fetch(`${instance.url}/admin/partitions`, { headers: { 'x-admin-token': stack.adminToken }, signal: AbortSignal.timeout(2_000) }).catch(() => undefined);
  if (!res?.ok) return undefined;
  return ((await res.json()) as { owned: { partition: number }[] }).owned.map((o) => o.partition);
}

/** Waits until the instances own every partition between them, each its fair share. */
async function split(instances: readonly Instance[]): Promise<number[][]> {
  const share = Math.ceil(PARTITIONS / instances.length);
  return eventually(
    async () => Promise.all(instances.map(async (i) => (await ownedBy(i)) ?? [])),
    (owned) => owned.flat().length === PARTITIONS && new Set(owned.flat()).size === PARTITIONS && owned.every((o) => o.length <= share),
    20_000,
  );
}

interface StoredEvent {
  streamId: string;
  version: number;
  type: string;
  data: { reason?: string };
  occurredAt: Date;
}

describe('partitioned saga and stock across two instances each', () => {
  it('when one of two order instances is killed under load on a few scarce products, then its partitions move within a few lease TTLs, no order stays pending, event order holds and stock is exact', async () => {
    const orderInstances = stack.instances.order;
    const inventoryInstances = stack.instances.inventory;
    expect(orderInstances.map((i) => i.name)).toEqual(['order', 'order-2']);
    const [orderSplit, inventorySplit] = [await split(orderInstances), await split(inventoryInstances)];
    say(`order partitions ${JSON.stringify(orderSplit)}, inventory partitions ${JSON.stringify(inventorySplit)}`);

    const metrics = new MetricStore();
    const client = new HttpClient(stack.gatewayUrl, metrics);
    http = client;
    const customer: shop.Shop = { http: client, metrics, adminToken: stack.adminToken, poll: { tries: 0, intervalS: 0, inProgressRetries: 0 }, log: () => undefined };
    const catalog = await shop.loadCatalog(customer);
    const pool = await shop.createUserPool(customer, CUSTOMERS);
    const stockOf = async (id: string) => json<{ available: number }>(await client.get(`/api/inventory/${id}`, { name: 'stock', kind: 'browse' }))?.available ?? 0;
    const withStock = await Promise.all(catalog.products.map(async (p) => ({ product: p, available: await stockOf(p.id) })));
    const hot = withStock.sort((a, b) => a.available - b.available).slice(0, HOT_PRODUCTS);
    say(`hot products: ${hot.map((h) => `${h.product.id} (${h.available} units)`).join(', ')}`);

    const accepted = new Set<string>();
    const stopLoad = new AbortController();
    const load = closedLoop({
      vus: CUSTOMERS,
      durationS: 120,
      gracefulStopS: 15,
      maxIterationsPerVu: 2_000,
      signal: stopLoad.signal,
      iteration: async ({ vu, signal }) => {
        const session = shop.sessionFor(customer, pool, vu);
        const id = await shop.checkoutWithRetries(client, session.token, { items: shop.randomItems(hot.map((h) => h.product)), paymentToken: 'tok_visa' }, { tries: 6, signal });
        if (id) accepted.add(id);
        await sleep(100, undefined, { signal });
      },
    });

    let takeoverMs = -1;
    let killedAt = 0;
    try {
      await sleep(WARMUP_MS);
      const [survivor, victim] = orderInstances as [Instance, Instance];
      killedAt = Date.now();
      say(`SIGKILL ${victim.name} (owned ${JSON.stringify(await ownedBy(victim))}) with ${accepted.size} orders accepted so far`);
      // Held down (no supervisor restart): the survivor must take over and keep every partition.
      await stack.kill(victim.name, 'SIGKILL', { restart: false });
      await eventually(
        async () => (await ownedBy(survivor))?.length ?? 0,
        (n) => n === PARTITIONS,
        20_000,
      );
      takeoverMs = Date.now() - killedAt;
      say(`${survivor.name} owns all ${PARTITIONS} partitions ${takeoverMs} ms after the kill (lease TTL ${LEASE_TTL_MS} ms)`);
      await sleep(AFTER_KILL_MS);
    } finally {
      stopLoad.abort();
      const result = await load;
      say(`load: ${result.completed} checkouts, ${result.failed} failed, ${accepted.size} orders accepted`);
    }
    // The victim's last renewal and heartbeat came up to one round (TTL/3) before the kill and live one TTL after it; the
    // survivor sees them stale at its next rebalance (another TTL/3) and takes the leases over: about 4 s on an idle
    // machine (4.0 s measured), 3.9-6.3 s under this test's load (the members read and the lease writes take 0.5-1.5 s
    // each then: the `partitions rebalance` trace and the `tickMs` of the log line show it). The bound is a few TTLs: it
    // still fails if the survivor does not take the leases over by itself (the victim stays down).
    expect(takeoverMs).toBeGreaterThan(0);
    expect(takeoverMs).toBeLessThan(5 * LEASE_TTL_MS);
    expect(accepted.size).toBeGreaterThan(30);

    const acceptedOrderIds = [...accepted];
    const results = await checkUntilSettled({ mongoUrl: stack.mongoUrl, natsUrl: stack.natsUrl, acceptedOrderIds }, SETTLE_TIMEOUT_MS);
    say(`invariants:\n${formatReport(results)}`);
    expect(results.filter((r) => !r.ok)).toEqual([]);

    const mongo = await MongoClient.connect(stack.mongoUrl);
    try {
      // No order stayed PENDING past the saga timeout. An order whose next event was in the killed instance's hands
      // (redelivered only after the ack wait, 30 s) is cancelled by the survivor's sweeper once it owns the partition:
      // each order ended by the later of one timeout after it was placed and the takeover, plus the sweeps it waited for.
      const events = await mongo
        .db('tracemart_order')
        .collection<StoredEvent>('order_events')
        .find({ streamId: { $in: acceptedOrderIds } })
        .toArray();
      const byOrder = new Map<string, StoredEvent[]>();
      for (const event of events) byOrder.set(event.streamId, [...(byOrder.get(event.streamId) ?? []), event]);
      const tookOverAt = killedAt + takeoverMs;
      const orders = [...byOrder.values()].map((stream) => {
        const sorted = stream.sort((a, b) => a.version - b.version);
        const placedAt = sorted[0]?.occurredAt.getTime() ?? 0;
        const end = sorted.at(-1);
        const endedAt = end?.occurredAt.getTime() ?? 0;
        return { id: end?.streamId, placedAt, endedAt, reason: end?.data.reason, late: endedAt - Math.max(placedAt + SAGA_TIMEOUT_MS, tookOverAt) };
      });
      const slowest = Math.max(...orders.map((o) => o.endedAt - o.placedAt));
      const latest = Math.max(...orders.map((o) => o.late));
      const outOfStock = orders.filter((o) => o.reason === 'OUT_OF_STOCK').length;
      const timedOut = orders.filter((o) => o.reason === 'SAGA_TIMEOUT');
      say(`slowest order: terminal ${slowest} ms after it was placed; ${outOfStock} cancelled OUT_OF_STOCK, ${timedOut.length} SAGA_TIMEOUT`);
      for (const o of timedOut) say(`  timed out: ${o.id} p${partitionOf(o.id ?? '')} placed ${o.placedAt - killedAt} ms after the kill, ended ${o.late} ms after it was due`);
      // The stock was scarce: the hot products sold out and later orders were turned away.
      expect(outOfStock).toBeGreaterThan(0);
      expect(latest).toBeLessThan(SWEEP_MS + 2 * SWEEP_UNDER_LOAD_MS);
      // Orders of the killed instance's partitions were among them.
      const victimPartitions = new Set(orderSplit[1]);
      expect(acceptedOrderIds.filter((id) => victimPartitions.has(partitionOf(id))).length).toBeGreaterThan(0);

      // The scarce products sold out, and both inventory instances wrote their stock (different orders, one product).
      const writers = new Set<string>();
      for (const { product } of hot) for (const change of await stockChanges(mongo.db('tracemart_inventory'), product.id)) if (change.writer) writers.add(change.writer);
      say(`stock written by ${[...writers].join(', ')}; left: ${(await Promise.all(hot.map((h) => stockOf(h.product.id)))).join(', ')}`);
      expect([...writers].sort()).toEqual(expect.arrayContaining(['inventory-1', 'inventory-2']));
    } finally {
      await mongo.close();
    }
  }, 300_000);
});
