/**
 * The pure part of partition ownership: given how many partitions there are, which this instance owns, and how many
 * instances are alive, what to give up and what to try to take. Each instance aims at its fair share, ceil(P / N):
 * one above its share releases its highest partitions (a newcomer can then take them), one below tries the free ones,
 * starting at an offset of its own so that instances starting together do not all race for partition 0.
 */
export interface PartitionPlan {
  /** Owned partitions to release, highest first. */
  release: number[];
  /** Partitions to try to acquire, in order, until the share is reached (some may be held by others). */
  candidates: number[];
  share: number;
}

export function fairShare(count: number, members: number): number {
  return Math.ceil(count / Math.max(1, members));
}

export function planPartitions(input: { count: number; owned: ReadonlySet<number>; members: number; offset: number }): PartitionPlan {
  const share = fairShare(input.count, input.members);
  const owned = [...input.owned].sort((a, b) => a - b);
  const release = owned.length > share ? owned.slice(share).reverse() : [];
  const candidates: number[] = [];
  if (owned.length < share) {
    for (let step = 0; step < input.count; step++) {
      const partition = (input.offset + step) % input.count;
      if (!input.owned.has(partition)) candidates.push(partition);
    }
  }
  return { release, candidates, share };
}

/** A stable offset for an instance id (FNV-1a), so instances spread their first attempts over the partitions. */
export function offsetOf(instanceId: string, count: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < instanceId.length; i++) {
    hash ^= instanceId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % Math.max(1, count);
}
