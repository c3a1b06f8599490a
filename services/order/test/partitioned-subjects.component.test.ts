import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventBus } from '@tracemart/platform';
import { partitionOf, subjectToken } from '@tracemart/contracts';
import { connectTestBus, startTestInfra, testEvent, type TestInfra } from '@tracemart/testing';

let infra: TestInfra;
let bus: EventBus;

beforeAll(async () => {
  infra = await startTestInfra();
  bus = await connectTestBus(infra.natsUrl);
});
afterAll(async () => {
  await bus?.drain();
  await infra?.stop();
});

describe('events sharded by order id on a real nats-server', () => {
  it("when events are published on <type>.<order id>, then the stream's transform stores each under the partition partitionOf computes", async () => {
    const orderIds = [...Array.from({ length: 40 }, () => randomUUID()), 'order.with*odd>chars'];
    for (const orderId of orderIds) await bus.publish(testEvent('payments.declined', { orderId, paymentId: `p-${orderId}`, reason: 'test' }));
    const info = await bus.jsm.streams.info('PAYMENTS', { subjects_filter: 'payments.declined.>' });
    const stored = Object.keys(info.state.subjects ?? {}).sort();
    expect(stored).toEqual(orderIds.map((id) => `payments.declined.${partitionOf(id)}.${subjectToken(id)}`).sort());
    // Spread over the partitions, not all in one.
    expect(new Set(orderIds.map((id) => partitionOf(id))).size).toBeGreaterThan(4);
  });
});
