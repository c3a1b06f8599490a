import { randomUUID } from 'node:crypto';
import { IDENTITY_HEADER, signIdentityAssertion } from '@tracemart/platform';

/** A small client for the public API, used by the end-to-end tests as a newcomer would use curl. */
export interface ApiResponse<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
}

/** A user as the gateway names them to a service: an identity assertion signed with the internal secret. */
export interface AsUser {
  userId: string;
  /** The INTERNAL_AUTH_SECRET of the service called. */
  secret: string;
}

/**
 * The headers the gateway sends a service for a signed-in user's request: a request id and an identity assertion made
 * for it (for component tests and tools that call a service directly, as the gateway would).
 */
export function identityHeaders(user: AsUser, options: { requestId?: string; ttlSeconds?: number } = {}): Record<string, string> {
  const requestId = options.requestId ?? randomUUID();
  return { 'x-request-id': requestId, [IDENTITY_HEADER]: signIdentityAssertion({ sub: user.userId, requestId }, user.secret, options.ttlSeconds) };
}

/** A client of `baseUrl`: with a bearer token (the public API), or calling a service as a user (`asUser`), or neither. */
export function apiClient(baseUrl: string, credentials?: string | AsUser) {
  async function call<T = Record<string, unknown>>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse<T>> {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        accept: 'application/json',
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(typeof credentials === 'string' ? { authorization: `Bearer ${credentials}` } : {}),
        ...(credentials && typeof credentials === 'object' ? identityHeaders(credentials) : {}),
        ...headers,
      },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // leave as text
    }
    return { status: response.status, body: parsed as T, headers: response.headers };
  }
  return {
    get: <T = Record<string, unknown>>(path: string, headers?: Record<string, string>) => call<T>('GET', path, undefined, headers),
    post: <T = Record<string, unknown>>(path: string, body: unknown, headers?: Record<string, string>) => call<T>('POST', path, body, headers),
    withToken: (newToken: string) => apiClient(baseUrl, newToken),
    /** This client calling as `user` (a fresh identity assertion per request), as the gateway calls services. */
    asUser: (user: AsUser) => apiClient(baseUrl, user),
  };
}
export type ApiClient = ReturnType<typeof apiClient>;

/** Registers a fresh user and logs in; returns an authenticated client. */
export async function signUp(api: ApiClient, name: string): Promise<{ client: ApiClient; email: string; password: string; id: string }> {
  const email = `${name.toLowerCase()}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`;
  const password = `pw-${Math.random().toString(36).slice(2)}-long`;
  const registered = await api.post<{ id: string }>('/api/users/register', { email, password, name });
  if (registered.status !== 201) throw new Error(`register failed: ${registered.status} ${JSON.stringify(registered.body)}`);
  const login = await api.post<{ token: string }>('/api/users/login', { email, password });
  if (login.status !== 200) throw new Error(`login failed: ${login.status}`);
  return { client: api.withToken(login.body.token), email, password, id: registered.body.id };
}
