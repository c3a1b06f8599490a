import type { Collection, Db } from 'mongodb';
import { AppError } from '../errors';
import { isDuplicateKeyError } from '../data/mongo';

interface FenceDocument {
  _id: string;
  token: number;
}

/**
 * Storage-side fencing: a write made on behalf of a leader first advances the fence to its token; a
 * token older than the fence is refused. A new leader advances the fence as soon as it is elected, so
 * anything a deposed leader (paused, partitioned) tries afterwards is refused. The check and the guarded
 * write are two operations (no multi-document transactions here), so the guarded writes are also
 * idempotent in their own right.
 */
export class Fence {
  private constructor(
    private readonly fences: Collection<FenceDocument>,
    private readonly name: string,
  ) {}

  static for(db: Db, name: string): Fence {
    return new Fence(db.collection<FenceDocument>('fences'), name);
  }

  /** Advances the fence to `token`, or throws FENCE.STALE_TOKEN when a newer token has been seen. */
  async check(token: number): Promise<void> {
    try {
      await this.fences.updateOne({ _id: this.name, token: { $lte: token } }, { $set: { token } }, { upsert: true });
    } catch (err) {
      if (!isDuplicateKeyError(err)) throw err;
      const current = await this.fences.findOne({ _id: this.name });
      throw new AppError('conflict', 'FENCE.STALE_TOKEN', `fencing token ${token} is older than ${current?.token ?? '?'}`);
    }
  }

  async current(): Promise<number | undefined> {
    return (await this.fences.findOne({ _id: this.name }))?.token;
  }
}
