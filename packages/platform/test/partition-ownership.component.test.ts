import { setTimeout as sleep } from 'node:timers/promises';
import { Writable } from 'node:stream';
import type { NatsConnection } from '@nats-io/transport-node';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTestBus, startTestInfra, type TestInfra } from '@tracemart/testing';
import { PartitionOwnership, type EventBus } from '../src';

/**
 * Partition ownership against a real nats-server whose lease TTL the server enforces (the KV bucket's max age). A
 * first start of a service acquires its partitions one after another and only then starts their work; on a busy
 * start each KV write can take a while (the bucket's Raft group settling), so the first leases are old before any
 * work begins. Here every lease write of the start is slowed down by a fixed delay at the client, on the real
 * connection, so that acquiring all of them takes longer than the TTL.
 */
const TTL_MS = 1_500;
const PARTITIONS = 8;
/** Per lease write while acquiring: 8 x 250 ms = 2 s of acquisitions, more than the 1.5 s TTL. */
const WRITE_DELAY_MS = 250;

let infra: TestInfra;
let bus: EventBus;

beforeAll(async () => {
  infra = await startTestInfra();
  bus = await connectTestBus(infra.natsUrl);
}, 120_000);

afterAll(async () => {
  await bus?.drain();
  await infra?.stop();
});

/** The real connection, with every request on the leases' subjects delayed while `slow.on`. */
function slowLeaseWrites(nc: NatsConnection, bucket: string, slow: { on: boolean }): NatsConnection {
  return new Proxy(nc, {
    get(target, prop) {
      if (prop === 'request') {
        return async (subject: string, ...rest: unknown[]) => {
          if (slow.on && subject.startsWith(`$KV.${bucket}.`) && subject.includes('.partition.')) await sleep(WRITE_DELAY_MS);
          return (target.request as (...args: unknown[]) => unknown)(subject, ...rest);
        };
      }
      const value: unknown = Reflect.get(target, prop);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** Log lines of the ownership, by message. */
function captureLogs(): { logger: pino.Logger; messages: string[] } {
  const messages: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) messages.push((JSON.parse(line) as { msg: string }).msg);
      done();
    },
  });
  return { logger: pino({ level: 'info' }, sink), messages };
}

describe('partition ownership', () => {
  it('when acquiring every partition takes longer than the lease TTL, then no lease expires before its work starts: each is held once, with its first fencing token', async () => {
    const bucket = 'test-partitions-slow';
    const slow = { on: true };
    const { logger, messages } = captureLogs();
    const gained: number[] = [];
    const ownership = new PartitionOwnership(
      { nc: slowLeaseWrites(bus.nc, bucket, slow), replicas: 1 },
      {
        role: 'slow',
        instanceId: 'slow-1',
        count: PARTITIONS,
        ttlMs: TTL_MS,
        bucket,
        logger,
        onGain: async (partition) => {
          slow.on = false;
          gained.push(partition);
        },
      },
    );
    await ownership.start();
    try {
      const first = ownership.owned();
      expect(first.map((o) => o.partition)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      expect(gained.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      // Three TTLs of ticks: every lease stays this instance's with the token it was acquired with.
      await sleep(3 * TTL_MS);
      expect(ownership.owned()).toEqual(first);
      for (const { partition } of first) expect(ownership.holds(partition)).toBe(true);
      expect(messages).not.toContain('partition lease expired unheld; taken again');
      expect(messages.filter((m) => m === 'partitions rebalanced')).toHaveLength(1);
    } finally {
      await ownership.stop();
    }
  }, 60_000);
});
