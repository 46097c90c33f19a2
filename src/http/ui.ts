// The release dashboard at /ui/: the files `npm run build` writes to build/ui (scripts/build-ui.mjs),
// served by @fastify/static, and nothing else. The page calls mir only through the public API with
// the token its user pastes, as any remote dashboard would; this module adds no route of its own
// beyond the files. Its answers carry a strict Content-Security-Policy (no inline script, no other
// origin), nosniff and no referrer; index.html is revalidated on every load (no-cache) while the
// assets it names (with a content hash in the query) may be cached. Not an API route: hidden from
// the OpenAPI document. When the directory holds no index.html, /ui/ answers a 404 problem saying
// to build it, and start-up logs one warning.
import { existsSync } from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { errors } from '../errors.js';
import type { Logger } from '../logger.js';
import { sendProblem } from './error-handler.js';

export const UI_PREFIX = '/ui/';

/** What the browser may do on /ui/: scripts, styles, images and fetches from this origin only. */
export const UI_CSP = [
  "default-src 'self'",
  "connect-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': UI_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

export async function registerUi(app: FastifyInstance, uiDir: string, logger: Logger): Promise<void> {
  // The router ignores trailing slashes, so `/ui` would otherwise be served as `/ui/` and the
  // page's relative URLs would resolve against `/`.
  app.addHook('onRequest', (request, reply, done) => {
    const [pathname, query] = splitUrl(request.url);
    if (pathname === '/ui') return void reply.redirect(`${UI_PREFIX}${query}`, 308);
    if (pathname.startsWith(UI_PREFIX)) reply.headers(SECURITY_HEADERS);
    done();
  });
  if (!existsSync(path.join(uiDir, 'index.html'))) {
    logger.warn({ ui_dir: uiDir }, 'the dashboard is not built: /ui/ answers 404 until `npm run build` writes it');
    const notBuilt = errors.uiNotBuilt();
    for (const url of [UI_PREFIX, `${UI_PREFIX}*`]) app.get(url, { schema: { hide: true } }, (request, reply) => sendProblem(request, reply, notBuilt));
    return;
  }
  await app.register(async (ui) => {
    await ui.register(fastifyStatic, {
      root: uiDir,
      prefix: UI_PREFIX,
      // Only inside this plugin (@fastify/swagger-ui registers its own instance, undecorated).
      decorateReply: true,
      index: false,
      wildcard: true,
      schemaHide: true,
      cacheControl: false,
      setHeaders: (reply, file) => {
        reply.header('cache-control', path.basename(file) === 'index.html' ? 'no-cache' : 'public, max-age=86400');
      },
    });
    // The router ignores trailing slashes, so the wildcard never sees `/ui/`: the page itself.
    ui.get(UI_PREFIX, { schema: { hide: true } }, (_request, reply) => reply.sendFile('index.html'));
  });
}

function splitUrl(url: string): [string, string] {
  const at = url.indexOf('?');
  return at === -1 ? [url, ''] : [url.slice(0, at), url.slice(at)];
}
