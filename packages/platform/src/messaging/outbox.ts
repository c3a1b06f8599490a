import type { Collection, Document, Filter, UpdateFilter } from 'mongodb';
import type { Logger } from 'pino';
import { getMeter } from '../telemetry/metrics';
import type { EventBus } from './bus';
import type { EventEnvelope } from './envelope';
import { LruCache } from '../resilience/lru';

/**
 * Transactional outbox without multi-document transactions. Two shapes of "same write":
 *  - embedded: a service writes its state change and the events it causes in ONE document update
 *    (`outbox: [...]` on the aggregate document); see `OutboxRelay.write`.
 *  - event store: the appended event documents are themselves the outbox (`published: false`).
 * The relay publishes each pending event (msgID = event id, so a republish is dropped by JetStream's
 * duplicate window) and then marks it done. A crash between write and publish leaves the event pending,
 * and the next sweep publishes it.
 */
export interface OutboxDocument extends Document {
  outbox?: EventEnvelope[];
  /**
   * True while `outbox` may hold events: the sweep looks up `{ outboxPending: true }`, an equality that FerretDB
   * passes to PostgreSQL (an index lookup), so it reads only documents with work left, not the whole collection.
   */
  outboxPending?: true;
}

export interface PendingEvent {
  event: EventEnvelope;
  markPublished: () => Promise<void>;
}

/** Where a relay finds events written but not yet published. */
export interface OutboxSource {
  name: string;
  pending: (limit: number) => AsyncIterable<PendingEvent>;
}

export function embeddedOutbox<T extends OutboxDocument>(typed: Collection<T>): OutboxSource {
  const collection = typed as unknown as Collection<OutboxDocument>;
  let indexed: Promise<unknown> | undefined;
  return {
    name: collection.collectionName,
    async *pending(limit) {
      indexed ??= collection.createIndex({ outboxPending: 1 });
      await indexed;
      const docs = await collection
        .find({ outboxPending: true } as Filter<OutboxDocument>, { projection: { outbox: 1 } })
        .limit(limit)
        .toArray();
      for (const doc of docs) {
        const events = doc.outbox ?? [];
        // Emptied by per-event pulls: the flag goes once nothing is left (the next write sets it again).
        if (events.length === 0) await collection.updateOne({ _id: doc._id, outbox: { $size: 0 } } as Filter<OutboxDocument>, { $unset: { outboxPending: '' } });
        for (const event of events) {
          yield { event, markPublished: () => pullFromOutbox(collection, doc._id, event) };
        }
      }
    },
  };
}

/**
 * After publishing every event a write stored, empties the outbox in one update when it holds exactly those
 * (always, when writes to the document are serialised as the services do); otherwise pulls them one by one.
 */
async function clearOutbox(collection: Collection<OutboxDocument>, documentId: unknown, events: EventEnvelope[]): Promise<void> {
  const cleared = await collection.updateOne({ _id: documentId, outbox: events } as Filter<OutboxDocument>, { $set: { outbox: [] }, $unset: { outboxPending: '' } });
  if (cleared.modifiedCount === 1) return;
  for (const event of events) await pullFromOutbox(collection, documentId, event);
}

/**
 * Removes one published event by its exact stored value: FerretDB v1 silently ignores `$pull` with a
 * condition (`{ id }`, `$elemMatch`), and an exact element match works on FerretDB and MongoDB alike.
 */
async function pullFromOutbox(collection: Collection<OutboxDocument>, documentId: unknown, event: EventEnvelope): Promise<void> {
  const result = await collection.updateOne({ _id: documentId } as Filter<OutboxDocument>, { $pull: { outbox: event } } as unknown as UpdateFilter<OutboxDocument>);
  if (result.modifiedCount === 0) {
    // Nothing pulled: already removed (a concurrent sweep) or the stored form differs; never loop silently.
    const still = await collection.countDocuments({ _id: documentId, 'outbox.id': event.id } as Filter<OutboxDocument>, { limit: 1 });
    if (still > 0) throw new Error(`outbox event ${event.id} could not be removed after publishing`);
  }
}

const meter = getMeter();
/** Age of the oldest unpublished event seen by the last sweep, in seconds (0 when none). */
const outboxLag = meter.createGauge('tracemart.outbox.lag', { unit: 's', description: 'Age of the oldest unpublished outbox event' });
/** Events published by the relay, by how they were found: immediate (right after the write) or sweep. */
const relayed = meter.createCounter('tracemart.outbox.relayed', { unit: '{event}', description: 'Events relayed from an outbox' });

export class OutboxRelay {
  /**
   * Events this process published lately: the sweep skips them, because their "published" mark may still be on its
   * way (written in the background). Without this a busy moment turns into republishing, which queues more marks.
   */
  private readonly recentlyPublished = new LruCache<string, true>(20_000);
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;
  private crashBefore: string | undefined;

  constructor(
    private readonly bus: EventBus,
    private readonly sources: OutboxSource[],
    private readonly logger: Logger,
    private readonly options: { sweepIntervalMs?: number; graceMs?: number } = {},
  ) {}

  /** Writes a document change and its events in one update, then publishes them at once. */
  async write<T extends OutboxDocument>(
    collection: Collection<T>,
    filter: Filter<T>,
    update: UpdateFilter<T>,
    events: EventEnvelope[],
    options: { upsert?: boolean } = {},
  ): Promise<boolean> {
    const withEvents = {
      ...update,
      $set: { ...(update.$set ?? {}), outboxPending: true },
      $push: { ...(update.$push ?? {}), outbox: { $each: events } },
    } as unknown as UpdateFilter<T>;
    const result = await collection.findOneAndUpdate(filter, withEvents, { upsert: options.upsert ?? false, returnDocument: 'after' });
    if (!result) return false;
    await this.publishStored(collection, result._id, events);
    return true;
  }

  /**
   * Publishes events a write of the caller's stored in a document's outbox (an insert with `outbox: events` and
   * `outboxPending: true`, say), then empties the outbox in one update. A failure is left to the sweep.
   */
  async publishStored<T extends OutboxDocument>(collection: Collection<T>, documentId: unknown, events: EventEnvelope[]): Promise<void> {
    if (this.crashBefore && events.some((event) => event.type === this.crashBefore)) process.exit(137);
    try {
      for (const event of events) await this.relay({ event, markPublished: async () => undefined }, 'immediate');
      await clearOutbox(collection as unknown as Collection<OutboxDocument>, documentId, events);
    } catch (err) {
      this.logger.warn({ err }, 'immediate publish failed; the outbox sweep will retry');
    }
  }

  /**
   * Test-only fault point: the process dies (exit 137, as after SIGKILL) after an event of `eventType`
   * was written and before it is published. The outbox test uses it to prove nothing is lost.
   */
  enableCrashPoint(eventType: string): void {
    this.crashBefore = eventType;
    this.logger.warn({ eventType }, 'TEST FAULT POINT ENABLED: the process will crash before publishing this event type');
  }

  /** The fast path after a successful write; a failure is left to the sweep. Says whether all were published. */
  async publishNow(pending: PendingEvent[]): Promise<boolean> {
    if (this.crashBefore && pending.some((item) => item.event.type === this.crashBefore)) process.exit(137);
    try {
      for (const item of pending) await this.relay(item, 'immediate');
      return true;
    } catch (err) {
      this.logger.warn({ err }, 'immediate publish failed; the outbox sweep will retry');
      return false;
    }
  }

  /** Whether this process published `eventId` lately (kept for the last 20,000 events). */
  wasPublished(eventId: string): boolean {
    return this.recentlyPublished.get(eventId) === true;
  }

  start(): void {
    this.timer = setInterval(() => {
      this.sweeping ??= this.sweep()
        .then(() => undefined)
        .catch((err: unknown) => this.logger.warn({ err }, 'outbox sweep failed'))
        .finally(() => {
          this.sweeping = undefined;
        });
    }, this.options.sweepIntervalMs ?? 1_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.sweeping;
  }

  /** Publishes every event still pending in any source; returns how many. */
  async sweep(): Promise<number> {
    let count = 0;
    let oldestSeconds = 0;
    const now = Date.now();
    for (const source of this.sources) {
      for await (const item of source.pending(500)) {
        const ageMs = now - Date.parse(item.event.occurredAt);
        oldestSeconds = Math.max(oldestSeconds, ageMs / 1000);
        // A fresh event is the immediate path's to publish; sweeping it too would publish it twice
        // (harmless, JetStream drops the duplicate, but wasted work). Only what is left behind is swept.
        if (ageMs < (this.options.graceMs ?? 2_000)) continue;
        if (this.recentlyPublished.get(item.event.id)) {
          // Published already, its mark still on its way; if it has not landed in 30 s (dropped, failed), mark again.
          if (ageMs > 30_000) await item.markPublished();
          continue;
        }
        await this.relay(item, 'sweep');
        count += 1;
      }
    }
    outboxLag.record(oldestSeconds);
    return count;
  }

  private async relay(item: PendingEvent, path: 'immediate' | 'sweep'): Promise<void> {
    await this.bus.publish(item.event);
    this.recentlyPublished.set(item.event.id, true);
    await item.markPublished();
    relayed.add(1, { path });
  }
}
