// Shared TypeBox shapes: the success envelope, the problem document, and the primitives every
// domain composes. Shapes with an `$id` are named components in the OpenAPI document.
import Type, { type Static, type TSchema } from 'typebox';
import { ERROR_CODES, type ErrorCode } from '../errors.js';

/** RFC 9457 problem document with Retool's `success`/`message` members. */
export const Problem = Type.Object(
  {
    success: Type.Literal(false),
    message: Type.String({ description: 'What went wrong, for people' }),
    code: Type.Unsafe<ErrorCode>({
      type: 'string',
      enum: Object.keys(ERROR_CODES),
      description: 'Stable machine-readable code from the catalog; never changes once shipped',
    }),
    status: Type.Integer({ description: 'The HTTP status, repeated' }),
    title: Type.String({ description: 'The HTTP status text' }),
    detail: Type.Optional(Type.String()),
    request_id: Type.Optional(Type.String({ description: 'Quote it when reporting a 5xx' })),
    errors: Type.Optional(
      Type.Array(Type.Object({ field: Type.String(), message: Type.String() }), {
        description: 'Validation errors: one per bad field',
      }),
    ),
  },
  {
    $id: 'Problem',
    additionalProperties: true,
    description: "An error (application/problem+json); members beyond these are the code's own (`entries`, `conflicts`, `required_scope`…)",
  },
);

export const ProblemRef = Type.Ref('Problem');

/** Every shared schema, to register with Fastify (serialization, OpenAPI) and the validators. */
export const sharedSchemas: TSchema[] = [Problem];

/** What the document says of a success answer besides its shape. */
export interface AnswerDoc<T> {
  readonly description: string;
  /** An answer as the route sends it: the document's example, checked against the shape. */
  readonly example: T;
  /** Answer headers the route sets, by name (`ETag`…). */
  readonly headers?: Record<string, TSchema>;
}

export function envelope<T extends TSchema>(data: T, doc: AnswerDoc<{ success: true; data: Static<T> }>) {
  return Type.Object(
    { success: Type.Literal(true), data },
    { description: doc.description, examples: [doc.example], ...(doc.headers ? { headers: doc.headers } : {}) },
  );
}

/** `schema` with example values for the document (JSON Schema `examples`), checked against its type. */
export function withExamples<T extends TSchema>(schema: T, ...examples: [Static<T>, ...Static<T>[]]): T {
  return Type.With(schema, { examples } as never) as unknown as T;
}

export function ok<T>(data: T): { success: true; data: T } {
  return { success: true, data };
}

type ErrorStatus = (typeof ERROR_CODES)[ErrorCode][0];

const ERROR_DESCRIPTIONS: Record<ErrorStatus, string> = {
  400: 'Invalid input: every bad field is listed in `errors`',
  401: 'Missing, unknown, expired or revoked bearer token',
  403: 'The token lacks the scope this route needs',
  404: 'Not found',
  409: 'Conflict with the current state',
  413: 'Request body too large',
  415: 'Unsupported content type',
  422: 'The repository content is invalid',
  500: 'Internal error: details are in the log under the request id',
  503: 'A dependency (database, git remote, provider) is unavailable, or the service is starting: try again after `Retry-After` seconds',
};

/**
 * Problem responses (application/problem+json) for the codes a route can send, for its
 * `response`: one per status, whose description names its codes and whose examples show each one
 * (`#/components/examples/<code>`, rendered from the catalog by src/http/problem-examples.ts).
 */
export function problems(...codes: readonly ErrorCode[]): Record<number, ProblemResponse> {
  const byStatus = new Map<ErrorStatus, ErrorCode[]>();
  for (const code of new Set(codes)) {
    const status = ERROR_CODES[code][0];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const responses: Record<number, ProblemResponse> = {};
  for (const [status, listed] of byStatus) {
    responses[status] = {
      description: `${ERROR_DESCRIPTIONS[status]}. Codes: ${listed.map((code) => `\`${code}\``).join(', ')}`,
      content: {
        'application/problem+json': {
          schema: ProblemRef,
          examples: Object.fromEntries(listed.map((code) => [code, { $ref: `#/components/examples/${code}` }])),
        },
      },
    };
  }
  return responses;
}

interface ProblemResponse {
  description: string;
  content: { 'application/problem+json': { schema: TSchema; examples: Record<string, { $ref: string }> } };
}

/**
 * What any route under /api/ can answer before its handler runs (bad input, a missing or weak
 * token, start-up, the database away) or when it fails.
 */
export const AUTHENTICATED_ERRORS = [
  'validation_failed',
  'invalid_json',
  'invalid_content_length',
  'bad_request',
  'unauthorized',
  'forbidden',
  'payload_too_large',
  'unsupported_media_type',
  'internal_error',
  'not_ready',
  'database_unavailable',
] as const satisfies readonly ErrorCode[];

/** What a public route (health, metrics) can answer besides its own: a query with a NUL or a lone surrogate, a fault. */
export const PUBLIC_ERRORS = ['validation_failed', 'bad_request', 'internal_error'] as const satisfies readonly ErrorCode[];

/** A route that reads the repository (a fetch may reach the git remote). */
export const GIT_ERRORS = ['git_unavailable', 'git_auth_failed'] as const satisfies readonly ErrorCode[];

/** A write that pushes a branch and opens its pull request (here or on a forge). */
export const PROPOSAL_ERRORS = [
  'no_change',
  'release_held',
  'policy_invalid',
  'change_conflict',
  'branch_exists',
  'push_rejected',
  'provider_refused',
  'provider_unavailable',
  'provider_auth_failed',
  ...GIT_ERRORS,
] as const satisfies readonly ErrorCode[];

// --- domain primitives (the repository format: README → API), shared by the route schemas ------

export const ManifestName = Type.String({
  pattern: '^[a-z0-9][a-z0-9_-]{0,62}$',
  description: 'A manifest (instance) name: 1–63 of a-z 0-9 _ -, starting with a letter or digit',
});
export const Uuid = Type.String({ format: 'uuid', description: 'An element UUID' });
export const ElementType = Type.Enum(['PAGE', 'WORKFLOW'], { description: 'PAGE (an app) or WORKFLOW' });
export const VERSION_PATTERN = '^(0|[1-9]\\d*)\\.(0|[1-9]\\d*)\\.(0|[1-9]\\d*)$';
export const Version = Type.String({ pattern: VERSION_PATTERN, description: 'A release version X.Y.Z' });
export const ReleaseRef = Type.Union([Version, Type.Literal('latest')], {
  description: 'A release version X.Y.Z, or latest (the source on the default branch)',
});
export const CommitSha = Type.String({ pattern: '^[0-9a-f]{40}$' });

/**
 * A 304 answer: no body. (A `null` schema would make Fastify send `Content-Length: 4` with a 304,
 * which real HTTP clients then wait on; an empty schema sends nothing, and the document drops its
 * content: src/http/openapi.ts.) `etag` says what the route's ETag is.
 */
export function notModified(etag: string) {
  return Type.Any({ description: 'Not modified: the ETag still matches; no body', headers: { ETag: Type.String({ description: etag }) } });
}

/** `If-None-Match` on a conditional GET. */
export const IfNoneMatchHeaders = Type.Object({
  'If-None-Match': Type.Optional(
    Type.String({ description: 'ETags from earlier answers (a list, weak tags and `*` allowed): 304 without a body while one still matches' }),
  ),
});

/** Whether an `If-None-Match` header matches `etag` (a list, weak tags and `*` included; RFC 9110 §13.1.2). */
export function ifNoneMatch(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(/\s*,\s*/).some((tag) => tag === '*' || tag.replace(/^W\//, '') === etag);
}
