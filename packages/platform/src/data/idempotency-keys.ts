import { createHash } from 'node:crypto';
import { AppError } from '../errors';

/**
 * API idempotency keys (`Idempotency-Key` header) without a key table: the key NAMES the resource it creates.
 * `keyedUuid(scope, key)` derives the new resource's id from the caller and the key, so a repeat of the request
 * tries to create the same resource again, and the store's unique index (an insert, atomic on MongoDB and
 * FerretDB alike) refuses the second one. The service then answers the first result, or 422 when the stored
 * request's `canonicalHash` differs from the repeat's. No extra write or read on the first request, and nothing
 * to expire: a key names its resource for good.
 */
const KEY_PATTERN = /^[A-Za-z0-9_.:-]{1,200}$/;

/** A stable hash of a JSON value: object keys sorted, so key order does not matter. */
export function canonicalHash(value: unknown): string {
  const canonical = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(canonical);
    if (v && typeof v === 'object')
      return Object.fromEntries(
        Object.keys(v)
          .sort()
          .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
      );
    return v;
  };
  return createHash('sha256')
    .update(JSON.stringify(canonical(value)))
    .digest('hex');
}

/** The header's value, checked: undefined when absent, 400 IDEMPOTENCY.INVALID_KEY when malformed. */
export function parseIdempotencyKey(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  if (!KEY_PATTERN.test(raw)) throw new AppError('invalid', 'IDEMPOTENCY.INVALID_KEY', 'Idempotency-Key must be 1-200 characters of A-Z a-z 0-9 _ . : -');
  return raw;
}

/** A UUID (version 8, RFC 9562: application-defined) derived from `scope` and `key`: the same pair, the same id. */
export function keyedUuid(scope: string, key: string): string {
  const bytes = createHash('sha256').update(scope).update('\0').update(key).digest().subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x80;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
