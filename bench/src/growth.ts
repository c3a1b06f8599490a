import { randomBytes, randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { createLogger, type OutboxRelay } from '@tracemart/platform';
import { seedProducts } from '@tracemart/catalog-seed';
import { paymentTokenSeal } from '@tracemart/contracts';
import { createOrderEventStore } from '../../services/order/src/data/event-store';
import { createOrderProjector } from '../../services/order/src/projections/projector';
import { createStockStore } from '../../services/inventory/src/data/stock';
import { createPaymentStore } from '../../services/payment/src/data/payments';
import { createLedger } from '../../services/payment/src/data/ledger';
import { createNotificationStore } from '../../services/notification/src/data/notifications';
import { confirmationMessage, notificationId } from '../../services/notification/src/domain/messages';
import { newEnvelope } from '@tracemart/platform';

/** Document counts per database.collection, after seeding and at the end. */
export type CollectionCounts = Record<string, number>;

const DATABASES = ['tracemart_user', 'tracemart_catalog', 'tracemart_order', 'tracemart_inventory', 'tracemart_payment', 'tracemart_notification'];

export async function countDocuments(mongoUrl: string): Promise<CollectionCounts> {
  const client = await MongoClient.connect(mongoUrl);
  try {
    const counts: CollectionCounts = {};
    for (const name of DATABASES) {
      const db = client.db(name);
      for (const { name: collection } of await db.listCollections({}, { nameOnly: true }).toArray()) {
        counts[`${name}.${collection}`] = await db.collection(collection).countDocuments({});
      }
    }
    return counts;
  } finally {
    await client.close();
  }
}

/**
 * `count` past orders written straight into the databases through the services' own data modules (the order's
 * event store and read-model projector, the reservation, payment, ledger and notification stores): what the
 * collections of a system that has confirmed that many orders hold, in minutes instead of the hours the saga would
 * take at its own rate. Nothing is published: the events are marked published and the orders settled right after
 * they are stored (before the relay's 2 s grace), so no relay or sweeper acts on them.
 */
/**
 * The outbox relay the seeding stores get: it publishes nothing (these orders are history, not new facts) and says
 * every event is on the bus already, so the order store's settle marks them published.
 */
const silentRelay = (): OutboxRelay => {
  const silent: Pick<OutboxRelay, 'publishNow' | 'publishStored' | 'wasPublished'> = {
    publishNow: async () => true,
    publishStored: async () => undefined,
    wasPublished: () => true,
  };
  return silent as OutboxRelay;
};

export async function seedPastOrders(mongoUrl: string, count: number, users: readonly string[], concurrency = 16): Promise<{ seconds: number }> {
  const started = Date.now();
  const client = await MongoClient.connect(mongoUrl, { maxPoolSize: concurrency + 4 });
  try {
    const logger = createLogger('bench-seed', 'warn');
    const orders = await createOrderEventStore(client.db('tracemart_order'), logger, silentRelay);
    const projector = createOrderProjector(client.db('tracemart_order'));
    const stock = await createStockStore(client.db('tracemart_inventory'), silentRelay);
    const payments = await createPaymentStore(client.db('tracemart_payment'), silentRelay);
    const ledger = await createLedger(client.db('tracemart_payment'));
    const notifications = await createNotificationStore(client.db('tracemart_notification'), silentRelay);
    const pastTokens = paymentTokenSeal(randomBytes(32).toString('hex'));

    async function seedOne(n: number): Promise<void> {
      const orderId = randomUUID();
      const userId = users[n % users.length] ?? randomUUID();
      const product = seedProducts[n % seedProducts.length];
      if (!product) throw new Error('empty seed catalog');
      const items = [{ productId: product.id, name: product.name, quantity: 1, unitPriceCents: product.priceCents }];
      const totalCents = product.priceCents;
      // Sealed as the order service seals card tokens (under a key of no running service: these orders are history).
      const paymentTokenSealed = pastTokens.seal('tok_visa', orderId);
      const stored = await orders.append(
        orderId,
        0,
        [
          { type: 'orders.placed', data: { orderId, userId, items, totalCents, paymentTokenSealed } },
          { type: 'orders.confirmed', data: { orderId, userId, totalCents } },
        ],
        orderId,
      );
      // Published and settled at once (as the order service marks them, in one statement): the relay's sweep must
      // not find them unpublished, nor the saga sweeper unsettled, or the saga would run for orders of the past.
      await orders.settle(orderId, stored.length, [], orderId, stored);
      await orders.flush();
      const lines = [{ productId: product.id, quantity: 1 }];
      const charged = newEnvelope('payments.charged', { orderId, paymentId: randomUUID(), amountCents: totalCents }, { source: 'payment', correlationId: orderId });
      const sent = newEnvelope(
        'notifications.sent',
        { notificationId: notificationId(orderId, 'order-confirmed'), orderId, userId, kind: 'order-confirmed' },
        { source: 'notification', correlationId: orderId },
      );
      await Promise.all([
        (async () => {
          for (const envelope of [...stored.map((doc) => doc.envelope), charged, sent]) await projector.apply(envelope);
        })(),
        stock.decide(orderId, 'COMMITTED', lines, []),
        (async () => {
          await payments.open({ orderId, paymentId: charged.data.paymentId, userId, amountCents: totalCents, sealedToken: paymentTokenSealed });
          await ledger.append(orderId, 1, 'charged', totalCents);
        })(),
        notifications.queue({ id: notificationId(orderId, 'order-confirmed'), userId, orderId, ...confirmationMessage(orderId, totalCents) }),
      ]);
    }

    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < count) await seedOne(next++);
      }),
    );
    return { seconds: (Date.now() - started) / 1000 };
  } finally {
    await client.close();
  }
}
