// The error catalog. Services throw these; src/http/error-handler.ts renders them as
// RFC 9457 problem documents with Retool's `success`/`message` members. A `code` never changes
// once shipped: clients switch on it. This module imports nothing from Fastify.

export interface ErrorDetails {
  /** Extra members rendered into the problem document (snake_case keys). */
  readonly [member: string]: unknown;
}

export class AppError extends Error {
  override readonly name = 'AppError';

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: ErrorDetails = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isAppError(value: unknown): value is AppError {
  return value instanceof AppError;
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
    new AppError(
      400,
      'validation_failed',
      message ?? `Invalid request: ${fields.map((f) => `${f.field} ${f.message}`).join('; ')}`,
      { errors: fields },
    ),
  invalidField: (field: string, message: string) =>
    errors.validation([{ field, message }]),
  badRequest: (code: string, message: string, details?: ErrorDetails) =>
    new AppError(400, code, message, details),

  // 401 / 403
  unauthorized: (message = 'A valid bearer token is required') =>
    new AppError(401, 'unauthorized', message),
  webhookUnauthorized: (provider: string, message: string) =>
    new AppError(401, 'webhook_unauthorized', `The ${provider} webhook is not authentic: ${message}`, { provider }),
  forbidden: (scope: string) =>
    new AppError(403, 'forbidden', `This token lacks the scope ${scope}`, { required_scope: scope }),

  // 404
  routeNotFound: (method: string, url: string) =>
    new AppError(404, 'route_not_found', `No route ${method} ${url}`),
  tokenNotFound: (id: string) => new AppError(404, 'token_not_found', `No token ${id}`, { token_id: id }),
  manifestNotFound: (name: string) =>
    new AppError(404, 'manifest_not_found', `No manifest named ${name} on the default branch`, { manifest: name }),
  elementNotFound: (uuid: string, type: string) =>
    new AppError(404, 'element_not_found', `No protected ${type} with uuid ${uuid}`, { element_uuid: uuid, element_type: type }),
  releaseNotFoundForElement: (uuid: string, version: string) =>
    new AppError(404, 'release_not_found', `Element ${uuid} has no release ${version}`, { element_uuid: uuid, release: version }),
  pullRequestNotFound: (number: number) =>
    new AppError(404, 'pull_request_not_found', `No pull request #${number}`, { number }),
  instanceNotFound: (name: string) =>
    new AppError(404, 'instance_not_found', `No instance named ${name}`, { instance: name }),
  hotfixNotFound: (id: string) => new AppError(404, 'hotfix_not_found', `No hotfix ${id}`, { hotfix_id: id }),
  webhookNotConfigured: (provider: string, configured: string) =>
    new AppError(404, 'webhook_not_configured', `No ${provider} webhook here: this service's pull request provider is ${configured}`, { provider, configured }),
  branchNotFound: (branch: string) =>
    new AppError(404, 'branch_not_found', `No branch ${branch}`, { branch }),
  fileNotFound: (path: string, ref: string) =>
    new AppError(404, 'file_not_found', `No file ${path} at ${ref}`, { path, ref }),

  // 409
  conflict: (code: string, message: string, details?: ErrorDetails) => new AppError(409, code, message, details),
  versionExists: (uuid: string, version: string, pullRequest: number | null) =>
    new AppError(409, 'version_exists', pullRequest === null ? `Release ${version} of ${uuid} exists` : `Release ${version} of ${uuid} is pending in pull request #${pullRequest}`, {
      element_uuid: uuid,
      release_version: version,
      pull_request: pullRequest,
    }),
  versionNotGreater: (uuid: string, version: string, highest: string) =>
    new AppError(409, 'version_not_greater', `Release ${version} of ${uuid} must be greater than ${highest}, its highest release (merged or pending)`, {
      element_uuid: uuid,
      release_version: version,
      highest,
    }),
  hotfixExists: (uuid: string, line: string, id: string) =>
    new AppError(409, 'hotfix_exists', `Hotfix ${id} is already open for ${uuid} line ${line}`, { element_uuid: uuid, line, hotfix_id: id }),
  hotfixEmpty: (id: string, branch: string) =>
    new AppError(409, 'hotfix_empty', `Nothing was committed to ${branch} since hotfix ${id} was created`, { hotfix_id: id, branch }),
  hotfixNotOpen: (id: string, state: string) =>
    new AppError(409, 'hotfix_not_open', `Hotfix ${id} is ${state}`, { hotfix_id: id, state }),
  staleBase: (baseSha: string, entries: readonly string[]) =>
    new AppError(409, 'stale_base', `Changed since ${baseSha}: ${entries.join(', ')}`, { base_sha: baseSha, entries }),
  notFastForward: (branch: string, message: string) =>
    new AppError(409, 'not_fast_forward', `Refusing to move ${branch}: ${message}`, { branch }),
  pushRejected: (branch: string, reason: string) =>
    new AppError(409, 'push_rejected', `The remote rejected the push of ${branch}: ${reason}`, { branch, reason }),
  branchExists: (branch: string) => new AppError(409, 'branch_exists', `Branch ${branch} already exists`, { branch }),
  instanceExists: (name: string) => new AppError(409, 'instance_exists', `An instance named ${name} exists already`, { instance: name }),
  instanceUnbound: (name: string) =>
    new AppError(409, 'instance_unbound', `Instance ${name} follows no manifest: bind one with PUT /instances/${name}/manifest`, { instance: name }),

  /** The forge said no (required reviews, failing checks, not mergeable): its own words in `reason`. */
  providerRefused: (provider: string, reason: string, status: number) =>
    new AppError(409, 'provider_refused', `${provider} refused: ${reason}`, { provider, reason, provider_status: status }),

  // 413 / 422
  payloadTooLarge: (limit: number) =>
    new AppError(413, 'payload_too_large', `The request body exceeds the limit of ${limit} bytes`, { limit_bytes: limit }),
  invalidContent: (code: string, message: string, details?: ErrorDetails) => new AppError(422, code, message, details),
  sourceFolderEmpty: (uuid: string, folder: string) =>
    new AppError(422, 'source_folder_empty', `The source folder ${folder} of ${uuid} has no files on the default branch`, { element_uuid: uuid, folder }),

  // 503
  gitUnavailable: (message: string, cause?: unknown) =>
    new AppError(503, 'git_unavailable', `The git remote is unreachable: ${message}`, {}, { cause }),
  gitAuthFailed: (message: string, cause?: unknown) =>
    new AppError(503, 'git_auth_failed', `The git remote refused the credentials: ${message}`, {}, { cause }),
  providerUnavailable: (provider: string, message: string, cause?: unknown) =>
    new AppError(503, 'provider_unavailable', `${provider} is unreachable: ${message}`, { provider }, { cause }),
  providerAuthFailed: (provider: string, message: string) =>
    new AppError(503, 'provider_auth_failed', `${provider} refused the token: ${message}`, { provider }),
  databaseUnavailable: (message: string, cause?: unknown) =>
    new AppError(503, 'database_unavailable', `The database is unreachable: ${message}`, {}, { cause }),
  notReady: (checks: Record<string, string>) =>
    new AppError(503, 'not_ready', `Not ready: ${Object.entries(checks).map(([k, v]) => `${k}: ${v}`).join('; ')}`, { checks }),

  // 500 — the message is for the log only; the handler never sends it to a client.
  internal: (message: string, cause?: unknown) => new AppError(500, 'internal_error', message, {}, { cause }),
} as const;
