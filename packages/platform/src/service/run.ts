import { loadConfig } from '../config';
import type { Logger } from 'pino';
import { consumerSpec, type ServiceModule } from './module';
import { runMain, startService, type RunningService, type ServiceConfig } from './start-service';

export interface RunningModule<C, D> extends RunningService {
  config: C;
  /** What the module's use cases run with (stores, clients): tests and drills reach in through it. */
  deps: D;
}

/** Starts a declared service: parses its config from `env`, connects, mounts its routes, runs its consumers and jobs. */
export async function runService<C extends ServiceConfig, D, T extends string>(
  module: ServiceModule<C, D, T>,
  env: NodeJS.ProcessEnv = process.env,
  options: { logger?: Logger } = {},
): Promise<RunningModule<C, D>> {
  const config = loadConfig(module.configSchema, env);
  const shared = (module.consumers ?? []).filter((declaration) => !declaration.partitioned);
  const partitioned = (module.consumers ?? []).filter((declaration) => declaration.partitioned);
  let built: { deps: D } | undefined;
  const running = await startService({
    config,
    streams: [...module.events.streams],
    validateEvent: module.events.validate,
    ...(module.events.subjectOf ? { subjectOf: module.events.subjectOf } : {}),
    ...(partitioned.length > 0 ? { partitions: { role: module.name, count: module.events.partitions ?? 1 } } : {}),
    ...options,
    wire: async (infra) => {
      const deps = await module.dependencies(infra, config);
      built = { deps };
      if (module.routes) infra.app.use(module.routes(deps));
      return {
        consumers: shared.map((declaration) => consumerSpec(declaration, module.events, deps, config)),
        partitionedConsumers: partitioned.map((declaration) => (partition: number) => consumerSpec(declaration, module.events, deps, config, partition)),
        background: module.background?.(deps, config) ?? [],
      };
    },
  });
  if (!built) throw new Error(`${module.name}: wiring did not run`);
  return { ...running, config, deps: built.deps };
}

/** A service's whole main.ts: run the module from the process environment, stop on SIGTERM/SIGINT. */
export function main<C extends ServiceConfig, D, T extends string>(module: ServiceModule<C, D, T>): void {
  runMain(() => runService(module));
}
