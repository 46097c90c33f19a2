import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { actorOf, BEARER_SECURITY } from '../http/auth.js';
import { AUTHENTICATED_ERRORS, envelope, ok, problems } from '../http/schemas.js';
import { PullRequestState } from './pull-requests.schemas.js';
import type { PullRequestService } from './pull-requests.service.js';
import type { PullRequestSync } from './pull-requests.sync.js';

const NumberParams = Type.Object({ number: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }) });
const TAGS = ['Pull requests'];

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
          security: BEARER_SECURITY,
          querystring: Type.Object(
            {
              state: Type.Optional(PullRequestState),
              limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }),
              before: Type.Optional(Type.Integer({ minimum: 1, description: 'Only pull requests numbered below this (paging)' })),
            },
            { additionalProperties: false },
          ),
          response: { 200: envelope(Type.Object({ pull_requests: Type.Array(Type.Ref('PullRequest')) })), ...problems(...AUTHENTICATED_ERRORS) },
        },
      },
      async (request) => ok({ pull_requests: await deps.pullRequests.list(request.query) }),
    );

    app.get(
      '/api/v2/source_control/pull_requests/:number',
      {
        config: { scope: 'source_control:releases_read' },
        schema: {
          operationId: 'getPullRequest',
          tags: TAGS,
          summary: 'Get a pull request with the diff of each manifest it changes',
          security: BEARER_SECURITY,
          params: NumberParams,
          response: { 200: envelope(Type.Object({ pull_request: Type.Ref('PullRequest') })), ...problems(...AUTHENTICATED_ERRORS, 404) },
        },
      },
      async (request) => ok({ pull_request: await deps.pullRequests.get(request.params.number) }),
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
          response: {
            200: envelope(
              Type.Object({ pull_request: Type.Ref('PullRequest'), commit_sha: Type.String({ description: 'The default branch after the merge' }) }),
            ),
            ...problems(...AUTHENTICATED_ERRORS, 404, 409, 503),
          },
        },
      },
      async (request) => ok(await deps.pullRequests.merge(request.params.number, actorOf(request))),
    );

    app.post(
      '/api/v2/source_control/pull_requests/:number/close',
      {
        config: { scope: 'source_control:releases_write' },
        schema: {
          operationId: 'closePullRequest',
          tags: TAGS,
          summary: 'Close a pull request without merging it, and delete its branch',
          security: BEARER_SECURITY,
          params: NumberParams,
          response: { 200: envelope(Type.Object({ pull_request: Type.Ref('PullRequest') })), ...problems(...AUTHENTICATED_ERRORS, 404, 409, 503) },
        },
      },
      async (request) => ok({ pull_request: await deps.pullRequests.close(request.params.number, actorOf(request)) }),
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
            ),
            ...problems(...AUTHENTICATED_ERRORS, 404, 409, 503),
          },
        },
      },
      async (request) => ok(await deps.sync.refresh(request.params.number, actorOf(request))),
    );
  };
}
