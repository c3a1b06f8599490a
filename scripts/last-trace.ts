/**
 * `npm run trace:last`: the most recent order of the running local stack (`npm start` or `tilt up`) and where to read
 * its trace: its trace id, and the links of the gateway's `GET /api/config` (`traceLinks`, each template's `{traceId}`
 * filled in) when the gateway answers with them; else the trace id alone.
 *
 * The order comes from the order service's event store (its `orders.placed` events carry the trace id of the request
 * that placed them). MONGODB_URL / GATEWAY_URL, else the running stack's .data/stack.json, else `npm start`'s ports.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { connectMongo } from '@tracemart/platform';

const stackFile = join(resolve(__dirname, '..'), '.data', 'stack.json');
const stack = z
  .object({ mongoUrl: z.string().optional(), gatewayUrl: z.string().optional() })
  .catch({})
  .parse(existsSync(stackFile) ? JSON.parse(readFileSync(stackFile, 'utf8')) : {});
const mongoUrl = process.env.MONGODB_URL ?? stack.mongoUrl ?? 'mongodb://127.0.0.1:27050';
const gatewayUrl = (process.env.GATEWAY_URL ?? stack.gatewayUrl ?? 'http://127.0.0.1:8080').replace(/\/$/, '');

const configSchema = z.object({ traceLinks: z.array(z.object({ label: z.string(), template: z.string() })) });

/** The gateway's trace links for `traceId`, or undefined when it does not answer with any. */
async function traceLinks(traceId: string): Promise<{ label: string; url: string }[] | undefined> {
  try {
    const response = await fetch(`${gatewayUrl}/api/config`, { signal: AbortSignal.timeout(5_000) });
    if (!response.ok) return undefined;
    const config = configSchema.safeParse(await response.json());
    return config.success ? config.data.traceLinks.map((link) => ({ label: link.label, url: link.template.replaceAll('{traceId}', traceId) })) : undefined;
  } catch {
    return undefined;
  }
}

interface PlacedEvent {
  streamId: string;
  occurredAt: Date;
  traceId?: string;
}

async function main(): Promise<number> {
  const mongo = await connectMongo(mongoUrl, process.env.MONGODB_DB ?? 'tracemart_order', 'trace-last');
  let placed: PlacedEvent | null;
  try {
    placed = await mongo.db
      .collection<PlacedEvent>('order_events')
      .find({ type: 'orders.placed' }, { projection: { streamId: 1, occurredAt: 1, traceId: 1 } })
      .sort({ occurredAt: -1 })
      .limit(1)
      .next();
  } finally {
    await mongo.close();
  }
  if (!placed) {
    process.stdout.write(`no order yet in ${mongoUrl}: place one (the shop at ${gatewayUrl}/, or \`npm run load:ci -- smoke\`)\n`);
    return 1;
  }
  const lines = [`order     ${placed.streamId} (placed ${placed.occurredAt.toISOString()})`];
  if (!placed.traceId) {
    lines.push('trace id  none recorded (the request that placed it carried no trace context)');
  } else {
    lines.push(`trace id  ${placed.traceId}`);
    const links = await traceLinks(placed.traceId);
    if (links === undefined) lines.push(`links     none: ${gatewayUrl}/api/config did not answer with traceLinks`);
    else if (links.length === 0) lines.push('links     none configured (the gateway has no GRAFANA_URL, LOGS_UI_URL or TRACES_URL)');
    else for (const link of links) lines.push(`${link.label.padEnd(9)} ${link.url}`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`trace:last failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
