import { stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import express, { Router, type NextFunction, type Request, type Response } from 'express';

/**
 * The storefront (the Vite build in STOREFRONT_DIR) at `/`:
 * - files as they are; `assets/*` carry a content hash in their names, so they are cached for a year as immutable,
 *   and everything else (index.html first) is revalidated on every load, so a new build shows at once;
 * - the SPA fallback: a browser navigating to a client-side route (`/orders/<id>`, a reload, a bookmark) gets
 *   index.html, but only a GET or HEAD that asks for text/html outside the server's own paths (the API, admin,
 *   OTLP, probes) and outside `assets/`: a missing script stays a 404, never HTML;
 * - no build (the folder or its index.html is missing): 503 "storefront not built", not cached, while the API keeps
 *   working. 503 rather than 404: the page exists, this server cannot serve it until the build is there (a 404 may
 *   be cached by browsers, and would linger after `npm run build`).
 * Traversal: the platform refuses `.`/`..` segments and control characters (NUL included) before any route, and
 * serve-static resolves every path inside the folder (403 otherwise); dotfiles are not served.
 */

/** Paths the server answers itself: never the shop's, never the SPA fallback. */
const SERVER_PATHS = ['/api', '/admin', '/otlp', '/livez', '/readyz', '/metrics'];
const ASSETS = '/assets/';

/**
 * The shop's own security headers. The Vite build loads only same-origin module scripts and stylesheets (no inline
 * script), calls only its own origin (the API and /otlp), and opens Grafana or the logs UI by plain links, which
 * connect-src does not govern. Inline style attributes are refused too: React sets styles through the DOM, which CSP
 * allows.
 */
export const STOREFRONT_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const IMMUTABLE = 'public, max-age=31536000, immutable';

const isServerPath = (path: string) => SERVER_PATHS.some((prefix) => path === prefix || path.startsWith(`${prefix}/`));
/** Asked for by a browser as a page: `Accept` names text/html itself (a fetch's `*∕*` does not count). */
const wantsPage = (req: Request) => /(^|,)\s*text\/html\s*(;|,|$)/i.test(req.header('accept') ?? '') && Boolean(req.accepts('html'));

function securityHeaders(res: Response): void {
  res.setHeader('content-security-policy', STOREFRONT_CSP);
  res.setHeader('referrer-policy', 'same-origin');
  res.setHeader('x-frame-options', 'DENY');
  res.setHeader('cross-origin-opener-policy', 'same-origin');
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

function notBuilt(req: Request, res: Response, dir: string): void {
  res.status(503).setHeader('cache-control', 'no-store');
  const message = 'storefront not built: run npm run build';
  if (wantsPage(req)) {
    res.type('html').send(`<!doctype html>\n<meta charset="utf-8">\n<title>tracemart</title>\n<p>${message} (looked in ${escapeHtml(dir)}). The API at /api works.</p>\n`);
    return;
  }
  res.json({ error: { code: 'STOREFRONT.NOT_BUILT', message } });
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function storefront(options: { dir: string }): Router {
  const { dir } = options;
  const index = join(dir, 'index.html');
  const assets = join(dir, 'assets') + sep;
  const router = Router();
  const files = express.static(dir, {
    index: ['index.html'],
    redirect: false,
    dotfiles: 'ignore',
    fallthrough: true,
    cacheControl: false,
    setHeaders: (res, path) => {
      res.setHeader('cache-control', path.startsWith(assets) ? IMMUTABLE : 'no-cache');
    },
  });

  router.use((req: Request, res: Response, next: NextFunction) => {
    if (isServerPath(req.path)) return next();
    securityHeaders(res);
    files(req, res, next);
  });
  router.use(async (req: Request, res: Response, next: NextFunction) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    if (isServerPath(req.path) || req.path.startsWith(ASSETS)) return next();
    const page = wantsPage(req);
    if (req.path !== '/' && !page) return next();
    if (!(await isFile(index))) return notBuilt(req, res, dir);
    if (!page) return next();
    res.setHeader('cache-control', 'no-cache');
    res.sendFile(index, { cacheControl: false, dotfiles: 'deny' }, (err) => {
      if (err) next(err);
    });
  });
  return router;
}
