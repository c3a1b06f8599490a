/**
 * `npm run invariants`: checks the running local stack's invariants (see rules.ts) and prints each with its count.
 * Exit code: 0 all hold, 1 at least one is violated, 2 the check could not run (nothing to connect to, ...).
 *
 * Connection: MONGODB_URL / NATS_URL, else the running local stack's .data/stack.json (what `npm start` writes).
 * DB_PREFIX (default `tracemart_`) and NOTIFICATION_RETENTION_DAYS (default 30) as the services were started with.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { checkInvariants } from './index';
import { formatReport } from './rules';

function sources(env: NodeJS.ProcessEnv): { mongoUrl: string; natsUrl: string } {
  const stackFile = join(resolve(__dirname, '..', '..', '..'), '.data', 'stack.json');
  const stack = existsSync(stackFile) ? (JSON.parse(readFileSync(stackFile, 'utf8')) as { natsUrl?: string; mongoUrl?: string }) : {};
  const mongoUrl = env.MONGODB_URL ?? stack.mongoUrl;
  const natsUrl = env.NATS_URL ?? stack.natsUrl;
  if (!mongoUrl || !natsUrl) throw new Error(`no MONGODB_URL / NATS_URL given and no running stack's ${stackFile}: start one with \`npm start\``);
  return { mongoUrl, natsUrl };
}

async function main(env: NodeJS.ProcessEnv): Promise<number> {
  const retention = env.NOTIFICATION_RETENTION_DAYS ? Number(env.NOTIFICATION_RETENTION_DAYS) : undefined;
  if (retention !== undefined && !(retention > 0)) throw new Error('NOTIFICATION_RETENTION_DAYS must be a positive number of days');
  const results = await checkInvariants({
    ...sources(env),
    ...(env.DB_PREFIX ? { dbPrefix: env.DB_PREFIX } : {}),
    ...(retention !== undefined ? { notificationRetentionDays: retention } : {}),
  });
  const violated = results.filter((r) => !r.ok);
  process.stdout.write(`${formatReport(results)}\n\n${violated.length === 0 ? 'every invariant holds' : `${violated.length} of ${results.length} invariants violated`}\n`);
  return violated.length === 0 ? 0 : 1;
}

main(process.env).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`invariants could not be checked: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 2;
  },
);
