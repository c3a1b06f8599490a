import { z } from 'zod';

/**
 * GET /api/config: what the storefront needs to know about telemetry, from the gateway's configuration. Each link
 * template holds `{traceId}`, which the shop replaces by a 32-hex trace id ("see this trace" on an order page or a
 * failed action).
 */
export const clientConfigSchema = z.object({
  /** Whether the shop should export its spans (POST /otlp/v1/traces has a Collector behind it). */
  browserTracing: z.boolean(),
  traceLinks: z.array(
    z.object({
      label: z.string(),
      template: z.string().describe('A URL with `{traceId}` in it.'),
    }),
  ),
});
export type ClientConfig = z.infer<typeof clientConfigSchema>;

export const TRACE_ID_PLACEHOLDER = '{traceId}';
/** The data source uid Grafana is provisioned with (observability/grafana/provisioning/datasources/datasources.yaml). */
export const TEMPO_DATASOURCE_UID = 'tempo';

const base = (url: string) => url.replace(/\/+$/, '');

/**
 * Grafana Explore (schema 1, Grafana 10 and 11) with one pane querying Tempo for the trace id. The pane state is
 * URL-encoded JSON, so the placeholder goes in as a marker of URL-safe characters and is put back, unencoded, after.
 */
export function grafanaExploreTemplate(grafanaUrl: string): string {
  const marker = 'TRACEMARTTRACEID';
  const panes = {
    trace: {
      datasource: TEMPO_DATASOURCE_UID,
      queries: [{ refId: 'A', datasource: { type: 'tempo', uid: TEMPO_DATASOURCE_UID }, queryType: 'traceql', query: marker }],
      range: { from: 'now-24h', to: 'now' },
    },
  };
  const query = new URLSearchParams({ schemaVersion: '1', orgId: '1', panes: JSON.stringify(panes) }).toString();
  return `${base(grafanaUrl)}/explore?${query.replace(marker, TRACE_ID_PLACEHOLDER)}`;
}

/** VictoriaLogs' web UI with the LogsQL filter `trace_id:="<id>"` (as @tracemart/stack's logsUiUrl builds it). */
export function logsUiTemplate(logsUrl: string): string {
  const [before, after] = encodeURIComponent('trace_id:="MARKER"').split('MARKER');
  return `${base(logsUrl)}/select/vmui/#/?query=${before ?? ''}${TRACE_ID_PLACEHOLDER}${after ?? ''}`;
}

/** Jaeger's query API: the whole trace as JSON. */
export function traceJsonTemplate(tracesUrl: string): string {
  return `${base(tracesUrl)}/api/traces/${TRACE_ID_PLACEHOLDER}`;
}

export interface ClientConfigSources {
  /** The OTLP pass-through's target, if any. */
  otlpTarget: string | undefined;
  grafanaUrl: string | undefined;
  logsUiUrl: string | undefined;
  tracesUrl: string | undefined;
}

export function clientConfig(sources: ClientConfigSources): ClientConfig {
  const traceLinks: ClientConfig['traceLinks'] = [];
  if (sources.grafanaUrl) traceLinks.push({ label: 'Grafana (Tempo)', template: grafanaExploreTemplate(sources.grafanaUrl) });
  if (sources.logsUiUrl) traceLinks.push({ label: 'Logs (VictoriaLogs)', template: logsUiTemplate(sources.logsUiUrl) });
  if (sources.tracesUrl) traceLinks.push({ label: 'Trace JSON (Jaeger)', template: traceJsonTemplate(sources.tracesUrl) });
  return { browserTracing: sources.otlpTarget !== undefined, traceLinks };
}
