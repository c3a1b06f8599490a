import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changeId, endOp, SEED_OP, takeOp, type StockChangeDocument } from '@tracemart/inventory-service/stock-ledger';
import { startTestInfra, type TestInfra } from '@tracemart/testing';
import { checkInvariants, type InvariantResult } from '../src';

/**
 * The checker against real FerretDB and nats-server: two datasets written in the shapes the services' data modules
 * write (order_events, payment_ledger, stock_changes, notifications), one consistent and one with a known number of
 * violations of each invariant, in databases of their own (`clean_*`, `bad_*`) on one server.
 */

let infra: TestInfra;
let mongo: MongoClient;
let nc: NatsConnection;
let js: JetStreamClient;
let jsm: JetStreamManager;

beforeAll(async () => {
  infra = await startTestInfra();
  mongo = await MongoClient.connect(infra.mongoUrl);
  nc = await connect({ servers: infra.natsUrl });
  js = jetstream(nc);
  jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: 'ORDERS', subjects: ['orders.>'] });
  await jsm.streams.add({ name: 'DEADLETTER', subjects: ['deadletter.>'] });
});

afterAll(async () => {
  await nc?.close();
  await mongo?.close();
  await infra?.stop();
});

// Recent: older terminal orders may have had their notification deleted by the retention sweep (not counted as missing).
const at = new Date(Date.now() - 60_000);
type Line = { productId: string; quantity: number };

function orderEvents(orderId: string, lines: Line[], totalCents: number, then: { type: 'orders.confirmed' | 'orders.cancelled'; version?: number; reason?: string }[]) {
  return [
    {
      _id: `${orderId}-1`,
      streamId: orderId,
      version: 1,
      type: 'orders.placed',
      data: { orderId, userId: 'u1', items: lines, totalCents, paymentTokenSealed: 'sealed-card-token' },
      occurredAt: at,
    },
    ...then.map(({ type, version, reason }, i) => ({
      _id: `${orderId}-${i + 2}`,
      streamId: orderId,
      version: version ?? i + 2,
      type,
      data: { orderId, userId: 'u1', ...(reason ? { reason } : {}) },
      occurredAt: at,
    })),
  ];
}

const ledgerEntry = (orderId: string, version: number, type: 'charged' | 'declined' | 'refunded', amountCents: number) => ({
  _id: `${orderId}:${version}:${type}`,
  streamId: orderId,
  version,
  type,
  amountCents,
  at,
});

const notification = (orderId: string, kind: 'order-confirmed' | 'order-cancelled', status: 'SENT' | 'QUEUED' = 'SENT') => ({
  _id: `${orderId}:${kind}`,
  orderId,
  userId: 'u1',
  kind,
  subject: 's',
  body: 'b',
  status,
  createdAt: at,
  outbox: [],
});

type Step = { kind: 'take' | 'give-back' | 'commit'; orderId: string; quantity: number; totals?: Pick<StockChangeDocument, 'available' | 'reserved' | 'sold'> };

/** A product's stock ledger as the inventory service writes it: the seed, then one change per step with running totals. */
function stockChanges(productId: string, initial: number, steps: Step[]): StockChangeDocument[] {
  const seed: StockChangeDocument = {
    _id: changeId(productId, 1),
    productId,
    version: 1,
    op: SEED_OP,
    kind: 'seed',
    quantity: initial,
    available: initial,
    reserved: 0,
    sold: 0,
    at,
  };
  const docs = [seed];
  for (const step of steps) {
    const head = docs[docs.length - 1] as StockChangeDocument;
    const q = step.quantity;
    const moved =
      step.kind === 'take'
        ? { available: head.available - q, reserved: head.reserved + q, sold: head.sold }
        : step.kind === 'give-back'
          ? { available: head.available + q, reserved: head.reserved - q, sold: head.sold }
          : { available: head.available, reserved: head.reserved - q, sold: head.sold + q };
    const version = head.version + 1;
    const op = step.kind === 'take' ? takeOp(step.orderId) : endOp(step.orderId);
    docs.push({ _id: changeId(productId, version), productId, version, op, kind: step.kind, quantity: q, ...(step.totals ?? moved), at });
  }
  return docs;
}

async function seed(prefix: string, data: { orders: object[]; ledger: object[]; stock: StockChangeDocument[]; notifications: object[] }): Promise<void> {
  await mongo
    .db(`${prefix}order`)
    .collection('order_events')
    .insertMany(data.orders as never[]);
  if (data.ledger.length > 0)
    await mongo
      .db(`${prefix}payment`)
      .collection('payment_ledger')
      .insertMany(data.ledger as never[]);
  await mongo.db(`${prefix}inventory`).collection<StockChangeDocument>('stock_changes').insertMany(data.stock);
  await mongo
    .db(`${prefix}notification`)
    .collection('notifications')
    .insertMany(data.notifications as never[]);
}

const counts = (results: InvariantResult[]) => Object.fromEntries(results.map((r) => [r.name, r.count]));

describe('checkInvariants on real FerretDB and JetStream', () => {
  it('when every order settled, money and stock add up and the broker is drained, then every invariant holds', async () => {
    await seed('clean_', {
      orders: [
        // Confirmed: charged its total, its units sold.
        ...orderEvents(
          'c1',
          [
            { productId: 'mug', quantity: 2 },
            { productId: 'pen', quantity: 1 },
          ],
          1300,
          [{ type: 'orders.confirmed' }],
        ),
        // Declined: nothing charged, its reservation given back.
        ...orderEvents('c2', [{ productId: 'mug', quantity: 1 }], 500, [{ type: 'orders.cancelled', reason: 'PAYMENT_DECLINED' }]),
        // Timed out after the charge: refunded once, its reservation given back.
        ...orderEvents('c3', [{ productId: 'pen', quantity: 1 }], 300, [{ type: 'orders.cancelled', reason: 'SAGA_TIMEOUT' }]),
        // Out of stock: never reserved, never charged.
        ...orderEvents('c4', [{ productId: 'cup', quantity: 5 }], 2000, [{ type: 'orders.cancelled', reason: 'OUT_OF_STOCK' }]),
      ],
      ledger: [ledgerEntry('c1', 1, 'charged', 1300), ledgerEntry('c2', 1, 'declined', 0), ledgerEntry('c3', 1, 'charged', 300), ledgerEntry('c3', 2, 'refunded', 300)],
      stock: [
        ...stockChanges('mug', 10, [
          { kind: 'take', orderId: 'c1', quantity: 2 },
          { kind: 'take', orderId: 'c2', quantity: 1 },
          { kind: 'give-back', orderId: 'c2', quantity: 1 },
          { kind: 'commit', orderId: 'c1', quantity: 2 },
        ]),
        ...stockChanges('pen', 5, [
          { kind: 'take', orderId: 'c1', quantity: 1 },
          { kind: 'take', orderId: 'c3', quantity: 1 },
          { kind: 'commit', orderId: 'c1', quantity: 1 },
          { kind: 'give-back', orderId: 'c3', quantity: 1 },
        ]),
        ...stockChanges('cup', 3, []),
      ],
      notifications: [notification('c1', 'order-confirmed'), notification('c2', 'order-cancelled'), notification('c3', 'order-cancelled'), notification('c4', 'order-cancelled')],
    });
    // A consumer that took and acknowledged everything, and one dead letter for a message that was not valid.
    await js.publish('orders.placed.0.c1', '{}');
    await js.publish('orders.confirmed.0.c1', '{}');
    await jsm.consumers.add('ORDERS', { durable_name: 'payment-orders', ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All });
    const taken = await (await js.consumers.get('ORDERS', 'payment-orders')).fetch({ max_messages: 2, expires: 2_000 });
    for await (const msg of taken) msg.ack();
    await js.publish('deadletter.payment-orders', JSON.stringify({ consumer: 'payment-orders', subject: 'orders.placed.0.x', reason: 'invalid message: not JSON' }));
    await expect.poll(async () => (await jsm.consumers.info('ORDERS', 'payment-orders')).num_ack_pending, { timeout: 5_000 }).toBe(0);

    const results = await checkInvariants({ mongoUrl: infra.mongoUrl, natsUrl: infra.natsUrl, dbPrefix: 'clean_', acceptedOrderIds: ['c1', 'c2', 'c3', 'c4'] });

    expect(results.filter((r) => !r.ok)).toEqual([]);
    expect(results).toHaveLength(12);
    expect(results.find((r) => r.name === 'sold-matches-confirmed')?.detail).toBe('3 units sold, 3 units in confirmed orders');
    expect(results.find((r) => r.name === 'orders-terminal')?.detail).toBe(
      '4 accepted orders: 1 CONFIRMED, 3 CANCELLED (OUT_OF_STOCK 1, PAYMENT_DECLINED 1, SAGA_TIMEOUT 1), 0 not terminal',
    );
    expect(results.find((r) => r.name === 'dead-letters-invalid-only')?.detail).toContain('1× payment-orders: invalid message: not JSON');
  });

  it('when orders, money, stock, notifications and the broker are each wrong, then each invariant fails with its count', async () => {
    await seed('bad_', {
      orders: [
        // Never settled.
        ...orderEvents('b1', [{ productId: 'mug', quantity: 1 }], 500, []),
        // Confirmed at version 3: a gap in its stream; charged twice.
        ...orderEvents('b2', [{ productId: 'mug', quantity: 1 }], 500, [{ type: 'orders.confirmed', version: 3 }]),
        // Cancelled, its charge never refunded.
        ...orderEvents('b3', [{ productId: 'pen', quantity: 1 }], 300, [{ type: 'orders.cancelled' }]),
        // Confirmed, never charged.
        ...orderEvents('b4', [{ productId: 'pen', quantity: 2 }], 600, [{ type: 'orders.confirmed' }]),
      ],
      ledger: [ledgerEntry('b2', 1, 'charged', 500), ledgerEntry('b2', 2, 'charged', 500), ledgerEntry('b3', 1, 'charged', 300), ledgerEntry('ghost', 1, 'charged', 100)],
      stock: [
        // b1's unit still reserved.
        ...stockChanges('mug', 10, [
          { kind: 'take', orderId: 'b1', quantity: 1 },
          { kind: 'take', orderId: 'b2', quantity: 1 },
          { kind: 'commit', orderId: 'b2', quantity: 1 },
        ]),
        // A give-back that invented a unit: 5 seeded, 4 + 0 + 2 accounted for... plus one.
        ...stockChanges('pen', 5, [
          { kind: 'take', orderId: 'b4', quantity: 2 },
          { kind: 'take', orderId: 'b3', quantity: 1 },
          { kind: 'commit', orderId: 'b4', quantity: 2 },
          { kind: 'give-back', orderId: 'b3', quantity: 1, totals: { available: 4, reserved: 0, sold: 2 } },
        ]),
        // Sold without any confirmed order.
        ...stockChanges('cup', 3, [
          { kind: 'take', orderId: 'nobody', quantity: 1 },
          { kind: 'commit', orderId: 'nobody', quantity: 1 },
        ]),
      ],
      notifications: [notification('b2', 'order-confirmed'), notification('b2', 'order-cancelled'), notification('b4', 'order-confirmed', 'QUEUED')],
    });
    // A consumer that has not taken the two messages on the stream, and a valid message given up on.
    await jsm.consumers.add('ORDERS', { durable_name: 'lagging', ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All });
    await js.publish('deadletter.notification-orders', JSON.stringify({ consumer: 'notification-orders', subject: 'orders.confirmed.0.b4', reason: 'gave up after 5 attempts' }));

    const results = await checkInvariants({ mongoUrl: infra.mongoUrl, natsUrl: infra.natsUrl, dbPrefix: 'bad_', acceptedOrderIds: ['b1', 'b2', 'b3', 'b4', 'lost'] });

    expect(counts(results)).toEqual({
      'orders-terminal': 1,
      'accepted-orders-stored': 1,
      'order-event-sequence': 1,
      'payment-captured-at-most-once': 2,
      'cancelled-charges-refunded': 1,
      'confirmed-orders-charged': 2,
      'stock-conserved': 1,
      'stock-settled': 1,
      'sold-matches-confirmed': 1,
      'notification-per-terminal-order': 3,
      'consumer-backlog-drained': 2,
      'dead-letters-invalid-only': 1,
    });
    expect(results.every((r) => !r.ok)).toBe(true);
    expect(results.find((r) => r.name === 'consumer-backlog-drained')?.detail).toContain('ORDERS/lagging: 2 pending, 0 unacknowledged');
    expect(results.find((r) => r.name === 'stock-conserved')?.detail).toContain('pen: initial 5 vs available 4 + reserved 0 + sold 2');
  });
});
