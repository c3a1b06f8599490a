import { setTimeout as sleep } from 'node:timers/promises';
import { jetstream } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../clock';
import { getMeter } from '../telemetry/metrics';
import { StepTimer } from '../telemetry/step-timer';
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
 * How long each round of the two ownership loops took (loop=renew: heartbeat and renewals, where a round nearing the
 * lease TTL puts every lease of the instance at risk; loop=rebalance: members, releases, acquisitions, work started).
 */
const tickDuration = meter.createHistogram('tracemart.partitions.tick.duration', {
  unit: 's',
  description: 'Duration of a round of partition ownership, by loop (renew, rebalance)',
  advice: { explicitBucketBoundaries: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] },
});

/**
 * Partitioned (sharded) work across the live instances of a service, on NATS KV leases with fencing tokens, like
 * LeaderElection but one lease per partition. Two loops, each every TTL/3: one heartbeats a member key and renews the
 * leases (compare-and-set on the last revision); the other counts the live members and moves towards this instance's
 * fair share, ceil(P / members): above it, it stops the work of its highest partitions and then deletes their leases;
 * below it, it creates leases of free partitions (or takes over one whose holder stopped renewing a TTL ago). An
 * instance that dies stops renewing, and its partitions go to the survivors within the TTL.
 */
export class PartitionOwnership {
  private kv: KV | undefined;
  private renewTimer: NodeJS.Timeout | undefined;
  private rebalanceTimer: NodeJS.Timeout | undefined;
  private renewing: Promise<void> | undefined;
  private rebalancing: Promise<void> | undefined;
  /** Partitions whose work is being stopped, or started: a start waits for a stop under way, and a stop for a start. */
  private readonly stopping = new Map<number, Promise<void>>();
  private readonly starting = new Map<number, Promise<void>>();
  private readonly leases = new Map<number, Lease>();
  private members: string[] = [];
  private stopped = false;
  private lastRebalanceAt: number | undefined;

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
    await this.runRenewal();
    // Renewing from here on: the first rebalance starts the work of every partition it takes, which can outlast the TTL.
    this.renewTimer = setInterval(() => void this.runRenewal(), this.tickMs());
    this.renewTimer.unref();
    await this.runRebalance();
    this.rebalanceTimer = setInterval(() => void this.runRebalance(), this.tickMs());
    this.rebalanceTimer.unref();
  }

  /** Stops the work of every partition, then deletes their leases and the member key: the others take over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.renewTimer);
    clearInterval(this.rebalanceTimer);
    await this.rebalancing;
    await this.renewing;
    await Promise.all([...this.leases.values()].map((lease) => this.release(lease)));
    await this.kv?.delete(this.memberKey()).catch(() => undefined);
    live.delete(this);
  }

  private runRenewal(): Promise<void> {
    this.renewing ??= this.renew()
      .catch((err: unknown) => this.warn('lease renewal failed', err))
      .finally(() => {
        this.renewing = undefined;
      });
    return this.renewing;
  }

  private runRebalance(): Promise<void> {
    this.rebalancing ??= this.rebalance()
      .catch((err: unknown) => this.warn('rebalance failed', err))
      .finally(() => {
        this.rebalancing = undefined;
      });
    return this.rebalancing;
  }

  /**
   * The heartbeat and every lease's renewal, on a loop of their own: starting or stopping a partition's work (JetStream
   * requests, in-flight handlers) can take seconds under load, and a renewal waiting behind it let this instance's
   * other leases expire (and the others count it dead).
   */
  private async renew(): Promise<void> {
    const kv = this.kv;
    if (!kv || this.stopped) return;
    const steps = new StepTimer();
    // Each on its own: while the KV bucket has no leader (a node of its Raft group died and the rest are electing one,
    // several seconds), a failed heartbeat must not stop the renewals, and a renewal that got no answer is not a lost
    // lease. Only a refused compare-and-set is: someone else holds it now, or it expired and was removed.
    const [, renewals] = await Promise.all([
      steps.time('heartbeat', () => kv.put(this.memberKey(), this.options.instanceId).catch((err: unknown) => this.warn('heartbeat failed', err))),
      steps.time('renew leases', () => Promise.all([...this.leases.values()].map((lease) => this.renewLease(kv, lease)))),
    ]);
    const lost = renewals.filter((lease): lease is Lease => lease !== undefined && this.leases.get(lease.partition) === lease);
    for (const lease of lost) {
      this.leases.delete(lease.partition);
      changes.add(1, { role: this.role, outcome: 'lost' });
      void this.stopWork(lease.partition, 'stopping a lost partition failed');
    }
    const durations = steps.durations();
    tickDuration.record(durations.total / 1_000, { role: this.role, loop: 'renew' });
    if (lost.length > 0) {
      this.options.logger.warn(
        { role: this.role, instance: this.options.instanceId, lost: lost.map((l) => l.partition), owned: this.owned().map((o) => o.partition) },
        'partition leases lost',
      );
    }
    // A renewal round longer than a tick leaves a lease closer to its expiry than the design allows for.
    if (durations.total > this.tickMs()) this.options.logger.warn({ role: this.role, instance: this.options.instanceId, tickMs: durations }, 'partition lease renewal slow');
  }

  /** Renews one lease; resolves to the lease when it is lost (someone else holds it), else to undefined. */
  private async renewLease(kv: KV, lease: Lease): Promise<Lease | undefined> {
    const mine = () => this.leases.get(lease.partition) === lease;
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
      if (current?.operation === 'PUT' && current.string() === this.options.instanceId && current.revision > lease.revision) {
        // Still ours: a renewal of this instance whose answer came late.
        Object.assign(lease, { revision: current.revision, renewedAt: this.now() });
        return undefined;
      }
      if (!mine()) return undefined;
      const revision = await kv.create(this.key(lease.partition), this.options.instanceId).catch(() => undefined);
      if (revision === undefined) return lease;
      Object.assign(lease, { revision, fencingToken: revision, renewedAt: this.now() });
      this.options.logger.info(
        { role: this.role, instance: this.options.instanceId, partition: lease.partition, fencingToken: revision },
        'partition lease expired unheld; taken again',
      );
      return undefined;
    }
  }

  /**
   * Counts the live members and moves towards this instance's fair share, ceil(P / members): above it, it stops the
   * work of its highest partitions and deletes their leases; below it, it takes free ones (or ones whose holder
   * stopped renewing a TTL ago) and then starts their work, all of them together.
   */
  private async rebalance(): Promise<void> {
    const kv = this.kv;
    if (!kv || this.stopped) return;
    const before = this.owned().map((o) => o.partition);
    const steps = new StepTimer();
    const sincePreviousMs = this.lastRebalanceAt === undefined ? undefined : steps.startedAt - this.lastRebalanceAt;
    this.lastRebalanceAt = steps.startedAt;
    const members = await steps.time('read members', () => this.listMembers(kv).catch((err: unknown) => this.warn('members unreadable', err)));
    if (!members) return;
    this.members = members;
    const plan = planPartitions({ count: this.count, owned: new Set(this.leases.keys()), members: members.length, offset: offsetOf(this.options.instanceId, this.count) });
    await Promise.all(
      plan.release.map((partition) => {
        const lease = this.leases.get(partition);
        return lease && steps.time('release partition', () => this.release(lease), { 'tracemart.partition': partition });
      }),
    );
    // The leases first (several at once), then the work of every partition gained, started together: a survivor
    // taking over a dead instance's share starts it in one go rather than one partition after another. The renewal
    // loop keeps each lease alive from the moment it is listed here.
    const gained: Lease[] = [];
    const candidates = [...plan.candidates];
    while (this.leases.size < plan.share && candidates.length > 0 && !this.stopped) {
      const batch = candidates.splice(0, plan.share - this.leases.size);
      const revisions = await Promise.all(
        batch.map((partition) => steps.time('acquire lease', () => this.acquire(kv, partition).catch(() => undefined), { 'tracemart.partition': partition })),
      );
      batch.forEach((partition, i) => {
        const revision = revisions[i];
        if (revision === undefined) return;
        const lease = this.newLease(partition, revision);
        this.leases.set(partition, lease);
        gained.push(lease);
      });
    }
    await Promise.all(gained.map((lease) => steps.time('start partition', () => this.gain(kv, lease), { 'tracemart.partition': lease.partition })));
    const durations = steps.durations();
    tickDuration.record(durations.total / 1_000, { role: this.role, loop: 'rebalance' });
    const after = this.owned().map((o) => o.partition);
    // Only what this rebalance did: a lease the renewal loop found lost meanwhile has its own log line.
    const changed = {
      gained: gained
        .filter((l) => this.leases.get(l.partition) === l)
        .map((l) => l.partition)
        .sort((a, b) => a - b),
      released: plan.release.filter((p) => before.includes(p)),
    };
    if (changed.gained.length === 0 && changed.released.length === 0) return;
    steps.emit('partitions rebalance', {
      'tracemart.partition.role': this.role,
      'tracemart.partition.owner': this.options.instanceId,
      'tracemart.partitions.gained': changed.gained.length,
      'tracemart.partitions.released': changed.released.length,
    });
    this.options.logger.info(
      {
        role: this.role,
        instance: this.options.instanceId,
        owned: after,
        ...changed,
        members: this.members,
        share: fairShare(this.count, this.members.length),
        fencingTokens: Object.fromEntries(this.owned().map((o) => [o.partition, o.fencingToken])),
        // Where the rebalance's time went (ms; per-partition steps summed), and how long after the one before it began.
        tickMs: durations,
        sincePreviousMs,
      },
      'partitions rebalanced',
    );
  }

  private newLease(partition: number, revision: number): Lease {
    const now = this.now();
    return { partition, fencingToken: revision, revision, since: new Date(now), renewedAt: now };
  }

  /**
   * Stops a partition's work, after any start or stop of it still under way (the renewal loop can find a lease lost
   * while the rebalance is starting its work): a partition's work is never started twice, nor left running once stopped.
   */
  private stopWork(partition: number, what: string): Promise<void> {
    const previous = [this.stopping.get(partition), this.starting.get(partition)];
    const stopping: Promise<void> = (async () => {
      await Promise.all(previous);
      await this.options.onLose?.(partition);
    })()
      .catch((err: unknown) => this.warn(what, err, partition))
      .finally(() => {
        if (this.stopping.get(partition) === stopping) this.stopping.delete(partition);
      });
    this.stopping.set(partition, stopping);
    return stopping;
  }

  /**
   * Starts the partition's work under the lease just acquired (and already listed as held), after any stop of it still
   * under way, unless the lease was lost meanwhile. If the start fails (JetStream busy electing a leader), the lease is
   * given back so that this or another instance tries again at its next rebalance: never a lease without work.
   */
  private async gain(kv: KV, lease: Lease): Promise<void> {
    const { partition } = lease;
    const previousStop = this.stopping.get(partition);
    const start = (async () => {
      await previousStop;
      if (this.leases.get(partition) !== lease) return false;
      await this.options.onGain?.(partition);
      return true;
    })();
    const settled = start.then(
      () => undefined,
      () => undefined,
    );
    this.starting.set(partition, settled);
    try {
      if (await start) changes.add(1, { role: this.role, outcome: 'gained' });
    } catch (err) {
      this.warn('starting a partition failed; lease given back', err, partition);
      if (this.leases.get(partition) === lease) this.leases.delete(partition);
      await this.stopWork(partition, 'stopping a partition that failed to start failed');
      await kv.delete(this.key(partition), { previousSeq: lease.revision }).catch(() => undefined);
    } finally {
      if (this.starting.get(partition) === settled) this.starting.delete(partition);
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

  /**
   * Stops the partition's work first, then deletes its lease (compare-and-set: never someone else's; after a renewal
   * still under way, whose new revision the delete must name).
   */
  private async release(lease: Lease): Promise<void> {
    this.leases.delete(lease.partition);
    await this.stopWork(lease.partition, 'stopping a released partition failed');
    await this.renewing;
    await this.kv?.delete(this.key(lease.partition), { previousSeq: lease.revision }).catch(() => undefined);
    changes.add(1, { role: this.role, outcome: 'released' });
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
    // A set: a key written again while the listing runs (every member heartbeats each tick) can be listed twice, and a
    // member counted twice halved this instance's share (seen under load: members [order-1, order-1]).
    const listed = new Set<string>();
    for await (const key of await kv.keys(`${prefix}*`)) listed.add(key);
    const keys = [...listed];
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
