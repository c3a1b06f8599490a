import { z } from 'zod';
import { faultSpecSchema } from '@tracemart/platform';
import { loginBodySchema, placeOrderBodySchema, productIdSchema, productQuerySchema, registerBodySchema } from '../api';
import { sortedRecord, toJsonSchema, type JsonSchema } from './json-schema';
import * as schemas from './schemas';

/** Request bodies come from the contracts; responses from ./schemas (mirrors of the route handlers). */
const componentSchemas = {
  ErrorBody: schemas.errorBodySchema,
  RegisterBody: registerBodySchema,
  LoginBody: loginBodySchema,
  PlaceOrderBody: placeOrderBodySchema,
  FaultSpec: faultSpecSchema,
  ConsumersBody: schemas.consumersBodySchema,
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
  Liveness: schemas.livenessSchema,
  Readiness: schemas.readinessSchema,
} satisfies Record<string, z.ZodType>;
type SchemaName = keyof typeof componentSchemas;

interface Success {
  status: number;
  description: string;
  schema?: SchemaName;
  headers?: Record<string, JsonSchema>;
  contentType?: string;
}

export interface RouteDoc {
  method: 'get' | 'post' | 'delete';
  /** OpenAPI path template (`{id}`), as the client sees it. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: 'users' | 'products' | 'inventory' | 'orders' | 'payments' | 'notifications' | 'admin' | 'probes';
  auth: 'none' | 'bearer' | 'admin';
  parameters?: JsonSchema[];
  body?: SchemaName;
  success: Success;
  /** Route-specific error codes by status, on top of those every route of its kind can answer. */
  errors?: Record<number, string[]>;
  /** The gateway answers from its last good copy (marked stale) when the service fails. */
  staleOnError?: boolean;
}

const ref = (name: string, kind = 'schemas') => ({
  $ref: `#/components/${kind}/${name}`,
});
const schemaOf = (schema: z.ZodType) => toJsonSchema(schema, 'draft-2020-12');
const pathParam = (name: string, schema: z.ZodType, description: string): JsonSchema => ({
  name,
  in: 'path',
  required: true,
  description,
  schema: schemaOf(schema),
});
const queryParam = (name: string, schema: z.ZodType, description: string): JsonSchema => ({
  name,
  in: 'query',
  required: false,
  description,
  schema: schemaOf(schema),
});

const productQueryDescriptions: Record<keyof typeof productQuerySchema.shape, string> = {
  search: 'Case-insensitive substring of the product name.',
  category: 'Exact category.',
  page: 'Page number, from 1.',
  limit: 'Products per page.',
  ids: 'Comma-separated product ids: only these products.',
};

const orderId = pathParam('id', z.uuid(), "Order id. Anything else, or another user's order, answers 404.");
const serviceParam = queryParam('service', schemas.serviceQuerySchema.shape.service, 'Only this process (`gateway` for the gateway itself); every process when absent.');

/** The gateway's public API (gateway/src/http/routes.ts under /api), its admin API (admin.ts under /admin) and probes. */
export const GATEWAY_ROUTES: readonly RouteDoc[] = [
  {
    method: 'post',
    path: '/api/users/register',
    operationId: 'registerUser',
    summary: 'Create an account',
    tag: 'users',
    auth: 'none',
    body: 'RegisterBody',
    success: {
      status: 201,
      description: 'Registered. The email is stored lower-cased.',
      schema: 'User',
    },
    errors: { 409: ['USER.EMAIL_TAKEN'] },
  },
  {
    method: 'post',
    path: '/api/users/login',
    operationId: 'login',
    summary: 'Exchange email and password for an access token',
    tag: 'users',
    auth: 'none',
    body: 'LoginBody',
    success: { status: 200, description: 'A bearer token.', schema: 'Token' },
    errors: { 401: ['AUTH.INVALID_CREDENTIALS'] },
  },
  {
    method: 'get',
    path: '/api/users/me',
    operationId: 'getCurrentUser',
    summary: 'The signed-in user',
    tag: 'users',
    auth: 'bearer',
    success: {
      status: 200,
      description: 'The user the token was issued to.',
      schema: 'User',
    },
    errors: { 404: ['USER.NOT_FOUND'] },
  },
  {
    method: 'get',
    path: '/api/products',
    operationId: 'listProducts',
    summary: 'Search and page through the catalog',
    tag: 'products',
    auth: 'none',
    parameters: Object.entries(productQuerySchema.shape).map(([name, schema]) => queryParam(name, schema, productQueryDescriptions[name as keyof typeof productQueryDescriptions])),
    success: {
      status: 200,
      description: 'One page of products, sorted by id.',
      schema: 'ProductPage',
    },
    errors: { 400: ['REQUEST.VALIDATION_FAILED'] },
    staleOnError: true,
  },
  {
    method: 'get',
    path: '/api/products/{id}',
    operationId: 'getProduct',
    summary: 'One product',
    tag: 'products',
    auth: 'none',
    parameters: [pathParam('id', productIdSchema, 'Product id.')],
    success: { status: 200, description: 'The product.', schema: 'Product' },
    errors: { 400: ['REQUEST.VALIDATION_FAILED'], 404: ['PRODUCT.NOT_FOUND'] },
    staleOnError: true,
  },
  {
    method: 'get',
    path: '/api/inventory/{productId}',
    operationId: 'getStock',
    summary: 'Stock of one product',
    tag: 'inventory',
    auth: 'none',
    parameters: [pathParam('productId', productIdSchema, 'Product id.')],
    success: {
      status: 200,
      description: 'Units available to order and units held by pending orders.',
      schema: 'Stock',
    },
    errors: {
      400: ['REQUEST.VALIDATION_FAILED'],
      404: ['INVENTORY.NOT_FOUND'],
    },
    staleOnError: true,
  },
  {
    method: 'post',
    path: '/api/orders',
    operationId: 'placeOrder',
    summary: 'Place an order (asynchronous checkout)',
    description:
      'Prices the lines from the catalog and records `orders.placed`; stock and payment follow as a saga over NATS, so the answer is 202 with the order PENDING. Poll GET /api/orders/{id} (or watch /api/orders) for CONFIRMED or CANCELLED. Refused at once with 503 while payments cannot be taken.',
    tag: 'orders',
    auth: 'bearer',
    parameters: [
      {
        name: 'Idempotency-Key',
        in: 'header',
        required: false,
        description:
          'Makes the request safe to retry (and lets the gateway retry it): the key names the order (its id is derived from the user and the key), so a repeat with the same key and body answers the order as first placed, with `idempotent-replayed: true`, and a repeat with another body is refused. Keys are per user and never expire.',
        schema: { type: 'string', pattern: '^[A-Za-z0-9_.:-]{1,200}$' },
      },
    ],
    body: 'PlaceOrderBody',
    success: {
      status: 202,
      description: 'Accepted; the saga decides the outcome.',
      schema: 'Order',
      headers: {
        Location: {
          description: 'The order: `/api/orders/{id}`.',
          schema: { type: 'string' },
        },
        'idempotent-replayed': {
          description: '`true` when this is the stored answer to an earlier request with the same Idempotency-Key.',
          schema: { type: 'string', enum: ['true'] },
        },
      },
    },
    errors: {
      400: ['IDEMPOTENCY.INVALID_KEY'],
      422: ['ORDER.UNKNOWN_PRODUCT', 'ORDER.TOTAL_TOO_LARGE', 'IDEMPOTENCY.KEY_REUSED'],
      503: ['DEPENDENCY.UNAVAILABLE'],
    },
  },
  {
    method: 'get',
    path: '/api/orders',
    operationId: 'listOrders',
    summary: "The caller's orders, with saga progress",
    description: "Served from the CQRS read model joined from every service's events: eventually consistent, usually within milliseconds.",
    tag: 'orders',
    auth: 'bearer',
    success: {
      status: 200,
      description: 'Order summaries.',
      schema: 'OrderSummaryList',
    },
  },
  {
    method: 'get',
    path: '/api/orders/{id}',
    operationId: 'getOrder',
    summary: 'One order, now or as it was',
    description: "Replayed from the order's event stream: strongly consistent.",
    tag: 'orders',
    auth: 'bearer',
    parameters: [orderId, queryParam('asOf', z.iso.datetime({ offset: true }), 'Time travel: the order as it was at this instant (404 if it did not exist yet).')],
    success: { status: 200, description: 'The order.', schema: 'Order' },
    errors: { 400: ['REQUEST.VALIDATION_FAILED'], 404: ['ORDER.NOT_FOUND'] },
  },
  {
    method: 'get',
    path: '/api/orders/{id}/history',
    operationId: 'getOrderHistory',
    summary: "The order's events",
    tag: 'orders',
    auth: 'bearer',
    parameters: [orderId],
    success: {
      status: 200,
      description: 'Every event of the order, oldest first, with the trace that recorded it.',
      schema: 'OrderHistory',
    },
    errors: { 404: ['ORDER.NOT_FOUND'] },
  },
  {
    method: 'get',
    path: '/api/notifications',
    operationId: 'listNotifications',
    summary: "The caller's notifications",
    tag: 'notifications',
    auth: 'bearer',
    success: {
      status: 200,
      description: 'Notifications, newest first.',
      schema: 'NotificationList',
    },
  },
  {
    method: 'get',
    path: '/api/payments/{orderId}/ledger',
    operationId: 'getPaymentLedger',
    summary: "An order's payment ledger, now or as it was",
    description: 'The money movements of one order (charge, decline, refund) and the balance they add up to, replayed from the append-only ledger.',
    tag: 'payments',
    auth: 'bearer',
    parameters: [
      pathParam('orderId', z.string().regex(/^[\w-]{1,64}$/), "Order id. A malformed id, or another user's order, answers 404."),
      queryParam('asOf', z.iso.datetime({ offset: true }), 'Time travel: the ledger as it was at this instant.'),
    ],
    success: {
      status: 200,
      description: 'The ledger.',
      schema: 'PaymentLedger',
    },
    errors: { 400: ['REQUEST.VALIDATION_FAILED'], 404: ['PAYMENT.NOT_FOUND'] },
  },
  {
    method: 'post',
    path: '/admin/faults',
    operationId: 'injectFault',
    summary: 'Inject a fault into one process',
    description:
      "`service` picks the target (the gateway when absent or `gateway`); the gateway forwards to every instance of that service and answers with the first instance's answer.",
    tag: 'admin',
    auth: 'admin',
    body: 'FaultSpec',
    success: {
      status: 201,
      description: 'The active fault; it expires by itself after durationSeconds.',
      schema: 'Fault',
    },
    errors: {
      400: ['REQUEST.VALIDATION_FAILED'],
      404: ['ADMIN.UNKNOWN_SERVICE'],
    },
  },
  {
    method: 'get',
    path: '/admin/faults',
    operationId: 'listFaults',
    summary: 'Active faults in every process',
    tag: 'admin',
    auth: 'admin',
    success: {
      status: 200,
      description: 'Active faults; services that did not answer are listed in `unreachable`.',
      schema: 'FaultList',
    },
  },
  {
    method: 'delete',
    path: '/admin/faults',
    operationId: 'clearFaults',
    summary: 'Lift every active fault',
    tag: 'admin',
    auth: 'admin',
    parameters: [serviceParam],
    success: { status: 204, description: 'Cleared.' },
    errors: {
      400: ['REQUEST.VALIDATION_FAILED'],
      404: ['ADMIN.UNKNOWN_SERVICE'],
    },
  },
  {
    method: 'delete',
    path: '/admin/faults/{id}',
    operationId: 'clearFault',
    summary: 'Lift one fault',
    tag: 'admin',
    auth: 'admin',
    parameters: [pathParam('id', z.uuid(), 'Fault id.'), serviceParam],
    success: { status: 204, description: 'Cleared.' },
    errors: {
      400: ['REQUEST.VALIDATION_FAILED'],
      404: ['FAULT.NOT_FOUND', 'ADMIN.UNKNOWN_SERVICE'],
    },
  },
  ...(['pause', 'resume'] as const).map((action): RouteDoc => ({
    method: 'post',
    path: `/admin/consumers/${action}`,
    operationId: `${action}Consumers`,
    summary: `${action === 'pause' ? 'Pause' : 'Resume'} a service's JetStream consumers`,
    description: action === 'pause' ? 'Messages wait in JetStream until resumed: a backlog on demand.' : 'Processing continues from where it stopped.',
    tag: 'admin',
    auth: 'admin',
    body: 'ConsumersBody',
    success: {
      status: 200,
      description: "The consumers' state in the first instance.",
      schema: 'ConsumersState',
    },
    errors: {
      400: ['REQUEST.VALIDATION_FAILED'],
      404: ['ADMIN.UNKNOWN_SERVICE', 'ADMIN.NO_CONSUMERS'],
    },
  })),
  {
    method: 'get',
    path: '/livez',
    operationId: 'liveness',
    summary: 'Liveness probe',
    tag: 'probes',
    auth: 'none',
    success: {
      status: 200,
      description: 'The process is alive.',
      schema: 'Liveness',
    },
  },
  {
    method: 'get',
    path: '/readyz',
    operationId: 'readiness',
    summary: 'Readiness probe',
    tag: 'probes',
    auth: 'none',
    success: {
      status: 200,
      description: 'Ready for traffic (503 with the same body while starting or shutting down).',
      schema: 'Readiness',
    },
  },
  {
    method: 'get',
    path: '/metrics',
    operationId: 'metrics',
    summary: 'Prometheus metrics',
    tag: 'probes',
    auth: 'none',
    success: {
      status: 200,
      description: 'Prometheus text exposition format.',
      contentType: 'text/plain',
    },
  },
];

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
function baselineErrors(route: RouteDoc): Record<number, string[]> {
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
  if (route.path.startsWith('/api/')) {
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

function operation(route: RouteDoc): JsonSchema {
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
    ...success.headers,
  };
  const responses: Record<string, JsonSchema> = {
    [String(success.status)]: {
      description: success.description,
      headers: successHeaders,
      ...(success.schema ? { content: { 'application/json': { schema: ref(success.schema) } } } : {}),
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
    parameters: [ref('RequestIdParam', 'parameters'), ...(route.parameters ?? [])],
    ...(route.body
      ? {
          requestBody: {
            required: true,
            content: { 'application/json': { schema: ref(route.body) } },
          },
        }
      : {}),
    responses,
  };
}

/** The OpenAPI 3.1 document for the gateway. */
export function buildOpenApi(): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const route of GATEWAY_ROUTES) {
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
