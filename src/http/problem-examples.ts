// One example problem document per catalog code, for the OpenAPI document's
// `components.examples`: each is a catalog error built by its own factory and rendered by the
// error handler's own `problemDocument`, so an example is what a client receives (members,
// message wording and all). The Record over ErrorCode makes a new code fail the type check until
// it has its example.
import { errors, ERROR_CODES, type AppError, type ErrorCode } from '../errors.js';
import { repoErrors } from '../formats/errors.js';
import { problemDocument } from './error-handler.js';
import { EXAMPLE } from './example-values.js';

const { app: APP, commit: COMMIT, hotfix: HOTFIX, token: TOKEN } = EXAMPLE;
const ARTIFACT = `dist/apps/${APP}/1.4.2.zip`;
const CONFLICT = { target: `manifest:prod/PAGE:${APP}`, reason: 'the entry moved', expected: '1.4.1', found: '1.4.3', wanted: '1.4.2' };

const EXAMPLES: Record<ErrorCode, AppError> = {
  validation_failed: errors.validation([{ field: 'body.scopes', message: 'is required' }]),
  invalid_json: errors.invalidJson('The body is not valid JSON: Unexpected end of JSON input'),
  invalid_content_length: errors.invalidContentLength(),
  invalid_webhook_payload: errors.invalidWebhookPayload('The webhook body is not JSON'),
  bad_request: errors.badRequest("'/api/v2/source_control/manifests/%E0%A4%A' is not a valid url component"),
  unauthorized: errors.unauthorized('The bearer token is unknown, expired or revoked'),
  webhook_unauthorized: errors.webhookUnauthorized('github', 'the X-Hub-Signature-256 header does not match the body'),
  forbidden: errors.forbidden('source_control:releases_write'),
  instance_forbidden: errors.instanceForbidden('uat-eu'),
  route_not_found: errors.routeNotFound('GET', '/api/v2/source_control/manifest'),
  ui_not_built: errors.uiNotBuilt(),
  token_not_found: errors.tokenNotFound(TOKEN),
  manifest_not_found: errors.manifestNotFound('prod'),
  element_not_found: errors.elementNotFound(APP, 'PAGE'),
  release_not_found: errors.releaseNotFound('PAGE', APP, '1.4.2'),
  pull_request_not_found: errors.pullRequestNotFound(EXAMPLE.pullRequest),
  instance_not_found: errors.instanceNotFound('prod-eu'),
  hotfix_not_found: errors.hotfixNotFound(HOTFIX),
  deployment_not_found: errors.deploymentNotFound(EXAMPLE.deployment),
  subscription_not_found: errors.subscriptionNotFound(EXAMPLE.subscription),
  event_not_found: errors.eventNotFound(EXAMPLE.subscription, EXAMPLE.event),
  webhook_not_configured: errors.webhookNotConfigured('gitlab', 'github'),
  branch_not_found: errors.branchNotFound(`hotfix/${APP}/1.4`),
  file_not_found: errors.fileNotFound('manifests/prod.yaml', COMMIT),
  version_exists: errors.versionExists(APP, '1.4.2', EXAMPLE.pullRequest),
  version_not_greater: errors.versionNotGreater(APP, '1.3.0', '1.4.2'),
  hotfix_exists: errors.hotfixExists(APP, '1.4', HOTFIX),
  hotfix_empty: errors.hotfixEmpty(HOTFIX, `hotfix/${APP}/1.4`),
  hotfix_not_open: errors.hotfixNotOpen(HOTFIX, 'released'),
  hotfix_release_pending: errors.hotfixReleasePending(HOTFIX, 14),
  stale_base: errors.staleBase(COMMIT, [`manifest:prod/PAGE:${APP}`]),
  not_fast_forward: errors.notFastForward('main', `it moved to ${EXAMPLE.branchCommit}`),
  push_rejected: errors.pushRejected('mir/manifest/prod/71ek0kn8', 'protected branch hook declined'),
  branch_exists: errors.branchExists(`mir/release/${APP}/1.4.2`),
  instance_exists: errors.instanceExists('prod-eu'),
  instance_unbound: errors.instanceUnbound('prod-eu'),
  deployment_status_invalid: errors.deploymentStatusInvalid(EXAMPLE.deployment, 'SUCCESS', 'RUNNING'),
  event_not_dead: errors.eventNotDead(EXAMPLE.subscription, EXAMPLE.event, 'delivered'),
  entry_not_found: errors.entryNotFound('prod', 'PAGE', APP),
  no_change: errors.noChange(),
  change_conflict: errors.changeConflict('The change does not apply to the default branch', [CONFLICT]),
  merge_conflict: errors.mergeConflict(`Pull request #${EXAMPLE.pullRequest} conflicts with the default branch`, [CONFLICT]),
  pull_request_not_open: errors.pullRequestNotOpen(EXAMPLE.pullRequest, 'merged'),
  token_revoked: errors.tokenRevoked(TOKEN),
  release_held: errors.releaseHeld([
    { id: EXAMPLE.hold, element_type: 'PAGE', element_uuid: APP, version: '1.4.2', reason: 'checkout 1.4.2 double-charges cards' },
  ]),
  policy_blocked: errors.policyBlocked(EXAMPLE.pullRequest, [
    { manifest: 'prod', rule: 'freeze', reason: 'frozen by "weekend" until 2026-12-07T06:00:00.000Z' },
  ]),
  approval_refused: errors.approvalRefused(EXAMPLE.pullRequest, 'its author cannot approve it'),
  hold_not_found: errors.holdNotFound(EXAMPLE.hold),
  provider_refused: errors.providerRefused('github', 'At least 1 approving review is required by reviewers with write access.', 405),
  payload_too_large: errors.payloadTooLarge(1_048_576),
  unsupported_media_type: errors.unsupportedMediaType('Send the body as application/json'),
  manifest_invalid: errors.manifestInvalid('manifests/prod.yaml', 7, 'release must be X.Y.Z or latest'),
  policy_invalid: errors.policyInvalid('.mir/policy.yaml', 4, 'manifests.prod.soak must be a duration like 24h'),
  repository_file_invalid: errors.repositoryFileInvalid('.retool/protected-apps.yaml', 3, 'uuid is not a UUID'),
  artifact_invalid: repoErrors.artifactInvalid('the central directory is truncated', { path: ARTIFACT }),
  artifact_too_large: repoErrors.artifactTooLarge('it inflates past 512 MiB', 'total_bytes', 536_870_912, { path: ARTIFACT }),
  source_folder_empty: errors.sourceFolderEmpty(APP, 'apps/checkout'),
  internal_error: errors.internal('never sent: the handler replaces the message'),
  git_unavailable: errors.gitUnavailable('connect ECONNREFUSED 10.0.4.7:443'),
  git_auth_failed: errors.gitAuthFailed('401 from https://git.example.com/platform/retool-releases.git'),
  database_unavailable: errors.databaseUnavailable('57P01'),
  provider_unavailable: errors.providerUnavailable('github', 'connect ETIMEDOUT 140.82.112.6:443'),
  provider_auth_failed: errors.providerAuthFailed('github', '401 Bad credentials'),
  event_streams_full: errors.eventStreamsFull(200),
  not_ready: errors.notReady({ git: 'connect ECONNREFUSED 10.0.4.7:443' }),
};

/** `components.examples`: one per code, named after it. */
export function problemExamples(): Record<string, { summary: string; value: unknown }> {
  return Object.fromEntries(
    Object.entries(EXAMPLES).map(([code, error]) => [code, { summary: ERROR_CODES[code as ErrorCode][1], value: problemDocument(error, EXAMPLE.requestId) }]),
  );
}
