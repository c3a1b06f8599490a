import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import type { Stack } from '@tracemart/stack';

interface ScrapeConfig {
  job_name: string;
  static_configs?: { targets: string[] }[];
}

/** The stack's rendered Prometheus configuration with a `chaos` job scraping `port` added (or kept). */
export function withChaosJob(config: string, port: number): string {
  const parsed = parse(config) as { scrape_configs?: ScrapeConfig[] };
  const jobs = (parsed.scrape_configs ?? []).filter((job) => job.job_name !== 'chaos');
  parsed.scrape_configs = [...jobs, { job_name: 'chaos', static_configs: [{ targets: [`127.0.0.1:${port}`] }] }];
  return stringify(parsed);
}

/**
 * Lets the stack's Prometheus scrape the runner's /metrics: the stack starts Prometheus with one job per service (its
 * configuration rendered into `<dataDir>/prometheus/prometheus.yml`, see packages/stack/src/prometheus.ts) and has no
 * option for another target, so the job is added to that file and Prometheus told to read it again (SIGHUP). Returns
 * why it could not, or undefined.
 */
export function addChaosScrapeJob(stack: Stack, dataDir: string, port: number): string | undefined {
  const prometheus = stack.processes.get('prometheus');
  const file = join(dataDir, 'prometheus', 'prometheus.yml');
  if (!prometheus || !stack.prometheusUrl) return 'the stack runs no Prometheus';
  if (!existsSync(file)) return `${file} not found`;
  writeFileSync(file, withChaosJob(readFileSync(file, 'utf8'), port));
  prometheus.child.kill('SIGHUP');
  return undefined;
}

/** How many faults the stack's Prometheus has seen (sum of tracemart_chaos_faults_total), or undefined. */
export async function faultsSeenByPrometheus(prometheusUrl: string): Promise<number | undefined> {
  try {
    const res = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent('sum(tracemart_chaos_faults_total)')}`, { signal: AbortSignal.timeout(5_000) });
    const body = (await res.json()) as { data?: { result?: { value?: [number, string] }[] } };
    const value = body.data?.result?.[0]?.value?.[1];
    return value === undefined ? 0 : Number(value);
  } catch {
    return undefined;
  }
}
