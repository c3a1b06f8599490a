import { describe, expect, it } from 'vitest';
import { sagaBreakdown, sagaTraceStats, type TraceSpan } from './saga-traces';

let ids = 0;
function span(
  service: string,
  name: string,
  kind: number,
  startMs: number,
  endMs: number,
  parent?: TraceSpan,
  attributes: Record<string, unknown> = {},
  traceId = 't1',
): TraceSpan {
  ids += 1;
  return { traceId, spanId: `s${ids}`, parentSpanId: parent?.spanId, name, kind, service, startMs, endMs, attributes };
}
const db = { 'db.system': 'mongodb' };
const post = { 'http.request.method': 'POST' };
const get = { 'http.request.method': 'GET' };

/** One confirmed saga from 2 ms to 110 ms, plus a projector branch that must not count. */
function trace(traceId = 't1', stretch = 1): TraceSpan[] {
  const t = (ms: number) => ms * stretch;
  const gw = span('gateway', 'POST /api/orders', 2, t(0), t(30), undefined, post, traceId);
  const order = span('order', 'POST /orders', 2, t(2), t(28), gw, post, traceId);
  const pricing = span('order', 'GET', 3, t(4), t(10), order, get, traceId);
  const gwPricing = span('gateway', 'GET /api/products/:id', 2, t(5), t(9), pricing, get, traceId);
  const catalog = span('catalog', 'GET /products/:id', 2, t(6), t(8), gwPricing, get, traceId);
  const placed = span('order', 'publish orders.placed', 4, t(21), t(22), order, {}, traceId);
  const inventory = span('inventory', 'process orders.placed', 5, t(30), t(50), placed, {}, traceId);
  const reserved = span('inventory', 'publish inventory.reserved', 4, t(46), t(47), inventory, {}, traceId);
  const payment = span('payment', 'process inventory.reserved', 5, t(55), t(90), reserved, {}, traceId);
  const charged = span('payment', 'publish payments.charged', 4, t(85), t(86), payment, {}, traceId);
  const confirm = span('order', 'process payments.charged', 5, t(95), t(110), charged, {}, traceId);
  const projector = span('order', 'process orders.placed', 5, t(25), t(70), placed, {}, traceId);
  return [
    gw,
    order,
    pricing,
    gwPricing,
    catalog,
    span('catalog', 'find', 3, t(6.5), t(7.5), catalog, db, traceId),
    span('order', 'insert', 3, t(12), t(20), order, db, traceId),
    placed,
    inventory,
    span('inventory', 'update', 3, t(32), t(45), inventory, db, traceId),
    reserved,
    payment,
    span('payment', 'charge card', 3, t(60), t(80), payment, {}, traceId),
    charged,
    confirm,
    span('order', 'update', 3, t(96), t(105), confirm, db, traceId),
    projector,
    span('order', 'update', 3, t(26), t(69), projector, db, traceId),
  ];
}

/** The notification consumer of `payments.charged` after the confirmation: two database calls off the causal path. */
function withNotification(spans: TraceSpan[]): TraceSpan[] {
  const charged = spans.find((s) => s.name === 'publish payments.charged');
  const traceId = charged?.traceId ?? 't1';
  const notify = span('notification', 'process payments.charged', 5, 100, 130, charged, {}, traceId);
  return [...spans, notify, span('notification', 'find', 3, 101, 104, notify, db, traceId), span('notification', 'insert', 3, 105, 112, notify, db, traceId)];
}

describe('saga breakdown from a trace', () => {
  it('when a saga is traced, then each instant of it is charged to one category along the causal path only', () => {
    const saga = sagaBreakdown(trace());
    expect(saga).toBeDefined();
    expect(saga?.sagaMs).toBe(108);
    expect(saga?.ms).toEqual({
      'database (FerretDB)': 31, // 1 (catalog, inside pricing) + 8 + 13 + 9; the projector's 43 ms do not count
      'card processor (simulated)': 20,
      'HTTP calls between services': 5, // the pricing call less the catalog's database time
      'service code': 40,
      'between spans (outbox relay, NATS delivery, queueing)': 12, // 28-30, 50-55, 90-95
    });
    expect(saga?.dbCalls).toBe(4);
    expect(saga?.hops).toBe(3);
  });

  it('when other consumers also query the database, then the whole trace counts them, per service, and the causal path does not', () => {
    const spans = withNotification(trace());
    const saga = sagaBreakdown(spans);
    expect(saga?.dbCalls).toBe(4);
    expect(saga?.dbCallsInTrace).toBe(7); // the 4 on the path, the projector's update, the notification's find and insert
    expect(saga?.dbCallsByService).toEqual({
      catalog: { trace: 1, path: 1 },
      order: { trace: 3, path: 2 },
      inventory: { trace: 1, path: 1 },
      notification: { trace: 2, path: 0 },
    });
  });

  it('when a trace has spans that are not database calls, then they are not counted as such', () => {
    const spans = trace().map((s) => (s.service === 'inventory' && s.name === 'update' ? { ...s, attributes: { 'db.system': 'postgresql' } } : s));
    expect(sagaBreakdown(spans)?.dbCallsInTrace).toBe(4);
    expect(sagaBreakdown(spans)?.dbCallsByService.inventory).toBeUndefined();
    const semconv = trace().map((s) => (s.attributes['db.system'] ? { ...s, attributes: { 'db.system.name': 'mongodb' } } : s));
    expect(sagaBreakdown(semconv)?.dbCallsInTrace).toBe(5);
  });

  it('when a trace has no confirmation, then it is not a saga', () => {
    expect(sagaBreakdown(trace().filter((s) => s.name !== 'process payments.charged'))).toBeUndefined();
  });

  it('when several sagas are traced, then the medians and the slowest tenth are reported', () => {
    const spans = [...trace('a', 1), ...trace('b', 2), ...trace('c', 3)];
    const stats = sagaTraceStats(spans);
    expect(stats?.sagas).toBe(3);
    expect(stats?.median.sagaMs).toBe(216);
    expect(stats?.median.ms['card processor (simulated)']).toBe(40);
    expect(stats?.slowest).toMatchObject({ sagas: 1, sagaMs: 324 });
  });

  it('when only some traces have a notification, then the whole-trace and per-service database calls are medians over every saga, absent as 0', () => {
    const spans = [...withNotification(trace('a', 1)), ...withNotification(trace('b', 2)), ...trace('c', 3)];
    const stats = sagaTraceStats(spans);
    expect(stats?.median.dbCalls).toBe(4);
    expect(stats?.median.dbCallsInTrace).toBe(7); // 7, 7, 5
    expect(stats?.slowest.dbCallsInTrace).toBe(5); // c is the slowest
    expect(stats?.dbCallsByService).toEqual([
      { service: 'order', trace: 3, path: 2 },
      { service: 'notification', trace: 2, path: 0 },
      { service: 'catalog', trace: 1, path: 1 },
      { service: 'inventory', trace: 1, path: 1 },
    ]);
    const withoutNotification = sagaTraceStats([...withNotification(trace('a', 1)), ...trace('b', 2), ...trace('c', 3)]);
    expect(withoutNotification?.dbCallsByService.find((s) => s.service === 'notification')?.trace).toBe(0);
  });
});
