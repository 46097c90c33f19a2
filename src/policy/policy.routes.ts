// Approvals of builtin pull requests, and the verdicts a merge would get now.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { actorOf, BEARER_SECURITY } from '../http/auth.js';
import { EXAMPLE } from '../http/example-values.js';
import { AUTHENTICATED_ERRORS, envelope, GIT_ERRORS, ok, problems } from '../http/schemas.js';
import type { PullRequestService } from '../pull-requests/pull-requests.service.js';
import type { ApprovalService } from './approvals.service.js';

const TAGS = ['Pull requests'];
const NumberParams = Type.Object({ number: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }) });
const Approvals = Type.Object({
  pull_request: Type.Integer(),
  approvals: Type.Array(Type.Object({ approver: Type.String({ description: 'The approving token' }), approved_at: Type.String({ format: 'date-time' }) })),
});
const APPROVALS_EXAMPLE = { pull_request: EXAMPLE.pullRequest, approvals: [{ approver: 'alice', approved_at: EXAMPLE.later }] };

export function policyRoutes(deps: { approvals: ApprovalService; pullRequests: PullRequestService }): FastifyPluginAsyncTypebox {
  return async (app) => {
    const path = '/api/v2/source_control/pull_requests/:number/approvals';
    const answer = (description: string) => envelope(Approvals, { description, example: { success: true, data: APPROVALS_EXAMPLE } });

    app.get(
      path,
      {
        config: { scope: 'source_control:releases_read' },
        schema: {
          operationId: 'listApprovals',
          tags: TAGS,
          summary: 'Approvals of a builtin pull request',
          description: 'Who approved it and when; the policy of a manifest (`approvals.required`) counts those by tokens other than the author.',
          security: BEARER_SECURITY,
          params: NumberParams,
          response: { 200: answer('Its approvals'), ...problems(...AUTHENTICATED_ERRORS, 'pull_request_not_found') },
        },
      },
      async (request) => ok(await deps.approvals.list(request.params.number)),
    );

    app.post(
      path,
      {
        config: { scope: 'source_control:releases_write' },
        schema: {
          operationId: 'approvePullRequest',
          tags: TAGS,
          summary: 'Approve a builtin pull request',
          description:
            'Records this token’s approval (once; again is a no-op), audited. Its author cannot approve it, and a pull request on a forge is approved on the forge (409 approval_refused).',
          security: BEARER_SECURITY,
          params: NumberParams,
          response: {
            200: answer('Its approvals, this one included'),
            ...problems(...AUTHENTICATED_ERRORS, 'pull_request_not_found', 'pull_request_not_open', 'approval_refused'),
          },
        },
      },
      async (request) => ok(await deps.approvals.approve(request.params.number, actorOf(request))),
    );

    app.delete(
      path,
      {
        config: { scope: 'source_control:releases_write' },
        schema: {
          operationId: 'withdrawApproval',
          tags: TAGS,
          summary: 'Withdraw this token’s approval of a pull request',
          description: 'The approval no longer counts: a merge that needed it is blocked again (409 policy_blocked). Audited; without an approval, a no-op.',
          security: BEARER_SECURITY,
          params: NumberParams,
          response: { 200: answer('Its approvals, without this one'), ...problems(...AUTHENTICATED_ERRORS, 'pull_request_not_found', 'pull_request_not_open') },
        },
      },
      async (request) => ok(await deps.approvals.withdraw(request.params.number, actorOf(request))),
    );

    app.get(
      '/api/v2/source_control/pull_requests/:number/verdicts',
      {
        config: { scope: 'source_control:releases_read' },
        schema: {
          operationId: 'getPullRequestVerdicts',
          tags: TAGS,
          summary: 'What holds and policy would say of merging a pull request now',
          description:
            'The verdicts a merge would get at this moment (order, soak, freeze, approvals, holds), computed on the current default branch; nothing is written.',
          security: BEARER_SECURITY,
          params: NumberParams,
          response: {
            200: envelope(Type.Object({ policy: Type.Array(Type.Ref('Verdict')) }), {
              description: 'The verdicts',
              example: {
                success: true,
                data: {
                  policy: [
                    {
                      gate: 'policy',
                      manifest: 'prod',
                      rule: 'approvals',
                      status: 'blocked',
                      reason: '1 of 2 approvals by someone other than the author',
                      until: null,
                    },
                  ],
                },
              },
            }),
            ...problems(...AUTHENTICATED_ERRORS, 'pull_request_not_found', 'release_held', 'policy_invalid', ...GIT_ERRORS),
          },
        },
      },
      async (request) => ok({ policy: await deps.pullRequests.verdicts(request.params.number, actorOf(request)) }),
    );
  };
}
