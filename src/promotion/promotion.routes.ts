// Compare two manifests, promote one to another, roll an element back with a hold; list and lift holds.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { actorOf, BEARER_SECURITY } from '../http/auth.js';
import { EXAMPLE } from '../http/example-values.js';
import { overrideOf } from '../http/override.js';
import { AUTHENTICATED_ERRORS, envelope, ManifestName, ok, problems, PROPOSAL_ERRORS } from '../http/schemas.js';
import { OverrideHeaders, PUSHED_EXAMPLE, WriteAnswer, WriteQuery } from '../pull-requests/pull-requests.schemas.js';
import { parseUuid } from '../formats/values.js';
import type { HoldService } from './holds.service.js';
import { COMPARISON_EXAMPLE, HOLD_EXAMPLE, LiftBody, PromoteBody, ROLLBACK_EXAMPLE, RollbackBody } from './promotion.schemas.js';
import type { PromotionService } from './promotion.service.js';

const TAGS = ['Promotion'];
const BASE = '/api/v2/source_control';

export function promotionRoutes(deps: { promotion: PromotionService; holds: HoldService }): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      `${BASE}/compare`,
      {
        config: { scope: 'source_control:releases_read' },
        schema: {
          operationId: 'compareManifests',
          tags: TAGS,
          summary: 'What differs between two manifests (or the manifests two instances follow)',
          description:
            'Every element whose release differs, with both releases, how many releases `to` is behind and the descriptions of those in between; the elements on one side only; the commit both were read at. `latest` is shown with the version it resolves to (the highest release).',
          security: BEARER_SECURITY,
          querystring: Type.Object({ from: ManifestName, to: ManifestName }, { additionalProperties: false }),
          response: {
            200: envelope(Type.Ref('Comparison'), { description: 'The differences', example: { success: true, data: COMPARISON_EXAMPLE } }),
            ...problems(...AUTHENTICATED_ERRORS, 'manifest_not_found', 'manifest_invalid', 'git_unavailable'),
          },
        },
      },
      async (request) => ok(await deps.promotion.compare(request.query.from, request.query.to)),
    );

    app.post(
      `${BASE}/promote`,
      {
        config: { scope: 'source_control:releases_write' },
        schema: {
          operationId: 'promote',
          tags: TAGS,
          summary: 'Make one manifest run what another runs, with one branch, one commit and one pull request',
          description:
            'Every difference (or the chosen `elements`) becomes a set_entry operation on `to`, as a publish would: `latest` on `from` is promoted as the version it resolves to. Held releases are 409 release_held; the answer carries the policy verdicts (order, soak, freeze, approvals), which a merge checks again. dry_run=true answers the exact changes and verdicts and writes nothing.',
          security: BEARER_SECURITY,
          querystring: WriteQuery,
          headers: OverrideHeaders,
          body: PromoteBody,
          response: {
            200: envelope(WriteAnswer, {
              description: 'The pushed branch and its pull request; with dry_run=true, what would be pushed',
              example: {
                success: true,
                data: { ...PUSHED_EXAMPLE, pull_request: { ...PUSHED_EXAMPLE.pull_request, title: `Promote ${EXAMPLE.appName} 1.4.2 from uat to prod` } },
              },
            }),
            ...problems(
              ...AUTHENTICATED_ERRORS,
              ...PROPOSAL_ERRORS,
              'manifest_not_found',
              'manifest_invalid',
              'stale_base',
              'artifact_invalid',
              'artifact_too_large',
              'policy_invalid',
            ),
          },
        },
      },
      async (request) => {
        const { body } = request;
        const elements = body.elements?.map((e, i) => ({ ...e, element_uuid: parseUuid(e.element_uuid, `body.elements[${i}].element_uuid`) }));
        const options = {
          actor: actorOf(request),
          dryRun: request.query.dry_run,
          baseSha: body.base_sha,
          commitMessage: body.commit_message,
          override: overrideOf(request),
        };
        return ok(await deps.promotion.promote({ from: body.from, to: body.to, elements }, options));
      },
    );

    app.post(
      `${BASE}/rollback`,
      {
        config: { scope: 'source_control:releases_write' },
        schema: {
          operationId: 'rollback',
          tags: TAGS,
          summary: 'Roll an element back in one manifest and hold the bad release',
          description:
            'Proposes the release before the one the manifest runs (or `to`, which must be lower: 400 otherwise) and, once the pull request is open, holds the bad release: publish, promote, manifest writes and merges that would set it again are 409 release_held until the hold is lifted, explicitly or by a greater release of the element.',
          security: BEARER_SECURITY,
          querystring: WriteQuery,
          headers: OverrideHeaders,
          body: RollbackBody,
          response: {
            200: envelope(Type.Union([Type.Ref('RollbackPushed'), Type.Ref('RollbackDryRun')]), {
              description: 'The rollback pull request and the hold; with dry_run=true, what would be pushed (hold null)',
              example: { success: true, data: ROLLBACK_EXAMPLE },
            }),
            ...problems(
              ...AUTHENTICATED_ERRORS,
              ...PROPOSAL_ERRORS,
              'manifest_not_found',
              'manifest_invalid',
              'entry_not_found',
              'release_not_found',
              'artifact_invalid',
              'artifact_too_large',
              'policy_invalid',
            ),
          },
        },
      },
      async (request) => {
        const { body } = request;
        const options = { actor: actorOf(request), dryRun: request.query.dry_run, commitMessage: body.commit_message, override: overrideOf(request) };
        return ok(await deps.promotion.rollback({ ...body, element_uuid: parseUuid(body.element_uuid, 'body.element_uuid') }, options));
      },
    );

    app.get(
      `${BASE}/holds`,
      {
        config: { scope: 'source_control:releases_read' },
        schema: {
          operationId: 'listHolds',
          tags: ['Holds'],
          summary: 'Holds on release versions, newest first',
          description:
            'Active holds by default; `active=false` lists lifted ones, `all=true` both. Each names its version, reason, author and rollback pull request.',
          security: BEARER_SECURITY,
          querystring: Type.Object(
            {
              active: Type.Boolean({ default: true, description: 'Active holds (true) or lifted ones (false)' }),
              all: Type.Boolean({ default: false, description: 'Both, ignoring active' }),
            },
            { additionalProperties: false },
          ),
          response: {
            200: envelope(Type.Object({ holds: Type.Array(Type.Ref('Hold')) }), {
              description: 'The holds',
              example: { success: true, data: { holds: [HOLD_EXAMPLE] } },
            }),
            ...problems(...AUTHENTICATED_ERRORS),
          },
        },
      },
      async (request) => ok({ holds: await deps.holds.list({ active: request.query.all ? undefined : request.query.active }) }),
    );

    app.post(
      `${BASE}/holds/:holdId/lift`,
      {
        config: { scope: 'admin' },
        schema: {
          operationId: 'liftHold',
          tags: ['Holds'],
          summary: 'Lift a hold, with a reason (admin)',
          description: 'The held version may be set again. Audited as hold.lift with the reason; 404 hold_not_found when it is lifted already.',
          security: BEARER_SECURITY,
          params: Type.Object({ holdId: Type.String({ format: 'uuid' }) }),
          body: LiftBody,
          response: {
            200: envelope(Type.Object({ hold: Type.Ref('Hold') }), {
              description: 'The lifted hold',
              example: {
                success: true,
                data: { hold: { ...HOLD_EXAMPLE, active: false, lifted_at: EXAMPLE.later, lifted_by: 'platform-admin', lift_reason: 'fixed in 1.4.3' } },
              },
            }),
            ...problems(...AUTHENTICATED_ERRORS, 'hold_not_found'),
          },
        },
      },
      async (request) => ok({ hold: await deps.holds.lift(request.params.holdId.toLowerCase(), request.body.reason, actorOf(request)) }),
    );
  };
}
