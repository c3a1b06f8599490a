/**
 * The faults the chaos runner knows, written `kind:target` (`kill:order`, `kill:nats-2+nats-3`, `pause:order`,
 * `exhaust:ferretdb`), and the named sets of them the CLI takes (`--faults all`, `--faults ci,pause:payment`).
 *
 *   kill     SIGKILL (kill -9) of each target at the same moment; the stack's supervisor starts them again.
 *   pause    SIGSTOP of one process for the pause time, then SIGCONT: a hang (no crash, its sockets stay open).
 *   exhaust  every free connection slot of the PostgreSQL under FerretDB taken for the exhaust time, then released:
 *            FerretDB can open no connection of its own meanwhile.
 */

export const FAULT_KINDS = ['kill', 'pause', 'exhaust'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface Fault {
  /** `kind:target[+target]`: stable, used as the metric label and in the report. */
  id: string;
  kind: FaultKind;
  /** Process names of the stack (`order`, `order-2`, `gateway`, `nats-1`, `ferretdb`, `postgres`). */
  targets: string[];
}

export const SERVICE_TARGETS = ['user', 'catalog', 'order', 'inventory', 'payment', 'notification'] as const;
export const NATS_TARGETS = ['nats-1', 'nats-2', 'nats-3'] as const;
/** Every process the runner may kill, in the order the `singles` set kills them. */
export const KILL_TARGETS = [...SERVICE_TARGETS, 'gateway', ...NATS_TARGETS, 'ferretdb', 'postgres'] as const;

/**
 * Two at once: each target once, paired so that each pair means something (the saga's two ends; the two services of
 * the other events; the entry point with a NATS node; two of three NATS nodes, a lost JetStream quorum; the database
 * and the server in front of it).
 */
export const DEFAULT_PAIRS: readonly (readonly [string, string])[] = [
  ['order', 'payment'],
  ['inventory', 'notification'],
  ['user', 'catalog'],
  ['gateway', 'nats-1'],
  ['nats-2', 'nats-3'],
  ['ferretdb', 'postgres'],
];

const spec = (kind: FaultKind, targets: readonly string[]): string => `${kind}:${targets.join('+')}`;

const SINGLES = KILL_TARGETS.map((t) => spec('kill', [t]));
const PAIRS = DEFAULT_PAIRS.map((pair) => spec('kill', pair));
const PAUSE = [spec('pause', ['order'])];
const EXHAUST = [spec('exhaust', ['ferretdb'])];

/** Named sets of faults; `all` is what `npm run chaos` runs when no --faults is given. */
export const FAULT_SETS: Readonly<Record<string, readonly string[]>> = {
  all: [...SINGLES, ...PAIRS, ...PAUSE, ...EXHAUST],
  singles: SINGLES,
  pairs: PAIRS,
  pause: PAUSE,
  exhaust: EXHAUST,
  /** The end-to-end test's short run. */
  ci: [spec('kill', ['order']), spec('kill', ['payment']), spec('kill', ['nats-1'])],
};

const TARGET = /^[a-z][a-z0-9-]{0,30}$/;
const MAX_TARGETS = 2;

/** One `kind:target[+target]` spec as a Fault; throws naming what is wrong with it. */
export function parseFault(raw: string): Fault {
  const [kind, rest, extra] = raw.trim().split(':');
  if (!kind || rest === undefined || extra !== undefined || !(FAULT_KINDS as readonly string[]).includes(kind)) {
    throw new Error(`fault "${raw}": expected kind:target with kind one of ${FAULT_KINDS.join(', ')} (or a set: ${Object.keys(FAULT_SETS).join(', ')})`);
  }
  const targets = rest.split('+');
  if (targets.length > MAX_TARGETS || targets.some((t) => !TARGET.test(t)) || new Set(targets).size !== targets.length) {
    throw new Error(`fault "${raw}": one or two different process names joined by + (e.g. kill:order+payment)`);
  }
  if (kind !== 'kill' && targets.length > 1) throw new Error(`fault "${raw}": only kill takes two targets`);
  if (kind === 'exhaust' && targets[0] !== 'ferretdb') throw new Error(`fault "${raw}": the connections exhausted are FerretDB's (exhaust:ferretdb)`);
  return { id: spec(kind as FaultKind, targets), kind: kind as FaultKind, targets };
}

/** A comma-separated list of sets and specs, expanded in order, each fault once. */
export function parseFaultList(raw: string): Fault[] {
  const faults = new Map<string, Fault>();
  for (const item of raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const set = FAULT_SETS[item];
    for (const one of set ? set.map(parseFault) : [parseFault(item)]) if (!faults.has(one.id)) faults.set(one.id, one);
  }
  if (faults.size === 0) throw new Error('no faults given');
  return [...faults.values()];
}

/** Faults that name a process the stack does not run (`nats-3` on a single node, `order-2` with one instance). */
export function unknownTargets(faults: readonly Fault[], processes: ReadonlySet<string>): string[] {
  return [...new Set(faults.flatMap((f) => f.targets).filter((t) => !processes.has(t)))];
}

export type TargetClass = 'service' | 'gateway' | 'nats' | 'ferretdb' | 'postgres';

/** What a process is: `order-2` is a service, `nats-2` a NATS node. */
export function targetClass(name: string): TargetClass {
  if (name === 'gateway' || name === 'ferretdb' || name === 'postgres') return name;
  if (/^nats-\d+$/.test(name)) return 'nats';
  return 'service';
}

/** The row a fault's recovery time is summarised in: `kill service`, `kill two at once`, `pause service`, ... */
export function faultGroup(fault: Fault): string {
  if (fault.kind === 'exhaust') return 'exhaust db connections';
  if (fault.targets.length > 1) return `${fault.kind} two at once`;
  const cls = targetClass(fault.targets[0] ?? '');
  return `${fault.kind} ${cls === 'nats' ? 'nats node' : cls}`;
}
