// Retool's release routes (same paths, bodies and answers, plus `bump`, dry runs and the pending
// state), the artifact download, and the release matrix.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { actorOf, BEARER_SECURITY } from '../http/auth.js';
import { AUTHENTICATED_ERRORS, CommitSha, ElementType, envelope, ifNoneMatch, NotModified, ok, problems, Uuid, Version } from '../http/schemas.js';
import { parseUuid } from '../repo/values.js';
import type { ReleaseMatrix } from './release-matrix.js';
import { ReleaseDryRun, ReleasePushed } from './releases.schemas.js';
import type { CreateRelease, ReleaseService } from './releases.service.js';

const TAGS = ['Releases'];
const READ = { scope: 'source_control:releases_read' } as const;
const WRITE = { scope: 'source_control:releases_write' } as const;
const READ_ERRORS = [...AUTHENTICATED_ERRORS, 404, 422, 503] as const;
const WRITE_ERRORS = [...AUTHENTICATED_ERRORS, 404, 409, 422, 503] as const;

const Release = Type.Object(
  {
    release_version: Version,
    release_description: Type.String(),
    created_at: Type.String({ format: 'date-time', description: 'From .release.json; for zips without one, the commit that added the zip' }),
    created_by: Type.Union([Type.String(), Type.Null()]),
    sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
    size: Type.Integer({ description: 'Bytes of the zip' }),
    status: Type.Enum(['available', 'pending'], { description: 'available: on the default branch; pending: proposed in an open pull request' }),
    pull_request: Type.Optional(Type.Object({ number: Type.Integer(), url: Type.String(), state: Type.String() })),
  },
  { $id: 'Release' },
);

const ReleaseAnswer = Type.Union([Type.Ref('ReleasePushed'), Type.Ref('ReleaseDryRun')]);

const CreateBody = Type.Object(
  {
    release_version: Type.Optional(Version),
    bump: Type.Optional(Type.Enum(['major', 'minor', 'patch'], { description: 'Instead of release_version: the highest version (merged or pending), bumped' })),
    release_description: Type.Optional(Type.String({ maxLength: 10_000 })),
    commit_message: Type.Optional(Type.String({ minLength: 1, maxLength: 10_000 })),
  },
  { additionalProperties: false, description: 'Exactly one of release_version and bump' },
);

const ElementParams = Type.Object({ elementUuid: Uuid });
const AppParams = Type.Object({ appUuid: Uuid });
const TypeQuery = Type.Object({ elementType: ElementType }, { additionalProperties: false });
const WriteTypeQuery = Type.Object({ elementType: ElementType, dry_run: Type.Boolean({ default: false }) }, { additionalProperties: false });
const AppWriteQuery = Type.Object({ dry_run: Type.Boolean({ default: false }) }, { additionalProperties: false });

const Link = Type.Object({ number: Type.Integer(), url: Type.String() });
const MatrixElement = Type.Object({
  uuid: Type.String(),
  type: ElementType,
  name: Type.String(),
  source_folder: Type.String(),
  latest_release: Type.Union([Version, Type.Null()]),
  releases_count: Type.Integer(),
  manifests: Type.Record(Type.String(), Type.Union([Type.String(), Type.Null()]), {
    description: 'Manifest name → release (X.Y.Z or latest), null when absent',
  }),
  pending: Type.Array(Type.Object({ manifest: Type.String(), release: Type.Union([Type.String(), Type.Null()]), pull_request: Link })),
  pending_releases: Type.Array(Type.Object({ release_version: Version, pull_request: Link })),
});
const Matrix = Type.Object(
  {
    elements: Type.Array(MatrixElement),
    manifests: Type.Array(Type.String()),
    invalid_manifests: Type.Array(
      Type.Object({ name: Type.String(), path: Type.String(), line: Type.Union([Type.Integer(), Type.Null()]), reason: Type.String() }),
    ),
    commit_sha: CommitSha,
    next_cursor: Type.Union([Type.String(), Type.Null()], { description: 'Pass as cursor for the next page; null on the last page' }),
  },
  { $id: 'ReleaseMatrix' },
);
const MatrixQuery = Type.Object(
  {
    type: Type.Optional(ElementType),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Case-insensitive part of the element name' })),
    cursor: Type.Optional(Type.String({ maxLength: 2000 })),
    limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
  },
  { additionalProperties: false },
);

export const releaseSchemas = [Release, ReleasePushed, ReleaseDryRun, Matrix];

const listSchema = (operationId: string, deprecated: boolean) => ({
  operationId,
  ...(deprecated ? { deprecated: true } : {}),
  tags: TAGS,
  summary: deprecated
    ? 'List an app\u2019s releases (deprecated: use the elementUuid form)'
    : 'List an element\u2019s releases, merged and pending, newest first',
  security: BEARER_SECURITY,
  response: { 200: envelope(Type.Array(Type.Ref('Release'))), ...problems(...READ_ERRORS) },
});

const createSchema = (operationId: string, deprecated: boolean) => ({
  operationId,
  ...(deprecated ? { deprecated: true } : {}),
  tags: TAGS,
  summary: deprecated
    ? 'Create an app release (deprecated: use the elementUuid form)'
    : 'Build a release artifact from the element\u2019s source on the default branch and propose it in a pull request',
  security: BEARER_SECURITY,
  body: CreateBody,
  response: { 200: envelope(ReleaseAnswer), ...problems(...WRITE_ERRORS) },
});

export function releaseRoutes(deps: { releases: ReleaseService; matrix: ReleaseMatrix }): FastifyPluginAsyncTypebox {
  return async (app) => {
    const base = '/api/v2/source_control';
    const create = (
      type: 'PAGE' | 'WORKFLOW',
      uuid: string,
      body: CreateRelease & { commit_message?: string },
      request: Parameters<typeof actorOf>[0],
      dryRun: boolean,
    ) => deps.releases.create(type, uuid, body, { actor: actorOf(request), dryRun, commitMessage: body.commit_message });

    // The deprecated app-only forms come first: static `apps` beats the `{elementUuid}` parameter.
    app.get(`${base}/releases/apps/:appUuid`, { config: READ, schema: { ...listSchema('listAppReleases', true), params: AppParams } }, async (request) =>
      ok(await deps.releases.list('PAGE', parseUuid(request.params.appUuid, 'params.appUuid'))),
    );

    app.post(
      `${base}/releases/apps/:appUuid`,
      { config: WRITE, schema: { ...createSchema('createAppRelease', true), params: AppParams, querystring: AppWriteQuery } },
      async (request) => ok(await create('PAGE', parseUuid(request.params.appUuid, 'params.appUuid'), request.body, request, request.query.dry_run)),
    );

    app.get(
      `${base}/releases/:elementUuid`,
      { config: READ, schema: { ...listSchema('listReleases', false), params: ElementParams, querystring: TypeQuery } },
      async (request) => ok(await deps.releases.list(request.query.elementType, parseUuid(request.params.elementUuid, 'params.elementUuid'))),
    );

    app.post(
      `${base}/releases/:elementUuid`,
      { config: WRITE, schema: { ...createSchema('createRelease', false), params: ElementParams, querystring: WriteTypeQuery } },
      async (request) =>
        ok(await create(request.query.elementType, parseUuid(request.params.elementUuid, 'params.elementUuid'), request.body, request, request.query.dry_run)),
    );

    app.get(
      `${base}/releases/:elementUuid/:version/artifact`,
      {
        config: READ,
        schema: {
          operationId: 'downloadReleaseArtifact',
          tags: TAGS,
          summary: 'Download a release zip from the default branch; ETag is its sha256',
          security: BEARER_SECURITY,
          params: Type.Object({ elementUuid: Uuid, version: Version }),
          querystring: TypeQuery,
          response: {
            200: { description: 'The zip', content: { 'application/zip': { schema: Type.Unsafe<Uint8Array>({ type: 'string', format: 'binary' }) } } },
            304: NotModified,
            ...problems(...READ_ERRORS),
          },
        },
      },
      async (request, reply) => {
        const { elementUuid, version } = request.params;
        const artifact = await deps.releases.artifact(request.query.elementType, parseUuid(elementUuid, 'params.elementUuid'), version);
        const etag = `"${artifact.sha256}"`;
        reply.header('etag', etag).header('cache-control', 'private, max-age=31536000, immutable');
        if (ifNoneMatch(request.headers['if-none-match'], etag)) return reply.code(304).send();
        reply.header('content-disposition', contentDisposition(artifact.fileName));
        return reply.type('application/zip').send(Buffer.from(await artifact.bytes()));
      },
    );

    app.get(
      `${base}/elements`,
      {
        config: READ,
        schema: {
          operationId: 'listElements',
          tags: TAGS,
          summary: 'The release matrix: every protected element, its releases, the release each manifest sets, pending pull requests overlaid',
          security: BEARER_SECURITY,
          querystring: MatrixQuery,
          response: { 200: envelope(Type.Ref('ReleaseMatrix')), ...problems(...READ_ERRORS) },
        },
      },
      async (request) => ok(await deps.matrix.page(request.query)),
    );
  };
}

/** RFC 6266: an ASCII fallback name, and the exact name in RFC 8187 encoding. */
function contentDisposition(fileName: string): string {
  const ascii = fileName.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(fileName)}`;
}
