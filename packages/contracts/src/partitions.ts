/**
 * Sharding of the event streams by order id. Every event is published on `<type>.<order id>` (`payments.charged.o-12`);
 * each stream's subject transform (nats-server >= 2.10, set up by the services) stores it as
 * `<type>.<partition>.<order id>`, the partition being `partition(PARTITIONS, order id)`: FNV-1a (32 bit) of the token,
 * modulo PARTITIONS. `partitionOf` below computes the same number, so a process can tell which partition an order is in
 * without asking the server (the saga sweeper sweeps only the orders of partitions it owns).
 * Changing PARTITIONS changes where new events are stored, not where old ones are: do it on an empty system.
 */
export const PARTITIONS = 8;

/** A subject token for `key`: NATS tokens cannot hold `.`, `*`, `>` or whitespace, so anything outside [A-Za-z0-9_-] becomes `_`. */
export function subjectToken(key: string): string {
  const token = key.replace(/[^A-Za-z0-9_-]/g, '_');
  return token.length > 0 ? token : '_';
}

/** FNV-1a, 32 bit, over the UTF-8 bytes: the hash of nats-server's `partition()` subject mapping function. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/** The partition of an order id, as the server's subject transform computes it. */
export function partitionOf(key: string, partitions: number = PARTITIONS): number {
  return fnv1a(subjectToken(key)) % partitions;
}

/**
 * The stream subject transform that shards `<domain>.<event>.<key>` into `<domain>.<event>.<partition>.<key>`. Subjects
 * with another number of tokens (a dead letter re-driven to its stored subject) are stored as they are.
 */
export function partitionTransform(domain: string, partitions: number = PARTITIONS): { src: string; dest: string } {
  return { src: `${domain}.*.*`, dest: `${domain}.{{wildcard(1)}}.{{partition(${partitions},2)}}.{{wildcard(2)}}` };
}

/** The filter subject of one event type's stored messages, or of one partition of them. */
export function eventFilter(type: string, partition?: number): string {
  return partition === undefined ? `${type}.>` : `${type}.${partition}.*`;
}
