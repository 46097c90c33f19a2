import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type, { type Static } from 'typebox';
import { actorOf, BEARER_SECURITY } from '../http/auth.js';
import { EXAMPLE } from '../http/example-values.js';
import { AUTHENTICATED_ERRORS, envelope, ok, problems, withExamples } from '../http/schemas.js';
import { SCOPES } from './scopes.js';
import type { TokenService } from './tokens.service.js';

const ScopeSchema = Type.Enum([...SCOPES], { description: 'A permission a token grants: `admin` implies every other, each `…write` scope its `…read`' });

const TokenView = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    name: Type.String(),
    email: Type.Union([Type.String(), Type.Null()]),
    token_prefix: Type.String({ description: 'The first characters of the token' }),
    scopes: Type.Array(ScopeSchema),
    created_by: Type.Union([Type.String(), Type.Null()]),
    created_at: Type.String({ format: 'date-time' }),
    expires_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    last_used_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    revoked_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    instance: Type.Union([Type.String(), Type.Null()], {
      description: 'Set: the token acts for this one instance only (reads it, polls its releases, reports its deployments)',
    }),
  },
  { $id: 'Token' },
);

const TokenIdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

const CreateTokenBody = withExamples(
  Type.Object(
    {
      name: Type.String({
        minLength: 1,
        maxLength: 100,
        pattern: '^[A-Za-z0-9][A-Za-z0-9 ._@-]*$',
        description: 'Who uses it: the author of its commits and the actor of its audit events',
      }),
      email: Type.Optional(Type.String({ format: 'email', maxLength: 254, description: 'Commit author e-mail' })),
      scopes: Type.Array(ScopeSchema, { minItems: 1, maxItems: SCOPES.length }),
      expires_at: Type.Optional(Type.String({ format: 'date-time' })),
      instance: Type.Optional(
        Type.String({
          pattern: '^[a-z0-9][a-z0-9_-]{0,62}$',
          description:
            'Bind the token to one instance: it may report that instance\u2019s deployments and read only that instance; its scopes may then be source_control:read only',
        }),
      ),
    },
    { additionalProperties: false },
  ),
  { name: EXAMPLE.actor, email: 'release-bot@example.com', scopes: ['source_control:releases_write'], expires_at: '2027-06-30T00:00:00Z' },
);

const TOKEN_EXAMPLE: Static<typeof TokenView> = {
  id: EXAMPLE.token,
  name: EXAMPLE.actor,
  email: 'release-bot@example.com',
  token_prefix: 'mir_RgP8_8',
  scopes: ['source_control:releases_write'],
  created_by: 'admin',
  created_at: EXAMPLE.at,
  expires_at: '2027-06-30T00:00:00.000Z',
  last_used_at: EXAMPLE.later,
  revoked_at: null,
  instance: null,
};
const CREATED_EXAMPLE = { ...TOKEN_EXAMPLE, last_used_at: null, token: 'mir_RgP8_8D-Xp1UOnkLGhI5oUJofsGo8AuCgwG9uHsW_9Q' };

export const tokenSchemas = [TokenView];

export function tokenRoutes(deps: { tokens: TokenService }): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/api/v2/tokens',
      {
        config: { scope: 'admin' },
        schema: {
          operationId: 'createToken',
          tags: ['Tokens'],
          summary: 'Create an API token; the token is returned once, only here',
          description:
            'The token (`mir_…`) is in this answer and nowhere else: only its sha256 is stored. Its `name` is the author of the commits it makes and the actor of its audit events. Scopes: source_control:releases_read, source_control:releases_write (implies the read scope), source_control:read, source_control:write (implies read), admin (everything). With `instance`, the token acts for that one instance only: an instance holds it to poll its releases and report its deployments.',
          security: BEARER_SECURITY,
          body: CreateTokenBody,
          response: {
            201: envelope(Type.Intersect([Type.Ref('Token'), Type.Object({ token: Type.String({ description: 'The bearer token: shown this once' }) })]), {
              description: 'The token, with the secret itself',
              example: { success: true, data: CREATED_EXAMPLE },
            }),
            ...problems(...AUTHENTICATED_ERRORS),
          },
        },
      },
      async (request, reply) => {
        const body = request.body;
        const { token, view } = await deps.tokens.create(
          {
            name: body.name,
            email: body.email,
            scopes: body.scopes,
            expiresAt: body.expires_at ? new Date(body.expires_at) : undefined,
            instance: body.instance,
          },
          actorOf(request),
        );
        return reply.code(201).send(ok({ ...view, token }));
      },
    );

    app.get(
      '/api/v2/tokens',
      {
        config: { scope: 'admin' },
        schema: {
          operationId: 'listTokens',
          tags: ['Tokens'],
          summary: 'List API tokens (never the tokens themselves)',
          description: 'Newest first; revoked tokens only with include_revoked=true. `token_prefix` tells tokens apart; the secret is never shown again.',
          security: BEARER_SECURITY,
          querystring: Type.Object(
            { include_revoked: Type.Boolean({ default: false, description: 'List revoked tokens too' }) },
            { additionalProperties: false },
          ),
          response: {
            200: envelope(Type.Object({ tokens: Type.Array(Type.Ref('Token')) }), {
              description: 'The tokens',
              example: { success: true, data: { tokens: [TOKEN_EXAMPLE] } },
            }),
            ...problems(...AUTHENTICATED_ERRORS),
          },
        },
      },
      async (request) => ok({ tokens: await deps.tokens.list({ includeRevoked: request.query.include_revoked }) }),
    );

    // A static path: the router prefers it to /api/v2/tokens/:id, so `current` is never taken for an id.
    app.get(
      '/api/v2/tokens/current',
      {
        config: { authenticated: true },
        schema: {
          operationId: 'getCurrentToken',
          tags: ['Tokens'],
          summary: 'The token this request presents: its name, scopes, instance and expiry',
          description:
            'Any valid token may read itself, whatever its scopes (no `admin` needed): a dashboard shows only the actions its token allows. The same `Token` as GET /api/v2/tokens/{id}, never the secret. 401 without a valid token.',
          security: BEARER_SECURITY,
          response: {
            200: envelope(Type.Ref('Token'), { description: 'The presented token', example: { success: true, data: TOKEN_EXAMPLE } }),
            ...problems(...AUTHENTICATED_ERRORS.filter((code) => code !== 'forbidden')),
          },
        },
      },
      async (request) => ok(await deps.tokens.get(actorOf(request).tokenId!)),
    );

    app.get(
      '/api/v2/tokens/:id',
      {
        config: { scope: 'admin' },
        schema: {
          operationId: 'getToken',
          tags: ['Tokens'],
          summary: 'Get one API token (never the token itself)',
          description: 'Its scopes, expiry, when it was last used (updated at most once a minute) and whether it is revoked.',
          security: BEARER_SECURITY,
          params: TokenIdParams,
          response: {
            200: envelope(Type.Ref('Token'), { description: 'The token', example: { success: true, data: TOKEN_EXAMPLE } }),
            ...problems(...AUTHENTICATED_ERRORS, 'token_not_found'),
          },
        },
      },
      async (request) => ok(await deps.tokens.get(request.params.id)),
    );

    app.delete(
      '/api/v2/tokens/:id',
      {
        config: { scope: 'admin' },
        schema: {
          operationId: 'revokeToken',
          tags: ['Tokens'],
          summary: 'Revoke an API token; it answers 401 from then on',
          description:
            'At once in this process, within 10 s in the others (a verified token is trusted that long). Revoking is audited and cannot be undone: create a new token instead. 409 token_revoked when it is revoked already.',
          security: BEARER_SECURITY,
          params: TokenIdParams,
          response: {
            200: envelope(Type.Ref('Token'), {
              description: 'The token, revoked',
              example: { success: true, data: { ...TOKEN_EXAMPLE, revoked_at: '2026-12-01T08:00:00.000Z' } },
            }),
            ...problems(...AUTHENTICATED_ERRORS, 'token_not_found', 'token_revoked'),
          },
        },
      },
      async (request) => ok(await deps.tokens.revoke(request.params.id, actorOf(request))),
    );
  };
}
