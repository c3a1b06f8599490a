import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

/**
 * A stand-in for the OpenTelemetry Collector at the network edge (for tests and the benchmark): accepts OTLP/HTTP JSON on
 * POST /v1/traces and /v1/logs (what @opentelemetry/exporter-*-otlp-http send by default) and keeps
 * every span and log record, decoded into plain objects. Anything else it is sent (protobuf, another
 * path) is recorded as a rejection, so a test can fail on it instead of silently missing data.
 */

/** OTLP SpanKind numbers. */
export const SpanKind = { INTERNAL: 1, SERVER: 2, CLIENT: 3, PRODUCER: 4, CONSUMER: 5 } as const;
/** OTLP StatusCode numbers. */
export const StatusCode = { UNSET: 0, OK: 1, ERROR: 2 } as const;

export type AttributeValue = string | number | boolean | AttributeValue[] | undefined;

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  name: string;
  kind: number;
  status: { code: number; message?: string };
  attributes: Record<string, AttributeValue>;
  events: { name: string; attributes: Record<string, AttributeValue> }[];
  service: string;
  scope: string;
  /** Start and end, ms since the epoch (sub-ms precision kept). */
  startMs: number;
  endMs: number;
}

export interface ReceivedLog {
  traceId: string | undefined;
  spanId: string | undefined;
  severityText: string | undefined;
  body: AttributeValue;
  attributes: Record<string, AttributeValue>;
  service: string;
}

export interface OtlpReceiver {
  url: string;
  spans: ReceivedSpan[];
  logs: ReceivedLog[];
  /** Content types of the accepted requests, by path. */
  contentTypes: Map<string, Set<string>>;
  /** Requests that could not be decoded: method, path, content type and why. */
  rejected: string[];
  close: () => Promise<void>;
}

interface OtlpAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: number | string;
  doubleValue?: number;
  arrayValue?: { values?: OtlpAnyValue[] };
  kvlistValue?: { values?: OtlpKeyValue[] };
  bytesValue?: string;
}
interface OtlpKeyValue {
  key: string;
  value?: OtlpAnyValue;
}
interface OtlpResource {
  attributes?: OtlpKeyValue[];
}
interface OtlpSpan {
  traceId?: string;
  spanId?: string;
  parentSpanId?: string;
  name?: string;
  kind?: number;
  /** Nanoseconds since the epoch; OTLP/JSON sends 64-bit integers as strings. */
  startTimeUnixNano?: string | number;
  endTimeUnixNano?: string | number;
  status?: { code?: number; message?: string };
  attributes?: OtlpKeyValue[];
  events?: { name?: string; attributes?: OtlpKeyValue[] }[];
}
interface OtlpLogRecord {
  traceId?: string;
  spanId?: string;
  severityText?: string;
  body?: OtlpAnyValue;
  attributes?: OtlpKeyValue[];
}
interface TracesRequest {
  resourceSpans?: { resource?: OtlpResource; scopeSpans?: { scope?: { name?: string }; spans?: OtlpSpan[] }[] }[];
}
interface LogsRequest {
  resourceLogs?: { resource?: OtlpResource; scopeLogs?: { scope?: { name?: string }; logRecords?: OtlpLogRecord[] }[] }[];
}

/**
 * OTLP/JSON says ids are hex strings; older JS exporters sent base64 (the protobuf JSON mapping of
 * `bytes`). Both are accepted and normalised to lower-case hex; an empty id means "none".
 */
export function normaliseId(id: string | undefined, bytes: 8 | 16): string | undefined {
  if (!id) return undefined;
  if (new RegExp(`^[0-9a-fA-F]{${bytes * 2}}$`).test(id)) return id.toLowerCase();
  const decoded = Buffer.from(id, 'base64');
  if (decoded.length !== bytes) throw new Error(`not a ${bytes}-byte id in hex or base64: ${id}`);
  const hex = decoded.toString('hex');
  return /^0+$/.test(hex) ? undefined : hex;
}

function valueOf(value: OtlpAnyValue | undefined): AttributeValue {
  if (!value) return undefined;
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.arrayValue) return (value.arrayValue.values ?? []).map(valueOf);
  if (value.kvlistValue) return JSON.stringify(attributesOf(value.kvlistValue.values));
  if (value.bytesValue !== undefined) return value.bytesValue;
  return undefined;
}

function attributesOf(list: OtlpKeyValue[] | undefined): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const { key, value } of list ?? []) out[key] = valueOf(value);
  return out;
}

/** A 64-bit nanosecond timestamp (string or number) as ms; 0 when absent. */
export function nanosToMs(nanos: string | number | undefined): number {
  if (nanos === undefined || nanos === '') return 0;
  const big = BigInt(nanos);
  return Number(big / 1_000_000n) + Number(big % 1_000_000n) / 1e6;
}

const serviceOf = (resource: OtlpResource | undefined): string => String(attributesOf(resource?.attributes)['service.name'] ?? '');

export function decodeTraces(request: TracesRequest): ReceivedSpan[] {
  return (request.resourceSpans ?? []).flatMap((rs) =>
    (rs.scopeSpans ?? []).flatMap((ss) =>
      (ss.spans ?? []).map((span) => ({
        traceId: normaliseId(span.traceId, 16) ?? '',
        spanId: normaliseId(span.spanId, 8) ?? '',
        parentSpanId: normaliseId(span.parentSpanId, 8),
        name: span.name ?? '',
        kind: span.kind ?? 0,
        status: { code: span.status?.code ?? 0, ...(span.status?.message ? { message: span.status.message } : {}) },
        attributes: attributesOf(span.attributes),
        events: (span.events ?? []).map((e) => ({ name: e.name ?? '', attributes: attributesOf(e.attributes) })),
        service: serviceOf(rs.resource),
        scope: ss.scope?.name ?? '',
        startMs: nanosToMs(span.startTimeUnixNano),
        endMs: nanosToMs(span.endTimeUnixNano),
      })),
    ),
  );
}

export function decodeLogs(request: LogsRequest): ReceivedLog[] {
  const logs: ReceivedLog[] = [];
  for (const rl of request.resourceLogs ?? []) {
    const service = serviceOf(rl.resource);
    for (const sl of rl.scopeLogs ?? []) {
      for (const record of sl.logRecords ?? []) {
        logs.push({
          traceId: normaliseId(record.traceId, 16),
          spanId: normaliseId(record.spanId, 8),
          severityText: record.severityText,
          body: valueOf(record.body),
          attributes: attributesOf(record.attributes),
          service,
        });
      }
    }
  }
  return logs;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks);
  return req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const logs: ReceivedLog[] = [];
  const contentTypes = new Map<string, Set<string>>();
  const rejected: string[] = [];
  const server: Server = createServer((req, res) => {
    void (async () => {
      const path = (req.url ?? '').split('?')[0] ?? '';
      const type =
        String(req.headers['content-type'] ?? '')
          .split(';')[0]
          ?.trim() ?? '';
      try {
        const body = await readBody(req);
        if (req.method !== 'POST' || (path !== '/v1/traces' && path !== '/v1/logs')) throw new Error('unexpected endpoint');
        if (type !== 'application/json') throw new Error('only OTLP/JSON is decoded here');
        const parsed = JSON.parse(body.toString('utf8')) as TracesRequest & LogsRequest;
        if (path === '/v1/traces') spans.push(...decodeTraces(parsed));
        else logs.push(...decodeLogs(parsed));
        const seen = contentTypes.get(path) ?? new Set<string>();
        seen.add(type);
        contentTypes.set(path, seen);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      } catch (err) {
        rejected.push(`${req.method} ${path} (${type}): ${(err as Error).message}`);
        res.writeHead(400, { 'content-type': 'application/json' }).end('{}');
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    logs,
    contentTypes,
    rejected,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
