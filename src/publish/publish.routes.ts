// Batch publish: many manifest entries, one branch, one commit, one pull request.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { invalidField } from '../errors.js';
import { actorOf, BEARER_SECURITY } from '../http/auth.js';
import { overrideOf } from '../http/override.js';
import { EXAMPLE } from '../http/example-values.js';
import { AUTHENTICATED_ERRORS, ElementType, envelope, ManifestName, ok, problems, PROPOSAL_ERRORS, ReleaseRef, Uuid, withExamples } from '../http/schemas.js';
import { BaseSha, WriteHeaders, ifMatchSha, PUSHED_EXAMPLE, WriteAnswer, WriteQuery } from '../pull-requests/pull-requests.schemas.js';
import { parseUuid } from '../formats/values.js';
import type { PublishService } from './publish.service.js';

const PublishBody = withExamples(
  Type.Object(
    {
      changes: Type.Array(
        Type.Object(
          { manifest: ManifestName, element_uuid: Uuid, element_type: ElementType, release: ReleaseRef },
          { additionalProperties: false, description: 'Set this element to this release in this manifest (an older version rolls back)' },
        ),
        { minItems: 1, maxItems: 1000 },
      ),
      commit_message: Type.Optional(Type.String({ minLength: 1, maxLength: 10_000 })),
      base_sha: Type.Optional(BaseSha),
    },
    { additionalProperties: false },
  ),
  {
    changes: [
      { manifest: 'prod', element_uuid: EXAMPLE.app, element_type: 'PAGE', release: '1.4.2' },
      { manifest: 'prod', element_uuid: EXAMPLE.workflow, element_type: 'WORKFLOW', release: '0.3.1' },
      { manifest: 'uat', element_uuid: EXAMPLE.workflow, element_type: 'WORKFLOW', release: 'latest' },
    ],
    commit_message: 'Ship checkout 1.4.2 and nightly-sync 0.3.1 to prod',
    base_sha: EXAMPLE.commit,
  },
);

export function publishRoutes(deps: { publish: PublishService }): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/api/v2/source_control/publish',
      {
        config: { scope: 'source_control:releases_write' },
        schema: {
          operationId: 'publish',
          tags: ['Releases'],
          summary: 'Set releases in one or more manifests with one branch, one commit and one pull request',
          description:
            'One branch mir/publish/<id>, one commit and one pull request for any number of manifests and elements; merging it sets them all at once. Each release must exist on the default branch, or be latest (404 release_not_found); duplicate or contradictory changes are 400 naming body.changes[i]. Rolling back is publishing an older version.',
          security: BEARER_SECURITY,
          querystring: WriteQuery,
          headers: WriteHeaders,
          body: PublishBody,
          response: {
            200: envelope(WriteAnswer, {
              description: 'The pushed branch and its pull request; with dry_run=true, what would be pushed',
              example: {
                success: true,
                data: {
                  ...PUSHED_EXAMPLE,
                  branch_name: 'mir/publish/zoixi9yh',
                  pull_request: { ...PUSHED_EXAMPLE.pull_request, title: 'Publish 3 changes to prod, uat' },
                },
              },
            }),
            ...problems(
              ...AUTHENTICATED_ERRORS,
              ...PROPOSAL_ERRORS,
              'manifest_not_found',
              'element_not_found',
              'release_not_found',
              'stale_base',
              'manifest_invalid',
              'artifact_invalid',
              'artifact_too_large',
            ),
          },
        },
      },
      async (request) => {
        const { body } = request;
        const header = ifMatchSha(request.headers['if-match']);
        if (header !== undefined && !/^[0-9a-f]{40}$/.test(header)) throw invalidField('headers.if-match', 'must be a commit sha (40 hex digits)');
        if (header && body.base_sha && header !== body.base_sha) throw invalidField('body.base_sha', 'differs from If-Match');
        const changes = body.changes.map((c, i) => ({ ...c, element_uuid: parseUuid(c.element_uuid, `body.changes[${i}].element_uuid`) }));
        const options = {
          actor: actorOf(request),
          dryRun: request.query.dry_run,
          baseSha: body.base_sha ?? header,
          commitMessage: body.commit_message,
          override: overrideOf(request),
        };
        return ok(await deps.publish.publish(changes, options));
      },
    );
  };
}
