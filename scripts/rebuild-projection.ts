/**
 * `npm run projections:rebuild -- orders`: rebuilds the order summary read model from the full event
 * history by replaying the ORDERS, INVENTORY, PAYMENTS and NOTIFICATIONS streams from their first
 * message (ordered consumers, nothing durable left behind). Projection updates are idempotent and
 * order-independent, so the live projector can keep running meanwhile.
 *
 * Connection: MONGODB_URL / NATS_URL, else the running local stack's .data/stack.json.
 * Options: --into <collection> rebuilds into another collection (default: drop and rebuild in place).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { connectMongo, createLogger, EventBus } from '@tracemart/platform';
import { validateEvent } from '@tracemart/contracts';
import { ORDER_SUMMARIES, summaryStreams } from '@tracemart/order-service/projections';
import { rebuildOrderSummaries } from './projections/rebuild';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const name = args.find((a) => !a.startsWith('--'));
  if (name !== 'orders') throw new Error('usage: npm run projections:rebuild -- orders [--into <collection>]');
  const intoIndex = args.indexOf('--into');
  const into = intoIndex >= 0 ? args[intoIndex + 1] : ORDER_SUMMARIES;
  if (!into || !/^[a-z_]+$/.test(into)) throw new Error('--into needs a collection name (a-z and _)');
  const stackFile = join(resolve(__dirname, '..'), '.data', 'stack.json');
  const stack = existsSync(stackFile) ? (JSON.parse(readFileSync(stackFile, 'utf8')) as { natsUrl?: string; mongoUrl?: string }) : {};
  const mongoUrl = process.env.MONGODB_URL ?? stack.mongoUrl ?? 'mongodb://127.0.0.1:27050';
  const natsUrl = process.env.NATS_URL ?? stack.natsUrl ?? 'nats://127.0.0.1:4250';
  const logger = createLogger('projections-rebuild', 'info');
  const mongo = await connectMongo(mongoUrl, process.env.MONGODB_DB ?? 'tracemart_order', 'projections-rebuild');
  const bus = await EventBus.connect({ url: natsUrl, name: 'projections-rebuild', logger });
  try {
    const count = await rebuildOrderSummaries({
      bus,
      db: mongo.db,
      into,
      // The streams the live read model joins, one projector consumer each.
      streams: summaryStreams.map((s) => s.name),
      decode: validateEvent,
    });
    logger.info({ into, events: count }, 'order summaries rebuilt');
  } finally {
    await bus.drain();
    await mongo.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`rebuild failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
