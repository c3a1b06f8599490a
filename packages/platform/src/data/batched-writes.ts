import { context, ROOT_CONTEXT } from '@opentelemetry/api';
import type { AnyBulkWriteOperation, Collection, Document } from 'mongodb';
import type { Logger } from 'pino';
import { getTracer } from '../telemetry/tracing';

const tracer = getTracer('tracemart.bookkeeping');

/**
 * Bookkeeping writes that nobody waits for (an event marked published, an order marked settled), gathered and sent
 * as one `bulkWrite` every `intervalMs` or as soon as `maxBatch` are waiting: one round trip for many of them, and
 * none on the request or message that caused them. Only for writes whose loss in a crash is harmless because a
 * sweep redoes them (a republished event is dropped by JetStream's duplicate window). `maxBatch` stays small:
 * FerretDB v1 on PostgreSQL holds a connection for every matching statement of one update command (pool of 50).
 * A flush is its own trace (`bookkeeping <collection>`), not part of the request that happened to start its timer.
 */
export class BatchedWrites<T extends Document> {
  private pending: AnyBulkWriteOperation<T>[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly collection: Collection<T>,
    private readonly logger: Logger,
    private readonly options: { intervalMs?: number; maxBatch?: number } = {},
  ) {}

  add(operation: AnyBulkWriteOperation<T>): void {
    this.pending.push(operation);
    if (this.pending.length >= (this.options.maxBatch ?? 25)) void context.with(ROOT_CONTEXT, () => this.flush());
    else this.timer ??= context.with(ROOT_CONTEXT, () => setTimeout(() => void this.flush(), this.options.intervalMs ?? 50));
  }

  /** Sends what is waiting; resolves when everything added before the call is written (or failed and logged). */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending.splice(0, this.pending.length);
    const maxBatch = this.options.maxBatch ?? 25;
    this.flushing = this.flushing.then(async () => {
      for (let at = 0; at < batch.length; at += maxBatch) {
        const slice = batch.slice(at, at + maxBatch);
        await tracer.startActiveSpan(`bookkeeping ${this.collection.collectionName}`, { attributes: { 'tracemart.bookkeeping.writes': slice.length } }, (span) =>
          this.collection
            .bulkWrite(slice, { ordered: false })
            .then(() => undefined)
            .catch((err: unknown) => this.logger.warn({ err, collection: this.collection.collectionName }, 'batched bookkeeping writes failed; the sweep redoes them'))
            .finally(() => span.end()),
        );
      }
    });
    return this.flushing;
  }
}
