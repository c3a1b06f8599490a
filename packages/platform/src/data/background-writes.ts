import { context, ROOT_CONTEXT } from '@opentelemetry/api';
import type { Collection, Document, Filter, UpdateFilter } from 'mongodb';
import type { Logger } from 'pino';
import { getTracer } from '../telemetry/tracing';

const tracer = getTracer('tracemart.bookkeeping');

interface Write<T extends Document> {
  filter: Filter<T>;
  update: UpdateFilter<T>;
  many: boolean;
}

/**
 * Bookkeeping writes that nobody waits for (an event marked published, an order marked settled): queued and sent
 * by a few workers in the background, so none is a round trip of the request or message that caused it. Only for
 * writes whose loss in a crash is harmless because a sweep redoes them (a republished event is dropped by
 * JetStream's duplicate window).
 *
 * One statement per command, never a bulk write: FerretDB v1 on PostgreSQL holds a pool connection for every
 * statement of one update command until the whole command ends, so a few many-statement commands running together
 * exhaust its pool (50) and wait for each other forever (seen in the growth benchmark with 25-statement batches).
 * Each drain of the queue is its own trace (`bookkeeping <collection>`), not part of the request that started it.
 */
export class BackgroundWrites<T extends Document> {
  private readonly queue: Write<T>[] = [];
  private readonly workers = new Set<Promise<void>>();

  constructor(
    private readonly collection: Collection<T>,
    private readonly logger: Logger,
    /** Writes in flight at once, each its own single-statement command. */
    private readonly concurrency = 4,
  ) {}

  /**
   * Queues `updateOne(filter, update)` (`updateMany` with `many`: still one statement); past `maxQueued` waiting the
   * write is dropped (a sweep redoes it).
   */
  add(filter: Filter<T>, update: UpdateFilter<T>, options: { many?: boolean; maxQueued?: number } = {}): void {
    const maxQueued = options.maxQueued ?? 10_000;
    if (this.queue.length >= maxQueued) {
      this.logger.warn({ collection: this.collection.collectionName, queued: this.queue.length }, 'bookkeeping queue full, write dropped; the sweep redoes it');
      return;
    }
    this.queue.push({ filter, update, many: options.many ?? false });
    if (this.workers.size < this.concurrency) {
      const worker: Promise<void> = context.with(ROOT_CONTEXT, () => this.drain()).finally(() => this.workers.delete(worker));
      this.workers.add(worker);
    }
  }

  /** Resolves once everything queued so far is written (or failed and logged). */
  async flush(): Promise<void> {
    while (this.workers.size > 0) await Promise.all(this.workers);
  }

  private async drain(): Promise<void> {
    await tracer.startActiveSpan(`bookkeeping ${this.collection.collectionName}`, async (span) => {
      let writes = 0;
      for (let next = this.queue.shift(); next; next = this.queue.shift()) {
        writes += 1;
        await (next.many ? this.collection.updateMany(next.filter, next.update) : this.collection.updateOne(next.filter, next.update)).catch((err: unknown) =>
          this.logger.warn({ err, collection: this.collection.collectionName }, 'bookkeeping write failed; the sweep redoes it'),
        );
      }
      span.setAttribute('tracemart.bookkeeping.writes', writes);
      span.end();
    });
  }
}
