// Users for the suites: a unique registration + login, and a small pool of logged-in users made
// in setup() so checkouts do not pay a password hash each iteration.
import exec from 'k6/execution';
import { check } from 'k6';
import { get, json, post } from './api.js';

const PASSWORD = 'Load-test-pass-1';

/** An email no other VU, iteration or run will use. */
export function uniqueEmail(label) {
  const vu = exec.vu.idInTest;
  const random = Math.random().toString(36).slice(2, 8);
  return `k6-${label}-${Date.now().toString(36)}-${vu}-${random}@load.tracemart.test`;
}

/** POST /api/users/register; returns the credentials, or null when registration failed. */
export function register(label, tags = {}) {
  const creds = { email: uniqueEmail(label), password: PASSWORD, name: `k6 ${label}` };
  const res = post('/api/users/register', creds, { name: 'POST /api/users/register', kind: 'auth', tags });
  const ok = check(res, { 'register: 201': (r) => r.status === 201 }, tags);
  return ok ? creds : null;
}

/** POST /api/users/login; returns the token or null. */
export function login(creds, tags = {}) {
  const res = post('/api/users/login', { email: creds.email, password: creds.password }, { name: 'POST /api/users/login', kind: 'auth', tags });
  const body = json(res);
  const ok = check(res, { 'login: 200 with token': (r) => r.status === 200 && Boolean(body && body.token) }, tags);
  return ok ? body.token : null;
}

/** Registers a fresh user and logs in: `{ creds, token }`, or null. */
export function registerAndLogin(label, tags = {}) {
  const creds = register(label, tags);
  if (!creds) return null;
  const token = login(creds, tags);
  return token ? { creds, token } : null;
}

/** For setup(): `size` logged-in users; fails setup when none could be made. */
export function createUserPool(size) {
  const pool = [];
  for (let i = 0; i < size; i += 1) {
    const user = registerAndLogin('pool', { kind: 'setup' });
    if (user) pool.push(user);
  }
  if (pool.length === 0) {
    throw new Error('setup: could not register and log in any user (POST /api/users/register, /login)');
  }
  return pool;
}

const sessionCache = {};

/**
 * This VU's user from the pool. `refresh()` logs in again, for long runs where tokens expire.
 * @returns {{ token: string, refresh: () => string|null }}
 */
export function sessionFor(pool) {
  const index = (exec.vu.idInTest - 1) % pool.length;
  if (!sessionCache[index]) sessionCache[index] = { token: pool[index].token };
  const session = sessionCache[index];
  return {
    get token() {
      return session.token;
    },
    refresh() {
      const token = login(pool[index].creds);
      if (token) session.token = token;
      return token;
    },
  };
}

/** GET /api/users/me with the token. */
export function me(token, tags = {}) {
  return get('/api/users/me', { name: 'GET /api/users/me', kind: 'auth', token, tags });
}
