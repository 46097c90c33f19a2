// Bearer authentication and scopes. A route declares the scope it needs in its options
// (`config: { scope: 'source_control:releases_read' }`), or `config: { authenticated: true }` when
// any valid token will do whatever its scopes (GET /api/v2/tokens/current: a token reading itself);
// routes with neither are public (health, metrics, docs). Authentication runs on `onRequest`, before the body is read or validated, so an
// unauthenticated caller learns nothing about the input rules.
//
// A token bound to an instance (`instance` on the token) may use only routes about an instance
// (`config.instance` names the path parameter) and only for its own; on routes marked `report` it
// needs no scope at all: reporting its own deployments is what it exists for.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Actor } from '../audit/audit.service.js';
import { errors } from '../errors.js';
import { grants, type Scope } from '../tokens/scopes.js';
import type { Principal, TokenService } from '../tokens/tokens.service.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The scope a route needs. Unset (and no `authenticated`): the route is public. */
    scope?: Scope;
    /** Any valid token, of any scopes and any instance, may call the route; none may not. */
    authenticated?: true;
    /** The route is about the instance in this path parameter; `report`: its own token may call it without `scope`. */
    instance?: { readonly param: string; readonly report?: boolean };
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
}

export const BEARER_SECURITY = [{ bearerAuth: [] }];
/** A public route's: no token, said so in the document rather than left unsaid. */
export const PUBLIC_SECURITY: { bearerAuth: never[] }[] = [];

export function registerAuth(app: FastifyInstance, tokens: TokenService): void {
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (request) => {
    const required = request.routeOptions.config?.scope;
    if (!required) {
      if (request.routeOptions.config?.authenticated) request.principal = await authenticate(request, tokens);
      return;
    }
    const principal = await authenticate(request, tokens);
    const about = request.routeOptions.config.instance;
    if (principal.instance !== null) {
      const params = request.params as Record<string, string | undefined>;
      if (!about || params[about.param] !== principal.instance) throw errors.instanceForbidden(principal.instance);
      if (!about.report && !grants(principal.scopes, required)) throw errors.forbidden(required);
    } else if (!grants(principal.scopes, required)) throw errors.forbidden(required);
    request.principal = principal;
  });
}

/** The bearer token of a request (authenticated already, or 401). */
export function bearerOf(request: FastifyRequest): string {
  const header = request.headers.authorization;
  if (!header) throw errors.unauthorized();
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) throw errors.unauthorized('The Authorization header must be "Bearer <token>"');
  return match[1]!;
}

async function authenticate(request: FastifyRequest, tokens: TokenService): Promise<Principal> {
  const principal = await tokens.authenticate(bearerOf(request));
  if (!principal) throw errors.unauthorized('The bearer token is unknown, expired or revoked');
  return principal;
}

/** The actor of an authenticated request: commit author and audit actor. */
export function actorOf(request: FastifyRequest): Actor {
  const principal = request.principal;
  if (!principal) throw errors.internal(`actorOf called on the public route ${request.routeOptions.url}`);
  return { name: principal.name, email: principal.email, tokenId: principal.tokenId, requestId: request.id };
}
