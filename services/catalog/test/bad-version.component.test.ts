import { describe, expect, it } from 'vitest';
import { useComponent } from '@tracemart/testing';
import { catalogModule } from '../src/module';

/** FAULT_ERROR_RATE is the configuration switch the canary walkthrough uses to ship a deliberately bad version. */
const catalog = useComponent(catalogModule, { FAULT_ERROR_RATE: '1' });

describe('the bad-version switch', () => {
  it('when FAULT_ERROR_RATE=1, then every API request fails with 5xx while probes stay healthy', async () => {
    const answers = await Promise.all(Array.from({ length: 5 }, () => fetch(`${catalog.service.url}/products?limit=1`)));
    expect(answers.map((a) => a.status).every((s) => s >= 500)).toBe(true);
    expect(await answers[0]?.json()).toMatchObject({ error: { code: 'FAULT.INJECTED' } });
    expect((await fetch(`${catalog.service.url}/readyz`)).status).toBe(200);
  });
});
