import { createHash } from 'node:crypto';
import type { Db } from 'mongodb';
import { AppError } from '../errors';
import { isDuplicateKeyError } from './mongo';

/**
 * API idempotency keys (`Idempotency-Key` header), scoped per caller:
 *  - same key, same body: the original response is returned again and nothing is done twice;
 *  - same key, different body: 422 IDEMPOTENCY.KEY_REUSED;
 *  - same key while the first request is still running: 409 IDEMPOTENCY.IN_PROGRESS (retry shortly);
 *  - keys expire after `ttlMs` (24 h): an expired key is treated as new. Expired records are also swept,
 *    since FerretDB has no TTL indexes.
 * A request that fails releases its key, so the client may retry with the same key.
 */
interface IdempotencyRecord {
  _id: string;
  requestHash: string;
  state: 'IN_PROGRESS' | 'DONE';
  response?: { status: number; body: unknown };
  createdAt: Date;
}

export interface StoredResponse {
  status: number;
  body: unknown;
}

const KEY_PATTERN = /^[A-Za-z0-9_.:-]{1,200}$/;

/** A stable hash of a JSON value: object keys sorted, so key order does not matter. */
export function canonicalHash(value: unknown): string {
  const canonical = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(canonical);
    if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])]));
    return v;
  };
  return createHash('sha256').update(JSON.stringify(canonical(value))).digest('hex');
}

export async function createIdempotencyStore(db: Db, options: { ttlMs?: number; now?: () => Date } = {}) {
  const records = db.collection<IdempotencyRecord>('idempotency_keys');
  await records.createIndex({ createdAt: 1 });
  const ttlMs = options.ttlMs ?? 24 * 3600_000;
  const now = options.now ?? (() => new Date());

  async function claim(id: string, requestHash: string): Promise<StoredResponse | undefined> {
    for (let attempt = 0; attempt < 3; attempt += 1) {
      try {
        await records.insertOne({ _id: id, requestHash, state: 'IN_PROGRESS', createdAt: now() });
        return undefined;
      } catch (err) {
        if (!isDuplicateKeyError(err)) throw err;
      }
      const existing = await records.findOne({ _id: id });
      if (!existing) continue;
      if (existing.createdAt.getTime() + ttlMs < now().getTime()) {
        await records.deleteOne({ _id: id, createdAt: existing.createdAt });
        continue;
      }
      if (existing.requestHash !== requestHash) {
        throw new AppError('unprocessable', 'IDEMPOTENCY.KEY_REUSED', 'this Idempotency-Key was used with a different request body');
      }
      if (existing.state === 'IN_PROGRESS' || !existing.response) {
        throw new AppError('conflict', 'IDEMPOTENCY.IN_PROGRESS', 'a request with this Idempotency-Key is in progress', { retryAfterSeconds: 1 });
      }
      return existing.response;
    }
    throw new AppError('conflict', 'IDEMPOTENCY.IN_PROGRESS', 'a request with this Idempotency-Key is in progress', { retryAfterSeconds: 1 });
  }

  return {
    /**
     * Runs `work` once per (scope, key, body). Returns the response and whether it was replayed.
     */
    async run(scope: string, key: string, body: unknown, work: () => Promise<StoredResponse>): Promise<StoredResponse & { replayed: boolean }> {
      if (!KEY_PATTERN.test(key)) throw new AppError('invalid', 'IDEMPOTENCY.INVALID_KEY', 'Idempotency-Key must be 1-200 characters of A-Z a-z 0-9 _ . : -');
      const id = `${scope}:${key}`;
      const replay = await claim(id, canonicalHash(body));
      if (replay) return { ...replay, replayed: true };
      try {
        const response = await work();
        await records.updateOne({ _id: id }, { $set: { state: 'DONE', response } });
        return { ...response, replayed: false };
      } catch (err) {
        await records.deleteOne({ _id: id, state: 'IN_PROGRESS' });
        throw err;
      }
    },
    /** Deletes records older than the key lifetime; returns how many. */
    async expire(): Promise<number> {
      const result = await records.deleteMany({ createdAt: { $lt: new Date(now().getTime() - ttlMs) } });
      return result.deletedCount;
    },
  };
}
export type IdempotencyStore = Awaited<ReturnType<typeof createIdempotencyStore>>;
