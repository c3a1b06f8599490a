import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStack, type Stack } from '@tracemart/stack';
import type { Fixture } from './load';

/** Processes whose work happens in their children: PostgreSQL runs one backend process per connection. */
export const PROCESS_TREES = ['postgres'] as const;

export interface BenchStack {
  stack: Stack;
  /** startStack to every process ready (services, gateway and Prometheus), ms. */
  coldStartMs: number;
  pids: () => Map<string, number>;
  stop: () => Promise<void>;
}

/**
 * A fresh system: new temporary data folder (so stock starts full), free ports, Prometheus on as in
 * `npm start`. The gateway's per-client rate limit is off: every benchmark request comes from 127.0.0.1, and
 * the order service prices orders through the same gateway from the same address, so at benchmark
 * rates the limit (100/s per address) would measure itself rather than the system.
 */
export async function startFreshStack(root: string, options: { telemetry: boolean; env?: Record<string, string>; instances?: number }): Promise<BenchStack> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tracemart-bench-'));
  const env: Record<string, string> = { LOG_LEVEL: 'warn', RATE_LIMIT_PER_SECOND: '0', ...options.env };
  if (!options.telemetry) env.OTEL_SDK_DISABLED = 'true';
  const started = Date.now();
  let stack: Stack;
  try {
    stack = await startStack({ root, dataDir, freePorts: true, env, readyTimeoutMs: 120_000, prometheus: true, ...(options.instances ? { instances: options.instances } : {}) });
  } catch (err) {
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  const coldStartMs = Date.now() - started;
  const pids = () => {
    const map = new Map<string, number>();
    for (const [name, proc] of stack.processes) if (proc.child.pid !== undefined && proc.child.exitCode === null) map.set(name, proc.child.pid);
    return map;
  };
  return {
    stack,
    coldStartMs,
    pids,
    stop: async () => {
      await stack.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

interface Product {
  id: string;
}

async function call<T>(url: string, init: RequestInit = {}): Promise<{ status: number; body: T }> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(15_000) });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
}

/** Units in stock per product, read through the gateway. */
export async function stockLevels(gatewayUrl: string): Promise<{ id: string; weight: number }[]> {
  const { body } = await call<{ items: Product[] }>(`${gatewayUrl}/api/products?limit=100`);
  return Promise.all(
    body.items.map(async (product) => {
      const stock = await call<{ available: number }>(`${gatewayUrl}/api/inventory/${encodeURIComponent(product.id)}`);
      return { id: product.id, weight: Math.max(0, stock.body.available) };
    }),
  );
}

/** Registers and logs in `size` shoppers; returns their ids and tokens. */
export async function makeUsers(gatewayUrl: string, size: number): Promise<{ id: string; token: string }[]> {
  const users: { id: string; token: string }[] = [];
  for (let i = 0; i < size; i++) {
    const email = `bench-${Date.now().toString(36)}-${i}@bench.tracemart.test`;
    const password = 'Bench-password-1';
    const json = { 'content-type': 'application/json' };
    const registered = await call<{ id: string }>(`${gatewayUrl}/api/users/register`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ email, password, name: `bench ${i}` }),
    });
    if (registered.status !== 201) throw new Error(`register answered ${registered.status}`);
    const login = await call<{ token: string }>(`${gatewayUrl}/api/users/login`, { method: 'POST', headers: json, body: JSON.stringify({ email, password }) });
    if (login.status !== 200) throw new Error(`login answered ${login.status}`);
    users.push({ id: registered.body.id, token: login.body.token });
  }
  return users;
}

/** The load's fixture (users, products weighted by current stock) and the units left in stock. */
export async function stockFixture(gatewayUrl: string, users: { id: string; token: string }[]): Promise<{ fixture: Fixture; units: number }> {
  const products = await stockLevels(gatewayUrl);
  return { fixture: { users, products: products.filter((p) => p.weight > 0) }, units: products.reduce((sum, p) => sum + p.weight, 0) };
}
