// The one place that talks HTTP to the gateway: JSON bodies, Bearer auth, low-cardinality `name`
// tags (so Prometheus/Grafana can split by endpoint) and a `kind` tag grouping endpoints by role.
import http from 'k6/http';
import { check } from 'k6';
import { Counter, Rate } from 'k6/metrics';
import { BASE_URL } from './config.js';

/** Requests answered 429 or 503, tagged by `name` and `status`; unit {request}. */
export const shedRequests = new Counter('tracemart_shed_requests');
/**
 * Share of requests that failed without saying when to retry: no answer, or a 5xx that is not a
 * 503 with Retry-After. Shedding load gracefully is allowed under overload; this is not. Unit 1.
 */
export const ungracefulFailures = new Rate('tracemart_ungraceful_failures');

const DEFAULT_TIMEOUT = '10s';

/**
 * @param {string} method
 * @param {string} path  path on the gateway, e.g. /api/products?limit=10
 * @param {object} opts  { name, kind, token, body, headers, tags, expected: number[], timeout }
 */
export function request(method, path, opts) {
  const { name, kind, token, body, headers = {}, tags = {}, expected, timeout = DEFAULT_TIMEOUT } = opts;
  const params = {
    headers: { Accept: 'application/json', ...headers },
    tags: { name, kind, ...tags },
    timeout,
  };
  if (token) params.headers.Authorization = `Bearer ${token}`;
  if (expected) params.responseCallback = http.expectedStatuses(...expected);
  let payload = null;
  if (body !== undefined) {
    params.headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const res = http.request(method, `${BASE_URL}${path}`, payload, params);
  if (res.status === 429 || res.status === 503) shedRequests.add(1, { name, status: String(res.status), ...tags });
  ungracefulFailures.add((res.status === 0 || res.status >= 500) && !isGracefulRejection(res), { name, kind, ...tags });
  return res;
}

export const get = (path, opts) => request('GET', path, opts);
export const post = (path, body, opts) => request('POST', path, { ...opts, body });
export const del = (path, opts) => request('DELETE', path, opts);

/** Parsed JSON body, or null when the body is missing or not JSON. */
export function json(res) {
  try {
    return res.body ? JSON.parse(res.body) : null;
  } catch (_) {
    return null;
  }
}

/** Checks that every response carries a trace id, with the request's tags so checks split by phase. */
export function checkTraced(res, tags) {
  return check(res, { 'response has x-trace-id': (r) => Boolean(r.headers['X-Trace-Id']) }, tags);
}

/** 429/503 are the gateway shedding load on purpose: they must say when to come back. */
export function isGracefulRejection(res) {
  return (res.status === 429 || res.status === 503) && Boolean(res.headers['Retry-After']);
}
