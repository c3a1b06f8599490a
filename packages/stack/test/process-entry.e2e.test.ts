import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMongo } from '@tracemart/platform';
import { planLayout, stackProcesses, type StackLayout } from '../src/layout';
import { canConnect, httpOk, waitUntil } from '../src/ports';

/**
 * The per-process entry (`npm run stack:process -- <name>`, what each resource of the Tiltfile's local mode runs): the
 * infrastructure and one service started one process at a time, each its own foreground command, on a layout of free
 * ports, find each other and become ready; each stops on SIGTERM and exits 0.
 */
const root = resolve(__dirname, '..', '..', '..');
let dataDir: string;
let layout: StackLayout;
const entries = new Map<string, { child: ChildProcess; output: string[]; exited: Promise<number | null> }>();

function entry(name: string, ...args: string[]) {
  const child = spawn(process.execPath, ['--require', 'tsx/cjs', join(root, 'packages/stack/src/process-cli.ts'), name, ...args], {
    cwd: root,
    env: { ...process.env, STACK_DATA_DIR: dataDir, STACK_LAYOUT: join(dataDir, 'layout.json'), LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  child.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  entries.set(name, { child, output, exited });
  return { child, output, exited };
}

const gone = (name: string) => () => {
  const e = entries.get(name);
  return e && e.child.exitCode !== null ? `exited ${e.child.exitCode}: ${e.output.join('').slice(-800)}` : undefined;
};

async function stop(name: string): Promise<number | null> {
  const e = entries.get(name);
  if (!e) return null;
  if (e.child.exitCode === null && e.child.signalCode === null) e.child.kill('SIGTERM');
  const timer = setTimeout(() => e.child.kill('SIGKILL'), 60_000);
  const code = await e.exited;
  clearTimeout(timer);
  entries.delete(name);
  return code;
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'tracemart-entry-'));
  layout = await planLayout({ dataDir, freePorts: true, natsNodes: 1, instances: 1 });
  writeFileSync(join(dataDir, 'layout.json'), JSON.stringify(layout));
});

afterAll(async () => {
  for (const name of ['catalog', 'ferretdb', 'nats-1', 'postgres']) await stop(name);
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('the per-process entry', () => {
  it('when asked for the list, then it prints the processes of the layout in start order, as stackProcesses has them', async () => {
    const listed = entry('--list');
    expect(await listed.exited).toBe(0);
    entries.delete('--list');
    expect(JSON.parse(listed.output.join(''))).toEqual(stackProcesses(layout, { prometheus: true, telemetry: false }));
  });

  it('when PostgreSQL, FerretDB, a NATS node and the catalog service are started one by one, then each is ready where the layout puts it and the catalog answers /readyz', async () => {
    const catalog = layout.instances.catalog[0]!;
    entry('postgres');
    await waitUntil('postgres', () => canConnect(layout.postgresPort!), 90_000, 200, gone('postgres'));
    entry('nats-1');
    entry('ferretdb');
    await waitUntil('ferretdb', () => canConnect(layout.mongoPort!), 60_000, 200, gone('ferretdb'));
    await waitUntil('nats-1', () => httpOk(`http://127.0.0.1:${layout.nats[0]!.monitorPort}/healthz`), 60_000, 200, gone('nats-1'));
    entry('catalog');
    await waitUntil('catalog /readyz', () => httpOk(`${catalog.url}/readyz`), 120_000, 250, gone('catalog'));
    expect(await httpOk(`${catalog.url}/readyz`)).toBe(true);
    await waitUntil('the entry reports catalog ready', async () => entries.get('catalog')!.output.join('').includes('catalog is ready'), 10_000, 100);
    // Logs where npm start keeps them; the shared secrets in the data folder, owner-only, for the next process to read.
    expect(existsSync(join(dataDir, 'logs', 'catalog.log'))).toBe(true);
    for (const file of ['admin-token', 'jwt-secret', 'internal-auth-secret', 'payment-token-key']) {
      expect(statSync(join(dataDir, file)).mode & 0o777, file).toBe(0o600);
    }
    expect(readFileSync(join(dataDir, 'admin-token'), 'utf8').trim()).toMatch(/^[0-9a-f]{32}$/);
  });

  it('when orders were placed on it, then the trace-last button (`npm run trace:last`) prints the newest order, its trace id and the gateway trace links filled in', async () => {
    const mongo = await connectMongo(layout.mongoUrl, 'tracemart_order', 'process-entry-test');
    const placed = (id: string, at: string, traceId: string) => ({
      _id: randomUUID(),
      streamId: id,
      version: 1,
      type: 'orders.placed',
      data: {},
      occurredAt: new Date(at),
      traceId,
      published: true,
    });
    await mongo.db
      .collection<{ _id: string }>('order_events')
      .insertMany([
        placed('order-older', '2026-01-01T10:00:00Z', 'a'.repeat(32)),
        placed('order-newest', '2026-01-01T11:00:00Z', 'b'.repeat(32)),
        { ...placed('order-newest', '2026-01-01T12:00:00Z', 'c'.repeat(32)), type: 'orders.confirmed', version: 2 },
      ]);
    await mongo.close();
    // Stands in for the gateway's GET /api/config (gateway/src): the shape the conventions fix.
    const gateway = createServer((req, res) => {
      res.writeHead(req.url === '/api/config' ? 200 : 404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ browserTracing: false, traceLinks: [{ label: 'Trace', template: 'http://traces.test/t/{traceId}' }] }));
    });
    await new Promise<void>((done) => gateway.listen(0, '127.0.0.1', done));
    const gatewayUrl = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`;
    // Not spawnSync: the stand-in gateway answers from this process's event loop.
    const traceLast = (env: Record<string, string>) =>
      new Promise<{ status: number | null; stdout: string; stderr: string }>((done) => {
        const child = spawn(process.execPath, ['--require', 'tsx/cjs', join(root, 'scripts/last-trace.ts')], {
          cwd: root,
          env: { ...process.env, MONGODB_URL: layout.mongoUrl, ...env },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        child.once('close', (status) => done({ status, stdout, stderr }));
      });
    const withLinks = await traceLast({ GATEWAY_URL: gatewayUrl });
    await new Promise<void>((done) => gateway.close(() => done()));
    expect(withLinks.status, withLinks.stderr).toBe(0);
    expect(withLinks.stdout).toContain('order-newest');
    expect(withLinks.stdout).toContain(`trace id  ${'b'.repeat(32)}`);
    expect(withLinks.stdout).toContain(`http://traces.test/t/${'b'.repeat(32)}`);
    const gatewayDown = await traceLast({ GATEWAY_URL: gatewayUrl });
    expect(gatewayDown.status).toBe(0);
    expect(gatewayDown.stdout).toContain(`trace id  ${'b'.repeat(32)}`);
    expect(gatewayDown.stdout).toContain('did not answer');
  });

  it('when an entry gets SIGTERM, then its process stops, its port closes and the entry exits 0', async () => {
    const catalog = layout.instances.catalog[0]!;
    expect(await stop('catalog')).toBe(0);
    expect(await httpOk(`${catalog.url}/readyz`).catch(() => false)).toBe(false);
    expect(await stop('ferretdb')).toBe(0);
    expect(await stop('postgres')).toBe(0);
    expect(await canConnect(layout.postgresPort!)).toBe(false);
    expect(await stop('nats-1')).toBe(0);
  });

  it('when the name is not a process of the stack, then it exits 1 naming the processes there are', async () => {
    const wrong = entry('ordr');
    expect(await wrong.exited).toBe(1);
    entries.delete('ordr');
    expect(wrong.output.join('')).toContain('there are: postgres, ferretdb, nats-1');
  });
});
