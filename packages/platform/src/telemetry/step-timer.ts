import { context, trace, type Attributes } from '@opentelemetry/api';
import { getTracer } from './tracing';

const tracer = getTracer('tracemart.coordination');

interface Step {
  name: string;
  start: number;
  end: number;
  attributes: Attributes;
}

/**
 * Times the steps of a periodic background job (a partition ownership tick) without tracing every run: the steps are
 * recorded as they go, and only a run worth looking at (one that changed something) is turned into a span afterwards,
 * with a child span per step at its real times. A tick every second per instance would otherwise flood the trace
 * search with spans that show nothing.
 */
export class StepTimer {
  readonly startedAt = Date.now();
  private readonly steps: Step[] = [];

  /** Runs `fn` as the step `name`; the step is recorded whether it resolves or throws. */
  async time<T>(name: string, fn: () => Promise<T>, attributes: Attributes = {}): Promise<T> {
    const start = Date.now();
    try {
      return await fn();
    } finally {
      this.steps.push({ name, start, end: Date.now(), attributes });
    }
  }

  /** Milliseconds per step name (steps of one name summed: the per-partition ones), and `total`. */
  durations(): Record<string, number> & { total: number } {
    const out: Record<string, number> = {};
    for (const step of this.steps) out[step.name] = (out[step.name] ?? 0) + step.end - step.start;
    return { ...out, total: Date.now() - this.startedAt };
  }

  /** Emits the run as the span `name` (a trace root) with one child span per step. */
  emit(name: string, attributes: Attributes): void {
    const root = tracer.startSpan(name, { root: true, startTime: this.startedAt, attributes });
    const parent = trace.setSpan(context.active(), root);
    for (const step of this.steps) tracer.startSpan(step.name, { startTime: step.start, attributes: step.attributes }, parent).end(step.end);
    root.end();
  }
}
