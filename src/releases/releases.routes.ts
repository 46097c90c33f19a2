// Retool's release routes (same paths, bodies and answers, plus `bump`, dry runs and the pending
// state), the artifact download, and the release matrix.
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
  notModified,
  ok,
  problems,
  PROPOSAL_ERRORS,
  Uuid,
  Version,
  withExamples,
} from '../http/schemas.js';
import { PUSHED_EXAMPLE, WriteQuery } from '../pull-requests/pull-requests.schemas.js';
import { parseUuid } from '../formats/values.js';
import type { ReleaseMatrix } from './release-matrix.js';
import { ReleaseDryRun, ReleasePushed } from './releases.schemas.js';
import type { CreateRelease, ReleaseService } from './releases.service.js';

const TAGS = ['Releases'];
const READ = { scope: 'source_control:releases_read' } as const;
const WRITE = { scope: 'source_control:releases_write' } as const;
/** Reading an element's releases: it must be in .retool/protected-*.yaml, which must parse. */
const READ_ERRORS = [...AUTHENTICATED_ERRORS, ...GIT_ERRORS, 'element_not_found', 'repository_file_invalid'] as const;
const WRITE_ERRORS = [
  ...READ_ERRORS,
  ...PROPOSAL_ERRORS,
  'version_exists',
  'version_not_greater',
  'source_folder_empty',
  'artifact_invalid',
  'artifact_too_large',
] as const;

const ActiveHold = Type.Object(
  {
    id: Type.String(),
    version: Version,
    reason: Type.String(),
    manifest: Type.String(),
    created_by: Type.String(),
    created_at: Type.String({ format: 'date-time' }),
  },
  { description: 'A hold on this version after a rollback: publish, promote and merges that set it are 409 release_held' },
);

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
    hold: Type.Optional(ActiveHold),
  },
  { $id: 'Release' },
);

const ReleaseAnswer = Type.Union([Type.Ref('ReleasePushed'), Type.Ref('ReleaseDryRun')]);

const CreateBody = withExamples(
  Type.Object(
    {
      release_version: Type.Optional(Version),
      bump: Type.Optional(
        Type.Enum(['major', 'minor', 'patch'], { description: 'Instead of release_version: the highest version (merged or pending), bumped' }),
      ),
      release_description: Type.Optional(Type.String({ maxLength: 10_000 })),
      commit_message: Type.Optional(Type.String({ minLength: 1, maxLength: 10_000 })),
    },
    { additionalProperties: false, description: 'Exactly one of release_version and bump' },
  ),
  { bump: 'minor', release_description: 'Faster checkout: one request per basket' },
);

const ElementParams = Type.Object({ elementUuid: Uuid });
const AppParams = Type.Object({ appUuid: Uuid });
const TypeQuery = Type.Object({ elementType: ElementType }, { additionalProperties: false });
const WriteTypeQuery = Type.Object({ elementType: ElementType, dry_run: WriteQuery.properties.dry_run }, { additionalProperties: false });

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
  holds: Type.Array(ActiveHold, { description: 'Held versions of this element' }),
  instances: Type.Record(
    Type.String(),
    Type.Object({
      desired: Type.Union([Type.String(), Type.Null()], { description: 'What the manifest the instance follows sets now' }),
      deployed: Type.Union([Type.String(), Type.Null()], { description: 'What its last successful deployment reported; null: not deployed, or not reported' }),
    }),
    { description: 'Deployed against desired, per instance' },
  ),
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

const RELEASE_EXAMPLE: Static<typeof Release> = {
  release_version: '1.4.2',
  release_description: 'Faster checkout: one request per basket',
  created_at: EXAMPLE.at,
  created_by: EXAMPLE.actor,
  sha256: EXAMPLE.sha256,
  size: 48_213,
  status: 'available',
};
const RELEASE_BRANCH = `mir/release/${EXAMPLE.app}/1.5.0`;
const RELEASE_PUSHED: Static<typeof ReleasePushed> = {
  ...PUSHED_EXAMPLE,
  branch_name: RELEASE_BRANCH,
  pull_request: { ...PUSHED_EXAMPLE.pull_request, title: `Release ${EXAMPLE.appName} 1.5.0` },
  release_version: '1.5.0',
  sha256: '6617f3f05da1c5e0b6f7a1e2f3468d87a551d96032af71220714d7fc15af648f',
  size: 48_377,
};

const listSchema = (operationId: string, deprecated: boolean) => ({
  operationId,
  ...(deprecated ? { deprecated: true } : {}),
  tags: TAGS,
  summary: deprecated
    ? 'List an app\u2019s releases (deprecated: use the elementUuid form)'
    : 'List an element\u2019s releases, merged and pending, newest first',
  description: deprecated
    ? "Retool's app-only form of GET …/releases/{elementUuid}?elementType=PAGE, which it does in every respect."
    : "Every release zip under dist/ on the default branch (`status: available`), plus those proposed in an open pull request (`status: pending`, with the `pull_request`): a pending version is taken. created_at and created_by come from the zip's .release.json, or for zips other tools wrote, from the commit that added them.",
  security: BEARER_SECURITY,
  response: {
    200: envelope(Type.Array(Type.Ref('Release')), {
      description: 'The releases, newest version first',
      example: {
        success: true,
        data: [
          {
            ...RELEASE_EXAMPLE,
            release_version: '1.5.0',
            sha256: RELEASE_PUSHED.sha256,
            size: RELEASE_PUSHED.size,
            status: 'pending',
            pull_request: { number: EXAMPLE.pullRequest, url: EXAMPLE.pullRequestUrl, state: 'open' },
          },
          RELEASE_EXAMPLE,
        ],
      },
    }),
    ...problems(...READ_ERRORS),
  },
});

const createSchema = (operationId: string, deprecated: boolean) => ({
  operationId,
  ...(deprecated ? { deprecated: true } : {}),
  tags: TAGS,
  summary: deprecated
    ? 'Create an app release (deprecated: use the elementUuid form)'
    : 'Build a release artifact from the element\u2019s source on the default branch and propose it in a pull request',
  description: deprecated
    ? "Retool's app-only form of POST …/releases/{elementUuid}?elementType=PAGE, which it does in every respect."
    : "Zips the element's source folder on the default branch (byte-identical for the same commit, version, description and author: a dry run's sha256 is the real one's), pushes mir/release/<uuid>/<X.Y.Z> adding only dist/…/<X.Y.Z>.zip and opens its pull request. The version must be greater than every one, merged or pending: 409 version_exists or version_not_greater; `bump` picks the next one (1.0.0 / 0.1.0 / 0.0.1 for a first release).",
  security: BEARER_SECURITY,
  body: CreateBody,
  response: {
    200: envelope(ReleaseAnswer, {
      description: "The pushed release branch and its pull request, with the version and the zip's sha256 and size; with dry_run=true, what would be pushed",
      example: { success: true, data: RELEASE_PUSHED },
    }),
    ...problems(...WRITE_ERRORS),
  },
});

const ZipNotModified = notModified("The zip's sha256, quoted");

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
      { config: WRITE, schema: { ...createSchema('createAppRelease', true), params: AppParams, querystring: WriteQuery } },
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
          description:
            'The artifact as committed under dist/, what an instance unpacks (getInstanceReleases gives its download_url). A release never changes, so the answer may be cached for good: If-None-Match with its ETag answers 304 without a body.',
          security: BEARER_SECURITY,
          params: Type.Object({ elementUuid: Uuid, version: Version }),
          querystring: TypeQuery,
          headers: IfNoneMatchHeaders,
          response: {
            200: {
              description: 'The zip',
              headers: {
                ETag: Type.String({ description: "The zip's sha256, quoted" }),
                'Cache-Control': Type.String({ description: 'private, max-age=31536000, immutable: a release never changes' }),
                'Content-Disposition': Type.String({ description: 'attachment; filename="<name>-<version>.zip" (and filename* in UTF-8)' }),
              },
              content: { 'application/zip': { schema: Type.Unsafe<Uint8Array>({ type: 'string', format: 'binary' }) } },
            },
            304: ZipNotModified,
            ...problems(...AUTHENTICATED_ERRORS, ...GIT_ERRORS, 'release_not_found'),
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
          description:
            'One row per protected app and workflow (apps first, then by name; filtered by `type` and a part of `name`), with its latest release, how many it has, the release each manifest sets, and what open pull requests would change (`pending`, `pending_releases`). Page with `cursor` = the `next_cursor` of the page before; each page is read at its own `commit_sha`.',
          security: BEARER_SECURITY,
          querystring: MatrixQuery,
          response: {
            200: envelope(Type.Ref('ReleaseMatrix'), {
              description: 'A page of the matrix',
              example: {
                success: true,
                data: {
                  elements: [
                    {
                      uuid: EXAMPLE.app,
                      type: 'PAGE',
                      name: EXAMPLE.appName,
                      source_folder: `apps/${EXAMPLE.appName}`,
                      latest_release: '1.4.2',
                      releases_count: 7,
                      manifests: { prod: '1.4.1', uat: '1.4.2' },
                      pending: [{ manifest: 'prod', release: '1.4.2', pull_request: { number: EXAMPLE.pullRequest, url: EXAMPLE.pullRequestUrl } }],
                      pending_releases: [],
                      holds: [],
                      instances: { 'prod-eu': { desired: '1.4.1', deployed: '1.4.0' } },
                    },
                  ],
                  manifests: ['prod', 'uat'],
                  invalid_manifests: [],
                  commit_sha: EXAMPLE.commit,
                  next_cursor: null,
                },
              },
            }),
            ...problems(...AUTHENTICATED_ERRORS, ...GIT_ERRORS),
          },
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
