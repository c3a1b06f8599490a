/**
 * The local supervisor's policy: when a process of the stack exits without being asked to (a crash, a `kill -9` from
 * outside, the OOM killer), it is started again after an exponential backoff, like a kubelet's CrashLoopBackOff
 * (there 10 s doubling to 5 min, reset after 10 min up; locally shorter, so that a chaos run sees processes come back).
 * ProcessGroup applies it; this module only decides how long to wait and what to log.
 */

export interface CrashBackoffPolicy {
  /** The wait before the first restart of a crash loop. */
  initialMs: number;
  /** The wait doubles per crash up to this. */
  maxMs: number;
  /** A process that stayed up this long is healthy again: its next crash waits `initialMs` again. */
  resetAfterMs: number;
  /**
   * Each wait is scaled by a random factor in [1 - jitter, 1 + jitter] (then capped at maxMs), so that processes that
   * crashed together (every service after a NATS outage) do not come back in lockstep.
   */
  jitter: number;
}

export const CRASH_BACKOFF: CrashBackoffPolicy = { initialMs: 500, maxMs: 30_000, resetAfterMs: 30_000, jitter: 0.2 };

/** The wait before restart number `attempt` (from 1) of a crash loop; `random` returns a number in [0, 1). */
export function crashDelayMs(policy: CrashBackoffPolicy, attempt: number, random: () => number = Math.random): number {
  const base = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.max(0, attempt - 1));
  const factor = 1 - policy.jitter + 2 * policy.jitter * random();
  return Math.round(Math.min(policy.maxMs, base * factor));
}

export interface Crash {
  /** Which restart of this crash loop is due (1 after a process that ran long enough). */
  attempt: number;
  delayMs: number;
  /** How long the process that crashed had been up. */
  uptimeMs: number;
}

/** One process's crash loop: counts consecutive crashes, forgotten once the process stayed up `resetAfterMs`. */
export class CrashLoop {
  private attempts = 0;
  private startedAt: number;

  constructor(
    private readonly policy: CrashBackoffPolicy = CRASH_BACKOFF,
    private readonly now: () => number = Date.now,
    private readonly random: () => number = Math.random,
  ) {
    this.startedAt = now();
  }

  /** The process was started (again) now. */
  started(): void {
    this.startedAt = this.now();
  }

  /** A deliberate restart (`restart(name)`): the process starts afresh, with no crash loop behind it. */
  reset(): void {
    this.attempts = 0;
    this.started();
  }

  /** The process exited unexpectedly now: which restart this is and how long to wait before it. */
  crashed(): Crash {
    const uptimeMs = this.now() - this.startedAt;
    if (uptimeMs >= this.policy.resetAfterMs) this.attempts = 0;
    this.attempts += 1;
    return { attempt: this.attempts, delayMs: crashDelayMs(this.policy, this.attempts, this.random), uptimeMs };
  }
}

/** What the supervisor reports, one JSON line each (the stack's stderr by default). */
export type SupervisorEvent =
  | ({ event: 'process.crashed'; process: string; reason: string; pid: number | undefined } & Crash)
  | { event: 'process.restarted'; process: string; reason: string; attempt: number; delayMs: number; pid: number | undefined }
  | { event: 'process.ready'; process: string; attempt: number; pid: number | undefined };

const MESSAGES: Record<SupervisorEvent['event'], string> = {
  'process.crashed': 'process exited unexpectedly; restarting after backoff',
  'process.restarted': 'process restarted by the supervisor',
  'process.ready': 'restarted process is ready again',
};

/** A pino-shaped line (level, time, msg), so that it reads like the services' own logs. */
export function supervisorLogLine(event: SupervisorEvent, now: Date = new Date()): string {
  const level = event.event === 'process.ready' ? 'info' : 'warn';
  return JSON.stringify({ level, time: now.toISOString(), component: 'supervisor', msg: MESSAGES[event.event], ...event });
}

export const logToStderr = (event: SupervisorEvent): void => {
  process.stderr.write(`${supervisorLogLine(event)}\n`);
};
