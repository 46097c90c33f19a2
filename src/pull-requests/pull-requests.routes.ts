import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { actorOf, BEARER_SECURITY } from '../http/auth.js';
import { overrideOf } from '../http/override.js';
import { sendInSlices } from '../http/sliced-json.js';
import { EXAMPLE } from '../http/example-values.js';
import { AUTHENTICATED_ERRORS, envelope, GIT_ERRORS, ok, problems } from '../http/schemas.js';
import { OverrideHeaders, PULL_REQUEST_EXAMPLE, PullRequestState } from './pull-requests.schemas.js';
import type { PullRequestService } from './pull-requests.service.js';
import type { PullRequestSync } from './pull-requests.sync.js';

const NumberParams = Type.Object({ number: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }) });
const TAGS = ['Pull requests'];
const FORGE_ERRORS = ['provider_refused', 'provider_unavailable', 'provider_auth_failed', ...GIT_ERRORS] as const;
const OPEN_EXAMPLE = { ...PULL_REQUEST_EXAMPLE, state: 'open' as const, merge_commit: null, merged_by: null, merged_at: null, updated_at: EXAMPLE.at };

export function pullRequestRoutes(deps: { pullRequests: PullRequestService; sync: PullRequestSync }): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/api/v2/source_control/pull_requests',
      {
        config: { scope: 'source_control:releases_read' },
        schema: {
          operationId: 'listPullRequests',
          tags: TAGS,
          summary: 'List pull requests, newest first',
          description:
            'Every pull request mir opened (manifest writes, releases, publishes, hotfix releases), by number descending, each with what it does to each manifest. Page with `before`: the smallest number of a page.',
          security: BEARER_SECURITY,
          querystring: Type.Object(
            {
              state: Type.Optional(PullRequestState),
              limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }),
              before: Type.Optional(Type.Integer({ minimum: 1, description: 'Only pull requests numbered below this (paging)' })),
            },
            { additionalProperties: false },
          ),
          response: {
            200: envelope(Type.Object({ pull_requests: Type.Array(Type.Ref('PullRequest')) }), {
              description: 'The pull requests, newest first',
              example: { success: true, data: { pull_requests: [OPEN_EXAMPLE] } },
            }),
            ...problems(...AUTHENTICATED_ERRORS),
          },
        },
      },
      async (request, reply) => sendInSlices(request, reply, ok({ pull_requests: await deps.pullRequests.list(request.query) })),
    );

    app.get(
      '/api/v2/source_control/pull_requests/:number',
      {
        config: { scope: 'source_control:releases_read' },
        schema: {
          operationId: 'getPullRequest',
          tags: TAGS,
          summary: 'Get a pull request with the diff of each manifest it changes',
          description:
            'Its state, branch and commits, the entries it adds, changes and removes in each manifest, the artifacts it adds, its intent (`operations`, what a merge re-applies) and, when conflicted, the `conflicts`.',
          security: BEARER_SECURITY,
          params: NumberParams,
          response: {
            200: envelope(Type.Object({ pull_request: Type.Ref('PullRequest') }), {
              description: 'The pull request',
              example: { success: true, data: { pull_request: OPEN_EXAMPLE } },
            }),
            ...problems(...AUTHENTICATED_ERRORS, 'pull_request_not_found'),
          },
        },
      },
      async (request, reply) => sendInSlices(request, reply, ok({ pull_request: await deps.pullRequests.get(request.params.number) })),
    );

    app.post(
      '/api/v2/source_control/pull_requests/:number/merge',
      {
        config: { scope: 'source_control:releases_write' },
        schema: {
          operationId: 'mergePullRequest',
          tags: TAGS,
          summary: 'Merge a pull request by re-applying its intent on the default branch',
          description:
            'Never a text merge: unrelated changes merged since never conflict; an entry changed since gives 409 merge_conflict naming it, and the pull request becomes conflicted.',
          security: BEARER_SECURITY,
          params: NumberParams,
          headers: OverrideHeaders,
          response: {
            200: envelope(
              Type.Object({
                pull_request: Type.Ref('PullRequest'),
                commit_sha: Type.String({ description: 'The default branch after the merge' }),
                policy: Type.Array(Type.Ref('Verdict'), { description: 'What holds and policy said of the merge' }),
              }),
              {
                description: 'The merged pull request and the default branch after the merge',
                example: { success: true, data: { pull_request: PULL_REQUEST_EXAMPLE, commit_sha: EXAMPLE.mergeCommit, policy: [] } },
              },
            ),
            ...problems(
              ...AUTHENTICATED_ERRORS,
              ...FORGE_ERRORS,
              'pull_request_not_found',
              'pull_request_not_open',
              'merge_conflict',
              'release_held',
              'policy_blocked',
              'policy_invalid',
              'not_fast_forward',
              'push_rejected',
            ),
          },
        },
      },
      async (request, reply) =>
        sendInSlices(request, reply, ok(await deps.pullRequests.merge(request.params.number, actorOf(request), { override: overrideOf(request) }))),
    );

    app.post(
      '/api/v2/source_control/pull_requests/:number/close',
      {
        config: { scope: 'source_control:releases_write' },
        schema: {
          operationId: 'closePullRequest',
          tags: TAGS,
          summary: 'Close a pull request without merging it, and delete its branch',
          description:
            'Nothing reaches the default branch. On a forge the pull request is closed there first. A pending release it proposed is free again (its version may be created anew); a hotfix release it proposed may be proposed again.',
          security: BEARER_SECURITY,
          params: NumberParams,
          response: {
            200: envelope(Type.Object({ pull_request: Type.Ref('PullRequest') }), {
              description: 'The closed pull request',
              example: {
                success: true,
                data: { pull_request: { ...OPEN_EXAMPLE, state: 'closed', closed_at: EXAMPLE.later, updated_at: EXAMPLE.later } },
              },
            }),
            ...problems(...AUTHENTICATED_ERRORS, ...FORGE_ERRORS, 'pull_request_not_found', 'pull_request_not_open'),
          },
        },
      },
      async (request, reply) => sendInSlices(request, reply, ok({ pull_request: await deps.pullRequests.close(request.params.number, actorOf(request)) })),
    );

    app.post(
      '/api/v2/source_control/pull_requests/:number/refresh',
      {
        config: { scope: 'source_control:releases_write' },
        schema: {
          operationId: 'refreshPullRequest',
          tags: TAGS,
          summary: 'Bring a pull request up to date with its forge and the default branch',
          description:
            'Reads its state on the forge (a merge or close made there is recorded), then rebuilds its branch from its intent on the current default branch when the branch went stale, and force-pushes it. An intent that now truly conflicts marks it conflicted (and says so on the forge). action: rebuilt, up_to_date, conflicted, merged, closed or unchanged.',
          security: BEARER_SECURITY,
          params: NumberParams,
          response: {
            200: envelope(
              Type.Object({
                action: Type.Enum(['rebuilt', 'up_to_date', 'conflicted', 'merged', 'closed', 'unchanged']),
                pull_request: Type.Ref('PullRequest'),
              }),
              {
                description: 'What the refresh did, and the pull request after it',
                example: {
                  success: true,
                  data: { action: 'rebuilt', pull_request: { ...OPEN_EXAMPLE, head_commit: '7c2e5a90d4b1f8e3a6c9d2b5e8f1a4c7d0b3e6f9' } },
                },
              },
            ),
            ...problems(...AUTHENTICATED_ERRORS, ...FORGE_ERRORS, 'pull_request_not_found', 'push_rejected'),
          },
        },
      },
      async (request, reply) => sendInSlices(request, reply, ok(await deps.sync.refresh(request.params.number, actorOf(request)))),
    );
  };
}
