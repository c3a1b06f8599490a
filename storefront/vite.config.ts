import { resolve } from 'node:path';
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';
import { BUNDLE_BUDGET_BYTES, formatKiB, measureBundle } from './bundle-size.ts';

/** Prints the number the budget is about (gzipped JavaScript, all chunks) after every production build. */
function bundleBudget(): Plugin {
  let outDir = 'dist';
  return {
    name: 'tracemart-bundle-budget',
    apply: 'build',
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir);
    },
    closeBundle() {
      const { gzipBytes } = measureBundle(outDir);
      const verdict = gzipBytes <= BUNDLE_BUDGET_BYTES ? 'within' : 'OVER';
      process.stdout.write(`storefront bundle: ${formatKiB(gzipBytes)} of gzipped JavaScript (${verdict} the ${formatKiB(BUNDLE_BUDGET_BYTES)} budget)\n`);
    },
  };
}

/** `npm run dev -w @tracemart/storefront` proxies the API to a running gateway (GATEWAY_URL, default :8080). */
const gateway = process.env.GATEWAY_URL ?? 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [react(), bundleBudget()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, target: 'es2022' },
  server: {
    host: '127.0.0.1',
    proxy: { '/api': gateway, '/otlp': gateway, '/admin': gateway },
  },
});
