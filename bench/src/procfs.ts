import { readdirSync, readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { execFileSync } from 'node:child_process';

/** Clock ticks per second for /proc/<pid>/stat times (USER_HZ; 100 on every Linux this runs on). */
const TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** Resident set size of one process in MiB (VmRSS), or undefined when it is gone. */
/** A `<name>: <n> kB` line of a /proc file, in MiB; undefined when the file or the line is missing. */
function mibField(path: string, pattern: RegExp): number | undefined {
  try {
    const match = pattern.exec(readFileSync(path, 'utf8'));
    return match?.[1] ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

export function rssMiB(pid: number): number | undefined {
  return mibField(`/proc/${pid}/status`, /^VmRSS:\s+(\d+)\s+kB$/m);
}

/** CPU seconds (user + system) a process has used so far, or undefined when it is gone. */
export function cpuSeconds(pid: number): number | undefined {
  const fields = statFields(pid);
  return fields ? (Number(fields[11]) + Number(fields[12])) / TICKS : undefined;
}

/** The fields of /proc/<pid>/stat after the command name (which may itself hold spaces and parentheses). */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** `pid` and every live descendant of it. */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const parent = Number(statFields(Number(entry))?.[1]);
    if (Number.isFinite(parent)) children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
  }
  const tree: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const next = queue.shift() as number;
    tree.push(next);
    queue.push(...(children.get(next) ?? []));
  }
  return tree;
}

/**
 * CPU seconds of a process together with its descendants: each live member's own time plus that of its children
 * already reaped (cutime/cstime). PostgreSQL does its work in one backend process per connection, not in the
 * postmaster.
 */
export function treeCpuSeconds(pid: number): number | undefined {
  if (!statFields(pid)) return undefined;
  let total = 0;
  for (const member of processTree(pid)) {
    const fields = statFields(member);
    if (fields) total += (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / TICKS;
  }
  return total;
}

/** Proportional set size of a process tree in MiB: shared memory (PostgreSQL's shared buffers) is counted once. */
/** Proportional set size: resident pages, each shared page divided among the processes that map it. */
export function pssMiB(pid: number): number | undefined {
  return mibField(`/proc/${pid}/smaps_rollup`, /^Pss:\s+(\d+)\s+kB$/m);
}

export function treePssMiB(pid: number): number | undefined {
  let total = 0;
  for (const member of processTree(pid)) {
    const mem = pssMiB(member) ?? rssMiB(member);
    if (mem === undefined && member === pid) return undefined;
    total += mem ?? 0;
  }
  return total;
}

/** Busy CPU seconds of the whole machine (all cores) from /proc/stat. */
export function machineBusySeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
  return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) / TICKS;
}

export function loadAverage(): number[] {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
}

export interface Machine {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  kernel: string;
  /** The load generator: autocannon, undici and hdr-histogram-js versions. */
  loadgen: string;
}

export function describeMachine(loadgen: string): Machine {
  const model = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpus()[0]?.model ?? 'unknown';
  return {
    cpus: cpus().length,
    cpuModel: model.trim(),
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    kernel: readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim(),
    loadgen,
  };
}

export interface ProcessUsage {
  /** Mean CPU over the window, in cores (1 = one core busy all the time). */
  cpuCores: number;
  rssMiB: { last: number; max: number };
  /**
   * PSS: what the process adds to the machine's memory. Summing RSS counts the pages processes share (the node
   * binary and libraries, about 44 MiB in each Node process here) once per process; summing PSS counts them once.
   */
  pssMiB: { last: number; max: number };
}

export interface UsageWindow {
  seconds: number;
  processes: Record<string, ProcessUsage>;
  /** Busy cores on the whole machine, and the part not used by the measured processes (other work). */
  machineBusyCores: number;
  foreignBusyCores: number;
  loadAverage: number[];
}

/**
 * Samples RSS every second and CPU at the ends of a window for the named pids (the stack's processes,
 * plus the load generator: the benchmark process itself). Names in `trees` count their whole process tree
 * (CPU of live and reaped descendants, memory as PSS). `foreign` CPU is what other programs on the machine used meanwhile: this box
 * may be shared, and a benchmark should say how quiet it was.
 */
export function startUsageWindow(pids: () => Map<string, number>, options: { trees?: readonly string[] } = {}): { stop: () => UsageWindow } {
  const trees = new Set(options.trees ?? []);
  const startedAt = Date.now();
  const machineStart = machineBusySeconds();
  const cpuStart = new Map<string, number>();
  const cpuLast = new Map<string, number>();
  const rss = new Map<string, { last: number; max: number }>();
  const pss = new Map<string, { last: number; max: number }>();
  const track = (into: Map<string, { last: number; max: number }>, name: string, value: number | undefined) => {
    if (value === undefined) return;
    into.set(name, { last: value, max: Math.max(value, into.get(name)?.max ?? 0) });
  };
  const sample = () => {
    for (const [name, pid] of pids()) {
      const tree = trees.has(name);
      const cpu = tree ? treeCpuSeconds(pid) : cpuSeconds(pid);
      if (cpu !== undefined) {
        if (!cpuStart.has(name)) cpuStart.set(name, cpu);
        cpuLast.set(name, cpu);
      }
      const proportional = tree ? treePssMiB(pid) : pssMiB(pid);
      track(rss, name, tree ? proportional : rssMiB(pid));
      track(pss, name, proportional);
    }
  };
  sample();
  const timer = setInterval(sample, 1_000);
  return {
    stop(): UsageWindow {
      clearInterval(timer);
      sample();
      const seconds = (Date.now() - startedAt) / 1000;
      const processes: Record<string, ProcessUsage> = {};
      let ours = 0;
      for (const [name, start] of cpuStart) {
        const used = (cpuLast.get(name) ?? start) - start;
        ours += used;
        processes[name] = { cpuCores: used / seconds, rssMiB: rss.get(name) ?? { last: 0, max: 0 }, pssMiB: pss.get(name) ?? { last: 0, max: 0 } };
      }
      const machine = (machineBusySeconds() - machineStart) / seconds;
      return { seconds, processes, machineBusyCores: machine, foreignBusyCores: Math.max(0, machine - ours / seconds), loadAverage: loadAverage() };
    },
  };
}
