// Test data fetched once in setup(): product ids, categories and search terms from the seeded
// catalog. k6 hands setup()'s return value to every VU, so nothing here runs per iteration.
import http from 'k6/http';
import { BASE_URL } from './config.js';
import { get, json } from './api.js';

const MAX_CATALOG_PAGES = 20;
const PAGE_SIZE = 100;

/** Fails setup() with a message a person can act on when the gateway is not answering. */
export function assertGatewayReachable() {
  const res = http.get(`${BASE_URL}/api/products?limit=1`, {
    timeout: '5s',
    tags: { name: 'GET /api/products', kind: 'setup' },
    responseCallback: http.expectedStatuses({ min: 200, max: 599 }),
  });
  if (res.status === 0) {
    throw new Error(`BASE_URL ${BASE_URL} is unreachable (${res.error}). Start the stack with \`npm start\` ` + 'or point BASE_URL at a running gateway on a loopback address.');
  }
  if (res.status !== 200) {
    throw new Error(`BASE_URL ${BASE_URL} answered GET /api/products with ${res.status}: ${String(res.body).slice(0, 200)}`);
  }
}

/**
 * @returns {{ products: {id:string,name:string,category:string}[], categories: string[], searchTerms: string[] }}
 */
export function loadCatalog() {
  assertGatewayReachable();
  const products = [];
  let total = Infinity;
  for (let page = 1; page <= MAX_CATALOG_PAGES && products.length < total; page += 1) {
    const res = get(`/api/products?page=${page}&limit=${PAGE_SIZE}`, { name: 'GET /api/products', kind: 'setup' });
    const body = json(res);
    if (res.status !== 200 || !body || !Array.isArray(body.items)) {
      throw new Error(`setup: GET /api/products page ${page} answered ${res.status}, expected {items,total}`);
    }
    if (body.items.length === 0) break;
    total = typeof body.total === 'number' ? body.total : products.length + body.items.length;
    for (const p of body.items) products.push({ id: p.id, name: p.name, category: p.category });
  }
  if (products.length === 0) {
    throw new Error('setup: the catalog is empty; seed it before running load tests');
  }
  const categories = [...new Set(products.map((p) => p.category).filter(Boolean))];
  // First word of each product name: realistic queries that return something.
  const searchTerms = [...new Set(products.map((p) => String(p.name || '').split(/\s+/)[0]).filter((w) => w.length > 2))];
  return { products, categories, searchTerms: searchTerms.length > 0 ? searchTerms : ['a'] };
}

export function pick(list) {
  return list[Math.floor(Math.random() * list.length)];
}
