import { randomBytes } from 'node:crypto';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { startOtlpReceiver } from '@tracemart/stack';
import { ADMIN_TOKEN, call, startGateway, startStub, type Stub } from './support';

/**
 * POST /otlp/v1/traces: the browser's spans through the gateway to the Collector, here a real HTTP receiver on a free
 * port: @tracemart/stack's OTLP receiver (decodes OTLP/JSON as the Collector would) or a recording stub (keeps the
 * bytes as they arrived).
 */
const stops: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A Collector stand-in keeping every request as it came, answering 200 with a protobuf-typed body (or `status`). */
async function recordingCollector(status = 200): Promise<{ stub: Stub; seen: Seen[] }> {
  const seen: Seen[] = [];
  const stub = await startStub((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(status, { 'content-type': 'application/x-protobuf', 'x-collector-internal': 'not for browsers' });
      res.end(Buffer.from([0x0a, 0x00]));
    });
  });
  stops.push(stub.close);
  return { stub, seen };
}

async function gatewayTo(target: string | undefined, env: Record<string, string> = {}) {
  const gw = await startGateway({}, { ...(target ? { OTLP_TRACES_URL: target } : {}), ...env });
  stops.push(gw.stop);
  return gw;
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

/** One span, OTLP/JSON as the web SDK's exporter sends it: nested 10 levels deep, which the API's JSON parsing would refuse. */
function browserSpan(traceId: string, spanId: string, attributes: Record<string, string> = {}) {
  const now = BigInt(Date.now()) * 1_000_000n;
  return {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'storefront' } }] },
        scopeSpans: [
          {
            scope: { name: 'storefront' },
            spans: [
              {
                traceId,
                spanId,
                name: 'checkout',
                kind: 1,
                startTimeUnixNano: String(now),
                endTimeUnixNano: String(now + 5_000_000n),
                attributes: Object.entries(attributes).map(([key, value]) => ({ key, value: { stringValue: value } })),
                status: { code: 0 },
              },
            ],
          },
        ],
      },
    ],
  };
}

const post = (url: string, body: string | Buffer, headers: Record<string, string>) =>
  fetch(`${url}/otlp/v1/traces`, { method: 'POST', body, headers, signal: AbortSignal.timeout(10_000) });

describe('OTLP pass-through', () => {
  it('when the browser posts OTLP/JSON, then the Collector receives its span (a real receiver decodes it) and the answer comes back', async () => {
    const receiver = await startOtlpReceiver();
    stops.push(receiver.close);
    const gw = await gatewayTo(`${receiver.url}/v1/traces`);
    const traceId = hex(16);
    const spanId = hex(8);
    const answer = await post(gw.url, JSON.stringify(browserSpan(traceId, spanId)), { 'content-type': 'application/json' });
    expect(answer.status).toBe(200);
    expect(await answer.text()).toBe('{}');
    expect(receiver.rejected).toEqual([]);
    expect(receiver.spans).toEqual([expect.objectContaining({ traceId, spanId, parentSpanId: undefined, name: 'checkout', service: 'storefront' })]);
    expect([...(receiver.contentTypes.get('/v1/traces') ?? [])]).toEqual(['application/json']);
  });

  it('when the body is protobuf or JSON, then the Collector gets the same bytes and content type at its traces path, and no client header or query', async () => {
    const { stub, seen } = await recordingCollector();
    const gw = await gatewayTo(`${stub.url}/v1/traces`);
    const protobuf = randomBytes(2_048);
    const answer = await fetch(`${gw.url}/otlp/v1/traces?target=http://169.254.169.254/`, {
      method: 'POST',
      body: protobuf,
      headers: { 'content-type': 'application/x-protobuf', authorization: 'Bearer secret', cookie: 'session=1', 'x-forwarded-host': 'evil.example' },
      signal: AbortSignal.timeout(10_000),
    });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe('application/x-protobuf');
    expect(answer.headers.get('x-collector-internal')).toBeNull();
    expect(Buffer.from(await answer.arrayBuffer())).toEqual(Buffer.from([0x0a, 0x00]));

    // 300 KB of JSON with odd spacing: over the API's 64 KB body limit, and passed on byte for byte, not re-serialised.
    const json = `{ "resourceSpans" : [ ${JSON.stringify(browserSpan(hex(16), hex(8), { padding: 'x'.repeat(300_000), stack: 'Error\n\tat checkout \u0001' }))} ] }`;
    expect((await post(gw.url, json, { 'content-type': 'application/json; charset=utf-8' })).status).toBe(200);

    expect(seen).toHaveLength(2);
    const [first, second] = seen;
    expect(first).toMatchObject({ method: 'POST', url: '/v1/traces' });
    expect(first?.body.equals(protobuf)).toBe(true);
    expect(first?.headers['content-type']).toBe('application/x-protobuf');
    for (const header of ['authorization', 'cookie', 'x-forwarded-host']) expect(first?.headers[header], header).toBeUndefined();
    expect(second?.body.toString('utf8')).toBe(json);
    expect(second?.headers['content-type']).toBe('application/json; charset=utf-8');
  });

  it('when the body is over 512 KiB, then 413 JSON and nothing is forwarded', async () => {
    const { stub, seen } = await recordingCollector();
    const gw = await gatewayTo(`${stub.url}/v1/traces`);
    const justFits = await post(gw.url, randomBytes(512 * 1024), { 'content-type': 'application/x-protobuf' });
    expect(justFits.status).toBe(200);
    for (const type of ['application/x-protobuf', 'application/json']) {
      const answer = await post(gw.url, Buffer.alloc(512 * 1024 + 1, 0x20), { 'content-type': type });
      expect(answer.status, type).toBe(413);
      expect(await answer.json(), type).toMatchObject({ error: { code: 'OTLP.TOO_LARGE' } });
    }
    expect(seen).toHaveLength(1);
  });

  it('when the content type is not OTLP, or the encoding unknown, then 415 JSON and nothing is forwarded', async () => {
    const { stub, seen } = await recordingCollector();
    const gw = await gatewayTo(`${stub.url}/v1/traces`);
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/jsonp']) {
      const answer = await post(gw.url, 'a=1', { 'content-type': type });
      expect(answer.status, type).toBe(415);
      expect(await answer.json(), type).toMatchObject({ error: { code: 'OTLP.UNSUPPORTED_MEDIA_TYPE' } });
    }
    const untyped = await fetch(`${gw.url}/otlp/v1/traces`, { method: 'POST', body: new Uint8Array([1, 2, 3]), signal: AbortSignal.timeout(5_000) });
    expect(untyped.status).toBe(415);
    const encoded = await post(gw.url, '{}', { 'content-type': 'application/json', 'content-encoding': 'br' });
    expect(encoded.status).toBe(415);
    expect(await encoded.json()).toMatchObject({ error: { code: 'OTLP.UNSUPPORTED_ENCODING' } });
    expect(seen).toHaveLength(0);
  });

  it('when the gateway has no OTLP target, then 404 OTLP.DISABLED (and /api/config says browser tracing is off)', async () => {
    const gw = await gatewayTo(undefined);
    const answer = await post(gw.url, '{}', { 'content-type': 'application/json' });
    expect(answer.status).toBe(404);
    expect(await answer.json()).toMatchObject({ error: { code: 'OTLP.DISABLED' } });
    expect((await call(`${gw.url}/api/config`)).body).toEqual({ browserTracing: false, traceLinks: [] });
  });

  it('when the Collector is down, then 502 JSON; when it fails, 502; when it refuses for now (503), its answer goes back', async () => {
    const { stub } = await recordingCollector();
    const downUrl = `${stub.url}/v1/traces`;
    await stub.close();
    const down = await gatewayTo(downUrl);
    const unreachable = await post(down.url, '{}', { 'content-type': 'application/json' });
    expect(unreachable.status).toBe(502);
    expect(await unreachable.json()).toMatchObject({ error: { code: 'OTLP.UPSTREAM_UNAVAILABLE' } });

    const failing = await recordingCollector(500);
    const gw = await gatewayTo(`${failing.stub.url}/v1/traces`);
    const failed = await post(gw.url, '{}', { 'content-type': 'application/json' });
    expect(failed.status).toBe(502);
    expect(await failed.json()).toMatchObject({ error: { code: 'OTLP.UPSTREAM_FAILED' } });

    const busy = await recordingCollector(503);
    const gw2 = await gatewayTo(`${busy.stub.url}/v1/traces`);
    expect((await post(gw2.url, '{}', { 'content-type': 'application/json' })).status).toBe(503);
  });

  it('when a client posts past the rate limit, then 429 like the API, and nothing more is forwarded', async () => {
    const { stub, seen } = await recordingCollector();
    const gw = await gatewayTo(`${stub.url}/v1/traces`, { RATE_LIMIT_PER_SECOND: '0.1', RATE_LIMIT_BURST: '2' });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await post(gw.url, '{}', { 'content-type': 'application/json' })).status);
    expect(statuses).toEqual([200, 200, 429, 429]);
    expect(seen).toHaveLength(2);
  });

  it('when a client past the rate limit starts sending a body, then the 429 comes before the body is read', async () => {
    const { stub, seen } = await recordingCollector();
    const gw = await gatewayTo(`${stub.url}/v1/traces`, { RATE_LIMIT_PER_SECOND: '0.1', RATE_LIMIT_BURST: '1' });
    expect((await post(gw.url, '{}', { 'content-type': 'application/json' })).status).toBe(200);
    const { hostname, port } = new URL(gw.url);
    // 1 KB of a declared 400 KB, and then nothing: only an answer that does not wait for the body arrives.
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        { hostname, port, path: '/otlp/v1/traces', method: 'POST', headers: { 'content-type': 'application/x-protobuf', 'content-length': String(400 * 1024) }, timeout: 5_000 },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
          req.destroy();
        },
      );
      req.on('timeout', () => {
        req.destroy();
        reject(new Error('no answer while the body was unfinished: the body was being read first'));
      });
      req.on('error', () => undefined);
      req.write(randomBytes(1024));
    });
    expect(status).toBe(429);
    expect(seen).toHaveLength(1);
  });

  it('when the path differs only in case or a trailing slash, then the body is still passed on as bytes (not parsed as JSON)', async () => {
    const { stub, seen } = await recordingCollector();
    const gw = await gatewayTo(`${stub.url}/v1/traces`);
    const json = JSON.stringify(browserSpan(hex(16), hex(8)));
    for (const path of ['/otlp/v1/traces/', '/OTLP/v1/Traces']) {
      const answer = await fetch(`${gw.url}${path}`, { method: 'POST', body: json, headers: { 'content-type': 'application/json' }, signal: AbortSignal.timeout(10_000) });
      expect(answer.status, path).toBe(200);
    }
    expect(seen.map((s) => s.body.toString('utf8'))).toEqual([json, json]);
  });

  it('when anything but POST /otlp/v1/traces is tried through it, then nothing reaches the Collector', async () => {
    const { stub, seen } = await recordingCollector();
    const gw = await gatewayTo(`${stub.url}/v1/traces`);
    const json = { 'content-type': 'application/json' };
    const tries: [string, string, number][] = [
      ['POST', '/otlp/v1/logs', 404],
      ['POST', '/otlp/v1/metrics', 404],
      ['POST', '/otlp/v1/traces/extra', 404],
      ['POST', '/otlp/v1/traces/../../v1/logs', 400],
      ['POST', '/otlp/v1/traces/%2e%2e/logs', 400],
      ['POST', '/otlp', 404],
      ['GET', '/otlp/v1/traces', 404],
      ['PUT', '/otlp/v1/traces', 404],
      ['DELETE', '/otlp/v1/traces', 404],
    ];
    for (const [method, path, status] of tries) {
      const { hostname, port } = new URL(gw.url);
      // Sent with the path as written: fetch would resolve the dot segments itself.
      const answer = await new Promise<number>((resolve, reject) => {
        const req = httpRequest({ hostname, port, path, method, headers: json, timeout: 5_000 }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end(method === 'GET' || method === 'DELETE' ? undefined : '{}');
      });
      expect(answer, `${method} ${path}`).toBe(status);
    }
    expect(seen).toHaveLength(0);
  });

  it('when a gateway outage is injected, then the browser spans still go through (they tell what failed)', async () => {
    const { stub, seen } = await recordingCollector();
    const gw = await gatewayTo(`${stub.url}/v1/traces`);
    const injected = await call(`${gw.url}/admin/faults`, {
      method: 'POST',
      headers: { 'x-admin-token': ADMIN_TOKEN },
      body: JSON.stringify({ kind: 'outage', durationSeconds: 30 }),
    });
    expect(injected.status).toBe(201);
    expect((await call(`${gw.url}/api/products`)).status).toBe(503);
    expect((await post(gw.url, '{}', { 'content-type': 'application/json' })).status).toBe(200);
    expect(seen).toHaveLength(1);
  });

  it('when 300 random requests arrive (any bytes, media types, encodings, sizes around the limit), then none is a 5xx, and every refusal is a JSON error', async () => {
    const receiver = await startOtlpReceiver();
    stops.push(receiver.close);
    const gw = await gatewayTo(`${receiver.url}/v1/traces`, { OTLP_BODY_LIMIT_BYTES: '4096' });
    const request = fc.record({
      body: fc.oneof(
        fc.uint8Array({ maxLength: 6_000 }).map((bytes) => Buffer.from(bytes)),
        fc.json().map((text) => Buffer.from(text)),
        fc.string({ unit: 'binary', maxLength: 5_000 }).map((text) => Buffer.from(text)),
      ),
      type: fc.constantFrom('application/json', 'application/x-protobuf', 'APPLICATION/JSON; charset=utf-8', 'text/plain', '', 'application/json\u0000', 'application/*'),
      encoding: fc.constantFrom(undefined, 'gzip', 'identity', 'br', 'x'),
    });
    await fc.assert(
      fc.asyncProperty(request, async ({ body, type, encoding }) => {
        const headers: Record<string, string> = {};
        if (type && !type.includes('\u0000')) headers['content-type'] = type;
        if (encoding) headers['content-encoding'] = encoding;
        const answer = await post(gw.url, body, headers);
        const text = await answer.text();
        expect(answer.status, `${type} ${encoding ?? ''} ${body.length} bytes`).toBeLessThan(500);
        // The receiver's own refusal of what it cannot decode is `{}`; the gateway's carry { error: { code, message } }.
        if (answer.status >= 400 && text !== '{}') expect(JSON.parse(text)).toMatchObject({ error: { code: expect.any(String), message: expect.any(String) } });
        if (body.length > 4096) expect(answer.status).not.toBe(200);
      }),
      { numRuns: 300 },
    );
  });
});
