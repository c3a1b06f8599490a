import { setTimeout as sleep } from 'node:timers/promises';
import { Writable } from 'node:stream';
import type { NatsConnection } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTestBus, eventually, startTestInfra, type TestInfra } from '@tracemart/testing';
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

  it('when a second instance joins and stopping the work of the partitions given up takes longer than the TTL, then the partitions kept stay held all along, with their first fencing tokens', async () => {
    const bucket = 'test-partitions-slow-release';
    const { logger, messages } = captureLogs();
    /** Stopping a partition's work (in-flight handlers finishing, consumers draining) takes two TTLs. */
    const STOP_MS = 2 * TTL_MS;
    const stoppedAt = new Map<number, number>();
    const first = new PartitionOwnership(
      { nc: bus.nc, replicas: 1 },
      {
        role: 'rel',
        instanceId: 'rel-1',
        count: PARTITIONS,
        ttlMs: TTL_MS,
        bucket,
        logger,
        onLose: async (partition) => {
          await sleep(STOP_MS);
          stoppedAt.set(partition, Date.now());
        },
      },
    );
    const second = new PartitionOwnership(
      { nc: bus.nc, replicas: 1 },
      { role: 'rel', instanceId: 'rel-2', count: PARTITIONS, ttlMs: TTL_MS, bucket, logger: pino({ level: 'silent' }) },
    );
    await first.start();
    try {
      expect(first.owned()).toHaveLength(PARTITIONS);
      await second.start();
      // The first gives up half of its partitions (slowly) and keeps the other half: those must be held at every
      // moment while the others are being stopped, and after.
      const kept = await eventually(
        async () => first.owned(),
        (owned) => owned.length === PARTITIONS / 2,
        10 * TTL_MS,
      );
      const notHeld: number[] = [];
      const watchUntil = Date.now() + STOP_MS + 2 * TTL_MS;
      while (Date.now() < watchUntil) {
        for (const { partition } of kept) if (!first.holds(partition)) notHeld.push(partition);
        await sleep(50);
      }
      expect(stoppedAt.size).toBe(PARTITIONS / 2);
      expect(notHeld).toEqual([]);
      expect(first.owned()).toEqual(kept);
      expect(messages).not.toContain('partition lease expired unheld; taken again');
      expect(messages).not.toContain('partition leases lost');
      // The second takes the given-up partitions once their work has stopped and their leases are deleted.
      const taken = await eventually(
        async () => second.owned(),
        (owned) => owned.length === PARTITIONS / 2,
        10 * TTL_MS,
      );
      expect(taken.map((o) => o.partition).filter((p) => kept.some((k) => k.partition === p))).toEqual([]);
    } finally {
      await Promise.all([first.stop(), second.stop()]);
    }
  }, 60_000);

  it('when a lease is taken by someone else while its partition work is starting, then the work is stopped only once the start has finished', async () => {
    const bucket = 'test-partitions-lost-while-starting';
    const { logger, messages } = captureLogs();
    const steps: string[] = [];
    const STARTING_MS = 2 * TTL_MS;
    const ownership = new PartitionOwnership(
      { nc: bus.nc, replicas: 1 },
      {
        role: 'race',
        instanceId: 'race-1',
        count: 1,
        ttlMs: TTL_MS,
        bucket,
        logger,
        onGain: async () => {
          steps.push('start begun');
          await sleep(STARTING_MS);
          steps.push('start done');
        },
        onLose: async () => {
          steps.push('stop');
        },
      },
    );
    const starting = ownership.start();
    try {
      // While the work starts, another writer takes the lease (as a new owner would): the next renewal is refused.
      await eventually(
        async () => steps.length,
        (n) => n > 0,
        10 * TTL_MS,
      );
      const kv = await new Kvm(bus.nc).open(bucket);
      await kv.put('race.partition.0', 'someone-else');
      await eventually(
        async () => messages.includes('partition leases lost'),
        (lost) => lost,
        10 * TTL_MS,
      );
      expect(ownership.holds(0)).toBe(false);
      await starting;
      await eventually(
        async () => steps.length,
        (n) => n >= 3,
        10 * TTL_MS,
      );
      expect(steps.slice(0, 3)).toEqual(['start begun', 'start done', 'stop']);
    } finally {
      await starting.catch(() => undefined);
      await ownership.stop();
    }
  }, 60_000);
});
