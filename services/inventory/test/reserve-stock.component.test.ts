import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { seedProducts } from '@tracemart/catalog-seed';
import { paymentTokenSeal } from '@tracemart/contracts';
import { eventsOf, eventually, testEvent, useComponent } from '@tracemart/testing';
import { inventoryModule } from '../src/module';
import { stockChangesCollection, stockLedger } from '../src/data/stock-ledger';

const inventory = useComponent(inventoryModule);
const seen = inventory.observe('INVENTORY', 'inventory.>');

const product = seedProducts[0];
if (!product) throw new Error('no seed products');

async function stock(productId: string): Promise<{ available: number; reserved: number }> {
  return (await inventory.api.get<{ available: number; reserved: number }>(`/inventory/${productId}`)).body;
}

/** Card tokens travel sealed for the payment service; inventory never opens them. */
const cardTokens = paymentTokenSeal('k'.repeat(32));
const placed = (quantity: number, productId = product.id) => {
  const orderId = randomUUID();
  return testEvent('orders.placed', {
    orderId,
    userId: 'u1',
    items: [{ productId, name: 'x', quantity, unitPriceCents: 100 }],
    totalCents: 100 * quantity,
    paymentTokenSealed: cardTokens.seal('tok_visa', orderId),
  });
};

/** The order's changes in the stock ledger, oldest first, as `kind quantity`. */
const changesOf = async (orderId: string) =>
  (
    await stockChangesCollection(inventory.db)
      .find({ op: { $in: [`take:${orderId}`, `end:${orderId}`] } })
      .sort({ version: 1 })
      .toArray()
  ).map((change) => `${change.kind} ${change.quantity}`);

const ledgerOf = async (productId: string) => (await stockLedger(inventory.db)).find((entry) => entry.productId === productId);

const outcomesOf = (orderId: string) => eventsOf(seen, orderId).map((e) => e.type);
const outcome = (orderId: string, type: string) =>
  eventually(
    async () => eventsOf(seen, orderId, type),
    (events) => events.length > 0,
  );

describe('inventory reserves stock for placed orders', () => {
  it('when an order is placed, then its stock is reserved and inventory.reserved is published', async () => {
    const before = await stock(product.id);
    const order = placed(2);
    await inventory.bus.publish(order);
    await eventually(
      async () => outcomesOf(order.data.orderId),
      (types) => types.length > 0,
    );
    expect(outcomesOf(order.data.orderId)).toEqual(['inventory.reserved']);
    expect(await stock(product.id)).toMatchObject({ available: before.available - 2, reserved: before.reserved + 2 });
  });

  it('when the same orders.placed event is delivered twice, then stock is reserved once', async () => {
    const before = await stock(product.id);
    const order = placed(1);
    await inventory.bus.publish(order);
    await inventory.bus.publish({ ...order, id: randomUUID() }); // same order, a new event id: past JetStream's dedup
    await outcome(order.data.orderId, 'inventory.reserved');
    await inventory.settled('inventory-orders'); // the second copy has been handled too
    expect(await stock(product.id)).toMatchObject({ available: before.available - 1, reserved: before.reserved + 1 });
    expect(await changesOf(order.data.orderId)).toEqual(['take 1']);
  });

  it('when an order is cancelled after reserving, then the stock is released (compensation)', async () => {
    const before = await stock(product.id);
    const order = placed(3);
    const { orderId } = order.data;
    await inventory.bus.publish(order);
    await outcome(orderId, 'inventory.reserved');
    await inventory.bus.publish(testEvent('orders.cancelled', { orderId, userId: 'u1', reason: 'PAYMENT_DECLINED' }));
    await outcome(orderId, 'inventory.released');
    expect(await stock(product.id)).toEqual(before);
    expect(await changesOf(orderId)).toEqual(['take 3', 'give-back 3']);
  });

  it('when a reserved order is confirmed, then its units leave stock for good and inventory.committed is published', async () => {
    const before = await stock(product.id);
    const soldBefore = (await ledgerOf(product.id))?.sold ?? 0;
    const order = placed(2);
    const { orderId } = order.data;
    await inventory.bus.publish(order);
    await outcome(orderId, 'inventory.reserved');
    await inventory.bus.publish(testEvent('orders.confirmed', { orderId, userId: 'u1', totalCents: 200 }));
    await outcome(orderId, 'inventory.committed');
    expect(await stock(product.id)).toMatchObject({ available: before.available - 2, reserved: before.reserved });
    expect(await changesOf(orderId)).toEqual(['take 2', 'commit 2']);
    expect(await ledgerOf(product.id)).toMatchObject({ initial: product.initialStock, sold: soldBefore + 2 });
  });

  it('when a cancellation arrives for a confirmed order, then nothing is given back', async () => {
    const order = placed(1);
    const { orderId } = order.data;
    await inventory.bus.publish(order);
    await outcome(orderId, 'inventory.reserved');
    await inventory.bus.publish(testEvent('orders.confirmed', { orderId, userId: 'u1', totalCents: 100 }));
    await outcome(orderId, 'inventory.committed');
    const before = await stock(product.id);
    await inventory.bus.publish(testEvent('orders.cancelled', { orderId, userId: 'u1', reason: 'PAYMENT_DECLINED' }));
    await inventory.settled('inventory-orders');
    expect(await stock(product.id)).toEqual(before);
    expect(await changesOf(orderId)).toEqual(['take 1', 'commit 1']);
    expect(outcomesOf(orderId)).toEqual(['inventory.reserved', 'inventory.committed']);
  });

  it('when many orders race for the last units, then exactly the available number are reserved and stock never goes negative', async () => {
    const target = seedProducts[1];
    if (!target) throw new Error('no second product');
    const { available } = await stock(target.id);
    const orders = Array.from({ length: available + 5 }, () => placed(1, target.id));
    await Promise.all(orders.map((order) => inventory.bus.publish(order)));
    const ids = new Set<string>(orders.map((order) => order.data.orderId));
    const outcomes = await eventually(
      async () => seen.filter((e) => ids.has((e.data as { orderId: string }).orderId)),
      (events) => events.length === orders.length,
      30_000,
    );
    expect(outcomes.filter((e) => e.type === 'inventory.reserved')).toHaveLength(available);
    expect(outcomes.filter((e) => e.type === 'inventory.rejected')).toHaveLength(5);
    expect(await stock(target.id)).toMatchObject({ available: 0, reserved: available });
    const ledger = await ledgerOf(target.id);
    expect(ledger).toMatchObject({ initial: target.initialStock, available: 0 });
    expect(ledger && ledger.available + ledger.reserved + ledger.sold).toBe(target.initialStock);
  });
});
