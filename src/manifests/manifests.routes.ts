// Retool's manifest routes (same paths, bodies and answers), plus base_sha / If-Match and dry runs.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import Type, { type Static } from 'typebox';
import { invalidField } from '../errors.js';
import { actorOf, BEARER_SECURITY } from '../http/auth.js';
import { overrideOf } from '../http/override.js';
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
  PROPOSAL_ERRORS,
  ReleaseRef,
  Uuid,
  withExamples,
} from '../http/schemas.js';
import { BaseSha, WriteHeaders, ifMatchSha, PUSHED_EXAMPLE, WriteAnswer, WriteQuery } from '../pull-requests/pull-requests.schemas.js';
import { parseUuid } from '../formats/values.js';
import type { ManifestService, WriteOptions } from './manifests.service.js';

const TAGS = ['Manifests'];
const READ = { scope: 'source_control:releases_read' } as const;
const WRITE = { scope: 'source_control:releases_write' } as const;
/** What a write naming releases can answer: each must exist (and its zip be sound) on the default branch. */
const SET_ERRORS = [
  ...AUTHENTICATED_ERRORS,
  ...PROPOSAL_ERRORS,
  'release_not_found',
  'stale_base',
  'manifest_invalid',
  'artifact_invalid',
  'artifact_too_large',
] as const;
const REMOVE_ERRORS = [...AUTHENTICATED_ERRORS, ...PROPOSAL_ERRORS, 'manifest_not_found', 'entry_not_found', 'stale_base', 'manifest_invalid'] as const;

const Entry = Type.Object({ uuid: Uuid, release: ReleaseRef }, { additionalProperties: false });
const Manifest = Type.Object(
  { name: ManifestName, apps: Type.Array(Entry), workflows: Type.Array(Entry) },
  { $id: 'Manifest', description: "A release manifest, in Retool's shape" },
);
const ManifestListItem = Type.Object({
  name: Type.String(),
  apps: Type.Optional(Type.Array(Entry)),
  workflows: Type.Optional(Type.Array(Entry)),
  error: Type.Optional(
    Type.Object(
      { path: Type.String(), line: Type.Optional(Type.Integer()), reason: Type.String() },
      { description: 'Set when the file does not parse: the manifest is listed, not dropped' },
    ),
  ),
});

const CommitMessage = Type.String({ minLength: 1, maxLength: 10_000, description: 'Commit message; a default says what changes' });
const NameParams = Type.Object({ manifestName: ManifestName });
const ElementParams = Type.Object({ manifestName: ManifestName, elementUuid: Uuid });
const AppParams = Type.Object({ manifestName: ManifestName, appUuid: Uuid });
const ElementQuery = Type.Object({ elementType: ElementType, dry_run: WriteQuery.properties.dry_run }, { additionalProperties: false });
const SetBody = withExamples(
  Type.Object({ release: ReleaseRef, commit_message: Type.Optional(CommitMessage), base_sha: Type.Optional(BaseSha) }, { additionalProperties: false }),
  { release: '1.4.2', commit_message: 'Ship checkout 1.4.2 to prod', base_sha: EXAMPLE.commit },
);
const DeleteBody = withExamples(
  Type.Union([Type.Object({ commit_message: Type.Optional(CommitMessage), base_sha: Type.Optional(BaseSha) }, { additionalProperties: false }), Type.Null()], {
    description: 'Optional: the request may have no body',
  }),
  { commit_message: 'Take checkout out of prod', base_sha: EXAMPLE.commit },
);
const ReplaceBody = withExamples(
  Type.Object(
    {
      manifest: Type.Optional(
        Type.Object(
          { name: Type.Optional(ManifestName), apps: Type.Optional(Type.Array(Entry)), workflows: Type.Optional(Type.Array(Entry)) },
          { additionalProperties: false, description: 'The whole manifest; entries not listed are removed' },
        ),
      ),
      commit_message: Type.Optional(CommitMessage),
      base_sha: Type.Optional(BaseSha),
    },
    { additionalProperties: false },
  ),
  {
    manifest: { apps: [{ uuid: EXAMPLE.app, release: '1.4.2' }], workflows: [{ uuid: EXAMPLE.workflow, release: 'latest' }] },
    commit_message: 'uat: checkout 1.4.2, nightly-sync from its source',
    base_sha: EXAMPLE.commit,
  },
);

const MANIFEST_EXAMPLE: Static<typeof Manifest> = {
  name: 'prod',
  apps: [{ uuid: EXAMPLE.app, release: '1.4.1' }],
  workflows: [{ uuid: EXAMPLE.workflow, release: '0.3.0' }],
};
const ETAG = 'The default-branch commit, quoted: send it back as If-None-Match, or as If-Match on a write';
const ManifestNotModified = notModified(ETAG);
const WRITTEN = {
  description: "The pushed branch and its pull request (Retool's answer plus `pull_request`); with dry_run=true, what would be pushed",
  example: { success: true as const, data: PUSHED_EXAMPLE },
};

export const manifestSchemas = [Manifest];

function writeOptions(request: FastifyRequest, body: { commit_message?: string; base_sha?: string } | null | undefined, dryRun: boolean): WriteOptions {
  const header = ifMatchSha(request.headers['if-match']);
  if (header !== undefined && !/^[0-9a-f]{40}$/.test(header)) throw invalidField('headers.if-match', 'must be a commit sha (40 hex digits)');
  if (header && body?.base_sha && header !== body.base_sha) throw invalidField('body.base_sha', 'differs from If-Match');
  return { actor: actorOf(request), dryRun, baseSha: body?.base_sha ?? header, commitMessage: body?.commit_message, override: overrideOf(request) };
}

export function manifestRoutes(deps: { manifests: ManifestService }): FastifyPluginAsyncTypebox {
  return async (app) => {
    const base = '/api/v2/source_control/manifests';

    app.get(
      base,
      {
        config: READ,
        schema: {
          operationId: 'listManifests',
          tags: TAGS,
          summary: 'List the manifests on the default branch (broken files listed with their error)',
          description:
            'Every manifests/<name>.yaml on the default branch as of the last fetch (`commit_sha` says which commit), sorted by name. A file that does not parse is listed with `error: {path, line, reason}` instead of its entries; fix it with git.',
          security: BEARER_SECURITY,
          response: {
            200: envelope(Type.Object({ manifests: Type.Array(ManifestListItem), commit_sha: CommitSha }), {
              description: 'The manifests and the commit they were read at',
              example: {
                success: true,
                data: {
                  manifests: [
                    MANIFEST_EXAMPLE,
                    { name: 'staging', error: { path: 'manifests/staging.yaml', line: 7, reason: 'release must be X.Y.Z or latest' } },
                  ],
                  commit_sha: EXAMPLE.commit,
                },
              },
            }),
            ...problems(...AUTHENTICATED_ERRORS, ...GIT_ERRORS),
          },
        },
      },
      async () => ok(await deps.manifests.list()),
    );

    app.get(
      `${base}/:manifestName`,
      {
        config: READ,
        schema: {
          operationId: 'getManifest',
          tags: TAGS,
          summary: 'Get one manifest; ETag is the default-branch commit (use it as If-Match on writes)',
          description:
            'Its entries as the default branch holds them. The ETag is the commit it was read at: If-None-Match answers 304 until the default branch moves; as If-Match (or base_sha) on a write it makes the write fail with 409 stale_base if an entry it changes moved since.',
          security: BEARER_SECURITY,
          params: NameParams,
          headers: IfNoneMatchHeaders,
          response: {
            200: envelope(Type.Object({ manifest: Type.Ref('Manifest'), commit_sha: CommitSha }), {
              description: 'The manifest and the commit it was read at',
              example: { success: true, data: { manifest: MANIFEST_EXAMPLE, commit_sha: EXAMPLE.commit } },
              headers: { ETag: Type.String({ description: ETAG }) },
            }),
            304: ManifestNotModified,
            ...problems(...AUTHENTICATED_ERRORS, ...GIT_ERRORS, 'manifest_not_found', 'manifest_invalid'),
          },
        },
      },
      async (request, reply) => {
        const result = await deps.manifests.get(request.params.manifestName);
        const etag = `"${result.commit_sha}"`;
        reply.header('etag', etag);
        if (ifNoneMatch(request.headers['if-none-match'], etag)) return reply.code(304).send();
        return ok(result);
      },
    );

    app.put(
      `${base}/:manifestName`,
      {
        config: WRITE,
        schema: {
          operationId: 'setManifest',
          tags: TAGS,
          summary: 'Replace a whole manifest (creating it if missing) through a pull request',
          description:
            'Pushes mir/manifest/<name>/<id> with the manifest as given (entries not listed are removed; comments and unknown keys in the file survive) and opens its pull request; nothing reaches the default branch but by its merge. `manifest` is required: send `{"manifest": {"apps": [], "workflows": []}}` to empty it. Every release must be on the default branch or be latest.',
          security: BEARER_SECURITY,
          params: NameParams,
          querystring: WriteQuery,
          headers: WriteHeaders,
          body: ReplaceBody,
          response: { 200: envelope(WriteAnswer, WRITTEN), ...problems(...SET_ERRORS) },
        },
      },
      async (request) => {
        const body = request.body;
        if (body.manifest?.name !== undefined && body.manifest.name !== request.params.manifestName) {
          throw invalidField('body.manifest.name', `must be ${request.params.manifestName} (the name in the path) or absent`);
        }
        const options = writeOptions(request, body, request.query.dry_run);
        return ok(await deps.manifests.replace(request.params.manifestName, body.manifest, options));
      },
    );

    app.post(
      `${base}/:manifestName/delete`,
      {
        config: WRITE,
        schema: {
          operationId: 'deleteManifest',
          tags: TAGS,
          summary: 'Delete a manifest through a pull request',
          description:
            'Proposes removing manifests/<name>.yaml (a file that does not parse may be deleted too). Instances bound to it answer 404 manifest_not_found once it is merged. The body is optional.',
          security: BEARER_SECURITY,
          params: NameParams,
          querystring: WriteQuery,
          headers: WriteHeaders,
          body: Type.Optional(DeleteBody),
          response: { 200: envelope(WriteAnswer, WRITTEN), ...problems(...AUTHENTICATED_ERRORS, ...PROPOSAL_ERRORS, 'manifest_not_found', 'stale_base') },
        },
      },
      async (request) => {
        const options = writeOptions(request, request.body, request.query.dry_run);
        return ok(await deps.manifests.delete(request.params.manifestName, options));
      },
    );

    // The deprecated app-only forms come first: static `apps` beats the `{elementUuid}` parameter.
    app.put(
      `${base}/:manifestName/apps/:appUuid`,
      {
        config: WRITE,
        schema: {
          operationId: 'setManifestApp',
          deprecated: true,
          tags: TAGS,
          summary: 'Set an app\u2019s release in a manifest (deprecated: use the elementUuid form)',
          description: "Retool's app-only form of PUT …/manifests/{manifestName}/{elementUuid}?elementType=PAGE, which it does in every respect.",
          security: BEARER_SECURITY,
          params: AppParams,
          querystring: WriteQuery,
          headers: WriteHeaders,
          body: SetBody,
          response: { 200: envelope(WriteAnswer, WRITTEN), ...problems(...SET_ERRORS) },
        },
      },
      async (request) => {
        const { manifestName, appUuid } = request.params;
        const options = writeOptions(request, request.body, request.query.dry_run);
        return ok(await deps.manifests.setEntry(manifestName, 'PAGE', parseUuid(appUuid, 'params.appUuid'), request.body.release, options));
      },
    );

    app.post(
      `${base}/:manifestName/apps/:appUuid/delete`,
      {
        config: WRITE,
        schema: {
          operationId: 'deleteManifestApp',
          deprecated: true,
          tags: TAGS,
          summary: 'Remove an app from a manifest (deprecated: use the elementUuid form)',
          description: "Retool's app-only form of POST …/manifests/{manifestName}/{elementUuid}/delete?elementType=PAGE, which it does in every respect.",
          security: BEARER_SECURITY,
          params: AppParams,
          querystring: WriteQuery,
          headers: WriteHeaders,
          body: Type.Optional(DeleteBody),
          response: { 200: envelope(WriteAnswer, WRITTEN), ...problems(...REMOVE_ERRORS) },
        },
      },
      async (request) => {
        const { manifestName, appUuid } = request.params;
        const options = writeOptions(request, request.body, request.query.dry_run);
        return ok(await deps.manifests.removeEntry(manifestName, 'PAGE', parseUuid(appUuid, 'params.appUuid'), options));
      },
    );

    app.put(
      `${base}/:manifestName/:elementUuid`,
      {
        config: WRITE,
        schema: {
          operationId: 'setManifestElement',
          tags: TAGS,
          summary: 'Set an element\u2019s release in a manifest (creating the manifest if missing) through a pull request',
          description:
            'The everyday write: "prod runs checkout 1.4.2". Pushes mir/manifest/<name>/<id> changing that one entry and opens its pull request; merging re-applies the change on the default branch as it is then, so pull requests on other entries never conflict. The release must be on the default branch or be latest (404 release_not_found); the value it has already is 409 no_change.',
          security: BEARER_SECURITY,
          params: ElementParams,
          querystring: ElementQuery,
          headers: WriteHeaders,
          body: SetBody,
          response: { 200: envelope(WriteAnswer, WRITTEN), ...problems(...SET_ERRORS) },
        },
      },
      async (request) => {
        const { manifestName, elementUuid } = request.params;
        const options = writeOptions(request, request.body, request.query.dry_run);
        const uuid = parseUuid(elementUuid, 'params.elementUuid');
        return ok(await deps.manifests.setEntry(manifestName, request.query.elementType, uuid, request.body.release, options));
      },
    );

    app.post(
      `${base}/:manifestName/:elementUuid/delete`,
      {
        config: WRITE,
        schema: {
          operationId: 'deleteManifestElement',
          tags: TAGS,
          summary: 'Remove an element from a manifest through a pull request',
          description:
            'Proposes removing the entry; an element the manifest does not name is 409 entry_not_found. Instances following the manifest stop receiving the element once it is merged. The body is optional.',
          security: BEARER_SECURITY,
          params: ElementParams,
          querystring: ElementQuery,
          headers: WriteHeaders,
          body: Type.Optional(DeleteBody),
          response: { 200: envelope(WriteAnswer, WRITTEN), ...problems(...REMOVE_ERRORS) },
        },
      },
      async (request) => {
        const { manifestName, elementUuid } = request.params;
        const options = writeOptions(request, request.body, request.query.dry_run);
        return ok(await deps.manifests.removeEntry(manifestName, request.query.elementType, parseUuid(elementUuid, 'params.elementUuid'), options));
      },
    );
  };
}
