import type { Logger } from 'pino';
import { getTelemetryHandle } from './telemetry/handle';

export interface ShutdownStep {
  name: string;
  run: () => Promise<void> | void;
}

/**
 * Graceful shutdown in a fixed order: the caller registers steps in the order they must run
 * (mark not-ready, stop accepting HTTP, drain NATS, close MongoDB); telemetry is flushed last.
 * A forced exit fires if the steps take longer than `timeoutMs`; its timer is unref()ed.
 */
export class Lifecycle {
  private readonly steps: ShutdownStep[] = [];
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly timeoutMs: number,
  ) {}

  onShutdown(name: string, run: ShutdownStep['run']): void {
    this.steps.push({ name, run });
  }

  /** Runs every step once, in order; later calls wait for the first. */
  shutdown(reason: string): Promise<void> {
    this.stopping ??= this.runSteps(reason);
    return this.stopping;
  }

  private async runSteps(reason: string): Promise<void> {
    this.logger.info({ reason }, 'shutting down');
    const force = setTimeout(() => {
      this.logger.error({ timeoutMs: this.timeoutMs }, 'shutdown timed out, exiting');
      process.exit(1);
    }, this.timeoutMs);
    force.unref();
    let failed = false;
    for (const step of this.steps) {
      try {
        await step.run();
      } catch (err) {
        failed = true;
        this.logger.error({ err, step: step.name }, 'shutdown step failed');
      }
    }
    this.logger.info('stopped');
    await getTelemetryHandle()
      .shutdown()
      .catch(() => undefined);
    clearTimeout(force);
    if (failed) throw new Error('shutdown finished with errors');
  }
}
