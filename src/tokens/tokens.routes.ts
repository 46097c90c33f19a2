import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { actorOf, BEARER_SECURITY } from '../http/auth.js';
import { AUTHENTICATED_ERRORS, envelope, ok, problems } from '../http/schemas.js';
import { SCOPES } from './scopes.js';
import type { TokenService } from './tokens.service.js';

const ScopeSchema = Type.Enum([...SCOPES], { description: 'A scope of DESIGN §4' });

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
  },
  { $id: 'Token' },
);

const TokenIdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

const CreateTokenBody = Type.Object(
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
  },
  { additionalProperties: false },
);

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
          security: BEARER_SECURITY,
          body: CreateTokenBody,
          response: {
            201: envelope(Type.Intersect([Type.Ref('Token'), Type.Object({ token: Type.String() })])),
            ...problems(...AUTHENTICATED_ERRORS),
          },
        },
      },
      async (request, reply) => {
        const body = request.body;
        const { token, view } = await deps.tokens.create(
          { name: body.name, email: body.email, scopes: body.scopes, expiresAt: body.expires_at ? new Date(body.expires_at) : undefined },
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
          security: BEARER_SECURITY,
          querystring: Type.Object({ include_revoked: Type.Boolean({ default: false }) }, { additionalProperties: false }),
          response: {
            200: envelope(Type.Object({ tokens: Type.Array(Type.Ref('Token')) })),
            ...problems(...AUTHENTICATED_ERRORS),
          },
        },
      },
      async (request) => ok({ tokens: await deps.tokens.list({ includeRevoked: request.query.include_revoked }) }),
    );

    app.get(
      '/api/v2/tokens/:id',
      {
        config: { scope: 'admin' },
        schema: {
          operationId: 'getToken',
          tags: ['Tokens'],
          summary: 'Get one API token (never the token itself)',
          security: BEARER_SECURITY,
          params: TokenIdParams,
          response: { 200: envelope(Type.Ref('Token')), ...problems(...AUTHENTICATED_ERRORS, 404) },
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
          security: BEARER_SECURITY,
          params: TokenIdParams,
          response: { 200: envelope(Type.Ref('Token')), ...problems(...AUTHENTICATED_ERRORS, 404, 409) },
        },
      },
      async (request) => ok(await deps.tokens.revoke(request.params.id, actorOf(request))),
    );
  };
}
