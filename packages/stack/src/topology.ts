import { freePort } from './ports';

export const serviceNames = ['user', 'catalog', 'order', 'inventory', 'payment', 'notification'] as const;
export type ServiceName = (typeof serviceNames)[number];
export type ProcessName = ServiceName | 'gateway';
export const processNames: readonly ProcessName[] = [...serviceNames, 'gateway'];

export const defaultPorts: Record<ProcessName, number> = {
  gateway: 8080,
  user: 3001,
  catalog: 3002,
  order: 3003,
  inventory: 3004,
  payment: 3005,
  notification: 3006,
};

/** How many instances of each service: one number for all, or per service (the others: from the environment). */
export type InstanceCounts = number | Partial<Record<ServiceName, number>>;

/** One running copy of a service (or the gateway). */
export interface Instance {
  /** `order` for the first (its name as before), then `order-2`, `order-3`: process, log file (`logs/order-2.log`). */
  name: string;
  /** `INSTANCE_ID`: `order-1`, `order-2`, ... (the first too, so that every instance names itself the same way). */
  id: string;
  url: string;
  port: number;
}

const MAX_INSTANCES = 9;
/** Fixed ports of further instances: the first's port + 100 per instance (order: 3003, 3103, 3203). */
const INSTANCE_PORT_STEP = 100;

function count(value: number | string | undefined, what: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > MAX_INSTANCES) throw new Error(`${what} must be a whole number from 1 to ${MAX_INSTANCES}, not ${value}`);
  return n;
}

/**
 * Instances per service: the option wins; else `INSTANCES_<SERVICE>` (e.g. `INSTANCES_ORDER=2`), else `INSTANCES`
 * (all services), else 1. The gateway always runs once: it is the one entry point that balances over the others.
 */
export function instanceCounts(option: InstanceCounts | undefined, env: NodeJS.ProcessEnv = process.env): Record<ProcessName, number> {
  const all = count(typeof option === 'number' ? option : undefined, 'instances') ?? count(env.INSTANCES, 'INSTANCES') ?? 1;
  const counts = { gateway: 1 } as Record<ProcessName, number>;
  for (const service of serviceNames) {
    const variable = `INSTANCES_${service.toUpperCase()}`;
    const fromOption = typeof option === 'object' ? count(option[service], `instances.${service}`) : undefined;
    counts[service] = typeof option === 'number' ? all : (fromOption ?? count(env[variable], variable) ?? all);
  }
  return counts;
}

/** Names, ids and ports of every instance: fixed ports (see INSTANCE_PORT_STEP), or free ones. */
export async function planInstances(counts: Record<ProcessName, number>, options: { freePorts?: boolean }): Promise<Record<ProcessName, Instance[]>> {
  const plan = {} as Record<ProcessName, Instance[]>;
  for (const name of processNames) {
    plan[name] = [];
    for (let k = 1; k <= counts[name]; k++) {
      const port = options.freePorts ? await freePort() : defaultPorts[name] + INSTANCE_PORT_STEP * (k - 1);
      plan[name].push({ name: k === 1 ? name : `${name}-${k}`, id: `${name}-${k}`, url: `http://127.0.0.1:${port}`, port });
    }
  }
  return plan;
}
