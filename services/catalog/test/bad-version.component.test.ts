import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type RunningService } from '@tracemart/platform';
import { serviceEnv, startTestInfra } from '../../../tests/support/infra';
import { configSchema } from '../src/config';
import { start } from '../src/start';

/** FAULT_ERROR_RATE is the configuration switch the canary walkthrough uses to ship a deliberately bad version. */
type Infra = Awaited<ReturnType<typeof startTestInfra>>;
let infra: Infra;
let service: RunningService;

beforeAll(async () => {
  infra = await startTestInfra();
  service = await start(loadConfig(configSchema, serviceEnv(infra, { FAULT_ERROR_RATE: '1' })));
});

afterAll(async () => {
  await service?.stop();
  await infra?.stop();
});

describe('the bad-version switch', () => {
  it('when FAULT_ERROR_RATE=1, then every API request fails with 5xx while probes stay healthy', async () => {
    const answers = await Promise.all(Array.from({ length: 5 }, () => fetch(`${service.url}/products?limit=1`)));
    expect(answers.map((a) => a.status).every((s) => s >= 500)).toBe(true);
    expect(await answers[0]?.json()).toMatchObject({ error: { code: 'FAULT.INJECTED' } });
    expect((await fetch(`${service.url}/readyz`)).status).toBe(200);
  });
});
