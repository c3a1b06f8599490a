import { describe, expect, it } from 'vitest';
import { sagaBreakdown, sagaTraceStats, type TraceSpan } from './saga-traces';

let ids = 0;
function span(service: string, name: string, kind: number, startMs: number, endMs: number, parent?: TraceSpan, attributes: Record<string, unknown> = {}, traceId = 't1'): TraceSpan {
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
    gw, order, pricing, gwPricing, catalog,
    span('catalog', 'find', 3, t(6.5), t(7.5), catalog, db, traceId),
    span('order', 'insert', 3, t(12), t(20), order, db, traceId),
    placed, inventory,
    span('inventory', 'update', 3, t(32), t(45), inventory, db, traceId),
    reserved, payment,
    span('payment', 'charge card', 3, t(60), t(80), payment, {}, traceId),
    charged, confirm,
    span('order', 'update', 3, t(96), t(105), confirm, db, traceId),
    projector,
    span('order', 'update', 3, t(26), t(69), projector, db, traceId),
  ];
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
});
