import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestInfra, type TestInfra } from '@tracemart/testing';
import { parseFault } from '../src/faults';
import { ordersInFlight } from '../src/in-flight';
import { inject } from '../src/inject';

/** The runner's two database-facing parts against a real FerretDB on its own PostgreSQL. */
let infra: TestInfra;
let mongo: MongoClient;

beforeAll(async () => {
  infra = await startTestInfra();
  mongo = new MongoClient(infra.mongoUrl, { serverSelectionTimeoutMS: 2_000, retryWrites: false });
  await mongo.connect();
});

afterAll(async () => {
  await mongo?.close();
  await infra?.stop();
});

/** A query that FerretDB must answer from PostgreSQL, on a client of its own (a new connection to FerretDB). */
async function freshQuery(): Promise<'answered' | 'failed'> {
  const client = new MongoClient(infra.mongoUrl, { serverSelectionTimeoutMS: 1_500, socketTimeoutMS: 3_000, retryReads: false });
  try {
    await client.connect();
    await client.db('tracemart_order').collection('order_events').findOne({}, { maxTimeMS: 2_000 });
    return 'answered';
  } catch {
    return 'failed';
  } finally {
    await client.close().catch(() => undefined);
  }
}

describe('database faults of the chaos runner', () => {
  it("when orders were placed and some ended, then the ones in flight are read from the order service's event store", async () => {
    const event = (streamId: string, version: number, type: string) => ({ streamId, version, type, occurredAt: new Date(), data: {} });
    await mongo
      .db('tracemart_order')
      .collection('order_events')
      .insertMany([
        event('a', 1, 'orders.placed'),
        event('a', 2, 'orders.confirmed'),
        event('b', 1, 'orders.placed'),
        event('b', 2, 'orders.cancelled'),
        event('c', 1, 'orders.placed'),
        event('d', 1, 'orders.placed'),
      ]);
    expect(await ordersInFlight(mongo)).toBe(2);
  });

  it('when FerretDB connections are exhausted, then FerretDB answers no query until they are released, and then again', async () => {
    expect(await freshQuery()).toBe('answered');
    const injection = await inject(infra, parseFault('exhaust:ferretdb'), { pauseMs: 0, exhaustMs: 3_000 });
    expect(injection.detail).toMatchObject({ ferretdbConnectionsLeft: 0 });
    expect(injection.detail.held).toBe(injection.detail.maxConnections);
    expect(await freshQuery()).toBe('failed');
    await injection.over;
    expect(await freshQuery()).toBe('answered');
  }, 60_000);
});
