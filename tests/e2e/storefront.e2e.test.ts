import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, eventually, repoRoot } from '@tracemart/testing';
import { startOtlpReceiver, startStack, type OtlpReceiver, type ReceivedSpan, type Stack } from '@tracemart/stack';
import { buildStorefront, launchChromium, watchConsole, type Browser } from './storefront-browser';

/**
 * The shop in a real browser on the real stack: Debian's Chromium (playwright-core) drives the storefront the
 * gateway serves, every process exports spans to an in-test OTLP receiver, and the browser's spans reach it
 * through the gateway's /otlp/v1/traces pass-through. Screenshots go to .data/test-output/storefront/ (git-ignored).
 */

const OUTPUT = join(repoRoot, '.data', 'test-output', 'storefront');
const PASSWORD = 'correct horse battery';
const JAEGER_URL = 'http://127.0.0.1:16686';
const LOGS_URL = 'http://127.0.0.1:9428';
const EXPECTED_503 = /Failed to load resource: the server responded with a status of 503/;

let receiver: OtlpReceiver;
let stack: Stack;
let dataDir: string;
let distDir: string;
let browser: Browser;
let page: Page;
let consoleErrors: ReturnType<typeof watchConsole>;
/** Every POST /api/orders the page sent, with its Idempotency-Key and traceparent. */
const orderPosts: { key: string | undefined; traceparent: string | undefined }[] = [];
/** API calls the page sent without a W3C traceparent (GET /api/config is read before tracing starts). */
const untraced: string[] = [];
const email = `shopper-${Date.now()}@example.com`;

const base = () => stack.gatewayUrl;
const spansOf = (traceId: string): ReceivedSpan[] => receiver.spans.filter((s) => s.traceId === traceId);
const logLines = (process: string): string[] => readFileSync(join(dataDir, 'logs', `${process}.log`), 'utf8').split('\n');
// Evaluated in the page (strings: this file is type-checked without the DOM library).
const tokenOf = async (): Promise<string> => ((await page.evaluate(`JSON.parse(localStorage.getItem('tracemart.session') ?? '{}')`)) as { token: string }).token;

async function stockOf(productId: string): Promise<number> {
  return (await apiClient(base()).get<{ available: number }>(`/api/inventory/${productId}`)).body.available;
}

async function orderCount(): Promise<number> {
  return (await apiClient(base(), await tokenOf()).get<{ items: unknown[] }>('/api/orders')).body.items.length;
}

async function addToCartFromProductPage(productId: string): Promise<void> {
  await page.goto(`${base()}/products/${productId}`);
  await page.getByRole('button', { name: 'Add to cart' }).click();
  await page.getByRole('status').waitFor();
}

async function placeOrder(card: 'tok_visa' | 'tok_chargeDeclined', how: 'click' | 'dblclick' = 'click'): Promise<string> {
  await page.goto(`${base()}/cart`);
  await page.locator(`input[name="card"][value="${card}"]`).check();
  const button = page.getByRole('button', { name: 'Place order' });
  await (how === 'click' ? button.click() : button.dblclick());
  await page.waitForURL(/\/orders\/[0-9a-f-]{36}$/, { timeout: 15_000 });
  return page.url().split('/').pop() as string;
}

beforeAll(async () => {
  mkdirSync(OUTPUT, { recursive: true });
  distDir = mkdtempSync(join(tmpdir(), 'tracemart-storefront-dist-'));
  buildStorefront(repoRoot, distDir);
  receiver = await startOtlpReceiver();
  dataDir = mkdtempSync(join(tmpdir(), 'tracemart-storefront-e2e-'));
  stack = await startStack({
    root: repoRoot,
    dataDir,
    freePorts: true,
    prometheus: false,
    readyTimeoutMs: 120_000,
    env: { LOG_LEVEL: 'info', OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '200', OTEL_BLRP_SCHEDULE_DELAY: '200' },
    // The trace UIs are never opened: their URLs only make the "see this trace" links.
    envFor: { gateway: { STOREFRONT_DIR: distDir, OTLP_TRACES_URL: `${receiver.url}/v1/traces`, TRACES_URL: JAEGER_URL, LOGS_UI_URL: LOGS_URL } },
  });
  // Warm the user service up (its first registration, password hashing and all, can take seconds on a busy
  // machine): the browser's registration below is about the shop, not about a cold start.
  await eventually(
    async () => (await apiClient(base()).post('/api/users/register', { email: `warm-up-${Date.now()}@example.com`, password: PASSWORD, name: 'Warm Up' })).status,
    (status) => status === 201,
    60_000,
  );
  browser = await launchChromium();
  page = browser.context.pages()[0] ?? (await browser.context.newPage());
  page.setDefaultTimeout(30_000);
  consoleErrors = watchConsole(page);
  page.on('request', (request) => {
    const { pathname } = new URL(request.url());
    if (!pathname.startsWith('/api/') || pathname === '/api/config') return;
    const headers = request.headers();
    if (!/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/.test(headers.traceparent ?? '')) untraced.push(`${request.method()} ${pathname}`);
    if (request.method() === 'POST' && pathname === '/api/orders') orderPosts.push({ key: headers['idempotency-key'], traceparent: headers.traceparent });
  });
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  await receiver?.close();
  for (const dir of [dataDir, distDir]) if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('storefront in Chromium on the real stack', () => {
  it('when the shop opens, then the gateway says browser spans have somewhere to go', async () => {
    const config = await apiClient(base()).get<{ browserTracing: boolean; traceLinks: unknown[] }>('/api/config');
    expect(config.status).toBe(200);
    expect(config.body.browserTracing).toBe(true);
    expect(config.body.traceLinks.length).toBe(2);
  });

  it('when a shopper registers, logs out and logs in, then the header follows', async () => {
    await page.goto(`${base()}/register`);
    await page.getByLabel('Name').fill('Tracy Browser');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password (at least 8 characters)').fill(PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('link', { name: 'Log in' }).first().click();
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('main').getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('button', { name: 'Log out' }).waitFor();
    expect(await tokenOf()).toMatch(/^ey/);
  });

  it('when searching, filtering by category and paging, then the catalog follows; two products go into the cart', async () => {
    await page.goto(`${base()}/`);
    await page.getByText('Page 1 of 5').waitFor(); // 60 products, 12 a page
    await page.screenshot({ path: join(OUTPUT, 'catalog.png'), fullPage: true });
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByText('Page 2 of 5').waitFor();

    await page.getByRole('searchbox').fill('kettle');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByText('1 product matching “kettle”').waitFor();
    await page.getByRole('button', { name: 'Add Gooseneck Kettle to cart' }).click();

    await page.getByLabel('Search').fill('');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByLabel('Category').selectOption('books');
    await page.getByText('10 products in books').waitFor();
    await page.getByRole('button', { name: 'Add Release It! to cart' }).click();

    await expect.poll(() => page.getByTestId('cart-link').textContent()).toBe('Cart (2)');
    await page.goto(`${base()}/cart`);
    await expect.poll(() => page.getByTestId('cart-line').count()).toBe(2);
  });

  let confirmedOrderId: string;
  it('when checking out with tok_visa, then the order is CONFIRMED with its saga, and the trace shown is the click', async () => {
    confirmedOrderId = await placeOrder('tok_visa');
    await expect.poll(() => page.getByTestId('order-status').textContent(), { timeout: 30_000 }).toBe('CONFIRMED');
    await expect.poll(() => page.getByTestId('saga-payment').getAttribute('data-value'), { timeout: 30_000 }).toBe('CHARGED');
    await expect.poll(() => page.getByTestId('saga-notification').getAttribute('data-value'), { timeout: 30_000 }).toContain('order-confirmed');
    expect(await page.getByTestId('saga-stock').getAttribute('data-value')).not.toBe('PENDING');
    expect(await page.getByTestId('timeline').locator('li').count()).toBeGreaterThanOrEqual(3);
    const traceId = (await page.getByTestId('order-trace-id').textContent()) ?? '';
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    // "See this trace": a link per template of /api/config, filled with this trace id.
    const links = await Promise.all((await page.locator('p.trace').first().locator('a').all()).map((a) => a.getAttribute('href')));
    expect(links).toHaveLength(2);
    expect(links).toContain(`${JAEGER_URL}/api/traces/${traceId}`);
    expect(links.some((href) => href?.startsWith(`${LOGS_URL}/select/vmui/#/?query=`) && href.includes(traceId))).toBe(true);

    // The POST carried the click's trace in its traceparent...
    expect(orderPosts.at(-1)?.traceparent?.split('-')[1]).toBe(traceId);
    // ...and the browser's `checkout` span (exported through the gateway's pass-through) started this very trace...
    const spans = await eventually(
      async () => spansOf(traceId),
      (s) => s.some((span) => span.service === 'storefront' && span.name === 'checkout') && s.some((span) => span.service === 'notification'),
      30_000,
    );
    const checkout = spans.find((s) => s.service === 'storefront' && s.name === 'checkout') as ReceivedSpan;
    expect(checkout.parentSpanId).toBeUndefined();
    // ...its fetch span carried traceparent to the gateway, whose server span is the fetch span's child.
    const fetchSpan = spans.find((s) => s.service === 'storefront' && s.parentSpanId === checkout.spanId);
    expect(fetchSpan?.name).toMatch(/POST/);
    expect(spans.some((s) => s.service === 'gateway' && s.parentSpanId === fetchSpan?.spanId)).toBe(true);

    // ...and the gateway and the notification service logged it.
    await eventually(
      async () => ['gateway', 'notification'].filter((p) => logLines(p).some((line) => line.includes(`"trace_id":"${traceId}"`))),
      (found) => found.length === 2,
      15_000,
    );
    await page.screenshot({ path: join(OUTPUT, 'order.png'), fullPage: true });
  });

  it('when the asOf slider moves to the placing, then the order shows PENDING as it was before confirmation', async () => {
    expect(page.url()).toContain(confirmedOrderId);
    const slider = page.getByTestId('asof-slider');
    await slider.focus();
    await page.keyboard.press('Home');
    await expect.poll(() => page.getByTestId('asof-status').textContent()).toBe('PENDING');
    await page.keyboard.press('End');
    await page.getByText('Now: showing the order as it is.').waitFor();
  });

  it('when checking out with tok_chargeDeclined, then the order is CANCELLED and the stock comes back', async () => {
    const productId = 'gooseneck-kettle';
    const before = await stockOf(productId);
    await addToCartFromProductPage(productId);
    await placeOrder('tok_chargeDeclined');
    await expect.poll(() => page.getByTestId('order-status').textContent(), { timeout: 30_000 }).toBe('CANCELLED');
    expect(await page.getByTestId('order-reason').textContent()).toContain('payment declined');
    await page.goto(`${base()}/products/${productId}`);
    await expect.poll(() => page.getByTestId('stock-available').textContent(), { timeout: 20_000 }).toBe(String(before));
  });

  it('when Place order is double-clicked, then one order is placed', async () => {
    const before = await orderCount();
    const postsBefore = orderPosts.length;
    await addToCartFromProductPage('release-it');
    await placeOrder('tok_visa', 'dblclick');
    await expect.poll(orderCount, { timeout: 10_000 }).toBe(before + 1);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await orderCount()).toBe(before + 1);
    // Whatever reached the gateway carried this attempt's one key, and a key no earlier checkout used.
    const keys = new Set(orderPosts.slice(postsBefore).map((p) => p.key));
    expect(keys.size).toBe(1);
    const [key] = keys;
    expect(key).toMatch(/^[A-Za-z0-9_.:-]{1,200}$/);
    expect(orderPosts.slice(0, postsBefore).map((p) => p.key)).not.toContain(key);
  });

  it('when notifications open, then the confirmed and the cancelled orders are there', async () => {
    await page.goto(`${base()}/notifications`);
    await expect.poll(() => page.getByTestId('notification').count(), { timeout: 15_000 }).toBeGreaterThanOrEqual(2);
  });

  it('when the pages so far were visited, then the console had no errors and every API call carried traceparent', () => {
    expect(consoleErrors.unexpected()).toEqual([]);
    expect(untraced).toEqual([]);
  });

  it('when payment is broken from the fault panel, then checkout answers 503 fast with Retry-After while browsing works', async () => {
    await page.goto(`${base()}/faults`);
    await page.getByLabel('Admin token').fill(stack.adminToken);
    await page.getByRole('button', { name: 'Use for this tab' }).click();
    expect(await page.evaluate(`localStorage.getItem('tracemart.adminToken')`)).toBeNull();
    await page.getByRole('button', { name: 'Break payment for 60 s' }).click();
    const fault = page.locator('[data-testid="fault"][data-service="payment"]');
    await fault.waitFor();
    expect(await fault.getByTestId('fault-remaining').textContent()).toMatch(/^\d+ (min \d{2} )?s left$/);
    await page.screenshot({ path: join(OUTPUT, 'fault-panel.png'), fullPage: true });

    // The gateway refuses checkout once its payment probe has failed twice (500 ms apart): an empty order shows when.
    const shopper = apiClient(base(), await tokenOf());
    await eventually(
      async () => (await shopper.post('/api/orders', { items: [], paymentToken: 'tok_visa' })).status,
      (s) => s === 503,
      15_000,
    );

    await addToCartFromProductPage('release-it');
    await page.goto(`${base()}/cart`);
    const started = Date.now();
    await page.getByRole('button', { name: 'Place order' }).click();
    const notice = page.getByTestId('error');
    await notice.waitFor();
    // Refused at once by the gateway's payment gate, not after the 10 s request deadline (slack for a busy machine).
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await notice.getAttribute('data-status')).toBe('503');
    expect(await notice.textContent()).toContain('Payments are unavailable right now');
    expect(await notice.getByTestId('trace-id').textContent()).toMatch(/^[0-9a-f]{32}$/);
    // Retry-After (5 s): the button waits.
    expect(await page.getByRole('button', { name: /Place order \(in \d s\)/ }).isDisabled()).toBe(true);

    await page.goto(`${base()}/`);
    await page.getByText('Page 1 of 5').waitFor();

    await page.goto(`${base()}/faults`);
    await page.getByRole('button', { name: 'Clear all faults' }).click();
    await page.getByTestId('no-faults').waitFor();
    expect(consoleErrors.unexpected(EXPECTED_503)).toEqual([]);
  });

  it('when the window is 375 px wide, then catalog, cart and order fit without sideways scrolling and the header is keyboard reachable', async () => {
    const narrow = await browser.context.newPage();
    const narrowConsole = watchConsole(narrow);
    await narrow.setViewportSize({ width: 375, height: 800 });
    for (const path of ['/', '/cart', `/orders/${confirmedOrderId}`, '/faults']) {
      await narrow.goto(`${base()}${path}`);
      await narrow.locator('main h1').first().waitFor();
      expect(await narrow.evaluate('document.documentElement.scrollWidth'), path).toBeLessThanOrEqual(375);
    }
    await narrow.goto(`${base()}/`);
    await narrow.getByTestId('product').first().waitFor();
    await narrow.keyboard.press('Tab');
    expect(await narrow.evaluate('document.activeElement?.textContent')).toBe('Skip to content');
    await narrow.keyboard.press('Tab');
    await narrow.keyboard.press('Tab');
    await narrow.keyboard.press('Tab');
    await narrow.keyboard.press('Enter');
    await narrow.waitForURL(/\/cart$/);
    await narrow.close();
    expect(narrowConsole.unexpected()).toEqual([]);
  });
});
