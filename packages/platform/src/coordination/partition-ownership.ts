import { setTimeout as sleep } from 'node:timers/promises';
import { jetstream } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../clock';
import { getMeter } from '../telemetry/metrics';
import { retryOnTimeout } from '../messaging/streams-setup';
import type { EventBus } from '../messaging/bus';
import { fairShare, offsetOf, planPartitions } from './partition-plan';

/** One partition this instance owns: its lease's revision at acquisition is the fencing token. */
export interface OwnedPartition {
  partition: number;
  fencingToken: number;
  since: Date;
}

export interface PartitionOwnershipOptions {
  /** What is partitioned (the service: `order`); keys and metrics carry it. */
  role: string;
  instanceId: string;
  /** How many partitions there are (the streams' `partition(P, ...)`). */
  count: number;
  /** Lease time: an instance that stops renewing loses its partitions to the others after this long. */
  ttlMs: number;
  logger: Logger;
  bucket?: string;
  clock?: Clock;
  /** Called once the lease is held, before anything of the partition is processed here. */
  onGain?: (partition: number) => Promise<void>;
  /** Called when the partition goes; on a release the lease is deleted only after this resolves. */
  onLose?: (partition: number) => Promise<void>;
}

interface Lease extends OwnedPartition {
  revision: number;
  renewedAt: number;
}

const live = new Set<PartitionOwnership>();

/** The server refused a compare-and-set (JetStream error 10071, wrong last sequence): the key moved on without us. */
function isRefusedWrite(err: unknown): boolean {
  return err instanceof Error && /wrong last sequence/i.test(err.message);
}
const meter = getMeter();
/** Partitions this instance owns, by role (a per-instance series: the assignment across instances at a glance). */
meter.createObservableGauge('tracemart.partitions.owned', { unit: '{partition}', description: 'Partitions this instance owns' }).addCallback((result) => {
  for (const ownership of live) result.observe(ownership.owned().length, { role: ownership.role, owner: ownership.instanceId });
});
/** 1 for each partition this instance owns, labelled with the partition: who owns what, over time. */
meter.createObservableGauge('tracemart.partition.owner', { unit: '1', description: '1 for each partition this instance owns' }).addCallback((result) => {
  for (const ownership of live) {
    for (const { partition } of ownership.owned()) result.observe(1, { role: ownership.role, owner: ownership.instanceId, partition: String(partition) });
  }
});
/** Partitions gained and lost by this instance (outcome gained|released|lost). */
const changes = meter.createCounter('tracemart.partitions.changes', { unit: '{partition}', description: 'Partitions gained, released or lost by this instance' });

/**
 * Partitioned (sharded) work across the live instances of a service, on NATS KV leases with fencing tokens, like
 * LeaderElection but one lease per partition. Every instance heartbeats a member key; each tick (TTL/3) it renews its
 * leases (compare-and-set on the last revision), counts the live members and moves towards its fair share,
 * ceil(P / members): above it, it stops the work of its highest partitions and then deletes their leases; below it, it
 * creates leases of free partitions (or takes over one whose holder stopped renewing a TTL ago). An instance that dies
 * stops renewing, and its partitions go to the survivors within the TTL.
 */
export class PartitionOwnership {
  private kv: KV | undefined;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private readonly leases = new Map<number, Lease>();
  private members: string[] = [];
  private stopped = false;

  constructor(
    /** The connection the leases are written on, and the replicas of their bucket. */
    private readonly bus: Pick<EventBus, 'nc' | 'replicas'>,
    private readonly options: PartitionOwnershipOptions,
  ) {}

  get role(): string {
    return this.options.role;
  }

  get instanceId(): string {
    return this.options.instanceId;
  }

  get count(): number {
    return this.options.count;
  }

  /** Partitions held now, in order. */
  owned(): OwnedPartition[] {
    return [...this.leases.values()].sort((a, b) => a.partition - b.partition).map(({ partition, fencingToken, since }) => ({ partition, fencingToken, since }));
  }

  /** Whether this instance may work on `partition` now: it holds the lease and renewed it less than a TTL ago. */
  holds(partition: number): boolean {
    const lease = this.leases.get(partition);
    return lease !== undefined && this.now() - lease.renewedAt < this.options.ttlMs;
  }

  /** The fencing token of a partition held now (undefined when not held). */
  tokenOf(partition: number): number | undefined {
    return this.holds(partition) ? this.leases.get(partition)?.fencingToken : undefined;
  }

  /** What `GET /admin/partitions` shows. */
  describe() {
    return { role: this.role, instance: this.options.instanceId, partitions: this.count, leaseTtlMs: this.options.ttlMs, members: [...this.members], owned: this.owned() };
  }

  async start(): Promise<void> {
    // Requests to the bucket time out within a tick (TTL/3, at most 2 s): while its Raft group elects a leader, a
    // tick that waited 5 s per lease would leave every lease unrenewed for far longer than the election.
    const js = jetstream(this.bus.nc, { timeout: Math.min(2_000, Math.max(250, Math.floor(this.options.ttlMs / 3))) });
    this.kv = await retryOnTimeout(() => new Kvm(js).create(this.options.bucket ?? 'partitions', { ttl: this.options.ttlMs, history: 1, replicas: this.bus.replicas }));
    live.add(this);
    await this.runTick();
    this.timer = setInterval(() => void this.runTick(), this.tickMs());
    this.timer.unref();
  }

  /** Stops the work of every partition, then deletes their leases and the member key: the others take over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.ticking;
    const kv = this.kv;
    for (const lease of [...this.leases.values()].reverse()) await this.release(lease, 'released');
    if (kv) await kv.delete(this.memberKey()).catch(() => undefined);
    live.delete(this);
  }

  private runTick(): Promise<void> {
    this.ticking ??= this.tick()
      .catch((err: unknown) => this.options.logger.warn({ err, role: this.role }, 'partition ownership tick failed'))
      .finally(() => {
        this.ticking = undefined;
      });
    return this.ticking;
  }

  private async tick(): Promise<void> {
    const kv = this.kv;
    if (!kv || this.stopped) return;
    const before = this.owned().map((o) => o.partition);
    const lost: number[] = [];
    // Each step on its own: while the KV bucket has no leader (a node of its Raft group died and the rest are electing
    // one, several seconds), a failed heartbeat must not stop the renewals, and a renewal that got no answer is not a
    // lost lease. Only a refused compare-and-set is: someone else holds it now, or it expired and was removed.
    await kv.put(this.memberKey(), this.options.instanceId).catch((err: unknown) => this.warn('heartbeat failed', err));
    const renewals = await Promise.all(
      [...this.leases.values()].map(async (lease) => {
        try {
          lease.revision = await kv.update(this.key(lease.partition), this.options.instanceId, lease.revision);
          lease.renewedAt = this.now();
          return undefined;
        } catch (err) {
          if (!isRefusedWrite(err)) {
            this.warn('lease renewal got no answer', err, lease.partition);
            return undefined;
          }
          // Refused: someone else holds it, or it expired while the bucket could not be written (an outage longer than
          // the TTL) and nobody took it since. Then a create succeeds and the partition stays here, with a new token;
          // nothing of it was handled meanwhile, since deliveries wait while the lease is not known to be held.
          const current = await kv.get(this.key(lease.partition)).catch(() => null);
          if (current?.operation === 'PUT' && current.string() === this.options.instanceId) {
            // Still ours, renewed by another write of this instance (the keep-alive while its work started).
            Object.assign(lease, { revision: current.revision, renewedAt: this.now() });
            return undefined;
          }
          const revision = await kv.create(this.key(lease.partition), this.options.instanceId).catch(() => undefined);
          if (revision === undefined) return lease;
          Object.assign(lease, { revision, fencingToken: revision, renewedAt: this.now() });
          this.options.logger.info(
            { role: this.role, instance: this.options.instanceId, partition: lease.partition, fencingToken: revision },
            'partition lease expired unheld; taken again',
          );
          return undefined;
        }
      }),
    );
    for (const lease of renewals) {
      if (!lease) continue;
      this.leases.delete(lease.partition);
      lost.push(lease.partition);
      changes.add(1, { role: this.role, outcome: 'lost' });
      await this.options.onLose?.(lease.partition).catch((e: unknown) => this.warn('stopping a lost partition failed', e, lease.partition));
    }
    const members = await this.listMembers(kv).catch((err: unknown) => this.warn('members unreadable', err));
    if (members) {
      this.members = members;
      const plan = planPartitions({
        count: this.count,
        owned: new Set(this.leases.keys()),
        members: members.length,
        offset: offsetOf(this.options.instanceId, this.count),
      });
      for (const partition of plan.release) {
        const lease = this.leases.get(partition);
        if (lease) await this.release(lease, 'released');
      }
      // Leases first, then the work of every partition gained, started together: a survivor taking over a dead
      // instance's share starts it in one go rather than one partition after another. Each lease is kept alive from
      // the moment it is created: the acquisitions are one after another, and on a busy first start (KV requests
      // timing out while the bucket's Raft group settles) the first leases outlived their TTL before their work began.
      const starting: Lease[] = [];
      const keepAlive = setInterval(() => {
        for (const lease of starting) if (this.leases.get(lease.partition) === lease) this.keepAlive(kv, lease);
      }, this.tickMs());
      try {
        for (const partition of plan.candidates) {
          if (this.leases.size >= plan.share || this.stopped) break;
          const revision = await this.acquire(kv, partition).catch(() => undefined);
          if (revision === undefined) continue;
          const lease = this.newLease(partition, revision);
          this.leases.set(partition, lease);
          starting.push(lease);
        }
        await Promise.all(starting.map((lease) => this.gain(kv, lease)));
      } finally {
        clearInterval(keepAlive);
      }
    }
    const after = this.owned().map((o) => o.partition);
    if (after.join() !== before.join()) {
      this.options.logger.info(
        {
          role: this.role,
          instance: this.options.instanceId,
          owned: after,
          gained: after.filter((p) => !before.includes(p)),
          released: before.filter((p) => !after.includes(p) && !lost.includes(p)),
          lost,
          members: this.members,
          share: fairShare(this.count, this.members.length),
          fencingTokens: Object.fromEntries(this.owned().map((o) => [o.partition, o.fencingToken])),
        },
        'partitions rebalanced',
      );
    }
  }

  private newLease(partition: number, revision: number): Lease {
    const now = this.now();
    return { partition, fencingToken: revision, revision, since: new Date(now), renewedAt: now };
  }

  /**
   * Renews a lease whose work is starting (the tick that would renew it is the one waiting for that start). A refused
   * or unanswered renewal changes nothing here: the next tick's renewal decides whether the lease is still held.
   */
  private keepAlive(kv: KV, lease: Lease): void {
    void kv.update(this.key(lease.partition), this.options.instanceId, lease.revision).then(
      (next) => Object.assign(lease, { revision: next, renewedAt: this.now() }),
      () => undefined,
    );
  }

  /**
   * Starts the partition's work under the lease just acquired (and already listed as held). If that fails (JetStream
   * busy electing a leader), the lease is given back so that this or another instance tries again at its next tick:
   * never a lease without work.
   */
  private async gain(kv: KV, lease: Lease): Promise<void> {
    const { partition } = lease;
    try {
      await this.options.onGain?.(partition);
      changes.add(1, { role: this.role, outcome: 'gained' });
    } catch (err) {
      this.warn('starting a partition failed; lease given back', err, partition);
      this.leases.delete(partition);
      await this.options.onLose?.(partition).catch(() => undefined);
      await kv.delete(this.key(partition), { previousSeq: lease.revision }).catch(() => undefined);
    }
  }

  /**
   * For a delivery of `partition` that arrived while the lease is not known to be held (its renewal is late): waits
   * until it is renewed ('held') or found lost ('lost'), at most `maxWaitMs` ('undecided'). Waiting instead of handing
   * the message back at once keeps it from burning its deliveries (and being dead-lettered) during a KV election.
   */
  async decided(partition: number, maxWaitMs: number, stillWorking?: () => void): Promise<'held' | 'lost' | 'undecided'> {
    const deadline = Date.now() + maxWaitMs;
    for (let i = 1; i <= Math.ceil(maxWaitMs / 100) + 1; i++) {
      if (this.holds(partition)) return 'held';
      if (!this.leases.has(partition) || this.stopped) return 'lost';
      if (Date.now() >= deadline) break;
      // Tells the server the message is in hand every 5 s, so its ack wait does not run out meanwhile.
      if (i % 50 === 0) stillWorking?.();
      await sleep(100);
    }
    return 'undecided';
  }

  private warn(what: string, err: unknown, partition?: number): undefined {
    this.options.logger.warn({ err, role: this.role, instance: this.options.instanceId, ...(partition !== undefined ? { partition } : {}) }, `partition ownership: ${what}`);
    return undefined;
  }

  /** Stops the partition's work first, then deletes its lease (compare-and-set: never someone else's). */
  private async release(lease: Lease, outcome: 'released'): Promise<void> {
    this.leases.delete(lease.partition);
    await this.options.onLose?.(lease.partition).catch((err: unknown) => this.warn('stopping a released partition failed', err, lease.partition));
    await this.kv?.delete(this.key(lease.partition), { previousSeq: lease.revision }).catch(() => undefined);
    changes.add(1, { role: this.role, outcome });
  }

  /** Create-if-absent; a lease whose last renewal is older than the TTL is taken over by compare-and-set. */
  private async acquire(kv: KV, partition: number): Promise<number> {
    const key = this.key(partition);
    try {
      return await kv.create(key, this.options.instanceId);
    } catch (err) {
      const entry = await kv.get(key);
      if (!entry || entry.operation !== 'PUT' || this.now() - entry.created.getTime() <= this.options.ttlMs) throw err;
      return kv.update(key, this.options.instanceId, entry.revision);
    }
  }

  /**
   * The instances that heartbeated within the TTL. A dead one's key lingers until the server's expiry sweep removes
   * it, and counting it would keep the survivors at a smaller share, so each key's last write is judged by its age.
   */
  private async listMembers(kv: KV): Promise<string[]> {
    const prefix = `${this.role}.member.`;
    const keys: string[] = [];
    for await (const key of await kv.keys(`${prefix}*`)) keys.push(key);
    const entries = await Promise.all(keys.map((key) => kv.get(key).catch(() => null)));
    const alive = (i: number) => {
      const entry = entries[i];
      return entry?.operation === 'PUT' && this.now() - entry.created.getTime() <= this.options.ttlMs;
    };
    const members = keys.filter((_, i) => alive(i)).map((key) => key.slice(prefix.length));
    if (!members.includes(this.options.instanceId)) members.push(this.options.instanceId);
    return members.sort();
  }

  /** Ticks (and renewals) every TTL/3: two can fail before a lease runs out. */
  private tickMs(): number {
    return Math.max(50, Math.floor(this.options.ttlMs / 3));
  }

  private key(partition: number): string {
    return `${this.role}.partition.${partition}`;
  }

  private memberKey(): string {
    return `${this.role}.member.${this.options.instanceId}`;
  }

  private now(): number {
    return (this.options.clock ?? systemClock).now();
  }
}
