import { describe, expect, it } from 'vitest';
import { loadConfig } from '@tracemart/platform';
import { logsUiUrl } from '@tracemart/stack';
import { configSchema, otlpTracesTarget } from '../src/config';
import { clientConfig, clientConfigSchema, grafanaExploreTemplate, logsUiTemplate, traceJsonTemplate } from '../src/http/client-config';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const fill = (template: string) => template.replace('{traceId}', TRACE_ID);
const required = { JWT_SECRET: 'j'.repeat(32), INTERNAL_AUTH_SECRET: 'i'.repeat(32), PORT: '0' };

describe('GET /api/config content', () => {
  it('when GRAFANA_URL is set, then the link opens Explore with one pane querying the Tempo data source (uid tempo) for the trace id', () => {
    const template = grafanaExploreTemplate('http://localhost:3000/');
    expect(template.match(/\{traceId\}/g)).toHaveLength(1);
    const url = new URL(fill(template));
    expect(url.origin + url.pathname).toBe('http://localhost:3000/explore');
    expect(url.searchParams.get('schemaVersion')).toBe('1');
    expect(url.searchParams.get('orgId')).toBe('1');
    const panes = JSON.parse(url.searchParams.get('panes') ?? '{}') as Record<
      string,
      { datasource: string; queries: { datasource: { uid: string; type: string }; query: string }[] }
    >;
    const [pane] = Object.values(panes);
    expect(pane?.datasource).toBe('tempo');
    expect(pane?.queries).toEqual([expect.objectContaining({ datasource: { type: 'tempo', uid: 'tempo' }, query: TRACE_ID })]);
  });

  it('when LOGS_UI_URL and TRACES_URL are set, then the links are the VictoriaLogs UI filtered by trace_id (as npm run telemetry prints it) and the Jaeger trace JSON', () => {
    expect(fill(logsUiTemplate('http://127.0.0.1:9428'))).toBe(logsUiUrl('http://127.0.0.1:9428', TRACE_ID));
    expect(fill(traceJsonTemplate('http://127.0.0.1:16686/'))).toBe(`http://127.0.0.1:16686/api/traces/${TRACE_ID}`);
  });

  it('when built from the sources, then browserTracing follows the OTLP target and each configured link is listed, every template holding {traceId}', () => {
    expect(clientConfig({ otlpTarget: undefined, grafanaUrl: undefined, logsUiUrl: undefined, tracesUrl: undefined })).toEqual({ browserTracing: false, traceLinks: [] });
    const all = clientConfig({ otlpTarget: 'http://c:4318/v1/traces', grafanaUrl: 'http://g', logsUiUrl: 'http://l', tracesUrl: 'http://t' });
    expect(clientConfigSchema.parse(all)).toEqual(all);
    expect(all.browserTracing).toBe(true);
    expect(all.traceLinks.map((link) => link.label)).toEqual(['Grafana (Tempo)', 'Logs (VictoriaLogs)', 'Trace JSON (Jaeger)']);
    for (const link of all.traceLinks) expect(link.template).toContain('{traceId}');
  });
});

describe('gateway configuration for the shop', () => {
  it('when OTLP_TRACES_URL is unset, then the target is OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, else OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces, else none', () => {
    const target = (env: Record<string, string>) => otlpTracesTarget(loadConfig(configSchema, { ...required, ...env }));
    expect(target({})).toBeUndefined();
    expect(target({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel-collector:4318/' })).toBe('http://otel-collector:4318/v1/traces');
    expect(target({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://b:4318/v1/traces' })).toBe('http://b:4318/v1/traces');
    expect(target({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTLP_TRACES_URL: 'http://c:4318/v1/traces' })).toBe('http://c:4318/v1/traces');
    expect(target({ OTLP_TRACES_URL: '' })).toBeUndefined();
  });

  it('when a link or OTLP URL is not an http(s) URL, then start-up fails naming the variable', () => {
    for (const name of ['GRAFANA_URL', 'LOGS_UI_URL', 'TRACES_URL', 'OTLP_TRACES_URL']) {
      expect(() => loadConfig(configSchema, { ...required, [name]: 'javascript:alert(1)' }), name).toThrow(new RegExp(`${name}: `));
      expect(() => loadConfig(configSchema, { ...required, [name]: 'not a url' }), name).toThrow(new RegExp(`${name}: `));
    }
  });

  it('when STOREFRONT_DIR is unset, then it is storefront/dist at the repo root; a relative one is resolved', () => {
    expect(loadConfig(configSchema, required).STOREFRONT_DIR).toMatch(/[/\\]storefront[/\\]dist$/);
    expect(loadConfig(configSchema, { ...required, STOREFRONT_DIR: 'shop' }).STOREFRONT_DIR).toBe(`${process.cwd()}/shop`);
  });
});
