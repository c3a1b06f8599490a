import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

/** The production bundle's budget: gzipped JavaScript, all chunks together (issue 15). */
export const BUNDLE_BUDGET_BYTES = 250 * 1024;

export interface BundleSize {
  files: { name: string; gzipBytes: number }[];
  gzipBytes: number;
}

/** Gzipped size (level 9, as a CDN would send it) of every JavaScript file under `<distDir>/assets`. */
export function measureBundle(distDir: string): BundleSize {
  const assets = join(distDir, 'assets');
  const files = readdirSync(assets)
    .filter((name) => name.endsWith('.js'))
    .map((name) => ({ name, gzipBytes: gzipSync(readFileSync(join(assets, name)), { level: 9 }).length }));
  return { files, gzipBytes: files.reduce((sum, f) => sum + f.gzipBytes, 0) };
}

export const formatKiB = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KB`;
