import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { freePort, httpOk, waitUntil } from './ports';
import { spawnManaged, type ManagedProcess } from './process';

/**
 * Tempo, Loki and the OpenTelemetry Collector as local processes, configured from the same files the
 * cluster uses (observability/tempo/tempo.yaml, loki/loki.yaml, otel-collector/config.yaml): each file is
 * read, and only what a local run must change is changed: Kubernetes host names become 127.0.0.1 and
 * free ports, and data goes under the data folder. The binaries are built by `scripts/build-lgtm.sh`
 * into .tools/bin; Grafana is not among them.
 */

export interface TraceBackends {
  /** OTLP/HTTP endpoint of the collector: set OTEL_EXPORTER_OTLP_ENDPOINT to this. */
  otlpUrl: string;
  tempoUrl: string;
  lokiUrl: string;
  processes: ManagedProcess[];
  stop: () => Promise<void>;
}

/** Where a component listens for OTLP, in the receiver configs of Tempo and the collector. */
interface OtlpProtocols {
  protocols: { grpc: { endpoint: string }; http: { endpoint: string } };
}
/** The parts of each config file a local run changes; everything else passes through untouched. */
interface TempoConfig {
  server?: object;
  distributor: { receivers: { otlp: OtlpProtocols } };
  metrics_generator: { storage: { path: string; remote_write: { url: string }[] } };
  storage: { trace: { wal: { path: string }; local: { path: string } } };
  [key: string]: unknown;
}
interface LokiConfig {
  server?: object;
  common?: { storage?: { filesystem?: object }; [key: string]: unknown };
  compactor?: { working_directory?: string };
  [key: string]: unknown;
}
interface CollectorConfig {
  receivers: { otlp: OtlpProtocols };
  exporters: Record<'otlp/tempo' | 'prometheusremotewrite' | 'otlphttp/loki', { endpoint: string }>;
  extensions: { health_check: { endpoint: string } };
  [key: string]: unknown;
}

export const lgtmBinaries = (root: string) => ({
  tempo: join(root, '.tools', 'bin', 'tempo'),
  loki: join(root, '.tools', 'bin', 'loki'),
  collector: join(root, '.tools', 'bin', 'otelcol-tracemart'),
});

const readYaml = <T>(file: string): T => parse(readFileSync(file, 'utf8')) as T;

/** observability/tempo/tempo.yaml for a local run. */
export function renderLocalTempoConfig(root: string, dir: string, ports: { http: number; grpc: number; otlpGrpc: number; otlpHttp: number }, prometheusUrl: string): string {
  const config = readYaml<TempoConfig>(join(root, 'observability', 'tempo', 'tempo.yaml'));
  config.server = { ...config.server, http_listen_address: '127.0.0.1', http_listen_port: ports.http, grpc_listen_address: '127.0.0.1', grpc_listen_port: ports.grpc };
  config.distributor.receivers.otlp.protocols.grpc.endpoint = `127.0.0.1:${ports.otlpGrpc}`;
  config.distributor.receivers.otlp.protocols.http.endpoint = `127.0.0.1:${ports.otlpHttp}`;
  config.metrics_generator.storage.path = join(dir, 'generator', 'wal');
  for (const target of config.metrics_generator.storage.remote_write) target.url = `${prometheusUrl}/api/v1/write`;
  config.storage.trace.wal.path = join(dir, 'wal');
  config.storage.trace.local.path = join(dir, 'blocks');
  config.memberlist = { bind_addr: ['127.0.0.1'] };
  config.usage_report = { reporting_enabled: false };
  return stringify(config);
}

/** observability/loki/loki.yaml for a local run. */
export function renderLocalLokiConfig(root: string, dir: string, ports: { http: number; grpc: number }): string {
  const config = readYaml<LokiConfig>(join(root, 'observability', 'loki', 'loki.yaml'));
  config.server = { ...config.server, http_listen_address: '127.0.0.1', http_listen_port: ports.http, grpc_listen_address: '127.0.0.1', grpc_listen_port: ports.grpc };
  config.common = { ...config.common, path_prefix: dir, instance_addr: '127.0.0.1' };
  if (config.common.storage?.filesystem) {
    config.common.storage.filesystem = { chunks_directory: join(dir, 'chunks'), rules_directory: join(dir, 'rules') };
  }
  if (config.compactor) config.compactor.working_directory = join(dir, 'compactor');
  config.memberlist = { bind_addr: ['127.0.0.1'] };
  config.analytics = { reporting_enabled: false };
  return stringify(config);
}

/** observability/otel-collector/config.yaml for a local run. */
export function renderLocalCollectorConfig(root: string, ports: { otlpGrpc: number; otlpHttp: number; health: number }, targets: { tempoOtlpGrpc: string; prometheusUrl: string; lokiUrl: string }): string {
  const config = readYaml<CollectorConfig>(join(root, 'observability', 'otel-collector', 'config.yaml'));
  config.receivers.otlp.protocols.grpc.endpoint = `127.0.0.1:${ports.otlpGrpc}`;
  config.receivers.otlp.protocols.http.endpoint = `127.0.0.1:${ports.otlpHttp}`;
  config.exporters['otlp/tempo'].endpoint = targets.tempoOtlpGrpc;
  config.exporters.prometheusremotewrite.endpoint = `${targets.prometheusUrl}/api/v1/write`;
  config.exporters['otlphttp/loki'].endpoint = `${targets.lokiUrl}/otlp`;
  config.extensions.health_check.endpoint = `127.0.0.1:${ports.health}`;
  return stringify(config);
}

/** Starts Loki, Tempo and then the collector in front of them; resolves when all three are ready. */
export async function startTraceBackends(options: { root: string; dataDir: string; prometheusUrl: string; onLine?: (name: string, line: string) => void }): Promise<TraceBackends> {
  const bins = lgtmBinaries(options.root);
  for (const [name, path] of Object.entries(bins)) {
    if (!existsSync(path)) throw new Error(`${name} not found at ${path}: run \`bash scripts/build-lgtm.sh\``);
  }
  const base = join(options.dataDir, 'lgtm');
  const logs = join(options.dataDir, 'logs');
  mkdirSync(base, { recursive: true });
  const [tempoHttp, tempoGrpc, tempoOtlpGrpc, tempoOtlpHttp, lokiHttp, lokiGrpc, otlpGrpc, otlpHttp, health] = await Promise.all(Array.from({ length: 9 }, () => freePort()));
  const processes: ManagedProcess[] = [];
  const onLine = options.onLine ? { onLine: options.onLine } : {};
  const stop = async () => {
    for (const proc of processes.reverse()) await proc.stop('SIGTERM', 10_000);
  };
  try {
    const lokiUrl = `http://127.0.0.1:${lokiHttp}`;
    const lokiFile = join(base, 'loki.yaml');
    writeFileSync(lokiFile, renderLocalLokiConfig(options.root, join(base, 'loki'), { http: lokiHttp as number, grpc: lokiGrpc as number }));
    processes.push(spawnManaged({ name: 'loki', command: bins.loki, args: [`-config.file=${lokiFile}`], logFile: join(logs, 'loki.log'), ...onLine }));

    const tempoUrl = `http://127.0.0.1:${tempoHttp}`;
    const tempoFile = join(base, 'tempo.yaml');
    writeFileSync(tempoFile, renderLocalTempoConfig(options.root, join(base, 'tempo'), { http: tempoHttp as number, grpc: tempoGrpc as number, otlpGrpc: tempoOtlpGrpc as number, otlpHttp: tempoOtlpHttp as number }, options.prometheusUrl));
    processes.push(spawnManaged({ name: 'tempo', command: bins.tempo, args: [`-config.file=${tempoFile}`], logFile: join(logs, 'tempo.log'), ...onLine }));

    await waitUntil('tempo', () => httpOk(`${tempoUrl}/ready`), 120_000, 500);
    await waitUntil('loki', () => httpOk(`${lokiUrl}/ready`), 120_000, 500);

    const collectorFile = join(base, 'otel-collector.yaml');
    writeFileSync(
      collectorFile,
      renderLocalCollectorConfig(options.root, { otlpGrpc: otlpGrpc as number, otlpHttp: otlpHttp as number, health: health as number }, { tempoOtlpGrpc: `127.0.0.1:${tempoOtlpGrpc}`, prometheusUrl: options.prometheusUrl, lokiUrl }),
    );
    processes.push(spawnManaged({ name: 'otel-collector', command: bins.collector, args: [`--config=${collectorFile}`], logFile: join(logs, 'otel-collector.log'), ...onLine }));
    await waitUntil('otel-collector', () => httpOk(`http://127.0.0.1:${health}/`), 60_000, 250);
    return { otlpUrl: `http://127.0.0.1:${otlpHttp}`, tempoUrl, lokiUrl, processes, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

interface TempoKeyValue {
  key: string;
  value: { stringValue?: string };
}
interface TempoAnswer {
  batches?: { resource?: { attributes?: TempoKeyValue[] }; scopeSpans?: { spans?: { name: string; status?: { code?: string | number } }[] }[] }[];
}
export interface TempoSpan {
  service: string;
  name: string;
  /** OTLP status: `STATUS_CODE_ERROR` in Tempo's JSON (2 in OTLP numbers). */
  error: boolean;
}

/** A trace as Tempo's `/api/traces/<id>` answers it, one entry per span; empty while Tempo has none of it. */
export async function readTempoTrace(tempoUrl: string, traceId: string): Promise<{ services: string[]; spans: TempoSpan[] }> {
  const response = await fetch(`${tempoUrl}/api/traces/${traceId}`, { signal: AbortSignal.timeout(10_000) });
  if (response.status !== 200) {
    await response.arrayBuffer();
    return { services: [], spans: [] };
  }
  const answer = (await response.json()) as TempoAnswer;
  const spans = (answer.batches ?? []).flatMap((batch) => {
    const service = batch.resource?.attributes?.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
    return (batch.scopeSpans ?? []).flatMap((scope) =>
      (scope.spans ?? []).map((span) => ({ service, name: span.name, error: span.status?.code === 'STATUS_CODE_ERROR' || span.status?.code === 2 })),
    );
  });
  return { services: [...new Set(spans.map((s) => s.service))].sort(), spans };
}

/** Log streams matching a LogQL query over the last `sinceMs`, as Loki's query_range answers them. */
export async function queryLoki(lokiUrl: string, query: string, sinceMs = 15 * 60_000): Promise<{ stream: Record<string, string>; values: [string, string][] }[]> {
  const params = new URLSearchParams({ query, start: String((Date.now() - sinceMs) * 1e6), limit: '5000' });
  const response = await fetch(`${lokiUrl}/loki/api/v1/query_range?${params.toString()}`, { signal: AbortSignal.timeout(10_000) });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`Loki answered ${response.status} to ${query}: ${text.slice(0, 200)}`);
  return (JSON.parse(text) as { data?: { result?: { stream: Record<string, string>; values: [string, string][] }[] } }).data?.result ?? [];
}
