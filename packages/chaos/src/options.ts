import { parseArgs } from 'node:util';
import { z } from 'zod';
import { parseFaultList, FAULT_SETS } from './faults';
import type { ChaosOptions } from './run';
import type { GrafanaTarget } from './signals';

export const USAGE = `usage: npm run chaos -- [options]

Starts its own stack (free loopback ports; NATS_NODES, INSTANCES as for npm start), puts steady checkout load on it,
injects each fault in turn, waits for the system to recover, then checks every invariant. Exit code 0: every fault
recovered and every invariant holds; 1: not; 2: the run could not start.

  --faults <list>            sets and kind:target specs, comma-separated (default all). Sets: ${Object.keys(FAULT_SETS).join(', ')}.
                             Specs: kill:<process>, kill:<a>+<b> (two at once), pause:<process>, exhaust:ferretdb
  --repeats <n>              run the list this many times (default 1, at most 10)
  --customers <n>            checkout load: customers ordering without pause (default 3)
  --think-ms <ms>            between one customer's checkouts (default 250)
  --warmup-s <s>             load before the first fault (default 15)
  --gap-s <s>                steady load between a recovery and the next fault (default 10)
  --pause-s <s>              how long pause:<process> holds it stopped (default 10)
  --exhaust-s <s>            how long exhaust:ferretdb holds the connections (default 5)
  --recovery-timeout-s <s>   one fault's bound; a fault that does not recover ends the faults (default 180)
  --max-faults-min <min>     no fault starts later than this after the first (default 40)
  --settle-timeout-s <s>     how long the system may take to settle before the check (default 180)
  --out <dir>                report folder (default .data/chaos/<timestamp>)
  --metrics-port <port>      the runner's /metrics (default a free port; scraped by the stack's Prometheus as job chaos)
  --no-prometheus            do not start the stack's Prometheus
  --keep-logs                copy every process's log into the report folder (always done when the run fails)

Environment: GRAFANA_URL and GRAFANA_TOKEN (a service account token): each fault is also a Grafana annotation.
`;

const count = (max: number) => z.coerce.number().int().min(1).max(max);
const secondsUpTo = (max: number) => z.coerce.number().min(0).max(max);

const argsSchema = z.object({
  faults: z.string().default('all'),
  repeats: count(10).default(1),
  customers: count(32).default(3),
  'think-ms': z.coerce.number().int().min(0).max(60_000).default(250),
  'warmup-s': secondsUpTo(600).default(15),
  'gap-s': secondsUpTo(600).default(10),
  'pause-s': secondsUpTo(120).default(10),
  'exhaust-s': secondsUpTo(120).default(5),
  'recovery-timeout-s': z.coerce.number().min(5).max(1_800).default(180),
  'max-faults-min': z.coerce.number().min(0).max(600).default(40),
  'settle-timeout-s': z.coerce.number().min(5).max(1_800).default(180),
  out: z.string().min(1).optional(),
  'metrics-port': z.coerce.number().int().min(0).max(65_535).default(0),
  'no-prometheus': z.boolean().default(false),
  'keep-logs': z.boolean().default(false),
  help: z.boolean().default(false),
});

const envSchema = z
  .object({
    GRAFANA_URL: z.url().optional(),
    GRAFANA_TOKEN: z.string().min(1).optional(),
  })
  .refine((env) => (env.GRAFANA_URL === undefined) === (env.GRAFANA_TOKEN === undefined), { message: 'GRAFANA_URL and GRAFANA_TOKEN go together' });

export interface CliOptions {
  help: boolean;
  chaos: ChaosOptions;
  out?: string;
  metricsPort: number;
  prometheus: boolean;
  keepLogs: boolean;
  grafana?: GrafanaTarget;
}

const STRING_OPTIONS = [
  'faults',
  'repeats',
  'customers',
  'think-ms',
  'warmup-s',
  'gap-s',
  'pause-s',
  'exhaust-s',
  'recovery-timeout-s',
  'max-faults-min',
  'settle-timeout-s',
  'out',
  'metrics-port',
];

/** The command line and environment as validated options; throws a message naming the option that is wrong. */
export function parseCli(argv: string[], env: NodeJS.ProcessEnv): CliOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      ...Object.fromEntries(STRING_OPTIONS.map((name) => [name, { type: 'string' as const }])),
      'no-prometheus': { type: 'boolean' },
      'keep-logs': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const parsed = argsSchema.safeParse(values);
  if (!parsed.success) throw new Error(parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; '));
  const args = parsed.data;
  const grafana = envSchema.safeParse({ GRAFANA_URL: env.GRAFANA_URL || undefined, GRAFANA_TOKEN: env.GRAFANA_TOKEN || undefined });
  if (!grafana.success) throw new Error(grafana.error.issues.map((i) => i.message).join('; '));
  const s = (seconds: number) => Math.round(seconds * 1000);
  return {
    help: args.help,
    chaos: {
      faults: parseFaultList(args.faults),
      repeats: args.repeats,
      customers: args.customers,
      thinkMs: args['think-ms'],
      checkoutTries: 6,
      warmupMs: s(args['warmup-s']),
      gapMs: s(args['gap-s']),
      pauseMs: s(args['pause-s']),
      exhaustMs: s(args['exhaust-s']),
      recoveryTimeoutMs: s(args['recovery-timeout-s']),
      maxFaultsMs: s(args['max-faults-min'] * 60),
      settleTimeoutMs: s(args['settle-timeout-s']),
      probeProducts: 3,
    },
    ...(args.out ? { out: args.out } : {}),
    metricsPort: args['metrics-port'],
    prometheus: !args['no-prometheus'],
    keepLogs: args['keep-logs'],
    ...(grafana.data.GRAFANA_URL && grafana.data.GRAFANA_TOKEN ? { grafana: { url: grafana.data.GRAFANA_URL, token: grafana.data.GRAFANA_TOKEN } } : {}),
  };
}
