import type { Collection, Db } from 'mongodb';
import { isDuplicateKeyError } from '../data/mongo';

/**
 * Idempotent consumer: which events a consumer has applied (unique on consumer + event id).
 * A consumer CLAIMS an event before applying it (an insert: atomic on MongoDB and FerretDB alike), so
 * two concurrent deliveries of the same event cannot both apply it; DONE events are skipped; a failed
 * attempt releases its claim; a claim older than `staleClaimMs` (its holder died) may be taken over.
 * Expiry is an application sweep (FerretDB has no TTL indexes).
 */
interface ProcessedEvent {
  _id: string;
  consumer: string;
  eventId: string;
  state: 'CLAIMED' | 'DONE';
  at: Date;
}

export type Claim = 'claimed' | 'done' | 'busy';

export class ProcessedEvents {
  private constructor(
    private readonly collection: Collection<ProcessedEvent>,
    private readonly staleClaimMs: number,
  ) {}

  static async create(db: Db, options: { staleClaimMs?: number } = {}): Promise<ProcessedEvents> {
    const collection = db.collection<ProcessedEvent>('processed_events');
    await collection.createIndex({ at: 1 });
    return new ProcessedEvents(collection, options.staleClaimMs ?? 60_000);
  }

  async claim(consumer: string, eventId: string): Promise<Claim> {
    const _id = `${consumer}:${eventId}`;
    try {
      await this.collection.insertOne({ _id, consumer, eventId, state: 'CLAIMED', at: new Date() });
      return 'claimed';
    } catch (err) {
      if (!isDuplicateKeyError(err)) throw err;
    }
    const existing = await this.collection.findOne({ _id });
    if (existing?.state === 'DONE') return 'done';
    if (existing && Date.now() - existing.at.getTime() > this.staleClaimMs) {
      const taken = await this.collection.updateOne({ _id, state: 'CLAIMED', at: existing.at }, { $set: { at: new Date() } });
      if (taken.modifiedCount === 1) return 'claimed';
    }
    return 'busy';
  }

  async complete(consumer: string, eventId: string): Promise<void> {
    await this.collection.updateOne({ _id: `${consumer}:${eventId}` }, { $set: { state: 'DONE', at: new Date() } });
  }

  async release(consumer: string, eventId: string): Promise<void> {
    await this.collection.deleteOne({ _id: `${consumer}:${eventId}`, state: 'CLAIMED' });
  }

  async has(consumer: string, eventId: string): Promise<boolean> {
    return (await this.collection.countDocuments({ _id: `${consumer}:${eventId}`, state: 'DONE' }, { limit: 1 })) > 0;
  }

  async expire(olderThan: Date): Promise<number> {
    const result = await this.collection.deleteMany({ state: 'DONE', at: { $lt: olderThan } });
    return result.deletedCount;
  }
}
