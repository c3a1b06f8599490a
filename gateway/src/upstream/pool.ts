import type { Logger } from '@tracemart/platform';

export interface Instance {
  url: string;
  /** Passive ejection: set by a connection error, timeout or 5xx; the instance sits out until then. */
  ejectedUntil: number;
  /** Active ejection: the last /readyz probe failed. */
  probeFailed: boolean;
}

/**
 * The instances of one upstream, chosen round robin. Unhealthy instances are skipped: passively (a
 * failed call ejects the instance for a cooldown) and actively (a failed /readyz probe ejects it until a
 * probe succeeds). When every instance is ejected the pool picks among all of them anyway (Envoy's
 * "panic mode"), so a single-instance upstream stays reachable and its circuit breaker decides.
 */
export class InstancePool {
  readonly instances: Instance[];
  private cursor = 0;

  constructor(
    readonly name: string,
    urls: string[],
    private readonly options: { cooldownMs: number; logger: Logger; now?: () => number },
  ) {
    this.instances = urls.map((url) => ({ url, ejectedUntil: 0, probeFailed: false }));
  }

  healthy(instance: Instance): boolean {
    return !instance.probeFailed && instance.ejectedUntil <= this.now();
  }

  pick(): Instance {
    const count = this.instances.length;
    for (let step = 0; step < count; step++) {
      const instance = this.instances[(this.cursor + step) % count];
      if (instance && this.healthy(instance)) {
        this.cursor = (this.cursor + step + 1) % count;
        return instance;
      }
    }
    const fallback = this.instances[this.cursor % count] as Instance;
    this.cursor = (this.cursor + 1) % count;
    return fallback;
  }

  reportFailure(instance: Instance, reason: string): void {
    const wasHealthy = this.healthy(instance);
    instance.ejectedUntil = this.now() + this.options.cooldownMs;
    if (wasHealthy) this.options.logger.warn({ upstream: this.name, instance: instance.url, reason, cooldownMs: this.options.cooldownMs }, 'upstream instance ejected');
  }

  reportProbe(instance: Instance, ok: boolean): void {
    if (instance.probeFailed === !ok) return;
    instance.probeFailed = !ok;
    if (ok) this.options.logger.info({ upstream: this.name, instance: instance.url }, 'upstream instance readmitted by probe');
    else this.options.logger.warn({ upstream: this.name, instance: instance.url }, 'upstream instance ejected by probe');
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }
}
