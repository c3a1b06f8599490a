import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from 'vite';
import { BUNDLE_BUDGET_BYTES, measureBundle } from '../bundle-size.ts';

/** Builds the storefront for production into a scratch folder (not storefront/dist, which a running gateway may serve) and measures it. */
const root = resolve(__dirname, '..');
let outDir: string;

beforeAll(async () => {
  outDir = mkdtempSync(join(tmpdir(), 'tracemart-storefront-build-'));
  // Vitest sets NODE_ENV=test, which would make Vite bundle React's development build: build as `npm run build` does.
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({ root, configFile: join(root, 'vite.config.ts'), mode: 'production', logLevel: 'silent', build: { outDir, emptyOutDir: true } });
  } finally {
    if (nodeEnv === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = nodeEnv;
  }
}, 120_000);

afterAll(() => {
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

describe('storefront production build', () => {
  it('when built, then its JavaScript is at most 250 KB gzipped', () => {
    const { gzipBytes, files } = measureBundle(outDir);
    expect(files.length).toBeGreaterThan(0);
    expect(gzipBytes).toBeGreaterThan(10 * 1024); // React alone is more: a broken measurement must not pass.
    expect(gzipBytes).toBeLessThanOrEqual(BUNDLE_BUDGET_BYTES);
  });

  it('when built, then index.html loads hashed assets the gateway can cache forever', () => {
    const html = readFileSync(join(outDir, 'index.html'), 'utf8');
    const scripts = [...html.matchAll(/src="\/assets\/([^"]+\.js)"/g)].map((m) => m[1]);
    expect(scripts.length).toBe(1);
    for (const name of scripts) {
      expect(name).toMatch(/-[A-Za-z0-9_-]{8}\.js$/);
      expect(existsSync(join(outDir, 'assets', name as string))).toBe(true);
    }
  });

  it('when built, then no source map or admin credential ships', () => {
    const assets = readdirSync(join(outDir, 'assets'));
    expect(assets.filter((n) => n.endsWith('.map'))).toEqual([]);
    const js = assets.filter((n) => n.endsWith('.js')).map((n) => readFileSync(join(outDir, 'assets', n), 'utf8'));
    // The fault panel's token is typed by the operator: the bundle only names the header and the storage key.
    for (const text of js) expect(text).not.toMatch(/ADMIN_TOKEN|admin-token=/);
  });
});
