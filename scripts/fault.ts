/**
 * `npm run fault -- <command>`: fault injection through the gateway's admin API.
 *
 *   inject <service> --kind latency|error|outage --duration <s> [--latency <ms>] [--error-rate <0..1>] [--route </prefix>]
 *   list
 *   clear <id> [--service <name>] | clear --all [--service <name>]
 *   pause-consumers <service> | resume-consumers <service>
 *
 * GATEWAY_URL (default http://127.0.0.1:8080) and ADMIN_TOKEN (default: that of the stack `npm start` runs, from .data/admin-token) say where and as whom.
 */
import { parseArgs } from 'node:util';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { loadConfig } from '@tracemart/platform';
import { readAdminToken } from '@tracemart/stack';

const config = loadConfig(
  z.object({
    GATEWAY_URL: z.url().default('http://127.0.0.1:8080'),
    ADMIN_TOKEN: z
      .string()
      .default(readAdminToken(join(resolve(__dirname, '..'), '.data')) ?? '')
      .pipe(z.string().min(1, 'none given, and no running stack has written .data/admin-token')),
  }),
);

const USAGE = `usage:
  npm run fault -- inject <service> --kind latency|error|outage --duration <seconds> [--latency <ms>] [--error-rate <0..1>] [--route </prefix>]
  npm run fault -- list
  npm run fault -- clear <id> [--service <name>]
  npm run fault -- clear --all [--service <name>]
  npm run fault -- pause-consumers <service>
  npm run fault -- resume-consumers <service>
`;

class UsageError extends Error {}

async function admin(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${config.GATEWAY_URL.replace(/\/$/, '')}/admin${path}`, {
    method,
    headers: { 'x-admin-token': config.ADMIN_TOKEN, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  const parsed: unknown = text ? JSON.parse(text) : undefined;
  if (!response.ok) throw new Error(`${method} /admin${path} answered ${response.status}: ${text}`);
  return parsed ?? { status: response.status };
}

const number = (value: string | undefined, name: string): number | undefined => {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isFinite(parsed)) throw new UsageError(`--${name} must be a number`);
  return parsed;
};

async function main(argv: string[]): Promise<unknown> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      kind: { type: 'string' },
      duration: { type: 'string' },
      latency: { type: 'string' },
      'error-rate': { type: 'string' },
      route: { type: 'string' },
      service: { type: 'string' },
      all: { type: 'boolean' },
    },
  });
  const [command, target] = positionals;
  switch (command) {
    case 'inject': {
      if (!target || !values.kind || !values.duration) throw new UsageError('inject needs <service>, --kind and --duration');
      const latencyMs = number(values.latency, 'latency');
      const errorRate = number(values['error-rate'], 'error-rate');
      return admin('POST', '/faults', {
        service: target,
        kind: values.kind,
        durationSeconds: number(values.duration, 'duration'),
        ...(latencyMs !== undefined ? { latencyMs } : {}),
        ...(errorRate !== undefined ? { errorRate } : {}),
        ...(values.route !== undefined ? { route: values.route } : {}),
      });
    }
    case 'list':
      return admin('GET', '/faults');
    case 'clear': {
      if (values.all) return admin('DELETE', values.service ? `/faults?service=${encodeURIComponent(values.service)}` : '/faults');
      if (!target) throw new UsageError('clear needs an <id> or --all');
      const query = values.service ? `?service=${encodeURIComponent(values.service)}` : '';
      return admin('DELETE', `/faults/${encodeURIComponent(target)}${query}`);
    }
    case 'pause-consumers':
    case 'resume-consumers': {
      if (!target) throw new UsageError(`${command} needs <service>`);
      return admin('POST', `/consumers/${command === 'pause-consumers' ? 'pause' : 'resume'}`, { service: target });
    }
    default:
      throw new UsageError(command ? `unknown command: ${command}` : 'no command');
  }
}

main(process.argv.slice(2)).then(
  (result) => {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  },
  (err: unknown) => {
    process.stderr.write(err instanceof UsageError ? `${err.message}\n\n${USAGE}` : `${String(err instanceof Error ? err.message : err)}\n`);
    process.exitCode = 1;
  },
);
