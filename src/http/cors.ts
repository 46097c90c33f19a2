// Calls from pages on other origins (release dashboards), for the origins MIR_CORS_ORIGINS lists;
// with none listed nothing is registered and the service answers as it always did. @fastify/cors
// answers a preflight in its own onRequest hook, so an OPTIONS (which a browser sends without the
// token) never reaches authentication, the start-up gate or the input checks, as long as this is
// registered before them.
import cors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];
/** The bearer token, JSON bodies, conditional writes and reads, and a caller's own request id. */
const ALLOWED_HEADERS = ['Authorization', 'Content-Type', 'If-Match', 'If-None-Match', 'X-Request-Id'];
/**
 * The answer headers the service sets that a page cannot read unless told (Cache-Control and
 * Content-Type are readable anyway): the commit or content ETag, the request id, Retry-After on
 * every 503, and an artifact's file name.
 */
const EXPOSED_HEADERS = ['ETag', 'x-request-id', 'Retry-After', 'Content-Disposition'];
/** Chromium keeps a preflight at most 2 hours (Firefox 24): one preflight per URL and origin per 2 hours. */
const MAX_AGE_SECONDS = 7200;

export async function registerCors(app: FastifyInstance, origins: readonly string[]): Promise<void> {
  if (origins.length === 0) return;
  const listed = new Set(origins);
  await app.register(cors, {
    // A function rather than the list itself: for an origin not listed the plugin then stands aside
    // entirely (no Access-Control-* header, and an OPTIONS is the usual 404), where with a list it
    // would still answer the preflight 204 and send Access-Control-Expose-Headers.
    origin: (origin, callback) => callback(null, origin !== undefined && listed.has(origin)),
    methods: METHODS,
    allowedHeaders: ALLOWED_HEADERS,
    exposedHeaders: EXPOSED_HEADERS,
    maxAge: MAX_AGE_SECONDS,
    // Tokens travel in Authorization, never in cookies: pages need no credentials mode.
    credentials: false,
    // Strict mode answers an OPTIONS without Access-Control-Request-Method with a text/plain 400,
    // outside the problem catalog; such a request (not a preflight) gets the preflight answer instead.
    strictPreflight: false,
  });
}
