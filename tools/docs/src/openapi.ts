import { z } from 'zod';
import { faultSpecSchema } from '@tracemart/platform';
import { loginBodySchema, placeOrderBodySchema, registerBodySchema } from '@tracemart/contracts';
import { ADMIN_PREFIX, ADMIN_ROUTES, API_PREFIX, API_ROUTES, clientConfigSchema, consumersBodySchema, type ApiTag, type HttpMethod, type ParameterDoc, type RouteDoc, type SuccessDoc } from '@tracemart/gateway/routes';
import { sortedRecord, toJsonSchema, type JsonSchema } from './json-schema';
import * as schemas from './schemas';

/** The schemas routes name (`body`, `success.schema`): request bodies from their owners, responses from ./schemas. */
const componentSchemas: Record<string, z.ZodType> = {
  ErrorBody: schemas.errorBodySchema,
  RegisterBody: registerBodySchema,
  LoginBody: loginBodySchema,
  PlaceOrderBody: placeOrderBodySchema,
  FaultSpec: faultSpecSchema,
  ConsumersBody: consumersBodySchema,
  User: schemas.userSchema,
  Token: schemas.tokenSchema,
  Product: schemas.productSchema,
  ProductPage: schemas.productPageSchema,
  Stock: schemas.stockSchema,
  Order: schemas.orderSchema,
  OrderSummaryList: schemas.orderSummaryListSchema,
  OrderHistory: schemas.orderHistorySchema,
  NotificationList: schemas.notificationListSchema,
  PaymentLedger: schemas.paymentLedgerSchema,
  Fault: schemas.faultSchema,
  FaultList: schemas.faultListSchema,
  ConsumersState: schemas.consumersStateSchema,
  ClientConfig: clientConfigSchema,
  Liveness: schemas.livenessSchema,
  Readiness: schemas.readinessSchema,
};

/** A route as the document shows it: full OpenAPI path, tag and security. */
export interface DocumentedRoute extends RouteDoc {
  method: HttpMethod;
  /** OpenAPI path template (`{id}`), as the client sees it. */
  path: string;
  tag: ApiTag | 'admin' | 'probes';
  auth: 'none' | 'bearer' | 'admin';
  /** The gateway answers from its last good copy (marked stale) when the service fails. */
  staleOnError?: boolean;
}

const probe = (path: string, operationId: string, summary: string, success: SuccessDoc): DocumentedRoute => ({ method: 'get', path, operationId, summary, tag: 'probes', auth: 'none', success });

/**
 * The probes and the scrape endpoint every process serves: `createBaseApp` in packages/platform/src/http/app.ts
 * registers them, so they are listed here rather than in the gateway's table (the docs test checks this list against
 * what createBaseApp registers). The gateway serves /metrics on its separate METRICS_PORT (9464), not on this API's port.
 */
export const PROBE_ROUTES: readonly DocumentedRoute[] = [
  probe('/livez', 'liveness', 'Liveness probe', { status: 200, description: 'The process is alive.', schema: 'Liveness' }),
  probe('/readyz', 'readiness', 'Readiness probe', { status: 200, description: 'Ready for traffic (503 with the same body while starting or shutting down).', schema: 'Readiness' }),
  probe('/metrics', 'metrics', 'Prometheus metrics (services; the gateway serves them on METRICS_PORT, 9464, only)', { status: 200, description: 'Prometheus text exposition format.', contentType: 'text/plain' }),
];

/** An Express path under its mount as an OpenAPI path: `/api` + `/products/:id` -> `/api/products/{id}`. */
export const openApiPath = (prefix: string, expressPath: string): string => `${prefix}${expressPath.replace(/:(\w+)/g, '{$1}')}`;

/** Every route of the document, in registration order: the gateway's public API (under /api), its admin API (under /admin), the probes. */
export function documentedRoutes(): DocumentedRoute[] {
  return [
    ...API_ROUTES.map((route): DocumentedRoute => ({ ...route, path: openApiPath(API_PREFIX, route.path) })),
    ...ADMIN_ROUTES.map((route): DocumentedRoute => ({ ...route, path: openApiPath(ADMIN_PREFIX, route.path), tag: 'admin', auth: 'admin' })),
    ...PROBE_ROUTES,
  ];
}

const ref = (name: string, kind = 'schemas') => ({
  $ref: `#/components/${kind}/${name}`,
});
const schemaOf = (schema: z.ZodType) => toJsonSchema(schema, 'draft-2020-12');

/** A reference to a registered component schema; an unknown name is a mistake in the route table. */
function schemaRef(name: string, route: DocumentedRoute) {
  if (!Object.hasOwn(componentSchemas, name)) throw new Error(`${route.method.toUpperCase()} ${route.path} names schema ${name}, which tools/docs/src/openapi.ts does not register`);
  return ref(name);
}

const parameter = (param: ParameterDoc): JsonSchema => ({
  name: param.name,
  in: param.in,
  required: param.in === 'path',
  description: param.description,
  schema: schemaOf(param.schema),
});

const ERROR_REASONS: Record<number, string> = {
  400: 'Bad request; nothing was written',
  401: 'Not authenticated',
  403: 'Forbidden',
  404: 'Not found',
  409: 'Conflict',
  413: 'Request body larger than 64 kB',
  415: 'Unsupported content encoding or charset',
  422: 'Well-formed but cannot be processed; nothing was written',
  429: 'Rate limited',
  500: 'Internal error; internals are never shown',
  503: 'A dependency is unavailable; retry after Retry-After',
};

/** Codes any route of a kind can answer (platform/http/app.ts, gateway rate limit, resilience and faults). */
function baselineErrors(route: DocumentedRoute): Record<number, string[]> {
  const errors: Record<number, string[]> = {
    400: ['REQUEST.FORBIDDEN_KEY'],
    500: ['INTERNAL'],
  };
  const add = (status: number, codes: string[]) => (errors[status] = [...(errors[status] ?? []), ...codes]);
  if (route.body) {
    add(400, ['REQUEST.MALFORMED_JSON', 'REQUEST.VALIDATION_FAILED']);
    add(413, ['REQUEST.TOO_LARGE']);
    add(415, ['REQUEST.UNSUPPORTED_ENCODING']);
  }
  if (route.path.startsWith(`${API_PREFIX}/`)) {
    add(429, ['RATE_LIMITED']);
    add(500, ['FAULT.INJECTED']);
    add(503, ['GATEWAY.CIRCUIT_OPEN', 'GATEWAY.UPSTREAM_TIMEOUT', 'GATEWAY.UPSTREAM_UNAVAILABLE', 'DEPENDENCY.BULKHEAD_FULL', 'FAULT.OUTAGE']);
  }
  if (route.auth === 'bearer') add(401, ['AUTH.REQUIRED', 'AUTH.INVALID_TOKEN', 'AUTH.TOKEN_EXPIRED']);
  if (route.auth === 'admin') {
    add(401, ['ADMIN.TOKEN_REQUIRED']);
    add(403, ['ADMIN.DISABLED', 'ADMIN.FORBIDDEN']);
  }
  return errors;
}

const traceHeaders = {
  'x-request-id': ref('RequestId', 'headers'),
  'x-trace-id': ref('TraceId', 'headers'),
};

function errorResponse(status: number, codes: string[]): JsonSchema {
  const unique = [...new Set(codes)];
  const retries = status === 429 || status === 503;
  return {
    description: `${ERROR_REASONS[status] ?? 'Error'}. Codes: ${unique.join(', ')}.`,
    headers: {
      ...traceHeaders,
      ...(retries ? { 'Retry-After': ref('RetryAfter', 'headers') } : {}),
    },
    content: { 'application/json': { schema: ref('ErrorBody') } },
  };
}

function operation(route: DocumentedRoute): JsonSchema {
  const errors = baselineErrors(route);
  for (const [status, codes] of Object.entries(route.errors ?? {})) errors[Number(status)] = [...(errors[Number(status)] ?? []), ...codes];
  const { success } = route;
  const successHeaders = {
    ...traceHeaders,
    ...(route.staleOnError
      ? {
          'x-cache': ref('Stale', 'headers'),
          warning: ref('Warning', 'headers'),
        }
      : {}),
    ...Object.fromEntries(Object.entries(success.headers ?? {}).map(([name, header]) => [name, { description: header.description, schema: schemaOf(header.schema) }])),
  };
  const responses: Record<string, JsonSchema> = {
    [String(success.status)]: {
      description: success.description,
      headers: successHeaders,
      ...(success.schema ? { content: { 'application/json': { schema: schemaRef(success.schema, route) } } } : {}),
      ...(success.contentType ? { content: { [success.contentType]: { schema: { type: 'string' } } } } : {}),
    },
  };
  for (const status of Object.keys(errors)
    .map(Number)
    .sort((a, b) => a - b))
    responses[String(status)] = errorResponse(status, errors[status] ?? []);
  return {
    operationId: route.operationId,
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    tags: [route.tag],
    security: route.auth === 'bearer' ? [{ bearerAuth: [] }] : route.auth === 'admin' ? [{ adminToken: [] }] : [],
    parameters: [ref('RequestIdParam', 'parameters'), ...(route.parameters ?? []).map(parameter)],
    ...(route.body
      ? {
          requestBody: {
            required: true,
            content: { 'application/json': { schema: schemaRef(route.body, route) } },
          },
        }
      : {}),
    responses,
  };
}

/** The OpenAPI 3.1 document for the gateway. */
export function buildOpenApi(): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const route of documentedRoutes()) {
    paths[route.path] = {
      ...paths[route.path],
      [route.method]: operation(route),
    };
  }
  const componentsSchemas = Object.fromEntries(Object.entries(componentSchemas).map(([name, schema]) => [name, schemaOf(schema)]));
  return {
    openapi: '3.1.0',
    info: {
      title: 'tracemart gateway API',
      version: '1.0.0',
      description: [
        'The single public entry point. `/api/<resource>/...` is forwarded to the service owning the resource; routes marked with bearerAuth need a JWT from POST /api/users/login.',
        '',
        'Every answer carries `x-request-id` (echoed when the client sends a valid one) and, when tracing is on, `x-trace-id`: quote either when reporting a problem. Errors are `{ "error": { "code", "message", "details"? } }` with a stable code. 429 and 503 carry Retry-After.',
        '',
        'The gateway retries idempotent requests (reads, and POST /api/orders with an Idempotency-Key) inside one deadline, sheds load with circuit breakers and bulkheads, and serves catalog and stock reads from its last good copy (`x-cache: stale`) while those services are down.',
      ].join('\n'),
    },
    servers: [
      {
        url: 'http://127.0.0.1:8080',
        description: 'The dev stack (`npm start`).',
      },
    ],
    tags: [
      { name: 'users', description: 'Accounts and tokens (user service).' },
      { name: 'products', description: 'The catalog (catalog service).' },
      { name: 'inventory', description: 'Stock levels (inventory service).' },
      {
        name: 'orders',
        description: 'Checkout and order status (order service).',
      },
      {
        name: 'payments',
        description: 'The payment ledger (payment service).',
      },
      {
        name: 'notifications',
        description: 'What users were told (notification service).',
      },
      {
        name: 'storefront',
        description: "The shop's own settings, answered by the gateway itself (the shop's files are served at /).",
      },
      {
        name: 'admin',
        description: 'Fault injection and consumer control for drills and load tests; off unless ADMIN_TOKEN is set. Never faulted, not rate limited.',
      },
      {
        name: 'probes',
        description: 'Kubernetes probes and Prometheus scrape.',
      },
    ],
    paths: sortedRecord(paths),
    components: {
      schemas: sortedRecord(componentsSchemas),
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: 'HS256 access token from POST /api/users/login.',
        },
        adminToken: {
          type: 'apiKey',
          in: 'header',
          name: 'x-admin-token',
          description: 'The ADMIN_TOKEN the gateway was started with.',
        },
      },
      parameters: {
        RequestIdParam: {
          name: 'x-request-id',
          in: 'header',
          required: false,
          description: 'Client-chosen request id, echoed back and logged; replaced by a fresh uuid when absent or malformed.',
          schema: { type: 'string', pattern: '^[\\w.-]{1,128}$' },
        },
      },
      headers: {
        RequestId: {
          description: "The request id (the client's, or a fresh uuid).",
          schema: { type: 'string' },
        },
        TraceId: {
          description: 'The W3C trace id of this request, when tracing is on: find the whole trace with it.',
          schema: { type: 'string', pattern: '^[0-9a-f]{32}$' },
        },
        RetryAfter: {
          description: 'Seconds to wait before retrying.',
          schema: { type: 'integer', minimum: 1 },
        },
        Stale: {
          description: "`stale` when the answer is the gateway's last good copy because the service failed.",
          schema: { type: 'string', enum: ['stale'] },
        },
        Warning: {
          description: '`110 - "Response is Stale"` with a stale answer.',
          schema: { type: 'string' },
        },
      },
    },
  };
}
