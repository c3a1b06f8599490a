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

/**
 * The local Prometheus uses observability/prometheus/prometheus.local.yml, the same jobs, rules and
 * alerts as the cluster; only the targets are rewritten to where this run's processes listen: one job per
 * service, one target per instance (told apart by the `instance` label, as pods are in the cluster).
 */
export function renderLocalPrometheusConfig(root: string, ports: Record<string, number | readonly number[]>): string {
  const source = join(root, 'observability', 'prometheus', 'prometheus.local.yml');
  const config = parse(readFileSync(source, 'utf8')) as PrometheusConfig;
  config.rule_files = (config.rule_files ?? []).map((file) => resolve(dirname(source), file));
  for (const job of config.scrape_configs ?? []) {
    const port = ports[job.job_name];
    if (port !== undefined) job.static_configs = [{ targets: (typeof port === 'number' ? [port] : port).map((p) => `127.0.0.1:${p}`) }];
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
  port?: number;
  binary: string;
  onLine?: (name: string, line: string) => void;
}): Promise<RunningPrometheus> {
  const dir = join(options.dataDir, 'prometheus');
  mkdirSync(dir, { recursive: true });
  const configFile = join(dir, 'prometheus.yml');
  writeFileSync(configFile, renderLocalPrometheusConfig(options.root, options.ports));
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
