import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { z } from 'zod';
import { systemClock, type Clock } from '../clock';
import { getMeter } from '../telemetry/metrics';

export const faultKinds = ['latency', 'error', 'outage'] as const;
export type FaultKind = (typeof faultKinds)[number];

/** What an operator asks for; `service` names the target when the request goes through the gateway. */
export const faultSpecSchema = z
  .object({
    service: z
      .string()
      .regex(/^[a-z][a-z0-9-]{0,31}$/)
      .optional(),
    kind: z.enum(faultKinds),
    durationSeconds: z.number().int().min(1).max(3600),
    latencyMs: z.number().int().min(1).max(60_000).optional(),
    errorRate: z.number().min(0).max(1).optional(),
    /** A path prefix; without it the fault applies to every faultable route. */
    route: z
      .string()
      .regex(/^\/[\w\-/.:]{0,200}$/)
      .optional(),
  })
  .strict()
  .refine((spec) => spec.kind !== 'latency' || spec.latencyMs !== undefined, { message: 'latencyMs is required for a latency fault', path: ['latencyMs'] });
export type FaultSpec = z.infer<typeof faultSpecSchema>;

export interface Fault {
  id: string;
  service: string;
  kind: FaultKind;
  latencyMs?: number;
  errorRate?: number;
  route?: string;
  durationSeconds: number;
  createdAt: string;
  expiresAt: string;
}

/** What the active faults do to one request: wait this long, then maybe fail. */
export interface FaultEffect {
  delayMs: number;
  fail?: 'error' | 'outage';
}

const meter = getMeter();
/**
 * 1 while a fault of `kind` is active in `service`, else 0 (Prometheus `tracemart_faults_active`).
 * Dashboards draw annotations from its changes.
 */
const activeGauge = meter.createObservableGauge('tracemart.faults.active', { unit: '{fault}', description: 'Whether an injected fault of this kind is active' });
const injectors = new Set<FaultInjector>();
activeGauge.addCallback((result) => {
  for (const injector of injectors) {
    const active = new Set(injector.list().map((fault) => fault.kind));
    for (const kind of faultKinds) result.observe(active.has(kind) ? 1 : 0, { service: injector.service, kind });
  }
});

/**
 * The faults active in one process. Each expires on its own (an unref'd timer, so a forgotten fault
 * never outlives its duration nor keeps the process alive); inject, expiry and clear are logged.
 * Expiry is judged by `clock`: a fault past its expiry is gone from `list` and `effectFor` even before its
 * timer fires, so a test moving a manual clock sees it expire without waiting.
 */
export class FaultInjector {
  private readonly faults = new Map<string, { fault: Fault; expiresAtMs: number; timer: NodeJS.Timeout }>();

  constructor(
    readonly service: string,
    private readonly logger: Logger,
    private readonly random: () => number = Math.random,
    private readonly clock: Clock = systemClock,
  ) {
    injectors.add(this);
  }

  inject(spec: FaultSpec): Fault {
    const now = this.clock.now();
    const expiresAtMs = now + spec.durationSeconds * 1000;
    const fault: Fault = {
      id: randomUUID(),
      service: this.service,
      kind: spec.kind,
      ...(spec.latencyMs !== undefined ? { latencyMs: spec.latencyMs } : {}),
      ...(spec.kind === 'error' ? { errorRate: spec.errorRate ?? 1 } : {}),
      ...(spec.route !== undefined ? { route: spec.route } : {}),
      durationSeconds: spec.durationSeconds,
      createdAt: new Date(now).toISOString(),
      expiresAt: new Date(expiresAtMs).toISOString(),
    };
    const timer = setTimeout(() => this.remove(fault.id, 'fault expired'), spec.durationSeconds * 1000);
    timer.unref();
    this.faults.set(fault.id, { fault, expiresAtMs, timer });
    this.logger.warn({ fault }, 'fault injected');
    return fault;
  }

  list(): Fault[] {
    this.expire();
    return [...this.faults.values()].map((entry) => entry.fault);
  }

  /** Lifts one fault; false when no such fault is active (never existed, or already expired). */
  clear(id: string): boolean {
    this.expire();
    return this.remove(id, 'fault cleared');
  }

  clearAll(): number {
    this.expire();
    const ids = [...this.faults.keys()];
    for (const id of ids) this.remove(id, 'fault cleared');
    return ids.length;
  }

  /** The combined effect on a request to `path` (latencies add up; an outage beats an error). */
  effectFor(path: string): FaultEffect | undefined {
    if (this.faults.size === 0) return undefined;
    this.expire();
    let delayMs = 0;
    let fail: FaultEffect['fail'];
    for (const { fault } of this.faults.values()) {
      if (fault.route !== undefined && !path.startsWith(fault.route)) continue;
      if (fault.kind === 'latency') delayMs += fault.latencyMs ?? 0;
      else if (fault.kind === 'outage') fail = 'outage';
      else if (fail === undefined && this.random() < (fault.errorRate ?? 1)) fail = 'error';
    }
    if (delayMs === 0 && fail === undefined) return undefined;
    return fail ? { delayMs, fail } : { delayMs };
  }

  /** Lifts every fault and stops reporting the gauge; for shutdown. */
  dispose(): void {
    for (const { timer } of this.faults.values()) clearTimeout(timer);
    this.faults.clear();
    injectors.delete(this);
  }

  /** Removes the faults whose time is up by the clock. */
  private expire(): void {
    const now = this.clock.now();
    for (const [id, { expiresAtMs }] of this.faults) if (expiresAtMs <= now) this.remove(id, 'fault expired');
  }

  private remove(id: string, message: string): boolean {
    const entry = this.faults.get(id);
    if (!entry) return false;
    clearTimeout(entry.timer);
    this.faults.delete(id);
    this.logger.info({ fault: entry.fault }, message);
    return true;
  }
}
