import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MetricStore, RateStats, TrendStats } from './metrics';
import type { ThresholdResult } from './thresholds';

/**
 * What a harness run leaves behind: the thresholds with PASS/FAIL (as k6's digest prints them), a
 * per-phase table for phased scenarios, and the main metrics, as text on stdout and as
 * `<REPORT_DIR>/<suite>-harness-<stamp>.{json,txt}` (reports/ is git-ignored).
 */

export interface PhaseRow {
  phase: string;
  startS: number;
  lengthS: number;
  requests: number;
  catalog?: TrendStats | undefined;
  catalogFailed?: RateStats | undefined;
  checkouts: number;
  checkoutSucceeded: number;
  rejected503: number;
  post503?: TrendStats | undefined;
  droppedIterations: number;
  thresholds: ThresholdResult[];
}

export interface RunReport {
  suite: string;
  driver: string;
  baseUrl: string;
  startedAt: string;
  durationS: number;
  passed: boolean;
  /** Resolved settings the run used (phase lengths, rates, bounds). */
  settings: Record<string, unknown>;
  thresholds: ThresholdResult[];
  phases?: PhaseRow[] | undefined;
  /** Scenario-specific lines (the probe's comparison, …). */
  lines: string[];
  metrics: Record<string, unknown>;
  /** What the scenario logged (why checkouts failed, executor errors), first ones only. */
  log: string[];
}

export const DRIVER = 'tracemart load harness (autocannon request streams, undici journeys, hdr-histogram-js percentiles)';

const ms = (v: number | undefined) => (v === undefined ? 'n/a' : v.toFixed(1));
const pct = (v: number) => `${(v * 100).toFixed(2)}%`;

/** Left-aligned columns, two spaces apart. */
export function renderTable(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

export function phaseTable(rows: PhaseRow[]): string[] {
  return renderTable(
    ['phase', 'start', 'length', 'requests', 'catalog p50/p95/p99 ms', 'catalog failed', 'checkouts ok/all', '503s (p99 ms)', 'dropped', 'thresholds'],
    rows.map((r) => {
      const failedT = r.thresholds.filter((t) => !t.ok).length;
      return [
        r.phase,
        `${r.startS}s`,
        `${r.lengthS}s`,
        String(r.requests),
        r.catalog ? `${ms(r.catalog.med)} / ${ms(r.catalog['p(95)'])} / ${ms(r.catalog['p(99)'])}` : 'n/a',
        r.catalogFailed ? `${r.catalogFailed.passes}/${r.catalogFailed.passes + r.catalogFailed.fails} (${pct(r.catalogFailed.rate)})` : 'n/a',
        `${r.checkoutSucceeded}/${r.checkouts}`,
        r.rejected503 > 0 ? `${r.rejected503} (${ms(r.post503?.['p(99)'])})` : '0',
        String(r.droppedIterations),
        r.thresholds.length === 0 ? '-' : failedT === 0 ? `PASS ${r.thresholds.length}/${r.thresholds.length}` : `FAIL ${failedT} of ${r.thresholds.length}`,
      ];
    }),
  );
}

export function thresholdLines(results: ThresholdResult[]): string[] {
  const failed = results.filter((r) => !r.ok).length;
  return [`thresholds (${failed} failed of ${results.length}):`, ...results.map((r) => `  ${r.ok ? 'PASS' : 'FAIL'} ${r.metric}: ${r.expression}   [${r.observed}]`)];
}

/** The main metrics, as k6's digest lists them. */
export function metricSummary(metrics: MetricStore): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { name, type } of metrics.names()) {
    if (type === 'trend') out[name] = metrics.trendStats(name);
    else if (type === 'rate') out[name] = metrics.rateStats(name);
    else if (type === 'counter') out[name] = { count: metrics.count(name) };
    else out[name] = { value: metrics.gaugeValue(name) };
  }
  return out;
}

function metricLines(summary: Record<string, unknown>): string[] {
  return Object.entries(summary).map(([name, value]) => {
    if (!value || typeof value !== 'object') return `  ${name} n/a`;
    const parts = Object.entries(value as Record<string, number | undefined>).map(([k, v]) => {
      if (typeof v !== 'number') return `${k}=n/a`;
      if (k === 'rate') return `rate=${pct(v)}`;
      return `${k}=${Number.isInteger(v) ? v : v.toFixed(2)}`;
    });
    return `  ${name} ${parts.join(' ')}`;
  });
}

export function renderText(report: RunReport): string {
  const lines = [`${report.suite}: ${report.passed ? 'PASSED' : 'FAILED'} (${DRIVER})`, `target ${report.baseUrl}, started ${report.startedAt}, ${report.durationS.toFixed(1)}s`];
  if (report.phases) lines.push('', ...phaseTable(report.phases));
  lines.push('', ...thresholdLines(report.thresholds));
  if (report.lines.length > 0) lines.push('', ...report.lines);
  if (report.log.length > 0) lines.push('', 'log (repeated lines folded):', ...report.log.map((l) => `  ${l}`));
  lines.push('', 'metrics:', ...metricLines(report.metrics));
  return `${lines.join('\n')}\n`;
}

export function reportStamp(date = new Date()): string {
  return date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

/** Writes `<dir>/<suite>-harness-<stamp>.{json,txt}`; returns the base path. */
export function writeReport(report: RunReport, dir: string, stamp = reportStamp()): { base: string; text: string } {
  mkdirSync(dir, { recursive: true });
  const base = join(dir, `${report.suite}-harness-${stamp}`);
  const text = renderText(report);
  writeFileSync(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(`${base}.txt`, text);
  return { base, text };
}
