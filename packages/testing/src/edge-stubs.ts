import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { seedProducts } from '@tracemart/catalog-seed';
import { spawnManaged, waitUntil, httpOk, freePort, type ManagedProcess } from '@tracemart/stack';
import { repoRoot, testInternalAuthSecret } from './infra';

/**
 * Stands in for the gateway's catalog API at the network edge (the order service prices items through
 * it): answers GET /api/products?ids=... from the seed catalog. `down()` makes it answer 503.
 */
export async function startCatalogStub(): Promise<{ url: string; setDown: (down: boolean) => void; close: () => Promise<void> }> {
  let down = false;
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://stub');
    if (down || url.pathname !== '/api/products') {
      res.writeHead(down ? 503 : 404, { 'content-type': 'application/json' }).end('{}');
      return;
    }
    const ids = new Set((url.searchParams.get('ids') ?? '').split(','));
    const items = seedProducts.filter((p) => ids.has(p.id)).map(({ id, name, description, category, priceCents }) => ({ id, name, description, category, priceCents }));
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ items, total: items.length }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    setDown: (value) => {
      down = value;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Runs one service as its own OS process (so a test can SIGKILL it), and waits until it is ready. */
export async function spawnService(name: string, env: Record<string, string>): Promise<ManagedProcess & { url: string }> {
  const port = await freePort();
  const proc = spawnManaged({
    name,
    command: process.execPath,
    args: ['--require', 'tsx/cjs', 'src/main.ts'],
    cwd: join(repoRoot, 'services', name),
    env: { ...process.env, LOG_LEVEL: 'info', JWT_SECRET: 'x'.repeat(32), INTERNAL_AUTH_SECRET: testInternalAuthSecret, ...env, PORT: String(port), HOST: '127.0.0.1' },
  });
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(
    `${name} ready`,
    async () => {
      if (proc.child.exitCode !== null) throw new Error(`${name} exited: ${proc.lines.slice(-5).join('\n')}`);
      return httpOk(`${url}/readyz`);
    },
    60_000,
  );
  return Object.assign(proc, { url });
}
