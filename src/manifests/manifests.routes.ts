// Retool's manifest routes (same paths, bodies and answers), plus base_sha / If-Match and dry runs.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import Type from 'typebox';
import { invalidField } from '../errors.js';
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
import { BaseSha, ifMatchSha, WriteAnswer, WriteQuery } from '../pull-requests/pull-requests.schemas.js';
import { parseUuid } from '../repo/values.js';
import type { ManifestService, WriteOptions } from './manifests.service.js';

const TAGS = ['Manifests'];
const READ = { scope: 'source_control:releases_read' } as const;
const WRITE = { scope: 'source_control:releases_write' } as const;
const WRITE_ERRORS = [...AUTHENTICATED_ERRORS, 404, 409, 422, 503] as const;

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
const ElementQuery = Type.Object({ elementType: ElementType, dry_run: Type.Boolean({ default: false }) }, { additionalProperties: false });
const SetBody = Type.Object(
  { release: ReleaseRef, commit_message: Type.Optional(CommitMessage), base_sha: Type.Optional(BaseSha) },
  { additionalProperties: false },
);
const DeleteBody = Type.Union([
  Type.Object({ commit_message: Type.Optional(CommitMessage), base_sha: Type.Optional(BaseSha) }, { additionalProperties: false }),
  Type.Null(),
]);
const ReplaceBody = Type.Object(
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
);

export const manifestSchemas = [Manifest];

function writeOptions(request: FastifyRequest, body: { commit_message?: string; base_sha?: string } | null | undefined, dryRun: boolean): WriteOptions {
  const header = ifMatchSha(request.headers['if-match']);
  if (header !== undefined && !/^[0-9a-f]{40}$/.test(header)) throw invalidField('headers.if-match', 'must be a commit sha (40 hex digits)');
  if (header && body?.base_sha && header !== body.base_sha) throw invalidField('body.base_sha', 'differs from If-Match');
  return { actor: actorOf(request), dryRun, baseSha: body?.base_sha ?? header, commitMessage: body?.commit_message };
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
          security: BEARER_SECURITY,
          response: {
            200: envelope(Type.Object({ manifests: Type.Array(ManifestListItem), commit_sha: CommitSha })),
            ...problems(...AUTHENTICATED_ERRORS, 503),
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
          security: BEARER_SECURITY,
          params: NameParams,
          response: {
            200: envelope(Type.Object({ manifest: Type.Ref('Manifest'), commit_sha: CommitSha })),
            304: NotModified,
            ...problems(...AUTHENTICATED_ERRORS, 404, 422, 503),
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
          security: BEARER_SECURITY,
          params: NameParams,
          querystring: WriteQuery,
          body: ReplaceBody,
          response: { 200: envelope(WriteAnswer), ...problems(...WRITE_ERRORS) },
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
          security: BEARER_SECURITY,
          params: NameParams,
          querystring: WriteQuery,
          body: Type.Optional(DeleteBody),
          response: { 200: envelope(WriteAnswer), ...problems(...WRITE_ERRORS) },
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
          security: BEARER_SECURITY,
          params: AppParams,
          querystring: WriteQuery,
          body: SetBody,
          response: { 200: envelope(WriteAnswer), ...problems(...WRITE_ERRORS) },
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
          security: BEARER_SECURITY,
          params: AppParams,
          querystring: WriteQuery,
          body: Type.Optional(DeleteBody),
          response: { 200: envelope(WriteAnswer), ...problems(...WRITE_ERRORS) },
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
          security: BEARER_SECURITY,
          params: ElementParams,
          querystring: ElementQuery,
          body: SetBody,
          response: { 200: envelope(WriteAnswer), ...problems(...WRITE_ERRORS) },
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
          security: BEARER_SECURITY,
          params: ElementParams,
          querystring: ElementQuery,
          body: Type.Optional(DeleteBody),
          response: { 200: envelope(WriteAnswer), ...problems(...WRITE_ERRORS) },
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
