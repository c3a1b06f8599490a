import { afterEach, describe, expect, it } from 'vitest';
import { call, startGateway } from './support';

const stops: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

describe('GET /api/config', () => {
  it('when the gateway has an OTLP target and the three link URLs, then anyone (no token) gets browserTracing and the three templates, revalidated each time', async () => {
    const gw = await startGateway(
      {},
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', GRAFANA_URL: 'http://localhost:3000', LOGS_UI_URL: 'http://127.0.0.1:9428', TRACES_URL: 'http://127.0.0.1:16686' },
    );
    stops.push(gw.stop);
    const answer = await call(`${gw.url}/api/config`, { headers: { authorization: 'Bearer not-a-token' } });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('cache-control')).toBe('no-cache');
    expect(answer.headers.get('x-request-id')).toBeTruthy();
    expect(answer.body).toEqual({
      browserTracing: true,
      traceLinks: [
        { label: 'Grafana (Tempo)', template: expect.stringMatching(/^http:\/\/localhost:3000\/explore\?.*\{traceId\}/) },
        { label: 'Logs (VictoriaLogs)', template: 'http://127.0.0.1:9428/select/vmui/#/?query=trace_id%3A%3D%22{traceId}%22' },
        { label: 'Trace JSON (Jaeger)', template: 'http://127.0.0.1:16686/api/traces/{traceId}' },
      ],
    });
  });

  it('when nothing is configured, then browser tracing is off and there are no links', async () => {
    const gw = await startGateway({});
    stops.push(gw.stop);
    expect((await call(`${gw.url}/api/config`)).body).toEqual({ browserTracing: false, traceLinks: [] });
  });
});
