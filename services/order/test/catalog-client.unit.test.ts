import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCatalogClient } from '../src/clients/catalog-client';

let server: Server;
let url: string;
const asked: string[] = [];
let up = true;

beforeAll(async () => {
  server = createServer((req, res) => {
    const ids = new URL(req.url ?? '/', 'http://x').searchParams.get('ids') ?? '';
    asked.push(ids);
    if (!up) return void res.writeHead(503).end();
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ items: ids.split(',').map((id) => ({ id, name: id.toUpperCase(), priceCents: 100 })) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('catalog client price cache', () => {
  it('when products were fetched within the TTL, then they are not asked for again; after it, only the stale ones are', async () => {
    let now = 0;
    const client = createCatalogClient({ gatewayUrl: url, timeoutMs: 1_000, cacheTtlMs: 30_000, now: () => now });
    asked.length = 0;
    expect([...(await client.getProducts(['a', 'b'])).keys()].sort()).toEqual(['a', 'b']);
    now = 29_999;
    expect((await client.getProducts(['a', 'b', 'c'])).get('c')?.name).toBe('C');
    expect(asked).toEqual(['a,b', 'c']);
    now = 30_001;
    up = false;
    await expect(client.getProducts(['a', 'c'])).rejects.toMatchObject({ code: 'CATALOG.UNAVAILABLE' });
    expect(asked).toEqual(['a,b', 'c', 'a']);
    up = true;
  });

  it('when the TTL is 0, then every call asks the catalog', async () => {
    const client = createCatalogClient({ gatewayUrl: url, timeoutMs: 1_000, cacheTtlMs: 0 });
    asked.length = 0;
    await client.getProducts(['a']);
    await client.getProducts(['a']);
    expect(asked).toEqual(['a', 'a']);
  });
});
