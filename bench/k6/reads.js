// Catalog read throughput through the gateway, closed model: VUS clients each send the next request
// as soon as the last answered, for DURATION. Rotation: product list page, one product, its stock.
import http from 'k6/http';
import { TREND_STATS, envNumber, loadFixture, loopbackUrl, pickProduct, writeSummary } from './lib.js';

const BASE_URL = loopbackUrl('BASE_URL');
const VUS = envNumber('VUS', 8);
const DURATION_S = envNumber('DURATION', 15);
const fixture = loadFixture();
let turn = 0;

export const options = {
  scenarios: { reads: { executor: 'constant-vus', vus: VUS, duration: `${DURATION_S}s`, gracefulStop: '5s' } },
  summaryTrendStats: TREND_STATS,
};

export default function () {
  const params = { responseCallback: http.expectedStatuses(200), timeout: '10s' };
  const page = 1 + (turn % 3);
  const id = pickProduct(fixture);
  const paths = [`/api/products?limit=20&page=${page}`, `/api/products/${id}`, `/api/inventory/${id}`];
  http.get(`${BASE_URL}${paths[turn % paths.length]}`, { ...params, tags: { name: ['list', 'product', 'stock'][turn % 3] } });
  turn += 1;
}

export const handleSummary = writeSummary;
