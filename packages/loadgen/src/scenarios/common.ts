import { HttpClient } from '../http';
import { MetricStore } from '../metrics';
import { DRIVER, metricSummary, renderText, writeReport, type PhaseRow, type RunReport } from '../report';
import { loadScenarioFile, type Env, type ScenarioFile } from '../scenario-file';
import { evaluateThresholds } from '../thresholds';
import type { Shop } from '../shop';

export interface ScenarioOptions {
  /** The gateway, e.g. http://127.0.0.1:8080; loopback only. */
  baseUrl: string;
  /** The admin API credential (fault injection); the running local stack's when absent. */
  adminToken: string;
  /** Overrides as the k6 scripts read them from __ENV (DEGRADATION_SCALE, CHECKOUT_POLL_TRIES, …). */
  env?: Env;
  scenarioFile?: ScenarioFile;
  /** When set, the JSON and text reports are written there. */
  reportDir?: string;
  stamp?: string;
  signal?: AbortSignal;
  /** Progress lines while the run goes (phase starts, fault actions). */
  progress?: (line: string) => void;
}

export interface ScenarioRun {
  report: RunReport;
  /** The text report: phase table, thresholds, metrics. */
  text: string;
  /** Base path of the written reports (`.json`, `.txt`), when reportDir was given. */
  reportBase?: string;
}

const MAX_LOG_LINES = 30;

/**
 * What a scenario logs (why a checkout failed, …), folded: lines that differ only in ids are counted
 * once with the first one kept, so 25 expected 503s in the outage do not hide the one timeout.
 */
export class RunLog {
  private readonly lines = new Map<string, { line: string; count: number }>();
  private dropped = 0;

  add(line: string): void {
    const key = line.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '<id>').replace(/"(productId|name)":"[^"]*"/g, '"$1":…');
    const seen = this.lines.get(key);
    if (seen) seen.count += 1;
    else if (this.lines.size < MAX_LOG_LINES) this.lines.set(key, { line, count: 1 });
    else this.dropped += 1;
  }

  entries(): string[] {
    const out = [...this.lines.values()].map(({ line, count }) => (count > 1 ? `${count}× ${line}` : line));
    return this.dropped > 0 ? [...out, `… and ${this.dropped} more lines`] : out;
  }
}

export function createShop(options: ScenarioOptions, poll: Shop['poll']): { shop: Shop; metrics: MetricStore; log: RunLog } {
  const metrics = new MetricStore();
  const log = new RunLog();
  const shop: Shop = {
    http: new HttpClient(options.baseUrl, metrics),
    metrics,
    adminToken: options.adminToken,
    poll,
    log: (line) => log.add(line),
  };
  return { shop, metrics, log };
}

export function scenarioFileOf(options: ScenarioOptions): ScenarioFile {
  return options.scenarioFile ?? loadScenarioFile();
}

export function finish(
  suite: string,
  options: ScenarioOptions,
  parts: {
    metrics: MetricStore;
    thresholds: Record<string, string[]>;
    startedAt: Date;
    settings: Record<string, unknown>;
    phases?: (thresholds: ReturnType<typeof evaluateThresholds>) => PhaseRow[];
    lines?: string[];
    log: RunLog;
  },
): ScenarioRun {
  const results = evaluateThresholds(parts.metrics, parts.thresholds);
  const report: RunReport = {
    suite,
    driver: DRIVER,
    baseUrl: options.baseUrl,
    startedAt: parts.startedAt.toISOString(),
    durationS: (Date.now() - parts.startedAt.getTime()) / 1000,
    passed: results.every((r) => r.ok),
    settings: parts.settings,
    thresholds: results,
    phases: parts.phases?.(results),
    lines: parts.lines ?? [],
    metrics: metricSummary(parts.metrics),
    log: parts.log.entries(),
  };
  if (!options.reportDir) return { report, text: renderText(report) };
  const { base, text } = writeReport(report, options.reportDir, options.stamp);
  return { report, text: `${text}\nreports: ${base}.json, ${base}.txt\n`, reportBase: base };
}
