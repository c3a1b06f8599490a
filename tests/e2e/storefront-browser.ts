import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type ConsoleMessage, type Page } from 'playwright-core';

/**
 * Debian's Chromium driven by playwright-core (no browser download): headless, no sandbox (containers), no GPU,
 * and none of Chromium's own network chatter, with a fresh profile per run.
 */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-quic',
  '--disable-sync',
];

export interface Browser {
  context: BrowserContext;
  close: () => Promise<void>;
}

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: run bash scripts/setup.sh --all (installs Debian's chromium)`);
  const profile = mkdtempSync(join(tmpdir(), 'tracemart-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
    headless: true,
    viewport: { width: 1280, height: 900 },
    timeout: 60_000,
  });
  return {
    context,
    close: async () => {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * What the page said on its console at level error, and the exceptions it did not catch. Chromium also reports a
 * failed request ("Failed to load resource: ... status of 503") there: a test that provokes one says which it expects.
 */
export function watchConsole(page: Page): { errors: string[]; unexpected: (expected?: RegExp) => string[] } {
  const errors: string[] = [];
  page.on('console', (message: ConsoleMessage) => {
    if (message.type() === 'error') errors.push(`${message.text()} (${message.location().url})`);
  });
  page.on('pageerror', (error) => errors.push(`uncaught: ${error.message}`));
  return { errors, unexpected: (expected) => errors.filter((e) => !expected || !expected.test(e)) };
}

/** Builds the storefront into `outDir` (the test serves its own build: the current source, not a stale dist). */
export function buildStorefront(root: string, outDir: string): void {
  execFileSync('npx', ['vite', 'build', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'], {
    cwd: join(root, 'storefront'),
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, NODE_ENV: 'production' },
    timeout: 120_000,
  });
}
