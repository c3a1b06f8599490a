import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { exitReason, spawnManaged, type ManagedProcess } from './process';
import { freePort, httpOk, waitUntil } from './ports';

interface ScrapeConfig {
  job_name: string;
  static_configs?: { targets: string[] }[];
}
interface PrometheusConfig {
  rule_files?: string[];
  scrape_configs?: ScrapeConfig[];
}

const targetsOf = (port: number | readonly number[]) => [{ targets: (typeof port === 'number' ? [port] : port).map((p) => `127.0.0.1:${p}`) }];

/**
 * The local Prometheus uses observability/prometheus/prometheus.local.yml, the same jobs, rules and
 * alerts as the cluster; only the targets are rewritten to where this run's processes listen: one job per
 * service, one target per instance (told apart by the `instance` label, as pods are in the cluster).
 * `localJobs` are added: jobs with no counterpart in the cluster, such as `stack` (the stack's own /metrics: its
 * supervisor's restarts, where the cluster has kube-state-metrics).
 */
export function renderLocalPrometheusConfig(root: string, ports: Record<string, number | readonly number[]>, localJobs: Record<string, number> = {}): string {
  const source = join(root, 'observability', 'prometheus', 'prometheus.local.yml');
  const config = parse(readFileSync(source, 'utf8')) as PrometheusConfig;
  config.rule_files = (config.rule_files ?? []).map((file) => resolve(dirname(source), file));
  for (const job of config.scrape_configs ?? []) {
    const port = ports[job.job_name];
    if (port !== undefined) job.static_configs = targetsOf(port);
  }
  const jobs = (config.scrape_configs ??= []);
  for (const [name, port] of Object.entries(localJobs)) {
    if (jobs.some((job) => job.job_name === name)) throw new Error(`prometheus.local.yml already has a job ${name}`);
    jobs.push({ job_name: name, static_configs: targetsOf(port) });
  }
  return stringify(config);
}

export interface RunningPrometheus {
  url: string;
  process: ManagedProcess;
  /** Waits until a (re)started Prometheus answers /-/ready. */
  ready: (proc: ManagedProcess) => Promise<void>;
}

export async function startPrometheus(options: {
  root: string;
  dataDir: string;
  /** The port of each job's target, or of each of its instances. */
  ports: Record<string, number | readonly number[]>;
  /** Jobs of the local run only, by name: the port of their one target (see renderLocalPrometheusConfig). */
  localJobs?: Record<string, number>;
  port?: number;
  binary: string;
  onLine?: (name: string, line: string) => void;
}): Promise<RunningPrometheus> {
  const dir = join(options.dataDir, 'prometheus');
  mkdirSync(dir, { recursive: true });
  const configFile = join(dir, 'prometheus.yml');
  writeFileSync(configFile, renderLocalPrometheusConfig(options.root, options.ports, options.localJobs));
  const port = options.port ?? (await freePort());
  const proc = spawnManaged({
    name: 'prometheus',
    command: options.binary,
    args: [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--web.enable-remote-write-receiver',
      '--enable-feature=exemplar-storage',
      '--log.level=warn',
    ],
    logFile: join(options.dataDir, 'logs', 'prometheus.log'),
    ...(options.onLine ? { onLine: options.onLine } : {}),
  });
  const url = `http://127.0.0.1:${port}`;
  const ready = (p: ManagedProcess) =>
    waitUntil(
      'prometheus',
      () => httpOk(`${url}/-/ready`),
      30_000,
      100,
      () => exitReason(p),
    );
  try {
    await ready(proc);
  } catch (err) {
    await proc.stop();
    throw err;
  }
  return { url, process: proc, ready };
}
