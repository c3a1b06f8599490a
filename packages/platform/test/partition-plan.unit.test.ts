import { describe, expect, it } from 'vitest';
import { fairShare, offsetOf, planPartitions } from '../src/coordination/partition-plan';

describe('planPartitions', () => {
  it('when an instance is alone, then its share is every partition and it tries all it lacks, from its offset', () => {
    expect(planPartitions({ count: 8, owned: new Set([1]), members: 1, offset: 6 })).toEqual({ release: [], candidates: [6, 7, 0, 2, 3, 4, 5], share: 8 });
  });

  it('when a second instance joins, then the one holding all eight releases its four highest', () => {
    expect(planPartitions({ count: 8, owned: new Set([0, 1, 2, 3, 4, 5, 6, 7]), members: 2, offset: 0 })).toEqual({ release: [7, 6, 5, 4], candidates: [], share: 4 });
  });

  it('when instances do not divide the partitions, then shares round up so every partition can be owned', () => {
    expect(fairShare(8, 3)).toBe(3);
    expect(fairShare(8, 0)).toBe(8);
    expect(planPartitions({ count: 8, owned: new Set([0, 1, 2]), members: 3, offset: 0 })).toEqual({ release: [], candidates: [], share: 3 });
  });

  it('when instance ids differ, then their offsets spread over the partitions and stay stable', () => {
    expect(offsetOf('order-1', 8)).toBe(offsetOf('order-1', 8));
    const offsets = new Set(['order-1', 'order-2', 'order-3', 'order-4'].map((id) => offsetOf(id, 8)));
    expect(offsets.size).toBeGreaterThan(1);
  });
});
