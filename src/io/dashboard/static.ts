/**
 * Serves the dashboard page and its scripts from this directory (src/ in development, dist/ after
 * the build copies the assets), plus msgpackr's browser build from node_modules: nothing comes
 * from a CDN, so the page works on a machine without internet access.
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const msgpackrDist = dirname(createRequire(import.meta.url).resolve('msgpackr'));

const ROUTES: Record<string, { file: string; type: string }> = {
  '/': { file: join(here, 'index.html'), type: 'text/html; charset=utf-8' },
  '/dashboard.css': { file: join(here, 'dashboard.css'), type: 'text/css; charset=utf-8' },
  '/app.js': { file: join(here, 'app.js'), type: 'text/javascript; charset=utf-8' },
  '/favicon.svg': { file: join(here, 'favicon.svg'), type: 'image/svg+xml' },
  // Browsers ask for /favicon.ico whatever the page links; the same icon answers.
  '/favicon.ico': { file: join(here, 'favicon.svg'), type: 'image/svg+xml' },
  // The no-eval build: the page's content security policy forbids eval.
  '/vendor/msgpackr.js': {
    file: join(msgpackrDist, 'index-no-eval.min.js'),
    type: 'text/javascript; charset=utf-8',
  },
};

/** The files are small and fixed: read once, on first request. */
const cache = new Map<string, Buffer>();

export function serveDashboardAsset(request: IncomingMessage, response: ServerResponse): boolean {
  if (request.method !== 'GET' && request.method !== 'HEAD') return false;
  const path = new URL(request.url ?? '/', 'http://localhost').pathname;
  const route = ROUTES[path === '/index.html' ? '/' : path];
  if (route === undefined) return false;
  let body = cache.get(route.file);
  if (body === undefined) {
    body = readFileSync(route.file);
    cache.set(route.file, body);
  }
  response.writeHead(200, {
    'content-type': route.type,
    'content-length': body.byteLength,
    'cache-control': 'no-cache',
    'content-security-policy':
      "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self'; script-src 'self'",
    'x-content-type-options': 'nosniff',
  });
  response.end(request.method === 'HEAD' ? undefined : body);
  return true;
}
