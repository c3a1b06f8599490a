import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ferretDbProcess } from './ferretdb';
import { planLayout, TELEMETRY_PORTS, telemetryProcessNames, stackProcesses, type StackLayout, type TelemetryProcessName } from './layout';
import { natsNodeProcess } from './nats-cluster';
import { postgresUrl, startPostgres } from './postgres';
import { spawnManaged, type ManagedProcess, type SpawnOptions } from './process';
import type { Readiness } from './process-group';
import { startPrometheus } from './prometheus';
import { persistedSecrets, type StackSecrets } from './secrets';
import { appEnvironment, appProcess, prometheusOptions, type Launcher } from './stack';
import { telemetryEnv, telemetryProcess, telemetryUrls } from './telemetry-backends';
import { processNames, type ProcessName } from './topology';

/**
 * One process of the local stack on its own, in the foreground: what Tilt's local mode runs for each resource
 * (`npm run stack:process -- <name>`), with the command, environment, ports, data folders and secrets `startStack`
 * gives that process (built by the same functions). The processes find each other through the layout (the fixed
 * ports of `npm start`, or a layout file a test wrote) and share their secrets through the data folder.
 */
export interface ProcessEntryOptions {
  root: string;
  layout: StackLayout;
  /** Extra environment for a service or the gateway (LOG_LEVEL, OTEL_*, ...), as `startStack`'s `env`. */
  env?: Record<string, string>;
  /** Secrets given (else those kept in the data folder, made there when missing). */
  secrets?: Partial<StackSecrets>;
  /** Send telemetry to the local backends (their fixed ports): the OTLP endpoint and the gateway's trace links. */
  telemetry?: boolean;
  launcher?: Launcher;
  readyTimeoutMs?: number;
  onLine?: (name: string, line: string) => void;
}

export interface EntryProcess {
  process: ManagedProcess;
  /** Resolves when the process is ready (the readiness `startStack` waits for); rejects when it exits first. */
  ready: Promise<void>;
}

function spawned(spec: { spawn: SpawnOptions; ready: Readiness }): EntryProcess {
  const proc = spawnManaged(spec.spawn);
  return { process: proc, ready: spec.ready(proc) };
}

/** The layout of the per-process entry: the one in `STACK_LAYOUT` (a JSON file), else `npm start`'s fixed ports. */
export async function entryLayout(dataDir: string, env: NodeJS.ProcessEnv = process.env): Promise<StackLayout> {
  if (env.STACK_LAYOUT) return JSON.parse(readFileSync(env.STACK_LAYOUT, 'utf8')) as StackLayout;
  return planLayout({ dataDir });
}

/** Starts the named process of the stack (see `stackProcesses` for the names) and returns it with its readiness. */
export async function startStackProcess(name: string, options: ProcessEntryOptions): Promise<EntryProcess> {
  const { layout, root } = options;
  const { dataDir } = layout;
  const known = stackProcesses(layout, { prometheus: true, telemetry: true }).map((p) => p.name);
  if (!known.includes(name)) throw new Error(`no process named ${name} in this stack (there are: ${known.join(', ')})`);
  const onLine = options.onLine ? { onLine: options.onLine } : {};
  if (name === 'postgres') {
    const postgres = await startPostgres({ dataDir, port: layout.postgresPort as number, logFile: join(dataDir, 'logs', 'postgres.log'), ...onLine });
    return { process: postgres.process, ready: Promise.resolve() };
  }
  if (name === 'ferretdb') {
    const port = layout.postgresPort as number;
    return spawned(await ferretDbProcess({ root, dataDir, postgresUrl: postgresUrl(dataDir, port), port: layout.mongoPort as number, ...onLine }));
  }
  const node = layout.nats.find((n) => n.name === name);
  if (node) return spawned(natsNodeProcess(node, layout.nats, { root, dataDir, ...onLine }));
  if (name === 'prometheus') {
    const prometheus = await startPrometheus(prometheusOptions(root, layout, { onLine: options.onLine }));
    return { process: prometheus.process, ready: Promise.resolve() };
  }
  if ((telemetryProcessNames as readonly string[]).includes(name)) {
    return spawned(
      telemetryProcess(name as TelemetryProcessName, { root, dataDir, ports: TELEMETRY_PORTS, prometheusUrl: `http://127.0.0.1:${layout.prometheusPort}`, ...onLine }),
    );
  }
  for (const service of processNames) {
    const instance = layout.instances[service].find((i) => i.name === name);
    if (!instance) continue;
    const secrets = persistedSecrets(dataDir, options.secrets);
    const env = { ...(options.telemetry ? telemetryEnv(TELEMETRY_PORTS) : {}), ...options.env };
    const appEnv = appEnvironment(service as ProcessName, instance, layout, secrets, { env });
    if (service === 'gateway') writeLayoutStackFile(layout, { telemetry: options.telemetry ?? false });
    return spawned(appProcess(service as ProcessName, instance, appEnv, { root, dataDir, launcher: options.launcher, readyTimeoutMs: options.readyTimeoutMs, ...onLine }));
  }
  throw new Error(`no process named ${name}`);
}

/**
 * `.data/stack.json` for a stack started process by process (what `writeStackFile` writes for `npm start`): the fault
 * CLI, the projection rebuild and `npm run trace:last` find the stack there. The admin token is in `.data/admin-token`.
 */
export function writeLayoutStackFile(layout: StackLayout, options: { telemetry: boolean }): void {
  const first = (name: ProcessName) => layout.instances[name][0]?.url;
  const file = {
    gatewayUrl: first('gateway'),
    urls: Object.fromEntries(processNames.map((name) => [name, first(name)])),
    instances: layout.instances,
    natsUrl: layout.natsUrl,
    natsNodes: layout.nats.map((n) => ({ name: n.name, url: `nats://127.0.0.1:${n.clientPort}`, monitorUrl: `http://127.0.0.1:${n.monitorPort}` })),
    natsReplicas: layout.natsReplicas,
    mongoUrl: layout.mongoUrl,
    prometheusUrl: `http://127.0.0.1:${layout.prometheusPort}`,
    ...(options.telemetry ? { telemetry: telemetryUrls(TELEMETRY_PORTS) } : {}),
  };
  writeFileSync(join(layout.dataDir, 'stack.json'), JSON.stringify(file, null, 2));
}
