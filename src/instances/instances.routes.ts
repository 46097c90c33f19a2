import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type, { type Static } from 'typebox';
import { actorOf, BEARER_SECURITY } from '../http/auth.js';
import { EXAMPLE } from '../http/example-values.js';
import {
  AUTHENTICATED_ERRORS,
  CommitSha,
  ElementType,
  envelope,
  GIT_ERRORS,
  ifNoneMatch,
  IfNoneMatchHeaders,
  ManifestName,
  notModified,
  ok,
  problems,
  ReleaseRef,
  Uuid,
  withExamples,
} from '../http/schemas.js';
import type { InstanceService } from './instances.service.js';

const TAGS = ['Instances'];
const READ = { scope: 'source_control:read' } as const;
const WRITE = { scope: 'source_control:write' } as const;
/** Readable with a token bound to that instance too. */
const READ_OWN = { ...READ, instance: { param: 'name' } } as const;
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
    last_seen_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], {
      description: 'When it last polled GET …/releases (recorded at most every 10 s)',
    }),
    last_seen_commit: Type.Union([CommitSha, Type.Null()], { description: 'The default-branch commit that poll was answered at' }),
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

const INSTANCE_EXAMPLE: Static<typeof Instance> = {
  name: 'prod-eu',
  description: 'Production, Frankfurt',
  url: 'https://retool-eu.example.com',
  manifest: 'prod',
  created_by: EXAMPLE.actor,
  created_at: EXAMPLE.at,
  updated_at: EXAMPLE.at,
  last_seen_at: EXAMPLE.later,
  last_seen_commit: EXAMPLE.commit,
};
const ONE_INSTANCE = (instance: Static<typeof Instance>, description: string) => ({ description, example: { success: true as const, data: { instance } } });
const RELEASES_ETAG = 'Of this answer: it changes when the default branch or the binding does';
const RELEASES_EXAMPLE: Static<typeof EffectiveReleases> = {
  success: true,
  data: {
    instance: 'prod-eu',
    manifest: 'prod',
    commit_sha: EXAMPLE.commit,
    elements: [
      {
        uuid: EXAMPLE.app,
        type: 'PAGE',
        name: EXAMPLE.appName,
        release: '1.4.1',
        artifact: {
          path: `dist/apps/${EXAMPLE.app}/1.4.1.zip`,
          sha256: EXAMPLE.sha256,
          size: 48_101,
          download_url: `https://mir.example.com/api/v2/source_control/releases/${EXAMPLE.app}/1.4.1/artifact?elementType=PAGE`,
        },
      },
      {
        uuid: EXAMPLE.workflow,
        type: 'WORKFLOW',
        name: EXAMPLE.workflowName,
        release: 'latest',
        artifact: null,
        source_commit: EXAMPLE.commit,
      },
    ],
  },
};
const ReleasesNotModified = notModified(RELEASES_ETAG);

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
          description: 'Every deployment instance, sorted by name, with the manifest it follows (null: none).',
          security: BEARER_SECURITY,
          querystring: Type.Object({ manifest: Type.Optional(ManifestName) }, { additionalProperties: false }),
          response: {
            200: envelope(Type.Object({ instances: Type.Array(Type.Ref('Instance')) }), {
              description: 'The instances',
              example: { success: true, data: { instances: [INSTANCE_EXAMPLE] } },
            }),
            ...problems(...AUTHENTICATED_ERRORS),
          },
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
          description:
            'Instances live in the database, not in git: creating one is immediate and audited, no pull request. The manifest, if given, must exist on the default branch (404 manifest_not_found); a taken name is 409 instance_exists.',
          security: BEARER_SECURITY,
          body: withExamples(
            Type.Object(
              {
                name: InstanceName,
                description: Type.Optional(Description),
                url: Type.Optional(Url),
                manifest: Type.Optional(Type.Union([ManifestName, Type.Null()])),
              },
              { additionalProperties: false },
            ),
            { name: 'prod-eu', description: 'Production, Frankfurt', url: 'https://retool-eu.example.com', manifest: 'prod' },
          ),
          response: {
            201: envelope(Type.Object({ instance: Type.Ref('Instance') }), ONE_INSTANCE(INSTANCE_EXAMPLE, 'The instance')),
            ...problems(...AUTHENTICATED_ERRORS, ...GIT_ERRORS, 'manifest_not_found', 'instance_exists'),
          },
        },
      },
      async (request, reply) => reply.code(201).send(ok({ instance: await deps.instances.create(request.body, actorOf(request)) })),
    );

    app.get(
      `${BASE}/:name`,
      {
        config: READ_OWN,
        schema: {
          operationId: 'getInstance',
          tags: TAGS,
          summary: 'Get an instance',
          description: 'Its description, URL and the manifest it follows. What it must run is GET …/instances/{name}/releases.',
          security: BEARER_SECURITY,
          params: NameParams,
          response: {
            200: envelope(Type.Object({ instance: Type.Ref('Instance') }), ONE_INSTANCE(INSTANCE_EXAMPLE, 'The instance')),
            ...problems(...AUTHENTICATED_ERRORS, 'instance_forbidden', 'instance_not_found'),
          },
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
          description: 'Only the members sent change (at least one); `url: null` clears it. Audited.',
          security: BEARER_SECURITY,
          params: NameParams,
          body: withExamples(
            Type.Object({ description: Type.Optional(Description), url: Type.Optional(Url) }, { additionalProperties: false, minProperties: 1 }),
            { description: 'Production, Frankfurt (primary)' },
          ),
          response: {
            200: envelope(
              Type.Object({ instance: Type.Ref('Instance') }),
              ONE_INSTANCE({ ...INSTANCE_EXAMPLE, description: 'Production, Frankfurt (primary)', updated_at: EXAMPLE.later }, 'The instance, changed'),
            ),
            ...problems(...AUTHENTICATED_ERRORS, 'instance_not_found'),
          },
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
          description: 'Removes the instance and its binding from the database (audited); the manifest it followed is untouched.',
          security: BEARER_SECURITY,
          params: NameParams,
          response: {
            200: envelope(Type.Object({ instance: Type.Ref('Instance') }), ONE_INSTANCE(INSTANCE_EXAMPLE, 'The instance as it was')),
            ...problems(...AUTHENTICATED_ERRORS, 'instance_not_found'),
          },
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
          description:
            'From then on GET …/instances/{name}/releases resolves that manifest (other mir processes see the change within 2 s). The manifest must exist on the default branch: 404 manifest_not_found. Audited.',
          security: BEARER_SECURITY,
          params: NameParams,
          body: withExamples(Type.Object({ manifest: Type.Union([ManifestName, Type.Null()]) }, { additionalProperties: false }), { manifest: 'prod' }),
          response: {
            200: envelope(
              Type.Object({ instance: Type.Ref('Instance') }),
              ONE_INSTANCE({ ...INSTANCE_EXAMPLE, updated_at: EXAMPLE.later }, 'The instance, bound'),
            ),
            ...problems(...AUTHENTICATED_ERRORS, ...GIT_ERRORS, 'instance_not_found', 'manifest_not_found'),
          },
        },
      },
      async (request) => ok({ instance: await deps.instances.bind(request.params.name, request.body.manifest, actorOf(request)) }),
    );

    app.get(
      `${BASE}/:name/releases`,
      {
        config: READ_OWN,
        // Every instance polls this: a log line per poll would be noise (metrics still count them).
        logLevel: 'warn',
        schema: {
          operationId: 'getInstanceReleases',
          tags: TAGS,
          summary: 'What the instance must run now: its manifest on the default branch, resolved to artifacts',
          description:
            'Each entry of its manifest on the default branch with its artifact (path, sha256, size, download_url); `latest` entries carry the `source_commit`; an entry whose artifact is missing carries `error` and the others are still served. Poll it with If-None-Match: 304 until the default branch or the binding changes (the answer is computed once per commit and manifest). An unbound instance is 409 instance_unbound.',
          security: BEARER_SECURITY,
          params: NameParams,
          headers: IfNoneMatchHeaders,
          response: {
            200: {
              description: 'What the instance must run, and the commit it was resolved at',
              headers: {
                ETag: Type.String({ description: RELEASES_ETAG }),
                'Cache-Control': Type.String({ description: 'no-cache: revalidate with If-None-Match' }),
              },
              content: { 'application/json': { schema: Type.Ref('EffectiveReleases'), example: RELEASES_EXAMPLE } },
            },
            304: ReleasesNotModified,
            ...problems(
              ...AUTHENTICATED_ERRORS,
              ...GIT_ERRORS,
              'instance_forbidden',
              'instance_not_found',
              'instance_unbound',
              'manifest_not_found',
              'manifest_invalid',
            ),
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
