import { describe, expect, it } from 'vitest';
import type { AnswerCounts } from '../src/load';
import { groupRows, percentile, renderMarkdown, type ChaosReport, type FaultRecord } from '../src/report';

const answers = (serverErrors = 0, unavailable = 0): AnswerCounts => ({ byStatus: {}, serverErrors, unavailable, noAnswer: 0, checkoutsFailed: 0 });

const record = (fault: string, group: string, recoveryMs: number | undefined, readyMs?: number): FaultRecord => ({
  fault,
  group,
  targets: [fault.split(':')[1] ?? ''],
  repeat: 1,
  at: '2026-12-01T22:00:00.000Z',
  inFlightOrders: 4,
  outstandingCheckouts: 2,
  recovered: recoveryMs !== undefined,
  ...(recoveryMs !== undefined ? { recoveryMs } : { error: 'order not running again within 1000 ms' }),
  ...(readyMs !== undefined ? { readyMs } : {}),
  probeTries: 1,
  probeFailures: [],
  answers: answers(3, 2),
  restarts: { order: 1 },
  pidsBefore: {},
  pidsAfter: {},
  detail: {},
});

describe('recovery statistics', () => {
  it('when there are values, then the percentile is nearest-rank: always one of the values', () => {
    expect(percentile([400, 100, 300, 200], 50)).toBe(200);
    expect(percentile([100, 200, 300], 50)).toBe(200);
    expect(percentile([5], 50)).toBe(5);
    expect(percentile([1, 9, 3], 100)).toBe(9);
    expect(percentile([], 50)).toBeUndefined();
  });

  it('when faults of a kind did not recover, then they count as faults but not in the recovery times', () => {
    const rows = groupRows([
      record('kill:order', 'kill service', 9_000, 4_000),
      record('kill:payment', 'kill service', 5_000, 3_000),
      record('kill:user', 'kill service', undefined, undefined),
      record('kill:nats-1', 'kill nats node', 2_000, 1_000),
    ]);
    expect(rows).toEqual([
      { group: 'kill service', faults: 3, recovered: 2, recoveryP50Ms: 5_000, recoveryMaxMs: 9_000, readyP50Ms: 3_000, readyMaxMs: 4_000 },
      { group: 'kill nats node', faults: 1, recovered: 1, recoveryP50Ms: 2_000, recoveryMaxMs: 2_000, readyP50Ms: 1_000, readyMaxMs: 1_000 },
    ]);
  });
});

describe('markdown report', () => {
  const report = (invariantOk: boolean): ChaosReport => {
    const faults = [record('kill:order', 'kill service', 9_000, 4_000), record('kill:user', 'kill service', undefined)];
    return {
      startedAt: '2026-12-01T22:00:00.000Z',
      finishedAt: '2026-12-01T22:10:00.000Z',
      command: 'npm run chaos -- --faults ci',
      options: {},
      machine: { cpus: 2, loadAverageAtStart: [3, 2, 1], loadAverageAtEnd: [4, 3, 2] },
      stack: { natsNodes: 3, instances: { order: 1, gateway: 1 } },
      faults,
      groups: groupRows(faults),
      load: { ordersPlaced: 120, probeOrders: 4, answers: answers(7, 5), skipped: ['kill:nats-1'] },
      invariants: [
        { name: 'orders-terminal', ok: true, count: 0, detail: '120 accepted orders' },
        { name: 'stock-conserved', ok: invariantOk, count: invariantOk ? 0 : 2, detail: 'p1 | p2' },
      ],
      passed: false,
      problems: ['kill:user did not recover'],
    };
  };

  it('when rendered, then it has the summary, one row per fault kind and per fault, and every invariant', () => {
    const md = renderMarkdown(report(false));
    expect(md).toContain('**failed**: kill:user did not recover');
    expect(md).toContain('| orders placed during the run (202) | 120 (4 by the recovery probe) |');
    expect(md).toContain('| 5xx answers to the load (503 of them) | 7 (5) |');
    expect(md).toContain('| kill service | 2 | 1 | 9.0 s | 9.0 s | 4.0 s | 4.0 s |');
    expect(md).toContain('| 1 | kill:order | 22:00:00 | 4 | 2 | 4.0 s | 9.0 s | 3 (2) | 0 | 0 | order 1 |');
    expect(md).toContain('| 2 | kill:user | 22:00:00 | 4 | 2 | – | no: order not running again within 1000 ms |');
    expect(md).toContain('| stock-conserved | **no** | 2 | p1 \\| p2 |');
    expect(md).toContain('Not run: kill:nats-1.');
    expect(md).toContain('| invariants | 1 of 2 hold |');
  });
});
