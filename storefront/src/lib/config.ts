import type { TraceLinkTemplate } from './trace-links';

/** GET /api/config: what the gateway tells the shop about telemetry. */
export interface ShopConfig {
  browserTracing: boolean;
  traceLinks: TraceLinkTemplate[];
}

export const NO_TELEMETRY: ShopConfig = { browserTracing: false, traceLinks: [] };

/** Reads the config; an older gateway without the route, or a malformed answer, means no telemetry. */
export function parseConfig(body: unknown): ShopConfig {
  const value = body as { browserTracing?: unknown; traceLinks?: unknown } | null;
  if (!value || typeof value !== 'object') return NO_TELEMETRY;
  const links = Array.isArray(value.traceLinks)
    ? (value.traceLinks as { label?: unknown; template?: unknown }[]).filter(
        (l): l is TraceLinkTemplate => typeof l?.label === 'string' && typeof l.template === 'string' && l.template.includes('{traceId}'),
      )
    : [];
  return { browserTracing: value.browserTracing === true, traceLinks: links };
}

export async function loadConfig(): Promise<ShopConfig> {
  try {
    const response = await fetch('/api/config', { headers: { accept: 'application/json' } });
    return response.ok ? parseConfig(await response.json()) : NO_TELEMETRY;
  } catch {
    return NO_TELEMETRY;
  }
}
