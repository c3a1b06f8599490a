import { ferretDbUrl } from './ferretdb';
import type { InfraOptions } from './infra';
import { natsNodeCount, natsReplicas, planNatsNodes, type NatsNodePlan } from './nats-cluster';
import { freePort } from './ports';
import { instanceCounts, planInstances, serviceNames, type Instance, type InstanceCounts, type ProcessName } from './topology';

/** `npm start`'s fixed ports of the infrastructure (4222/27017/5432 are the machine's own servers'). */
export const DEFAULT_POSTGRES_PORT = 5450;
export const DEFAULT_MONGO_PORT = 27050;
export const DEFAULT_PROMETHEUS_PORT = 9090;
/** Where the gateway serves /metrics (METRICS_PORT) when ports are not free ones: the port of the cluster's too. */
export const GATEWAY_METRICS_PORT = 9464;

/**
 * The local telemetry backends' fixed ports (`tilt up` local mode; `npm run telemetry` takes free ones), away from the
 * standard 4317/4318/8888 that a collector of the machine's own may hold.
 */
export const TELEMETRY_PORTS = {
  logs: 9428,
  query: 16686,
  queryGrpc: 16685,
  jaegerOtlpGrpc: 14317,
  jaegerOtlpHttp: 14318,
  jaegerHealth: 13134,
  otlpGrpc: 4327,
  otlpHttp: 4328,
  health: 13133,
  metrics: 8788,
} as const;
export type TelemetryPorts = Record<keyof typeof TELEMETRY_PORTS, number>;
export const telemetryProcessNames = ['victoria-logs', 'jaeger', 'otel-collector'] as const;
export type TelemetryProcessName = (typeof telemetryProcessNames)[number];

/**
 * Where every process of one local stack listens: planned once, before anything starts, by `startStack` (fixed or free
 * ports) and by the per-process entry (`npm run stack:process -- <name>`, fixed ports unless given a layout file), so
 * that a process started on its own finds the others where `npm start` would have put them.
 */
export interface StackLayout {
  dataDir: string;
  /** The nats-servers to start: none with an external NATS_URL. */
  nats: NatsNodePlan[];
  /** The NATS_URL of the services: every node's client URL, comma-separated, or the external one. */
  natsUrl: string;
  natsReplicas: number;
  /** PostgreSQL and FerretDB, unless an external MONGODB_URL is used. */
  postgresPort?: number;
  mongoPort?: number;
  mongoUrl: string;
  instances: Record<ProcessName, Instance[]>;
  /** The gateway's metrics listener (METRICS_PORT), apart from its public port. */
  gatewayMetricsPort: number;
  prometheusPort: number;
}

/** Where the stack's processes go: the infrastructure's options (see `InfraOptions`), Prometheus's port and the instances. */
export interface LayoutOptions extends Pick<InfraOptions, 'dataDir' | 'natsUrl' | 'mongoUrl' | 'natsNodes' | 'natsPort' | 'mongoPort' | 'postgresPort' | 'freePorts'> {
  prometheusPort?: number;
  instances?: InstanceCounts;
}

export async function planLayout(options: LayoutOptions): Promise<StackLayout> {
  const port = async (fixed: number) => (options.freePorts ? await freePort() : fixed);
  const nats = options.natsUrl
    ? []
    : await planNatsNodes({
        dataDir: options.dataDir,
        nodes: natsNodeCount(options.natsNodes),
        ...(options.freePorts ? { freePorts: true } : {}),
        ...(options.natsPort !== undefined ? { clientPort: options.natsPort } : {}),
      });
  const infra = options.mongoUrl
    ? {}
    : { postgresPort: options.postgresPort ?? (await port(DEFAULT_POSTGRES_PORT)), mongoPort: options.mongoPort ?? (await port(DEFAULT_MONGO_PORT)) };
  return {
    dataDir: options.dataDir,
    nats,
    natsUrl: options.natsUrl ?? nats.map((node) => `nats://127.0.0.1:${node.clientPort}`).join(','),
    natsReplicas: nats.length > 0 ? natsReplicas(nats.length) : 1,
    ...infra,
    mongoUrl: options.mongoUrl ?? ferretDbUrl(infra.mongoPort as number),
    instances: await planInstances(instanceCounts(options.instances), options),
    gatewayMetricsPort: await port(GATEWAY_METRICS_PORT),
    prometheusPort: options.prometheusPort ?? (await port(DEFAULT_PROMETHEUS_PORT)),
  };
}

/** How Tilt (or a test) tells that a process is ready: an HTTP GET answering 2xx, or a port accepting connections. */
export type ReadinessTarget = { kind: 'http'; port: number; path: string } | { kind: 'tcp'; port: number };

/** One process of the local stack: its name (`npm run stack:process -- <name>`), what it waits for and when it is ready. */
export interface StackProcess {
  name: string;
  label: 'infra' | 'services' | 'observability';
  /** The processes that must be ready before this one starts: `startStack`'s start order. */
  after: string[];
  readiness: ReadinessTarget;
}

/**
 * Every process `startStack` starts for this layout, in start order, with what each waits for: PostgreSQL then
 * FerretDB, the NATS nodes (together), every service instance once FerretDB and all nodes are ready, the gateway once
 * every instance is, then Prometheus. With `telemetry`, the backends of `npm run telemetry` (Jaeger, VictoriaLogs,
 * the OpenTelemetry Collector in front of them) on their fixed ports. The Tiltfile's local mode declares these.
 */
export function stackProcesses(layout: StackLayout, options: { prometheus: boolean; telemetry?: boolean }): StackProcess[] {
  const infra: StackProcess[] = [];
  if (layout.postgresPort !== undefined && layout.mongoPort !== undefined) {
    infra.push({ name: 'postgres', label: 'infra', after: [], readiness: { kind: 'tcp', port: layout.postgresPort } });
    infra.push({ name: 'ferretdb', label: 'infra', after: ['postgres'], readiness: { kind: 'tcp', port: layout.mongoPort } });
  }
  for (const node of layout.nats) infra.push({ name: node.name, label: 'infra', after: [], readiness: { kind: 'http', port: node.monitorPort, path: '/healthz' } });
  const infraReady = infra.filter((p) => p.name !== 'postgres').map((p) => p.name);
  const services = serviceNames.flatMap((name) =>
    layout.instances[name].map((i): StackProcess => ({ name: i.name, label: 'services', after: infraReady, readiness: { kind: 'http', port: i.port, path: '/readyz' } })),
  );
  const gateway = layout.instances.gateway.map((i): StackProcess => ({
    name: i.name,
    label: 'services',
    after: services.map((s) => s.name),
    readiness: { kind: 'http', port: i.port, path: '/readyz' },
  }));
  const observability: StackProcess[] = options.prometheus
    ? [{ name: 'prometheus', label: 'observability', after: gateway.map((g) => g.name), readiness: { kind: 'http', port: layout.prometheusPort, path: '/-/ready' } }]
    : [];
  if (options.telemetry) {
    observability.push(
      { name: 'victoria-logs', label: 'observability', after: [], readiness: { kind: 'http', port: TELEMETRY_PORTS.logs, path: '/health' } },
      { name: 'jaeger', label: 'observability', after: [], readiness: { kind: 'http', port: TELEMETRY_PORTS.query, path: '/api/v3/services' } },
      { name: 'otel-collector', label: 'observability', after: ['victoria-logs', 'jaeger'], readiness: { kind: 'http', port: TELEMETRY_PORTS.health, path: '/' } },
    );
  }
  return [...infra, ...services, ...gateway, ...observability];
}
