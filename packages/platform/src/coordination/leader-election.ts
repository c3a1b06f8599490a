import { Kvm, type KV } from '@nats-io/kv';
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../clock';
import { getMeter } from '../telemetry/metrics';
import { retryOnTimeout } from '../messaging/streams-setup';
import type { EventBus } from '../messaging/bus';

/**
 * Leader election on a NATS KV lease. The bucket's TTL is the lease: the leader writes the key with
 * create-if-absent, renews it with compare-and-set on its last revision every TTL/3, and deletes it when
 * it steps down. If the leader dies, the key expires after the TTL and another candidate's create
 * succeeds. The KV revision at acquisition is the fencing token: it only ever grows, so storage can
 * refuse writes that carry an older one (see Fence).
 */
export interface LeadershipState {
  leader: boolean;
  /** The fencing token while leader. */
  token?: number;
}

const leaderStatus = getMeter().createGauge('tracemart.leader.status', { unit: '1', description: '1 while this instance leads its role, else 0' });

export class LeaderElection {
  private kv: KV | undefined;
  private timer: NodeJS.Timeout | undefined;
  private revision = 0;
  private state: LeadershipState = { leader: false };
  private ticking: Promise<void> | undefined;

  constructor(
    private readonly bus: EventBus,
    private readonly options: {
      role: string;
      instanceId: string;
      ttlMs: number;
      logger: Logger;
      bucket?: string;
      onChange?: (state: LeadershipState) => void;
      /** Judges the age of a lease found held (default: the system clock). */
      clock?: Clock;
    },
  ) {}

  get current(): LeadershipState {
    return this.state;
  }

  async start(): Promise<void> {
    this.kv = await retryOnTimeout(() => new Kvm(this.bus.js).create(this.options.bucket ?? 'leases', { ttl: this.options.ttlMs, history: 1, replicas: this.bus.replicas }));
    leaderStatus.record(0, { role: this.options.role });
    await this.tick();
    this.timer = setInterval(
      () => {
        this.ticking ??= this.tick().finally(() => {
          this.ticking = undefined;
        });
      },
      Math.max(50, Math.floor(this.options.ttlMs / 3)),
    );
    this.timer.unref();
  }

  /** Steps down: stops renewing and deletes the lease so a follower takes over at once. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.ticking;
    if (this.state.leader && this.kv) await this.kv.delete(this.options.role, { previousSeq: this.revision }).catch(() => undefined);
    this.set({ leader: false });
  }

  private async tick(): Promise<void> {
    const kv = this.kv;
    if (!kv) return;
    try {
      if (this.state.leader) {
        this.revision = await kv.update(this.options.role, this.options.instanceId, this.revision);
        return;
      }
      this.revision = await this.acquire(kv);
      this.set({ leader: true, token: this.revision });
    } catch {
      // create: someone else holds the lease; update: we lost it (expired, or taken over).
      if (this.state.leader) this.set({ leader: false });
    }
  }

  /**
   * Create-if-absent; if the key is there but its last write is older than the TTL (the holder died and
   * the server has not expired it yet), take it over with compare-and-set on that revision: only one
   * candidate can win, and takeover does not wait for the server's expiry sweep.
   */
  private async acquire(kv: KV): Promise<number> {
    try {
      return await kv.create(this.options.role, this.options.instanceId);
    } catch (err) {
      const entry = await kv.get(this.options.role);
      const now = (this.options.clock ?? systemClock).now();
      if (!entry || now - entry.created.getTime() <= this.options.ttlMs) throw err;
      return kv.update(this.options.role, this.options.instanceId, entry.revision);
    }
  }

  private set(next: LeadershipState): void {
    const changed = next.leader !== this.state.leader || next.token !== this.state.token;
    this.state = next;
    if (!changed) return;
    leaderStatus.record(next.leader ? 1 : 0, { role: this.options.role });
    this.options.logger.info(
      { role: this.options.role, instance: this.options.instanceId, leader: next.leader, fencingToken: next.token },
      next.leader ? 'became leader' : 'no longer leader',
    );
    this.options.onChange?.(next);
  }
}
