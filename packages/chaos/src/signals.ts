import { appendFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Fault } from './faults';

/**
 * Where each fault shows besides the report, so that a dashboard's graphs can be read against it:
 *   - a log line, and one JSON line per event in `<run>/events.jsonl`;
 *   - Prometheus metrics on the runner's own /metrics (scraped as job `chaos`):
 *       tracemart_chaos_faults_total{fault,target}      counter, faults injected (target: `order`, `order+payment`);
 *       tracemart_faults_active{service,kind}            1 from a fault's injection until its recovery, per process hit:
 *                                                        the series the dashboards' "Faults" annotation already draws
 *                                                        (max by (service, kind) (tracemart_faults_active) == 1), kinds
 *                                                        kill / pause / exhaust beside the admin API's latency / error / outage;
 *       tracemart_chaos_recovery_seconds{fault,target}   gauge, the last recovery time (kill to a checkout through again);
 *   - with GRAFANA_URL and GRAFANA_TOKEN, a Grafana annotation (POST /api/annotations, tags chaos + kind + targets) whose
 *     end is set (PATCH) once the system has recovered: a region from the fault to its recovery.
 */

export interface GrafanaTarget {
  url: string;
  token: string;
}

export interface SignalOptions {
  say: (line: string) => void;
  eventsFile?: string;
  grafana?: GrafanaTarget;
}

/** What one fault's signals need to close it again. */
export interface OpenFault {
  fault: Fault;
  at: number;
  annotationId?: number;
}

const label = (value: string) => value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const key = (fault: Fault) => `${fault.kind}\u0000${fault.targets.join('+')}`;

export class FaultSignals {
  private readonly injected = new Map<string, number>();
  private readonly recoverySeconds = new Map<string, number>();
  /** Per process hit and kind: 1 while the fault is on. */
  private readonly active = new Map<string, number>();
  private server: Server | undefined;

  constructor(private readonly options: SignalOptions) {}

  /** Serves /metrics on 127.0.0.1:`port` (0: a free one); returns the port. */
  async serve(port: number): Promise<number> {
    const server = createServer((req, res) => {
      if (req.method === 'GET' && req.url?.split('?')[0] === '/metrics') {
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(this.exposition());
        return;
      }
      res.writeHead(404).end();
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    return (server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The Prometheus text exposition of the three metrics above. */
  exposition(): string {
    const lines = [
      '# HELP tracemart_chaos_faults_total Faults injected by the chaos runner, by fault kind and target process(es).',
      '# TYPE tracemart_chaos_faults_total counter',
      ...[...this.injected].map(([k, n]) => `tracemart_chaos_faults_total{${labels(k, 'fault', 'target')}} ${n}`),
      '# HELP tracemart_faults_active Whether an injected fault of this kind is active on this process (chaos: from injection until recovered).',
      '# TYPE tracemart_faults_active gauge',
      ...[...this.active].map(([k, v]) => `tracemart_faults_active{${labels(k, 'kind', 'service')}} ${v}`),
      '# HELP tracemart_chaos_recovery_seconds The last recovery time of a fault: from the fault to a checkout through the gateway confirmed again.',
      '# TYPE tracemart_chaos_recovery_seconds gauge',
      ...[...this.recoverySeconds].map(([k, s]) => `tracemart_chaos_recovery_seconds{${labels(k, 'fault', 'target')}} ${s}`),
    ];
    return `${lines.join('\n')}\n`;
  }

  /** The fault is on: log, event, counter, active gauge, Grafana annotation (awaited, bounded by its timeout). */
  async started(fault: Fault, at: number, detail: Record<string, unknown>): Promise<OpenFault> {
    this.injected.set(key(fault), (this.injected.get(key(fault)) ?? 0) + 1);
    for (const target of fault.targets) this.active.set(`${fault.kind}\u0000${target}`, 1);
    this.options.say(`fault ${fault.id} injected ${JSON.stringify(detail)}`);
    this.event({ event: 'fault', fault: fault.id, kind: fault.kind, targets: fault.targets, at: new Date(at).toISOString(), ...detail });
    const open: OpenFault = { fault, at };
    const id = await this.annotate(fault, at, detail);
    if (id !== undefined) open.annotationId = id;
    return open;
  }

  /** The system has recovered (or the runner gave up waiting): the active gauge drops, the annotation gets its end. */
  async ended(open: OpenFault, at: number, outcome: { recovered: boolean; recoveryMs?: number; detail?: string }): Promise<void> {
    const { fault } = open;
    for (const target of fault.targets) this.active.set(`${fault.kind}\u0000${target}`, 0);
    if (outcome.recoveryMs !== undefined) this.recoverySeconds.set(key(fault), outcome.recoveryMs / 1000);
    this.event({ event: outcome.recovered ? 'recovered' : 'not-recovered', fault: fault.id, at: new Date(at).toISOString(), ...outcome });
    if (open.annotationId !== undefined && this.options.grafana) {
      await this.grafana(`/api/annotations/${open.annotationId}`, 'PATCH', { timeEnd: at }).catch((err: unknown) => this.options.say(`grafana annotation end: ${String(err)}`));
    }
  }

  private event(record: Record<string, unknown>): void {
    if (this.options.eventsFile) appendFileSync(this.options.eventsFile, `${JSON.stringify(record)}\n`);
  }

  private async annotate(fault: Fault, at: number, detail: Record<string, unknown>): Promise<number | undefined> {
    if (!this.options.grafana) return undefined;
    try {
      const body = await this.grafana('/api/annotations', 'POST', {
        time: at,
        tags: ['chaos', fault.kind, ...fault.targets],
        text: `chaos: ${fault.id} ${JSON.stringify(detail)}`,
      });
      const id = (body as { id?: unknown } | undefined)?.id;
      return typeof id === 'number' ? id : undefined;
    } catch (err) {
      this.options.say(`grafana annotation not written: ${err instanceof Error ? err.message : String(err)}`);
      return undefined;
    }
  }

  private async grafana(path: string, method: string, body: unknown): Promise<unknown> {
    const target = this.options.grafana as GrafanaTarget;
    const res = await fetch(`${target.url.replace(/\/$/, '')}${path}`, {
      method,
      headers: { authorization: `Bearer ${target.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(5_000),
    });
    if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${(await res.text()).slice(0, 200)}`);
    return res.json().catch(() => undefined);
  }
}

function labels(k: string, first: string, second: string): string {
  const [a = '', b = ''] = k.split('\u0000');
  return `${first}="${label(a)}",${second}="${label(b)}"`;
}
