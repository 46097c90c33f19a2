// Hotfix lines: create, list, get (with the commits pushed since), release, abandon.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { actorOf, BEARER_SECURITY } from '../http/auth.js';
import { AUTHENTICATED_ERRORS, CommitSha, ElementType, envelope, ok, problems, Uuid, Version, VERSION_PATTERN } from '../http/schemas.js';
import { WriteQuery } from '../pull-requests/pull-requests.schemas.js';
import { ReleaseDryRun, ReleasePushed } from '../releases/releases.schemas.js';
import { parseUuid } from '../repo/values.js';
import type { HotfixService } from './hotfixes.service.js';

const TAGS = ['Hotfixes'];
const READ = { scope: 'source_control:releases_read' } as const;
const WRITE = { scope: 'source_control:releases_write' } as const;
const WRITE_ERRORS = [...AUTHENTICATED_ERRORS, 404, 409, 422, 503] as const;
const Line = Type.String({ pattern: '^(0|[1-9]\\d*)\\.(0|[1-9]\\d*)$', description: 'A release line X.Y' });

const Hotfix = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    element_uuid: Type.String(),
    element_type: ElementType,
    line: Line,
    base_version: Version,
    branch: Type.String({ description: 'hotfix/<uuid>/<X.Y>: commit the fix here with any git client' }),
    base_commit: CommitSha,
    state: Type.Enum(['open', 'released', 'abandoned']),
    release_version: Type.Union([Version, Type.Null()]),
    pull_request: Type.Union([Type.Object({ number: Type.Integer(), url: Type.String() }), Type.Null()]),
    author: Type.String(),
    created_at: Type.String({ format: 'date-time' }),
    updated_at: Type.String({ format: 'date-time' }),
    released_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    abandoned_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    abandoned_by: Type.Union([Type.String(), Type.Null()]),
  },
  { $id: 'Hotfix' },
);
const HotfixCommit = Type.Object({
  sha: CommitSha,
  message: Type.String(),
  author: Type.String(),
  email: Type.String(),
  committed_at: Type.String({ format: 'date-time' }),
});
const HotfixDryRun = Type.Object(
  {
    dry_run: Type.Literal(true),
    base_sha: CommitSha,
    branch_name: Type.String(),
    line: Line,
    base_version: Version,
    files: Type.Array(Type.Object({ path: Type.String(), change: Type.Enum(['added', 'modified', 'deleted']) }), {
      description: 'How the branch would differ from the default branch',
    }),
  },
  { $id: 'HotfixDryRun', description: 'What would be pushed (dry_run=true): nothing was pushed or recorded' },
);
const HotfixReleasePushed = Type.Object(
  { ...ReleasePushed.properties, hotfix_id: Type.String() },
  { $id: 'HotfixReleasePushed', description: 'The pushed patch release branch and its pull request' },
);
const HotfixReleaseDryRun = Type.Object(
  { ...ReleaseDryRun.properties, hotfix_id: Type.String() },
  { $id: 'HotfixReleaseDryRun', description: 'What would be pushed (dry_run=true)' },
);
const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
const CommitMessage = Type.String({ minLength: 1, maxLength: 10_000 });

export const hotfixSchemas = [Hotfix, HotfixDryRun, HotfixReleasePushed, HotfixReleaseDryRun];

export function hotfixRoutes(deps: { hotfixes: HotfixService }): FastifyPluginAsyncTypebox {
  return async (app) => {
    const base = '/api/v2/source_control/hotfixes';

    app.post(
      base,
      {
        config: WRITE,
        schema: {
          operationId: 'createHotfix',
          tags: TAGS,
          summary: 'Open a hotfix on the line of a release: pushes hotfix/<uuid>/<X.Y> holding the newest release of that line',
          security: BEARER_SECURITY,
          querystring: WriteQuery,
          body: Type.Object(
            {
              element_uuid: Uuid,
              element_type: ElementType,
              release: Type.String({ pattern: VERSION_PATTERN, description: 'A release of the line to patch, e.g. 1.2.3 for the line 1.2' }),
              commit_message: Type.Optional(CommitMessage),
            },
            { additionalProperties: false },
          ),
          response: {
            200: envelope(Type.Ref('HotfixDryRun')),
            201: envelope(Type.Object({ hotfix: Type.Ref('Hotfix'), commit_sha: CommitSha }), 'The hotfix and the commit its branch points to'),
            ...problems(...WRITE_ERRORS),
          },
        },
      },
      async (request, reply) => {
        const body = { ...request.body, element_uuid: parseUuid(request.body.element_uuid, 'body.element_uuid') };
        const result = await deps.hotfixes.create(body, { actor: actorOf(request), dryRun: request.query.dry_run, commitMessage: body.commit_message });
        return reply.code('dry_run' in result ? 200 : 201).send(ok(result));
      },
    );

    app.get(
      base,
      {
        config: READ,
        schema: {
          operationId: 'listHotfixes',
          tags: TAGS,
          summary: 'List hotfixes, newest first',
          security: BEARER_SECURITY,
          querystring: Type.Object(
            {
              state: Type.Optional(Type.Enum(['open', 'released', 'abandoned'])),
              element_uuid: Type.Optional(Uuid),
              limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }),
            },
            { additionalProperties: false },
          ),
          response: { 200: envelope(Type.Object({ hotfixes: Type.Array(Type.Ref('Hotfix')) })), ...problems(...AUTHENTICATED_ERRORS) },
        },
      },
      async (request) => ok({ hotfixes: await deps.hotfixes.list(request.query) }),
    );

    app.get(
      `${base}/:id`,
      {
        config: READ,
        schema: {
          operationId: 'getHotfix',
          tags: TAGS,
          summary: 'Get a hotfix with the commits made on its branch since it was created',
          security: BEARER_SECURITY,
          params: IdParams,
          response: {
            200: envelope(Type.Object({ hotfix: Type.Ref('Hotfix'), commits: Type.Array(HotfixCommit) })),
            ...problems(...AUTHENTICATED_ERRORS, 404, 503),
          },
        },
      },
      async (request) => ok(await deps.hotfixes.get(request.params.id)),
    );

    app.post(
      `${base}/:id/release`,
      {
        config: WRITE,
        schema: {
          operationId: 'releaseHotfix',
          tags: TAGS,
          summary: 'Build the patch release X.Y.(highest patch + 1) from the hotfix branch and propose only that artifact',
          security: BEARER_SECURITY,
          params: IdParams,
          querystring: WriteQuery,
          body: Type.Optional(
            Type.Union([
              Type.Object(
                { release_description: Type.Optional(Type.String({ maxLength: 10_000 })), commit_message: Type.Optional(CommitMessage) },
                { additionalProperties: false },
              ),
              Type.Null(),
            ]),
          ),
          response: {
            200: envelope(Type.Union([Type.Ref('HotfixReleasePushed'), Type.Ref('HotfixReleaseDryRun')])),
            ...problems(...WRITE_ERRORS),
          },
        },
      },
      async (request) => {
        const body = request.body ?? {};
        const options = { actor: actorOf(request), dryRun: request.query.dry_run, commitMessage: body.commit_message };
        return ok(await deps.hotfixes.release(request.params.id, body, options));
      },
    );

    app.post(
      `${base}/:id/abandon`,
      {
        config: WRITE,
        schema: {
          operationId: 'abandonHotfix',
          tags: TAGS,
          summary: 'Abandon a hotfix: its branch is deleted and the line may be hotfixed again',
          security: BEARER_SECURITY,
          params: IdParams,
          querystring: WriteQuery,
          response: {
            200: envelope(
              Type.Union([
                Type.Object({ hotfix: Type.Ref('Hotfix') }),
                Type.Object(
                  {
                    dry_run: Type.Literal(true),
                    hotfix_id: Type.String(),
                    branch_name: Type.String({ description: 'The branch that would be deleted' }),
                    state: Type.Literal('abandoned'),
                  },
                  { description: 'What would be done (dry_run=true): nothing was deleted or recorded' },
                ),
              ]),
            ),
            ...problems(...AUTHENTICATED_ERRORS, 404, 409, 503),
          },
        },
      },
      async (request) => {
        const result = await deps.hotfixes.abandon(request.params.id, { actor: actorOf(request), dryRun: request.query.dry_run });
        return ok('dry_run' in result ? result : { hotfix: result });
      },
    );
  };
}
