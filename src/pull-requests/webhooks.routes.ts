// Inbound forge webhooks: POST /api/v2/source_control/webhooks/{provider}. No bearer token — each
// forge proves the delivery its own way (HMAC of the raw body, a shared token, basic credentials),
// so this plugin keeps the body as the exact string received: its own content-type parser, scoped
// to this plugin (the app's global parser hands routes parsed JSON).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { PUBLIC_SECURITY } from '../http/auth.js';
import { EXAMPLE } from '../http/example-values.js';
import { envelope, ok, problems } from '../http/schemas.js';
import { sendInSlices } from '../http/sliced-json.js';
import type { PullRequestSync } from './pull-requests.sync.js';

export function webhookRoutes(deps: { sync: PullRequestSync }): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.removeAllContentTypeParsers();
    app.addContentTypeParser(['application/json', 'text/plain'], { parseAs: 'string' }, (_request, body, done) => done(null, body));

    app.post(
      '/api/v2/source_control/webhooks/:provider',
      {
        schema: {
          operationId: 'receiveForgeWebhook',
          tags: ['Webhooks'],
          summary: "Receive a forge's pull request event (merged, closed) and apply it",
          description:
            'GitHub: X-Hub-Signature-256 (HMAC-SHA256 of the body with MIR_WEBHOOK_SECRET). Bitbucket Cloud: X-Hub-Signature (sha256=…). ' +
            'GitLab: X-Gitlab-Token equal to MIR_WEBHOOK_SECRET. Azure DevOps: basic credentials whose password is MIR_WEBHOOK_SECRET. ' +
            'A bad or missing proof is 401 and changes nothing; a repeated delivery answers `unchanged`. No bearer token: forges call it, not clients.',
          security: PUBLIC_SECURITY,
          params: Type.Object({ provider: Type.Enum(['github', 'gitlab', 'bitbucket', 'azure'], { description: 'The forge, as MIR_PROVIDER names it' }) }),
          body: Type.Unknown({
            description: "The forge's event payload as it sends it (JSON); verified against the exact bytes received",
            examples: [
              {
                action: 'closed',
                number: 4821,
                pull_request: {
                  number: 4821,
                  state: 'closed',
                  merged: true,
                  merge_commit_sha: EXAMPLE.mergeCommit,
                  head: { ref: 'mir/manifest/prod/71ek0kn8' },
                  merged_by: { login: 'grace' },
                },
                sender: { login: 'grace' },
              },
            ],
          }),
          response: {
            200: envelope(
              Type.Object({
                action: Type.Enum(['merged', 'closed', 'unchanged', 'ignored'], {
                  description: 'ignored: not a pull request event of ours; unchanged: already known (a repeated delivery)',
                }),
                pull_request: Type.Union([Type.Integer(), Type.Null()], { description: 'Our number of the pull request it concerned' }),
              }),
              { description: 'What the delivery changed', example: { success: true, data: { action: 'merged', pull_request: EXAMPLE.pullRequest } } },
            ),
            ...problems(
              'validation_failed',
              'invalid_webhook_payload',
              'bad_request',
              'webhook_unauthorized',
              'webhook_not_configured',
              'payload_too_large',
              'unsupported_media_type',
              'internal_error',
              'not_ready',
              'database_unavailable',
              'git_unavailable',
            ),
          },
        },
      },
      async (request, reply) =>
        sendInSlices(
          request,
          reply,
          ok(await deps.sync.handleWebhook(request.params.provider, request.headers, typeof request.body === 'string' ? request.body : '', request.id)),
        ),
    );
  };
}
