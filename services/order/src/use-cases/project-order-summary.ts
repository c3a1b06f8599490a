import type { EventEnvelope } from '@tracemart/platform';
import type { OrderDeps } from '../dependencies';

/**
 * Every event of a stream the read model joins: folded into its order's summary. No processed-event claims: the
 * projection is idempotent by itself (the applied event ids on each summary).
 */
export async function projectOrderSummary({ summaries }: OrderDeps, event: EventEnvelope): Promise<void> {
  await summaries.apply(event);
}
