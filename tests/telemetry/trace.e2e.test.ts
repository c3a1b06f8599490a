import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, signUp, type ApiClient, eventually, repoRoot } from '@tracemart/testing';
import { SpanKind, StatusCode, startOtlpReceiver, startStack, type OtlpReceiver, type ReceivedSpan, type Stack } from '@tracemart/stack';

/**
 * One order's telemetry as the OpenTelemetry Collector would receive it: every process exports OTLP/HTTP
 * to an in-test receiver, and the assertions read the span tree and the log lines of that one order.
 */

interface Order {
  id: string;
  status: 'PENDING' | 'CONFIRMED' | 'CANCELLED';
  totalCents: number;
  reason?: string;
}
interface Product {
  id: string;
  priceCents: number;
}
interface PlacedOrder {
  order: Order;
  traceId: string;
}

let receiver: OtlpReceiver;
let stack: Stack;
let dataDir: string;
let shopper: Awaited<ReturnType<typeof signUp>>;
let jwt: string;
let confirmed: PlacedOrder;
let declined: PlacedOrder;

const spansOf = (traceId: string): ReceivedSpan[] => receiver.spans.filter((s) => s.traceId === traceId);
const describeSpan = (s: ReceivedSpan): string => `${s.service}: ${s.name} (kind ${s.kind}, span ${s.spanId}, parent ${s.parentSpanId ?? '-'})`;

async function placeAndSettle(client: ApiClient, productId: string, paymentToken: string): Promise<PlacedOrder> {
  const placed = await client.post<Order>('/api/orders', { items: [{ productId, quantity: 1 }], paymentToken });
  expect(placed.status).toBe(202);
  const traceId = placed.headers.get('x-trace-id') ?? '';
  expect(traceId).toMatch(/^[0-9a-f]{32}$/);
  const order = await eventually(
    async () => (await client.get<Order>(`/api/orders/${placed.body.id}`)).body,
    (o) => o.status !== 'PENDING',
    30_000,
  );
  return { order, traceId };
}

/** PRODUCER spans of an event (by message id) that an earlier PRODUCER span of the trace already published. */
function republished(spans: readonly ReceivedSpan[]): ReceivedSpan[] {
  const seen = new Set<string>();
  return spans.filter((s) => {
    if (s.kind !== SpanKind.PRODUCER) return false;
    const id = String(s.attributes['messaging.message.id'] ?? '');
    if (!seen.has(id)) {
      seen.add(id);
      return false;
    }
    return true;
  });
}

/**
 * Batches leave each process every 200-500 ms; the trace is complete once the last hop (the
 * notification service handling the outcome) has arrived and no new unit of work came for 2.5 s.
 * Republications of already published events are not new work (see the "published once" case).
 */
async function settledTrace(traceId: string, lastHop: string): Promise<ReceivedSpan[]> {
  await eventually(
    async () => spansOf(traceId),
    (spans) => spans.some((s) => s.service === 'notification' && s.name === lastHop),
    30_000,
  );
  const work = () => {
    const spans = spansOf(traceId);
    const again = new Set(republished(spans));
    return spans.filter((s) => !again.has(s));
  };
  let seen = new Set<string>();
  const deadline = Date.now() + 30_000;
  for (;;) {
    await new Promise((r) => setTimeout(r, 2_500));
    const now = work();
    const arrived = now.filter((s) => !seen.has(s.spanId)).map(describeSpan);
    seen = new Set(now.map((s) => s.spanId));
    if (arrived.length === 0) break;
    if (Date.now() > deadline) throw new Error(`trace ${traceId} still growing after 30 s; last arrivals:\n${arrived.slice(0, 40).join('\n')}`);
  }
  return spansOf(traceId);
}

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  dataDir = mkdtempSync(join(tmpdir(), 'tracemart-telemetry-trace-'));
  stack = await startStack({
    root: repoRoot,
    dataDir,
    freePorts: true,
    prometheus: false,
    readyTimeoutMs: 120_000,
    env: {
      LOG_LEVEL: 'info',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_BSP_SCHEDULE_DELAY: '200',
      OTEL_BLRP_SCHEDULE_DELAY: '200',
    },
  });
  const api = apiClient(stack.gatewayUrl);
  shopper = await signUp(api, 'Tracy');
  const login = await api.post<{ token: string }>('/api/users/login', { email: shopper.email, password: shopper.password });
  jwt = login.body.token;
  const products = (await api.get<{ items: Product[] }>('/api/products?limit=20')).body.items;
  confirmed = await placeAndSettle(shopper.client, (products[1] as Product).id, 'tok_visa');
  declined = await placeAndSettle(shopper.client, (products[2] as Product).id, 'tok_chargeDeclined');
});

afterAll(async () => {
  await stack?.stop();
  await receiver?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('the trace of one confirmed order', () => {
  let spans: ReceivedSpan[];
  beforeAll(async () => {
    expect(confirmed.order.status).toBe('CONFIRMED');
    spans = await settledTrace(confirmed.traceId, 'process orders.confirmed');
  });

  it('when exported, then it arrives as OTLP/JSON and every request decodes', () => {
    expect(receiver.rejected).toEqual([]);
    expect([...(receiver.contentTypes.get('/v1/traces') ?? [])]).toEqual(['application/json']);
    expect([...(receiver.contentTypes.get('/v1/logs') ?? [])]).toEqual(['application/json']);
  });

  it('when the order is served, then gateway, order, inventory, payment and notification all add spans to one trace', () => {
    const services = new Set(spans.map((s) => s.service));
    for (const name of ['gateway', 'order', 'inventory', 'payment', 'notification']) expect(services, name).toContain(name);
  });

  it('when a message crosses NATS, then each CONSUMER span is the child of the PRODUCER span of its subject', () => {
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const consumers = spans.filter((s) => s.kind === SpanKind.CONSUMER);
    // The confirmed saga: orders.placed -> inventory.reserved -> payments.charged -> orders.confirmed.
    const hops = new Set(consumers.map((s) => s.name));
    for (const subject of ['orders.placed', 'inventory.reserved', 'payments.charged', 'orders.confirmed']) expect(hops, subject).toContain(`process ${subject}`);
    for (const consumer of consumers) {
      const subject = consumer.name.replace(/^process /, '');
      expect(consumer.attributes, describeSpan(consumer)).toMatchObject({ 'messaging.system': 'nats', 'messaging.destination.name': subject });
      const parent = consumer.parentSpanId ? byId.get(consumer.parentSpanId) : undefined;
      expect(parent && describeSpan(parent), `parent of ${describeSpan(consumer)}`).toBeDefined();
      expect(parent?.kind, describeSpan(consumer)).toBe(SpanKind.PRODUCER);
      expect(parent?.name).toBe(`publish ${subject}`);
      expect(parent?.attributes).toMatchObject({ 'messaging.system': 'nats', 'messaging.destination.name': subject });
    }
  });

  it('when the spans are assembled, then there is one root (the gateway request) and no orphan', () => {
    const ids = new Set(spans.map((s) => s.spanId));
    const orphans = spans.filter((s) => s.parentSpanId !== undefined && !ids.has(s.parentSpanId));
    expect(orphans.map(describeSpan)).toEqual([]);
    const roots = spans.filter((s) => s.parentSpanId === undefined);
    expect(roots.map(describeSpan)).toHaveLength(1);
    expect(roots[0]).toMatchObject({ service: 'gateway', kind: SpanKind.SERVER });
    expect(roots[0]?.attributes).toMatchObject({ 'http.request.method': 'POST', 'http.route': '/api/orders' });
    expect(new Set(spans.map((s) => s.spanId)).size).toBe(spans.length);
  });

  it('when the saga is over, then each event was published once (the outbox relay does not republish it)', () => {
    // The relay's sweep publishes what is still in an outbox; an event that stays there after its
    // publication is republished every sweep (deduplicated by JetStream only within its window), and
    // its trace keeps growing by one PRODUCER span per event per second.
    const again = republished(spansOf(confirmed.traceId));
    const counts: Record<string, number> = {};
    for (const s of again) counts[`${s.service}: ${s.name}`] = (counts[`${s.service}: ${s.name}`] ?? 0) + 1;
    expect(counts, `republished PRODUCER spans (JetStream duplicate=${String(again[0]?.attributes['tracemart.messaging.duplicate'])})`).toEqual({});
  });

  it('when services touch MongoDB and serve HTTP, then those spans are in the trace too', () => {
    const mongo = spans.filter((s) => s.attributes['db.system'] === 'mongodb' || s.attributes['db.system.name'] === 'mongodb');
    for (const service of ['order', 'inventory', 'payment'])
      expect(
        mongo.map((s) => s.service),
        `mongodb spans of ${service}`,
      ).toContain(service);
    const servers = spans.filter((s) => s.kind === SpanKind.SERVER);
    // The client's POST at the gateway, the order service behind it, and the order service pricing items
    // through the gateway's catalog route to the catalog service.
    expect(servers.map((s) => s.service)).toEqual(expect.arrayContaining(['gateway', 'order', 'catalog']));
    for (const server of servers) expect(server.attributes['http.response.status_code'], describeSpan(server)).toEqual(expect.any(Number));
    expect(spans.filter((s) => s.status.code === StatusCode.ERROR).map(describeSpan)).toEqual([]);
  });
});

describe('the trace of one declined order', () => {
  let spans: ReceivedSpan[];
  beforeAll(async () => {
    expect(declined.order).toMatchObject({ status: 'CANCELLED', reason: 'PAYMENT_DECLINED' });
    spans = await settledTrace(declined.traceId, 'process orders.cancelled');
  });

  it('when the card is declined, then the decline and the compensation are hops of the same trace', () => {
    const names = spans.map((s) => s.name);
    for (const subject of ['orders.placed', 'inventory.reserved', 'payments.declined', 'orders.cancelled']) {
      expect(names, subject).toContain(`publish ${subject}`);
      expect(names, subject).toContain(`process ${subject}`);
    }
    const decline = spans.find((s) => s.name === 'publish payments.declined');
    expect(decline?.service).toBe('payment');
    const ids = new Set(spans.map((s) => s.spanId));
    expect(spans.filter((s) => s.parentSpanId !== undefined && !ids.has(s.parentSpanId)).map(describeSpan)).toEqual([]);
  });

  it('when the card is declined, then the call to the card processor is an ERROR span in payment, and nothing else is', () => {
    const errors = spans.filter((s) => s.status.code === StatusCode.ERROR);
    expect(errors.map((s) => [s.service, s.name, s.attributes['error.type']])).toEqual([['payment', 'charge card', 'card_declined']]);
  });
});

describe('the log lines of one order', () => {
  type Line = { process: string; raw: string; json: Record<string, unknown> | undefined };
  const allLines = (): Line[] =>
    [...stack.processes.values()].flatMap((p) =>
      p.lines.map((raw) => {
        let json: Record<string, unknown> | undefined;
        try {
          json = JSON.parse(raw) as Record<string, unknown>;
        } catch {
          json = undefined;
        }
        return { process: p.name, raw, json };
      }),
    );

  it('when a line mentions the order, then it carries the trace id of the request that placed it', async () => {
    // Give the last consumers time to log after the notification span was exported.
    await new Promise((r) => setTimeout(r, 500));
    for (const { order, traceId } of [confirmed, declined]) {
      const mentioning = allLines().filter((l) => l.raw.includes(order.id));
      expect(mentioning.length, `lines mentioning ${order.id}`).toBeGreaterThan(0);
      const services = new Set(mentioning.map((l) => l.process));
      for (const service of ['order', 'payment']) expect(services, `a ${service} line mentioning ${order.id}`).toContain(service);
      const wrong = mentioning.filter((l) => l.json?.trace_id !== traceId).map((l) => `${l.process}: ${l.raw}`);
      expect(wrong, `lines mentioning ${order.id} without trace_id ${traceId}`).toEqual([]);
    }
  });

  it('when any process logs, then no line holds the password, the JWT or a payment token', () => {
    const secrets = { password: shopper.password, jwt, tok_visa: 'tok_visa', tok_chargeDeclined: 'tok_chargeDeclined' };
    expect(jwt.length).toBeGreaterThan(20);
    const lines = allLines();
    expect(lines.length).toBeGreaterThan(20);
    for (const [what, secret] of Object.entries(secrets)) {
      const leaking = lines.filter((l) => l.raw.includes(secret)).map((l) => `${l.process}: ${l.raw.replaceAll(secret, `<${what}>`)}`);
      expect(leaking, `lines containing the ${what}`).toEqual([]);
    }
  });

  it('when logs are exported, then OTLP log records carry the order trace id and no secret', () => {
    for (const { traceId } of [confirmed, declined]) {
      const records = receiver.logs.filter((r) => r.traceId === traceId);
      expect(records.length, `OTLP log records of trace ${traceId}`).toBeGreaterThan(0);
      expect(new Set(records.map((r) => r.service))).toContain('order');
    }
    const exported = JSON.stringify(receiver.logs);
    for (const secret of [shopper.password, jwt, 'tok_visa', 'tok_chargeDeclined']) expect(exported.includes(secret)).toBe(false);
  });
});

describe('the trace of a partition rebalance', () => {
  it('when the order service takes its partitions, then that is a trace of its own, with a span per lease acquired and per partition started, inside the rebalance', () => {
    const roots = receiver.spans.filter((s) => s.service === 'order' && s.name === 'partitions rebalance');
    expect(roots.length).toBeGreaterThan(0);
    const started = new Set<number>();
    for (const root of roots) {
      expect(root.parentSpanId).toBeUndefined();
      const steps = receiver.spans.filter((s) => s.traceId === root.traceId && s.parentSpanId === root.spanId);
      expect(steps.map((s) => s.name)).toContain('read members');
      for (const step of steps) {
        expect(step.startMs).toBeGreaterThanOrEqual(root.startMs);
        expect(step.endMs).toBeLessThanOrEqual(root.endMs);
        if (step.name === 'start partition') started.add(Number(step.attributes['tracemart.partition']));
      }
    }
    // One order instance: it took every partition, and each start is a span with its partition.
    expect([...started].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });
});
