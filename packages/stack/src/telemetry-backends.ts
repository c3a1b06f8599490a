import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { TELEMETRY_PORTS, type TelemetryPorts, type TelemetryProcessName } from './layout';
import { freePort, httpOk, waitUntil } from './ports';
import { exitReason, spawnManaged, type ManagedProcess, type SpawnOptions } from './process';
import type { Readiness } from './process-group';

/**
 * The local telemetry backends, all under permissive licences, built by `scripts/build-telemetry.sh` into
 * .tools/bin: Jaeger (traces, query API only), VictoriaLogs (logs, with its own web UI) and the
 * OpenTelemetry Collector in front of them, beside the Prometheus that `startStack` runs. The cluster runs
 * Tempo and Loki instead (AGPL: never fetched or built on the machines that build tracemart).
 *
 * The collector reads observability/otel-collector/config.yaml, the file the cluster uses; a local run
 * changes only its exporters (Jaeger for Tempo, VictoriaLogs for Loki), hosts, ports and the collector's
 * own metrics port. Jaeger reads observability/jaeger/config.yaml with only its addresses changed.
 */

export interface TelemetryBackends {
  /** OTLP/HTTP endpoint of the collector: set OTEL_EXPORTER_OTLP_ENDPOINT to this. */
  otlpUrl: string;
  /** Jaeger's query API: `/api/v3/traces/<trace id>` answers OTLP JSON. */
  jaegerUrl: string;
  /** VictoriaLogs: LogsQL at `/select/logsql/query`, web UI at `/select/vmui/`. */
  logsUrl: string;
  processes: ManagedProcess[];
  stop: () => Promise<void>;
}

interface Endpoint {
  endpoint: string;
}
interface OtlpProtocols {
  protocols: { grpc: Endpoint; http: Endpoint };
}
interface Pipelines {
  pipelines: Record<string, { receivers: string[]; processors?: string[]; exporters: string[] }>;
  telemetry?: Record<string, unknown>;
}
interface JaegerConfig {
  service: Pipelines;
  extensions: { jaeger_query: { http: Endpoint; grpc: Endpoint }; healthcheckv2: { http: Endpoint } };
  receivers: { otlp: OtlpProtocols };
  [key: string]: unknown;
}
interface CollectorConfig {
  service: Pipelines;
  receivers: { otlp: OtlpProtocols };
  exporters: Record<string, object>;
  extensions: { health_check: Endpoint };
  [key: string]: unknown;
}

/** The cluster's exporter for each signal, and what a local run sends that signal to instead. */
const LOCAL_EXPORTERS = { 'otlp/tempo': 'otlp/jaeger', 'otlphttp/loki': 'otlphttp/victorialogs' } as const;

export const telemetryBinaries = (root: string) => ({
  jaeger: join(root, '.tools', 'bin', 'jaeger'),
  victoriaLogs: join(root, '.tools', 'bin', 'victoria-logs'),
  collector: join(root, '.tools', 'bin', 'otelcol-tracemart'),
});

const readYaml = <T>(file: string): T => parse(readFileSync(file, 'utf8')) as T;
const local = (port: number) => `127.0.0.1:${port}`;

/** observability/jaeger/config.yaml with this run's ports. */
export function renderLocalJaegerConfig(root: string, ports: { query: number; queryGrpc: number; otlpGrpc: number; otlpHttp: number; health: number }): string {
  const config = readYaml<JaegerConfig>(join(root, 'observability', 'jaeger', 'config.yaml'));
  config.extensions.jaeger_query.http.endpoint = local(ports.query);
  config.extensions.jaeger_query.grpc.endpoint = local(ports.queryGrpc);
  config.extensions.healthcheckv2.http.endpoint = local(ports.health);
  config.receivers.otlp.protocols.grpc.endpoint = local(ports.otlpGrpc);
  config.receivers.otlp.protocols.http.endpoint = local(ports.otlpHttp);
  return stringify(config);
}

/** observability/otel-collector/config.yaml for a local run: Jaeger and VictoriaLogs in place of Tempo and Loki. */
export function renderLocalCollectorConfig(
  root: string,
  ports: { otlpGrpc: number; otlpHttp: number; health: number; metrics: number },
  targets: { jaegerOtlpGrpc: string; prometheusUrl: string; logsUrl: string },
): string {
  const config = readYaml<CollectorConfig>(join(root, 'observability', 'otel-collector', 'config.yaml'));
  config.receivers.otlp.protocols.grpc.endpoint = local(ports.otlpGrpc);
  config.receivers.otlp.protocols.http.endpoint = local(ports.otlpHttp);
  for (const name of Object.keys(LOCAL_EXPORTERS)) {
    if (!(name in config.exporters)) throw new Error(`observability/otel-collector/config.yaml has no exporter ${name} to replace locally`);
    delete config.exporters[name];
  }
  config.exporters['otlp/jaeger'] = { endpoint: targets.jaegerOtlpGrpc, tls: { insecure: true } };
  // VictoriaLogs takes OTLP logs over HTTP as protobuf only (the exporter's default encoding).
  config.exporters['otlphttp/victorialogs'] = { logs_endpoint: `${targets.logsUrl}/insert/opentelemetry/v1/logs`, encoding: 'proto' };
  const prometheus = config.exporters.prometheusremotewrite as Endpoint | undefined;
  if (!prometheus) throw new Error('observability/otel-collector/config.yaml has no prometheusremotewrite exporter');
  prometheus.endpoint = `${targets.prometheusUrl}/api/v1/write`;
  for (const pipeline of Object.values(config.service.pipelines)) {
    pipeline.exporters = pipeline.exporters.map((name) => (name in LOCAL_EXPORTERS ? LOCAL_EXPORTERS[name as keyof typeof LOCAL_EXPORTERS] : name));
  }
  config.extensions.health_check.endpoint = local(ports.health);
  // The collector's own metrics would otherwise take 8888 on every run.
  config.service.telemetry = { ...config.service.telemetry, metrics: { readers: [{ pull: { exporter: { prometheus: { host: '127.0.0.1', port: ports.metrics } } } }] } };
  return stringify(config);
}

export interface TelemetryProcessOptions {
  root: string;
  dataDir: string;
  ports: TelemetryPorts;
  /** Where the collector remote-writes metrics (span metrics, its own). */
  prometheusUrl: string;
  onLine?: ((name: string, line: string) => void) | undefined;
}

/** The backends' URLs on these ports. */
export const telemetryUrls = (ports: TelemetryPorts) => ({
  otlpUrl: `http://${local(ports.otlpHttp)}`,
  jaegerUrl: `http://${local(ports.query)}`,
  logsUrl: `http://${local(ports.logs)}`,
});

/**
 * What the services and the gateway are given to send their telemetry to the collector, and what the gateway's
 * `/api/config` builds its trace links from (TRACES_URL: Jaeger's query API, LOGS_UI_URL: VictoriaLogs).
 */
export function telemetryEnv(ports: TelemetryPorts): Record<string, string> {
  const urls = telemetryUrls(ports);
  return { OTEL_EXPORTER_OTLP_ENDPOINT: urls.otlpUrl, TRACES_URL: urls.jaegerUrl, LOGS_UI_URL: urls.logsUrl };
}

/**
 * How one backend is spawned and when it is ready: what `startTelemetryBackends` starts (VictoriaLogs and Jaeger, then
 * the collector in front of them), and what the per-process entry (`npm run stack:process -- jaeger`) runs on its own.
 */
export function telemetryProcess(name: TelemetryProcessName, options: TelemetryProcessOptions): { spawn: SpawnOptions; ready: Readiness } {
  const bins = telemetryBinaries(options.root);
  const binary = { 'victoria-logs': bins.victoriaLogs, jaeger: bins.jaeger, 'otel-collector': bins.collector }[name];
  if (!existsSync(binary)) throw new Error(`${name} not found at ${binary}: run \`npm run setup -- --all\` (scripts/build-telemetry.sh)`);
  const base = join(options.dataDir, 'telemetry');
  mkdirSync(base, { recursive: true });
  const { ports } = options;
  const urls = telemetryUrls(ports);
  const common = { name, command: binary, logFile: join(options.dataDir, 'logs', `${name}.log`), ...(options.onLine ? { onLine: options.onLine } : {}) };
  const readyAt = (url: string) => (proc: ManagedProcess) =>
    waitUntil(
      name,
      () => httpOk(url),
      60_000,
      250,
      () => exitReason(proc),
    );
  switch (name) {
    case 'victoria-logs':
      return {
        spawn: { ...common, args: [`-httpListenAddr=${local(ports.logs)}`, `-storageDataPath=${join(base, 'victoria-logs')}`, '-retentionPeriod=7d', '-loggerLevel=WARN'] },
        ready: readyAt(`${urls.logsUrl}/health`),
      };
    case 'jaeger': {
      const file = join(base, 'jaeger.yaml');
      writeFileSync(
        file,
        renderLocalJaegerConfig(options.root, {
          query: ports.query,
          queryGrpc: ports.queryGrpc,
          otlpGrpc: ports.jaegerOtlpGrpc,
          otlpHttp: ports.jaegerOtlpHttp,
          health: ports.jaegerHealth,
        }),
      );
      return {
        spawn: {
          ...common,
          args: [`--config=${file}`],
          // Jaeger's own tracer would export to 127.0.0.1:4317 and retry it for seconds on shutdown.
          env: { ...process.env, OTEL_TRACES_EXPORTER: 'none', OTEL_METRICS_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none' },
        },
        ready: readyAt(`${urls.jaegerUrl}/api/v3/services`),
      };
    }
    case 'otel-collector': {
      const file = join(base, 'otel-collector.yaml');
      writeFileSync(
        file,
        renderLocalCollectorConfig(
          options.root,
          { otlpGrpc: ports.otlpGrpc, otlpHttp: ports.otlpHttp, health: ports.health, metrics: ports.metrics },
          { jaegerOtlpGrpc: local(ports.jaegerOtlpGrpc), prometheusUrl: options.prometheusUrl, logsUrl: urls.logsUrl },
        ),
      );
      return { spawn: { ...common, args: [`--config=${file}`] }, ready: readyAt(`http://${local(ports.health)}/`) };
    }
  }
}

/** Starts VictoriaLogs and Jaeger, then the collector in front of them (free ports unless given); resolves when all three are ready. */
export async function startTelemetryBackends(options: {
  root: string;
  dataDir: string;
  prometheusUrl: string;
  ports?: TelemetryPorts;
  onLine?: (name: string, line: string) => void;
}): Promise<TelemetryBackends> {
  const ports = options.ports ?? (Object.fromEntries(await Promise.all(Object.keys(TELEMETRY_PORTS).map(async (key) => [key, await freePort()]))) as TelemetryPorts);
  const spec = { ...options, ports };
  const processes: ManagedProcess[] = [];
  const stop = async () => {
    for (const proc of [...processes].reverse()) await proc.stop('SIGTERM', 10_000);
  };
  try {
    const start = (name: TelemetryProcessName) => {
      const backend = telemetryProcess(name, spec);
      const proc = spawnManaged(backend.spawn);
      processes.push(proc);
      return () => backend.ready(proc);
    };
    const storesReady = [start('victoria-logs'), start('jaeger')];
    for (const ready of storesReady) await ready();
    await start('otel-collector')();
    return { ...telemetryUrls(ports), processes, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

interface OtlpKeyValue {
  key: string;
  value: { stringValue?: string };
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind?: number | string;
  status?: { code?: string | number };
}
interface OtlpTraces {
  resourceSpans?: { resource?: { attributes?: OtlpKeyValue[] }; scopeSpans?: { spans?: OtlpSpan[] }[] }[];
}
export interface TraceSpan {
  service: string;
  name: string;
  spanId: string;
  parentSpanId: string;
  /** OTLP status ERROR (`2`, or `STATUS_CODE_ERROR` in some encoders). */
  error: boolean;
}

const isError = (code: string | number | undefined) => code === 2 || code === 'STATUS_CODE_ERROR' || code === 'Error';

/** A trace as Jaeger's `/api/v3/traces/<id>` answers it (OTLP JSON), one entry per span; empty while Jaeger has none of it (404). */
export async function readTrace(jaegerUrl: string, traceId: string): Promise<{ services: string[]; spans: TraceSpan[] }> {
  const response = await fetch(`${jaegerUrl}/api/v3/traces/${encodeURIComponent(traceId)}`, { signal: AbortSignal.timeout(10_000) });
  if (response.status === 404) {
    await response.arrayBuffer();
    return { services: [], spans: [] };
  }
  if (response.status !== 200) throw new Error(`Jaeger answered ${response.status} for trace "${traceId}": ${(await response.text()).slice(0, 200)}`);
  const answer = (await response.json()) as { result?: OtlpTraces };
  const spans = (answer.result?.resourceSpans ?? []).flatMap((batch) => {
    const service = batch.resource?.attributes?.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
    return (batch.scopeSpans ?? []).flatMap((scope) =>
      (scope.spans ?? []).map((span) => ({ service, name: span.name, spanId: span.spanId, parentSpanId: span.parentSpanId ?? '', error: isError(span.status?.code) })),
    );
  });
  return { services: [...new Set(spans.map((s) => s.service))].sort(), spans };
}

/** Trace ids Jaeger holds for a service (and operation) within the last `sinceMs`, newest first as Jaeger returns them. */
export async function findTraceIds(jaegerUrl: string, query: { service: string; operation?: string; sinceMs?: number; limit?: number }): Promise<string[]> {
  const now = Date.now();
  const params = new URLSearchParams({
    'query.service_name': query.service,
    'query.start_time_min': new Date(now - (query.sinceMs ?? 15 * 60_000)).toISOString(),
    'query.start_time_max': new Date(now + 60_000).toISOString(),
    'query.num_traces': String(query.limit ?? 100),
  });
  if (query.operation) params.set('query.operation_name', query.operation);
  const response = await fetch(`${jaegerUrl}/api/v3/traces?${params.toString()}`, { signal: AbortSignal.timeout(10_000) });
  if (response.status === 404) {
    await response.arrayBuffer();
    return [];
  }
  const text = await response.text();
  if (response.status !== 200) throw new Error(`Jaeger answered ${response.status} to a search for ${query.service}: ${text.slice(0, 200)}`);
  const answer = JSON.parse(text) as { result?: OtlpTraces };
  const ids = (answer.result?.resourceSpans ?? []).flatMap((batch) => (batch.scopeSpans ?? []).flatMap((scope) => (scope.spans ?? []).map((span) => span.traceId)));
  return [...new Set(ids)];
}

/** Log records matching a LogsQL query (e.g. `trace_id:="<id>"`), as VictoriaLogs answers them: one object per record. */
export async function queryLogs(logsUrl: string, logsql: string, limit = 5_000): Promise<Record<string, string>[]> {
  const params = new URLSearchParams({ query: logsql, limit: String(limit) });
  const response = await fetch(`${logsUrl}/select/logsql/query?${params.toString()}`, { signal: AbortSignal.timeout(10_000) });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`VictoriaLogs answered ${response.status} to ${logsql}: ${text.slice(0, 200)}`);
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, string>);
}

/** Where a person reads one trace's logs in VictoriaLogs' own web UI. */
export const logsUiUrl = (logsUrl: string, traceId: string) => `${logsUrl}/select/vmui/#/?query=${encodeURIComponent(`trace_id:="${traceId}"`)}`;
