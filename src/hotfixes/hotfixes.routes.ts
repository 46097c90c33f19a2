// Hotfix lines: create, list, get (with the commits pushed since), release, abandon.
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
  ok,
  problems,
  PROPOSAL_ERRORS,
  Uuid,
  Version,
  VERSION_PATTERN,
  withExamples,
} from '../http/schemas.js';
import { PUSHED_EXAMPLE, WriteQuery } from '../pull-requests/pull-requests.schemas.js';
import { ReleaseDryRun, ReleasePushed } from '../releases/releases.schemas.js';
import { parseUuid } from '../formats/values.js';
import type { HotfixService } from './hotfixes.service.js';

const TAGS = ['Hotfixes'];
const READ = { scope: 'source_control:releases_read' } as const;
const WRITE = { scope: 'source_control:releases_write' } as const;
const OPEN_ERRORS = [...AUTHENTICATED_ERRORS, ...GIT_ERRORS, 'hotfix_not_found', 'hotfix_not_open'] as const;
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

const BRANCH = `hotfix/${EXAMPLE.app}/1.4`;
const HOTFIX_EXAMPLE: Static<typeof Hotfix> = {
  id: EXAMPLE.hotfix,
  element_uuid: EXAMPLE.app,
  element_type: 'PAGE',
  line: '1.4',
  base_version: '1.4.2',
  branch: BRANCH,
  base_commit: EXAMPLE.branchCommit,
  state: 'open',
  release_version: null,
  pull_request: null,
  author: EXAMPLE.actor,
  created_at: EXAMPLE.at,
  updated_at: EXAMPLE.at,
  released_at: null,
  abandoned_at: null,
  abandoned_by: null,
};

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
          description:
            "The branch is the default branch with the element's folder replaced by the newest release of that major.minor line, and no pull request: commit the fix there with any git client, then POST …/hotfixes/{id}/release. At most one open hotfix per element and line, across every mir process: 409 hotfix_exists. 201 when opened; 200 with dry_run=true.",
          security: BEARER_SECURITY,
          querystring: WriteQuery,
          body: withExamples(
            Type.Object(
              {
                element_uuid: Uuid,
                element_type: ElementType,
                release: Type.String({ pattern: VERSION_PATTERN, description: 'A release of the line to patch, e.g. 1.2.3 for the line 1.2' }),
                commit_message: Type.Optional(CommitMessage),
              },
              { additionalProperties: false },
            ),
            { element_uuid: EXAMPLE.app, element_type: 'PAGE', release: '1.4.2' },
          ),
          response: {
            200: envelope(Type.Ref('HotfixDryRun'), {
              description: 'What would be pushed (dry_run=true): nothing was pushed or recorded',
              example: {
                success: true,
                data: {
                  dry_run: true,
                  base_sha: EXAMPLE.commit,
                  branch_name: BRANCH,
                  line: '1.4',
                  base_version: '1.4.2',
                  files: [{ path: `apps/${EXAMPLE.appName}/main.json`, change: 'modified' }],
                },
              },
            }),
            201: envelope(Type.Object({ hotfix: Type.Ref('Hotfix'), commit_sha: CommitSha }), {
              description: 'The hotfix and the commit its branch points to',
              example: { success: true, data: { hotfix: HOTFIX_EXAMPLE, commit_sha: EXAMPLE.branchCommit } },
            }),
            ...problems(
              ...AUTHENTICATED_ERRORS,
              ...GIT_ERRORS,
              'element_not_found',
              'release_not_found',
              'repository_file_invalid',
              'artifact_invalid',
              'hotfix_exists',
              'branch_exists',
              'push_rejected',
            ),
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
          description: 'Open, released and abandoned hotfixes, filtered by `state` and `element_uuid`.',
          security: BEARER_SECURITY,
          querystring: Type.Object(
            {
              state: Type.Optional(Type.Enum(['open', 'released', 'abandoned'])),
              element_uuid: Type.Optional(Uuid),
              limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }),
            },
            { additionalProperties: false },
          ),
          response: {
            200: envelope(Type.Object({ hotfixes: Type.Array(Type.Ref('Hotfix')) }), {
              description: 'The hotfixes, newest first',
              example: { success: true, data: { hotfixes: [HOTFIX_EXAMPLE] } },
            }),
            ...problems(...AUTHENTICATED_ERRORS),
          },
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
          description:
            'The commits pushed to hotfix/<uuid>/<X.Y> since it was opened (newest first, up to 200; for a released hotfix, up to the commit it was released from), read from the remote at the time: what its release is built from. Empty until a fix is pushed.',
          security: BEARER_SECURITY,
          params: IdParams,
          response: {
            200: envelope(Type.Object({ hotfix: Type.Ref('Hotfix'), commits: Type.Array(HotfixCommit) }), {
              description: 'The hotfix and the commits on its branch',
              example: {
                success: true,
                data: {
                  hotfix: HOTFIX_EXAMPLE,
                  commits: [
                    {
                      sha: '9d4e2b7c1a8f5e3d6b0c9a2f4e7d1b8c5a3f6e0d',
                      message: 'Fix the rounding of basket totals\n',
                      author: 'Grace Hopper',
                      email: 'grace@example.com',
                      committed_at: EXAMPLE.later,
                    },
                  ],
                },
              },
            }),
            ...problems(...AUTHENTICATED_ERRORS, ...GIT_ERRORS, 'hotfix_not_found'),
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
          description:
            "Zips the element's folder as the hotfix branch holds it and opens a pull request adding only that zip (the fix's source is not merged back). Merging it marks the hotfix released and deletes its branch. 409 hotfix_empty when nothing was committed since it was opened. The body is optional.",
          security: BEARER_SECURITY,
          params: IdParams,
          querystring: WriteQuery,
          body: Type.Optional(
            withExamples(
              Type.Union(
                [
                  Type.Object(
                    { release_description: Type.Optional(Type.String({ maxLength: 10_000 })), commit_message: Type.Optional(CommitMessage) },
                    { additionalProperties: false },
                  ),
                  Type.Null(),
                ],
                { description: 'Optional: the request may have no body' },
              ),
              { release_description: 'Fix the rounding of basket totals' },
            ),
          ),
          response: {
            200: envelope(Type.Union([Type.Ref('HotfixReleasePushed'), Type.Ref('HotfixReleaseDryRun')]), {
              description: 'The pushed release branch and its pull request; with dry_run=true, what would be pushed',
              example: {
                success: true,
                data: {
                  ...PUSHED_EXAMPLE,
                  branch_name: `mir/release/${EXAMPLE.app}/1.4.3`,
                  pull_request: { ...PUSHED_EXAMPLE.pull_request, title: `Hotfix ${EXAMPLE.appName} 1.4.3` },
                  release_version: '1.4.3',
                  sha256: '2b8e4d1f7a3c9e5b0d6f2a8c4e1b7d3f9a5c0e6b2d8f4a1c7e3b9d5f0a6c2e8b',
                  size: 48_390,
                  hotfix_id: EXAMPLE.hotfix,
                },
              },
            }),
            ...problems(
              ...OPEN_ERRORS,
              ...PROPOSAL_ERRORS,
              'hotfix_release_pending',
              'hotfix_empty',
              'branch_not_found',
              'element_not_found',
              'version_exists',
              'source_folder_empty',
              'artifact_too_large',
            ),
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
          description: 'The commits on its branch are dropped with it. A released or abandoned hotfix is 409 hotfix_not_open.',
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
              {
                description: 'The abandoned hotfix; with dry_run=true, what would be done',
                example: {
                  success: true,
                  data: {
                    hotfix: { ...HOTFIX_EXAMPLE, state: 'abandoned', updated_at: EXAMPLE.later, abandoned_at: EXAMPLE.later, abandoned_by: EXAMPLE.actor },
                  },
                },
              },
            ),
            ...problems(...OPEN_ERRORS),
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
