import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { InvariantResult } from '@tracemart/invariants';
import type { AnswerCounts } from './load';
import type { Recovery } from './recovery';

/** One fault as it happened: its recovery as measured (`Recovery`), with what the load and the supervisor saw meanwhile. */
export interface FaultRecord extends Omit<Recovery, 'pids'> {
  fault: string;
  /** The row its recovery time is summarised in (faultGroup). */
  group: string;
  targets: string[];
  repeat: number;
  at: string;
  /** Accepted orders not yet terminal just before the fault, from the order service's event store (undefined: no answer). */
  inFlightOrders?: number;
  /** The load's checkouts sent and not yet answered for good at the fault. */
  outstandingCheckouts: number;
  /** What the load saw from the fault to its recovery. */
  answers: AnswerCounts;
  /** Restarts by the stack's supervisor from the fault to the next fault (tracemart_process_restarts_total), by process. */
  restarts: Record<string, number>;
  pidsBefore: Record<string, number>;
  pidsAfter: Record<string, number>;
  detail: Record<string, unknown>;
}

export interface GroupRow {
  group: string;
  faults: number;
  recovered: number;
  recoveryP50Ms?: number;
  recoveryMaxMs?: number;
  readyP50Ms?: number;
  readyMaxMs?: number;
}

export interface ChaosReport {
  startedAt: string;
  finishedAt: string;
  command: string;
  options: Record<string, unknown>;
  machine: { cpus: number; loadAverageAtStart: number[]; loadAverageAtEnd: number[] };
  stack: { natsNodes: number; instances: Record<string, number> };
  faults: FaultRecord[];
  groups: GroupRow[];
  load: {
    /** Orders the gateway accepted (202) during the run: the load's and the probe's. */
    ordersPlaced: number;
    probeOrders: number;
    answers: AnswerCounts;
    /** Faults planned but not run: the time bound was reached or a fault did not recover. */
    skipped: string[];
  };
  invariants: InvariantResult[];
  /** sum(tracemart_chaos_faults_total) as the stack's Prometheus had it at the end (undefined: no Prometheus). */
  prometheusFaults?: number;
  passed: boolean;
  /** Why it did not pass. */
  problems: string[];
}

/** Nearest-rank percentile (the value at rank ceil(p/100 × n)): a value that was measured, never an interpolation. */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1];
}

/** Recovery p50/max per fault group, in the order the groups first occur. */
export function groupRows(records: readonly FaultRecord[]): GroupRow[] {
  const groups = new Map<string, FaultRecord[]>();
  for (const record of records) groups.set(record.group, [...(groups.get(record.group) ?? []), record]);
  return [...groups].map(([group, rows]) => {
    const recovery = rows.flatMap((r) => (r.recovered && r.recoveryMs !== undefined ? [r.recoveryMs] : []));
    const ready = rows.flatMap((r) => (r.readyMs !== undefined ? [r.readyMs] : []));
    const row: GroupRow = { group, faults: rows.length, recovered: rows.filter((r) => r.recovered).length };
    const set = (key: 'recoveryP50Ms' | 'recoveryMaxMs' | 'readyP50Ms' | 'readyMaxMs', value: number | undefined) => {
      if (value !== undefined) row[key] = value;
    };
    set('recoveryP50Ms', percentile(recovery, 50));
    set('recoveryMaxMs', percentile(recovery, 100));
    set('readyP50Ms', percentile(ready, 50));
    set('readyMaxMs', percentile(ready, 100));
    return row;
  });
}

const seconds = (ms: number | undefined) => (ms === undefined ? '–' : `${(ms / 1000).toFixed(1)} s`);
const cell = (value: unknown) => String(value ?? '–').replace(/\|/g, '\\|');

function table(header: string[], rows: unknown[][]): string[] {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((row) => `| ${row.map(cell).join(' | ')} |`)];
}

/** The report as markdown: the summary, recovery per fault kind, every fault, every invariant. */
export function renderMarkdown(report: ChaosReport): string {
  const held = report.invariants.filter((r) => r.ok).length;
  const answers = report.load.answers;
  const instances = [...new Set(Object.values(report.stack.instances))];
  const lines = [
    `# Chaos run ${report.startedAt}`,
    '',
    `\`${report.command}\` — ${report.passed ? '**passed**' : `**failed**: ${report.problems.join('; ')}`}`,
    '',
    `Stack: ${report.stack.natsNodes} NATS node(s), ${instances.length === 1 ? `${instances[0]} instance(s) of each service` : JSON.stringify(report.stack.instances)}. ` +
      `Machine: ${report.machine.cpus} CPUs, load average ${report.machine.loadAverageAtStart.map((l) => l.toFixed(1)).join('/')} at the start, ` +
      `${report.machine.loadAverageAtEnd.map((l) => l.toFixed(1)).join('/')} at the end (1/5/15 min). Run ${report.startedAt} – ${report.finishedAt}.`,
    '',
    ...table(
      ['', ''],
      [
        [
          'faults injected',
          `${report.faults.length} (${report.faults.filter((f) => f.recovered).length} recovered)${report.load.skipped.length > 0 ? `, ${report.load.skipped.length} skipped` : ''}`,
        ],
        ['orders placed during the run (202)', `${report.load.ordersPlaced} (${report.load.probeOrders} by the recovery probe)`],
        ['checkouts that got no order after every retry', answers.checkoutsFailed],
        ['5xx answers to the load (503 of them)', `${answers.serverErrors} (${answers.unavailable})`],
        ['requests without an answer (refused, reset, timed out)', answers.noAnswer],
        ['invariants', `${held} of ${report.invariants.length} hold`],
        ...(report.prometheusFaults !== undefined ? [['faults seen by Prometheus (tracemart_chaos_faults_total)', report.prometheusFaults]] : []),
      ],
    ),
    '',
    '## Recovery per fault kind',
    '',
    'Recovery: from the fault to the end of the first checkout through the gateway confirmed after every target was ready again. Ready: to every target running again (after a kill, restarted by the supervisor) and answering its readiness probe. p50 is nearest-rank.',
    '',
    ...table(
      ['fault kind', 'faults', 'recovered', 'recovery p50', 'recovery max', 'ready p50', 'ready max'],
      report.groups.map((g) => [g.group, g.faults, g.recovered, seconds(g.recoveryP50Ms), seconds(g.recoveryMaxMs), seconds(g.readyP50Ms), seconds(g.readyMaxMs)]),
    ),
    '',
    '## Faults',
    '',
    ...table(
      ['#', 'fault', 'at (UTC)', 'orders in flight', 'checkouts outstanding', 'ready', 'recovered', '5xx (503)', 'no answer', 'checkouts failed', 'restarts'],
      report.faults.map((f, i) => [
        i + 1,
        `${f.fault}${f.repeat > 1 ? ` (#${f.repeat})` : ''}`,
        f.at.slice(11, 19),
        f.inFlightOrders,
        f.outstandingCheckouts,
        seconds(f.readyMs),
        f.recovered ? seconds(f.recoveryMs) : `no: ${f.error ?? ''}`,
        `${f.answers.serverErrors} (${f.answers.unavailable})`,
        f.answers.noAnswer,
        f.answers.checkoutsFailed,
        Object.entries(f.restarts)
          .map(([name, n]) => `${name} ${n}`)
          .join(', ') || '–',
      ]),
    ),
    ...(report.load.skipped.length > 0 ? ['', `Not run: ${report.load.skipped.join(', ')}.`] : []),
    '',
    '## Invariants (after the system settled)',
    '',
    ...table(
      ['invariant', 'holds', 'violations', 'detail'],
      report.invariants.map((r) => [r.name, r.ok ? 'yes' : '**no**', r.count, r.detail.length > 300 ? `${r.detail.slice(0, 300)}…` : r.detail]),
    ),
  ];
  return `${lines.join('\n')}\n`;
}

/** Writes `report.json` and `report.md` into `dir`; returns their paths. */
export function writeRunReport(dir: string, report: ChaosReport): { json: string; markdown: string } {
  mkdirSync(dir, { recursive: true });
  const json = join(dir, 'report.json');
  const markdown = join(dir, 'report.md');
  writeFileSync(json, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(markdown, renderMarkdown(report));
  return { json, markdown };
}
