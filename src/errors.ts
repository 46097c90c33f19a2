// The error catalog. Services throw these; src/http/error-handler.ts renders them as
// RFC 9457 problem documents with Retool's `success`/`message` members. The catalog is closed:
// every code is listed once in ERROR_CODES with its one status and what it means, each has one
// factory below, and control flow tests codes with `hasCode`. A `code` never changes once
// shipped: clients switch on it. The README's table of codes is generated from ERROR_CODES
// (scripts/export-error-codes.ts) and a test fails when it drifts. No Fastify import here.

/** Every code a client can see: its HTTP status and what it means (for the README's table). */
export const ERROR_CODES = {
  validation_failed: [400, 'A field of the request is invalid; `errors` lists each one'],
  invalid_json: [400, 'The body is not JSON (or starts with a byte-order mark)'],
  invalid_content_length: [400, 'Content-Length does not match the body'],
  invalid_webhook_payload: [400, 'A forge webhook delivery is not JSON'],
  bad_request: [400, 'A request the HTTP layer refused for another reason (the message says which)'],
  unauthorized: [401, 'No bearer token, or an unknown, expired or revoked one'],
  webhook_unauthorized: [401, 'A webhook delivery whose signature or secret does not verify'],
  forbidden: [403, 'The token lacks the scope the route needs (`required_scope`)'],
  instance_forbidden: [403, 'The token acts for another instance (`token_instance`) and may use only routes about that one'],
  route_not_found: [404, 'No such route'],
  ui_not_built: [404, 'The dashboard (/ui/) is not built here: `npm run build` writes it, or MIR_UI_DIR names where it is'],
  token_not_found: [404, 'No such token'],
  manifest_not_found: [404, 'No such manifest on the default branch'],
  element_not_found: [404, 'No protected app or workflow with this uuid'],
  release_not_found: [404, 'The element has no such release on the default branch'],
  pull_request_not_found: [404, 'No such pull request'],
  instance_not_found: [404, 'No such instance'],
  hotfix_not_found: [404, 'No such hotfix'],
  deployment_not_found: [404, 'No such deployment (of that instance)'],
  subscription_not_found: [404, 'No such webhook subscription'],
  event_not_found: [404, 'No such event for that subscription'],
  webhook_not_configured: [404, 'A webhook for a forge this service is not configured for'],
  branch_not_found: [404, 'No such branch'],
  file_not_found: [404, 'No such file at that ref'],
  version_exists: [409, 'That release version exists, or is pending in an open pull request'],
  version_not_greater: [409, 'A new release must be greater than every existing one'],
  hotfix_exists: [409, 'A hotfix is already open for this element and line'],
  hotfix_empty: [409, 'Nothing was committed to the hotfix branch yet'],
  hotfix_not_open: [409, 'The hotfix is released or abandoned'],
  hotfix_release_pending: [409, "The hotfix's release pull request is still open"],
  stale_base: [409, 'An entry the write changes moved since `base_sha` (`entries` lists them)'],
  not_fast_forward: [409, 'The default branch moved under a merge: try again'],
  push_rejected: [409, 'The git remote refused the push (its reason is in `reason`)'],
  branch_exists: [409, 'A branch of that name exists already'],
  instance_exists: [409, 'An instance of that name exists already'],
  instance_unbound: [409, 'The instance follows no manifest'],
  deployment_status_invalid: [409, 'A deployment moves forward only: PENDING_START → RUNNING → SUCCESS or ERROR (`status`, `requested`)'],
  event_not_dead: [409, 'The event was not dead-lettered for that subscription: nothing to replay'],
  entry_not_found: [409, 'The manifest has no entry for that element'],
  no_change: [409, 'The default branch already holds the change: nothing to propose'],
  change_conflict: [409, 'The change does not apply to the default branch (`conflicts` lists why)'],
  merge_conflict: [409, 'The pull request conflicts with the default branch (`conflicts` lists the entries)'],
  pull_request_not_open: [409, 'The pull request is merged or closed'],
  token_revoked: [409, 'The token is revoked already'],
  release_held: [409, 'A release the change sets is held (`holds` names each hold and its reason); an admin may override with a reason'],
  policy_blocked: [409, 'The policy of a manifest blocks the merge (`verdicts` say by what, and until when)'],
  approval_refused: [409, 'The pull request cannot be approved by this token (its author), or not here (a forge)'],
  hold_not_found: [404, 'No such hold, or it is lifted already'],
  provider_refused: [409, 'The forge refused (required reviews, failing checks…): its words in `reason`'],
  payload_too_large: [413, 'The request body is over the limit'],
  unsupported_media_type: [415, 'The body is not UTF-8 application/json'],
  manifest_invalid: [422, 'A manifest in the repository does not parse (`path`, `line`, `reason`)'],
  policy_invalid: [422, 'The policy file `.mir/policy.yaml` does not parse or validate (`path`, `line`, `reason`)'],
  repository_file_invalid: [422, 'A protected list in the repository does not parse (`path`, `line`, `reason`)'],
  artifact_invalid: [422, 'An artifact zip is corrupt or unsafe (`path`, `reason`)'],
  artifact_too_large: [422, 'An artifact, or the source it is built from, is over a size limit'],
  source_folder_empty: [422, "The element's source folder has no files on the default branch"],
  internal_error: [500, 'A fault of this service: the log has the details under `request_id`'],
  git_unavailable: [503, 'The git remote is unreachable or answered badly: try again (`Retry-After`)'],
  git_auth_failed: [503, 'The git remote refused the credentials'],
  database_unavailable: [503, 'The database is unreachable: try again (`Retry-After`)'],
  provider_unavailable: [503, 'The forge is unreachable: try again'],
  provider_auth_failed: [503, 'The forge refused the token'],
  event_streams_full: [
    503,
    'This process holds as many event streams as MIR_EVENT_STREAMS_MAX allows: try again after `Retry-After` (another replica may have room)',
  ],
  not_ready: [503, 'The service is starting or a dependency is down (`checks` says which)'],
} as const satisfies Record<string, readonly [number, string]>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface ErrorDetails {
  /** Extra members rendered into the problem document (snake_case keys). */
  readonly [member: string]: unknown;
}

export class AppError extends Error {
  override readonly name = 'AppError';
  /** Always the code's one status (ERROR_CODES). */
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: ErrorDetails = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.status = ERROR_CODES[code][0];
  }
}

export function isAppError(value: unknown): value is AppError {
  return value instanceof AppError;
}

/** Whether `value` is a catalog error with one of `codes`: how control flow tests codes. */
export function hasCode(value: unknown, ...codes: readonly ErrorCode[]): value is AppError {
  return value instanceof AppError && codes.includes(value.code);
}

/** One invalid input field, as listed by validation errors. */
export interface FieldError {
  /** Where the value came from and its path, e.g. `body.manifest.apps[0].uuid`, `query.elementType`. */
  readonly field: string;
  readonly message: string;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

export function statusTitle(status: number): string {
  return TITLES[status] ?? (status >= 500 ? 'Server Error' : 'Client Error');
}

// --- the catalog --------------------------------------------------------------------------------

export const errors = {
  // 400
  validation: (fields: readonly FieldError[], message?: string) =>
    new AppError('validation_failed', message ?? `Invalid request: ${fields.map((f) => `${f.field} ${f.message}`).join('; ')}`, { errors: fields }),
  invalidJson: (message: string) => new AppError('invalid_json', message),
  invalidContentLength: () => new AppError('invalid_content_length', 'Content-Length does not match the body'),
  invalidWebhookPayload: (message: string) => new AppError('invalid_webhook_payload', message),
  /** A 4xx from the HTTP layer that no code above names (its message says what). */
  badRequest: (message: string) => new AppError('bad_request', message),

  // 401 / 403
  unauthorized: (message = 'A valid bearer token is required') => new AppError('unauthorized', message),
  webhookUnauthorized: (provider: string, message: string) =>
    new AppError('webhook_unauthorized', `The ${provider} webhook is not authentic: ${message}`, { provider }),
  forbidden: (scope: string) => new AppError('forbidden', `This token lacks the scope ${scope}`, { required_scope: scope }),
  instanceForbidden: (tokenInstance: string) =>
    new AppError('instance_forbidden', `This token acts for instance ${tokenInstance} only`, { token_instance: tokenInstance }),

  // 404
  routeNotFound: (method: string, url: string) => new AppError('route_not_found', `No route ${method} ${url}`),
  // The directory is in the log, not in the answer: a path of the server is not the client's business.
  uiNotBuilt: () => new AppError('ui_not_built', 'The dashboard is not built: run `npm run build`, which writes build/ui (or set MIR_UI_DIR)'),
  tokenNotFound: (id: string) => new AppError('token_not_found', `No token ${id}`, { token_id: id }),
  manifestNotFound: (name: string) => new AppError('manifest_not_found', `No manifest named ${name} on the default branch`, { manifest: name }),
  elementNotFound: (uuid: string, type: string) =>
    new AppError('element_not_found', `No protected ${type} with uuid ${uuid}`, { element_uuid: uuid, element_type: type }),
  releaseNotFound: (type: string, uuid: string, version: string, where: { manifest?: string } = {}) =>
    new AppError('release_not_found', `${type === 'WORKFLOW' ? 'Workflow' : 'App'} ${uuid} has no release ${version} on the default branch`, {
      element_uuid: uuid,
      element_type: type,
      release: version,
      ...where,
    }),
  pullRequestNotFound: (number: number) => new AppError('pull_request_not_found', `No pull request #${number}`, { number }),
  instanceNotFound: (name: string) => new AppError('instance_not_found', `No instance named ${name}`, { instance: name }),
  approvalRefused: (number: number, reason: string) =>
    new AppError('approval_refused', `Pull request #${number} cannot be approved: ${reason}`, { number, reason }),
  holdNotFound: (id: string) => new AppError('hold_not_found', `No active hold ${id}`, { hold_id: id }),
  hotfixNotFound: (id: string) => new AppError('hotfix_not_found', `No hotfix ${id}`, { hotfix_id: id }),
  deploymentNotFound: (id: string) => new AppError('deployment_not_found', `No deployment ${id}`, { deployment_id: id }),
  subscriptionNotFound: (id: string) => new AppError('subscription_not_found', `No webhook subscription ${id}`, { subscription_id: id }),
  eventNotFound: (subscription: string, event: string) =>
    new AppError('event_not_found', `Subscription ${subscription} has no event ${event}`, { subscription_id: subscription, event_id: event }),
  webhookNotConfigured: (provider: string, configured: string) =>
    new AppError('webhook_not_configured', `No ${provider} webhook here: this service's pull request provider is ${configured}`, { provider, configured }),
  branchNotFound: (branch: string) => new AppError('branch_not_found', `No branch ${branch}`, { branch }),
  fileNotFound: (path: string, ref: string) => new AppError('file_not_found', `No file ${path} at ${ref}`, { path, ref }),

  // 409
  entryNotFound: (manifest: string, type: string, uuid: string) =>
    new AppError('entry_not_found', `Manifest ${manifest} has no entry for ${type} ${uuid}`, { manifest, element_type: type, element_uuid: uuid }),
  noChange: () => new AppError('no_change', 'The default branch already holds this change: there is nothing to propose'),
  changeConflict: (message: string, conflicts: readonly unknown[]) => new AppError('change_conflict', message, { conflicts }),
  mergeConflict: (message: string, conflicts: readonly unknown[]) => new AppError('merge_conflict', message, { conflicts }),
  pullRequestNotOpen: (number: number, state: string) => new AppError('pull_request_not_open', `Pull request #${number} is ${state}`, { number, state }),
  hotfixReleasePending: (id: string, pullRequest: number) =>
    new AppError('hotfix_release_pending', `Hotfix ${id} has an open release pull request #${pullRequest}: merge or close it first`, {
      hotfix_id: id,
      pull_request: pullRequest,
    }),
  tokenRevoked: (id: string) => new AppError('token_revoked', `Token ${id} is already revoked`, { token_id: id }),
  versionExists: (uuid: string, version: string, pullRequest: number | null) =>
    new AppError(
      'version_exists',
      pullRequest === null ? `Release ${version} of ${uuid} exists` : `Release ${version} of ${uuid} is pending in pull request #${pullRequest}`,
      {
        element_uuid: uuid,
        release_version: version,
        pull_request: pullRequest,
      },
    ),
  versionNotGreater: (uuid: string, version: string, highest: string) =>
    new AppError('version_not_greater', `Release ${version} of ${uuid} must be greater than ${highest}, its highest release (merged or pending)`, {
      element_uuid: uuid,
      release_version: version,
      highest,
    }),
  hotfixExists: (uuid: string, line: string, id: string) =>
    new AppError('hotfix_exists', `Hotfix ${id} is already open for ${uuid} line ${line}`, { element_uuid: uuid, line, hotfix_id: id }),
  hotfixEmpty: (id: string, branch: string) =>
    new AppError('hotfix_empty', `Nothing was committed to ${branch} since hotfix ${id} was created`, { hotfix_id: id, branch }),
  hotfixNotOpen: (id: string, state: string) => new AppError('hotfix_not_open', `Hotfix ${id} is ${state}`, { hotfix_id: id, state }),
  staleBase: (baseSha: string, entries: readonly string[]) =>
    new AppError('stale_base', `Changed since ${baseSha}: ${entries.join(', ')}`, { base_sha: baseSha, entries }),
  notFastForward: (branch: string, message: string) => new AppError('not_fast_forward', `Refusing to move ${branch}: ${message}`, { branch }),
  pushRejected: (branch: string, reason: string) => new AppError('push_rejected', `The remote rejected the push of ${branch}: ${reason}`, { branch, reason }),
  branchExists: (branch: string) => new AppError('branch_exists', `Branch ${branch} already exists`, { branch }),
  instanceExists: (name: string) => new AppError('instance_exists', `An instance named ${name} exists already`, { instance: name }),
  deploymentStatusInvalid: (id: string, status: string, requested: string) =>
    new AppError('deployment_status_invalid', `Deployment ${id} is ${status}: it cannot move to ${requested}`, { deployment_id: id, status, requested }),
  eventNotDead: (subscription: string, event: string, state: string) =>
    new AppError('event_not_dead', `Event ${event} is ${state} for subscription ${subscription}, not dead-lettered`, {
      subscription_id: subscription,
      event_id: event,
      state,
    }),
  instanceUnbound: (name: string) =>
    new AppError('instance_unbound', `Instance ${name} follows no manifest: bind one with PUT /instances/${name}/manifest`, { instance: name }),

  releaseHeld: (holds: readonly { id: string; element_type: string; element_uuid: string; version: string; reason: string }[]) =>
    new AppError('release_held', `Held: ${holds.map((h) => `${h.element_type} ${h.element_uuid} ${h.version} (hold ${h.id}: ${h.reason})`).join('; ')}`, {
      holds,
    }),
  policyBlocked: (number: number | null, verdicts: readonly { manifest: string; rule: string; reason: string }[]) =>
    new AppError(
      'policy_blocked',
      `${number === null ? 'The change' : `Pull request #${number}`} is blocked by policy: ${verdicts.map((v) => `${v.manifest} ${v.rule}: ${v.reason}`).join('; ')}`,
      { verdicts },
    ),

  /** The forge said no (required reviews, failing checks, not mergeable): its own words in `reason`. */
  providerRefused: (provider: string, reason: string, status: number) =>
    new AppError('provider_refused', `${provider} refused: ${reason}`, { provider, reason, provider_status: status }),

  // 413 / 422
  payloadTooLarge: (limit: number) => new AppError('payload_too_large', `The request body exceeds the limit of ${limit} bytes`, { limit_bytes: limit }),
  /** A repository file that does not parse; `line` null when the whole file is at fault. */
  manifestInvalid: (path: string, line: number | null, reason: string) =>
    new AppError('manifest_invalid', `${path}${line ? `:${line}` : ''}: ${reason}`, { path, line, reason }),
  policyInvalid: (path: string, line: number | null, reason: string) =>
    new AppError('policy_invalid', `${path}${line ? `:${line}` : ''}: ${reason}`, { path, line, reason }),
  repositoryFileInvalid: (path: string, line: number | null, reason: string) =>
    new AppError('repository_file_invalid', `${path}${line ? `:${line}` : ''}: ${reason}`, { path, line, reason }),
  artifactInvalid: (message: string, details: ErrorDetails) => new AppError('artifact_invalid', message, details),
  artifactTooLarge: (message: string, details: ErrorDetails) => new AppError('artifact_too_large', message, details),
  unsupportedMediaType: (message: string) => new AppError('unsupported_media_type', message),
  sourceFolderEmpty: (uuid: string, folder: string) =>
    new AppError('source_folder_empty', `The source folder ${folder} of ${uuid} has no files on the default branch`, { element_uuid: uuid, folder }),

  // 503
  gitUnavailable: (message: string, cause?: unknown) => new AppError('git_unavailable', `The git remote is unreachable: ${message}`, {}, { cause }),
  gitAuthFailed: (message: string, cause?: unknown) => new AppError('git_auth_failed', `The git remote refused the credentials: ${message}`, {}, { cause }),
  providerUnavailable: (provider: string, message: string, cause?: unknown) =>
    new AppError('provider_unavailable', `${provider} is unreachable: ${message}`, { provider }, { cause }),
  providerAuthFailed: (provider: string, message: string) => new AppError('provider_auth_failed', `${provider} refused the token: ${message}`, { provider }),
  databaseUnavailable: (message: string, cause?: unknown) => new AppError('database_unavailable', `The database is unreachable: ${message}`, {}, { cause }),
  eventStreamsFull: (max: number) =>
    new AppError('event_streams_full', `This process already holds ${max} open event streams, its limit`, { max_streams: max }),
  notReady: (checks: Record<string, string>) =>
    new AppError(
      'not_ready',
      `Not ready: ${Object.entries(checks)
        .map(([k, v]) => `${k}: ${v}`)
        .join('; ')}`,
      { checks },
    ),

  // 500 — the message is for the log only; the handler never sends it to a client.
  internal: (message: string, cause?: unknown) => new AppError('internal_error', message, {}, { cause }),
} as const;

/** `errors.validation` for one field: the common case. */
export function invalidField(field: string, message: string): AppError {
  return errors.validation([{ field, message }]);
}
