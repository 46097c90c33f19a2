import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { actorOf, BEARER_SECURITY } from '../http/auth.js';
import {
  AUTHENTICATED_ERRORS,
  CommitSha,
  ElementType,
  envelope,
  ifNoneMatch,
  ManifestName,
  NotModified,
  ok,
  problems,
  ReleaseRef,
  Uuid,
} from '../http/schemas.js';
import type { InstanceService } from './instances.service.js';

const TAGS = ['Instances'];
const READ = { scope: 'source_control:read' } as const;
const WRITE = { scope: 'source_control:write' } as const;
const BASE = '/api/v2/source_control/instances';

const InstanceName = Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,62}$', description: 'An instance name: same rule as manifest names' });
const Description = Type.String({ maxLength: 1000 });
const Url = Type.Union([Type.String({ format: 'uri', maxLength: 2000 }), Type.Null()], { description: 'Where the instance runs' });

const Instance = Type.Object(
  {
    name: InstanceName,
    description: Type.String(),
    url: Type.Union([Type.String(), Type.Null()]),
    manifest: Type.Union([Type.String(), Type.Null()], { description: 'The manifest it follows; null: unbound' }),
    created_by: Type.String(),
    created_at: Type.String({ format: 'date-time' }),
    updated_at: Type.String({ format: 'date-time' }),
  },
  { $id: 'Instance' },
);

const EffectiveReleases = Type.Object(
  {
    success: Type.Literal(true),
    data: Type.Object({
      instance: Type.String(),
      manifest: Type.String(),
      commit_sha: CommitSha,
      elements: Type.Array(
        Type.Object({
          uuid: Uuid,
          type: ElementType,
          name: Type.Union([Type.String(), Type.Null()]),
          release: ReleaseRef,
          artifact: Type.Union([
            Type.Object({
              path: Type.String(),
              sha256: Type.String(),
              size: Type.Integer(),
              download_url: Type.String(),
            }),
            Type.Null(),
          ]),
          source_commit: Type.Optional(CommitSha),
          error: Type.Optional(Type.Object({ code: Type.String(), message: Type.String() })),
        }),
      ),
    }),
  },
  { $id: 'EffectiveReleases', description: 'What the instance must run now, resolved from its manifest on the default branch' },
);

const NameParams = Type.Object({ name: InstanceName });

export const instanceSchemas = [Instance, EffectiveReleases];

export function instanceRoutes(deps: { instances: InstanceService }): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      BASE,
      {
        config: READ,
        schema: {
          operationId: 'listInstances',
          tags: TAGS,
          summary: 'List instances, optionally those following one manifest',
          security: BEARER_SECURITY,
          querystring: Type.Object({ manifest: Type.Optional(ManifestName) }, { additionalProperties: false }),
          response: { 200: envelope(Type.Object({ instances: Type.Array(Type.Ref('Instance')) })), ...problems(...AUTHENTICATED_ERRORS) },
        },
      },
      async (request) => ok({ instances: await deps.instances.list(request.query) }),
    );

    app.post(
      BASE,
      {
        config: WRITE,
        schema: {
          operationId: 'createInstance',
          tags: TAGS,
          summary: 'Create an instance, optionally bound to a manifest on the default branch',
          security: BEARER_SECURITY,
          body: Type.Object(
            {
              name: InstanceName,
              description: Type.Optional(Description),
              url: Type.Optional(Url),
              manifest: Type.Optional(Type.Union([ManifestName, Type.Null()])),
            },
            { additionalProperties: false },
          ),
          response: { 201: envelope(Type.Object({ instance: Type.Ref('Instance') })), ...problems(...AUTHENTICATED_ERRORS, 404, 409, 503) },
        },
      },
      async (request, reply) => reply.code(201).send(ok({ instance: await deps.instances.create(request.body, actorOf(request)) })),
    );

    app.get(
      `${BASE}/:name`,
      {
        config: READ,
        schema: {
          operationId: 'getInstance',
          tags: TAGS,
          summary: 'Get an instance',
          security: BEARER_SECURITY,
          params: NameParams,
          response: { 200: envelope(Type.Object({ instance: Type.Ref('Instance') })), ...problems(...AUTHENTICATED_ERRORS, 404) },
        },
      },
      async (request) => ok({ instance: await deps.instances.get(request.params.name) }),
    );

    app.patch(
      `${BASE}/:name`,
      {
        config: WRITE,
        schema: {
          operationId: 'updateInstance',
          tags: TAGS,
          summary: 'Change an instance\u2019s description or URL (its manifest: PUT …/manifest)',
          security: BEARER_SECURITY,
          params: NameParams,
          body: Type.Object({ description: Type.Optional(Description), url: Type.Optional(Url) }, { additionalProperties: false, minProperties: 1 }),
          response: { 200: envelope(Type.Object({ instance: Type.Ref('Instance') })), ...problems(...AUTHENTICATED_ERRORS, 404) },
        },
      },
      async (request) => ok({ instance: await deps.instances.update(request.params.name, request.body, actorOf(request)) }),
    );

    app.delete(
      `${BASE}/:name`,
      {
        config: WRITE,
        schema: {
          operationId: 'deleteInstance',
          tags: TAGS,
          summary: 'Delete an instance (its manifest stays in git)',
          security: BEARER_SECURITY,
          params: NameParams,
          response: { 200: envelope(Type.Object({ instance: Type.Ref('Instance') })), ...problems(...AUTHENTICATED_ERRORS, 404) },
        },
      },
      async (request) => ok({ instance: await deps.instances.delete(request.params.name, actorOf(request)) }),
    );

    app.put(
      `${BASE}/:name/manifest`,
      {
        config: WRITE,
        schema: {
          operationId: 'bindInstanceManifest',
          tags: TAGS,
          summary: 'Bind an instance to a manifest on the default branch (null unbinds)',
          security: BEARER_SECURITY,
          params: NameParams,
          body: Type.Object({ manifest: Type.Union([ManifestName, Type.Null()]) }, { additionalProperties: false }),
          response: { 200: envelope(Type.Object({ instance: Type.Ref('Instance') })), ...problems(...AUTHENTICATED_ERRORS, 404, 503) },
        },
      },
      async (request) => ok({ instance: await deps.instances.bind(request.params.name, request.body.manifest, actorOf(request)) }),
    );

    app.get(
      `${BASE}/:name/releases`,
      {
        config: READ,
        // Every instance polls this: a log line per poll would be noise (metrics still count them).
        logLevel: 'warn',
        schema: {
          operationId: 'getInstanceReleases',
          tags: TAGS,
          summary: 'What the instance must run now: its manifest on the default branch, resolved to artifacts',
          description: 'Poll it with If-None-Match: 304 until the default branch or the binding changes.',
          security: BEARER_SECURITY,
          params: NameParams,
          response: {
            200: Type.Ref('EffectiveReleases'),
            304: NotModified,
            ...problems(...AUTHENTICATED_ERRORS, 404, 409, 422, 503),
          },
        },
      },
      async (request, reply) => {
        const answer = await deps.instances.releases(request.params.name);
        reply.header('etag', answer.etag).header('cache-control', 'no-cache');
        if (ifNoneMatch(request.headers['if-none-match'], answer.etag)) return reply.code(304).send();
        // Already serialized once per (commit, manifest, instance): sent as bytes, not re-serialized.
        return reply.type('application/json; charset=utf-8').send(answer.body as never);
      },
    );
  };
}
