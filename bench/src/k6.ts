import { spawn, execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export interface TrendValues {
  avg: number;
  min: number;
  med: number;
  'p(90)': number;
  'p(95)': number;
  'p(99)': number;
  max: number;
  count: number;
}

interface SummaryMetric {
  type: 'trend' | 'rate' | 'counter' | 'gauge';
  values: Record<string, number>;
}

export interface K6Summary {
  metrics: Record<string, SummaryMetric | undefined>;
  state: { testRunDurationMs: number };
}

export function k6Path(root: string): string {
  const path = join(root, '.tools', 'bin', 'k6');
  if (!existsSync(path)) throw new Error(`k6 not found at ${path}: run \`npm run setup\``);
  return path;
}

export function k6Version(root: string): string {
  return execFileSync(k6Path(root), ['version'], { encoding: 'utf8' }).split(' (')[0]?.trim() ?? 'k6';
}

/**
 * Runs one benchmark k6 script with `env`, bounded by `timeoutMs`, and returns its summary. `onStart`
 * gets k6's pid so its CPU can be counted apart from the system's.
 */
export async function runK6(options: {
  root: string;
  script: string;
  env: Record<string, string>;
  summaryFile: string;
  timeoutMs: number;
  onStart?: (pid: number) => void;
}): Promise<K6Summary> {
  rmSync(options.summaryFile, { force: true });
  const child = spawn(k6Path(options.root), ['run', '--quiet', '--no-color', '--no-usage-report', join(options.root, 'bench', 'k6', options.script)], {
    cwd: options.root,
    env: { ...process.env, ...options.env, SUMMARY_FILE: options.summaryFile },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid !== undefined) options.onStart?.(child.pid);
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-8_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGINT');
      setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
    }, options.timeoutMs);
    child.once('close', (exitCode) => {
      clearTimeout(timer);
      resolve(exitCode);
    });
  });
  if (!existsSync(options.summaryFile)) throw new Error(`k6 ${options.script} exited ${code} without a summary:\n${output}`);
  return JSON.parse(readFileSync(options.summaryFile, 'utf8')) as K6Summary;
}

export function trend(summary: K6Summary, name: string): TrendValues | undefined {
  const metric = summary.metrics[name];
  return metric?.type === 'trend' ? (metric.values as unknown as TrendValues) : undefined;
}

export function count(summary: K6Summary, name: string): number {
  return summary.metrics[name]?.values.count ?? 0;
}

export function rate(summary: K6Summary, name: string): { rate: number; passes: number; fails: number } | undefined {
  const metric = summary.metrics[name];
  if (metric?.type !== 'rate') return undefined;
  return { rate: metric.values.rate ?? 0, passes: metric.values.passes ?? 0, fails: metric.values.fails ?? 0 };
}
