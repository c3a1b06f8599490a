import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@tracemart/platform';
import { configSchema as gatewayConfigSchema } from '../../gateway/src/config';
import { start as startGateway, type RunningGateway } from '../../gateway/src/start';
import { spawnService, startTestInfra, testInternalAuthSecret } from '@tracemart/testing';

/**
 * Local proof of a zero-downtime rolling restart: two catalog instances behind the gateway under steady
 * load; one gets SIGTERM mid-run (as Kubernetes sends it). Graceful shutdown (not-ready first, finish
 * in-flight requests, then close) plus the gateway's ejection and retry of idempotent requests must
 * leave zero failed requests.
 */
type Infra = Awaited<ReturnType<typeof startTestInfra>>;
let infra: Infra;
let instances: Awaited<ReturnType<typeof spawnService>>[] = [];
let gateway: RunningGateway;

beforeAll(async () => {
  infra = await startTestInfra();
  const env = { NATS_URL: infra.natsUrl, MONGODB_URL: infra.mongoUrl };
  instances = [await spawnService('catalog', env), await spawnService('catalog', env)];
  gateway = await startGateway(
    loadConfig(gatewayConfigSchema, {
      PORT: '0',
      METRICS_PORT: '0',
      LOG_LEVEL: 'silent',
      JWT_SECRET: 'x'.repeat(32),
      INTERNAL_AUTH_SECRET: testInternalAuthSecret,
      CATALOG_URL: instances.map((i) => i.url).join(','),
      HEALTH_PROBE_INTERVAL_MS: '250',
      RATE_LIMIT_PER_SECOND: '0',
    }),
  );
});

afterAll(async () => {
  await gateway?.stop();
  await Promise.all(instances.map((i) => i.stop()));
  await infra?.stop();
});

describe('rolling restart behind the gateway', () => {
  it('when one of two instances is stopped with SIGTERM under load, then no request fails', async () => {
    const results: number[] = [];
    const deadline = Date.now() + 8_000;
    const worker = async () => {
      for (let i = 0; i < 2_000 && Date.now() < deadline; i += 1) {
        const response = await fetch(`${gateway.url}/api/products?limit=5`).catch(() => undefined);
        results.push(response?.status ?? 0);
        await response?.arrayBuffer();
      }
    };
    const load = Promise.all(Array.from({ length: 8 }, worker));
    await new Promise((r) => setTimeout(r, 2_500));
    const victim = instances[0];
    if (!victim) throw new Error('no instance');
    const before = results.length;
    victim.child.kill('SIGTERM');
    expect(await victim.exited).toBe(0); // a clean, graceful exit
    await load;
    const failed = results.filter((status) => status !== 200);
    expect(results.length - before).toBeGreaterThan(50); // load kept flowing through the restart
    expect(failed).toEqual([]);
    expect(victim.lines.some((line) => line.includes('shutting down'))).toBe(true);
  });
});
