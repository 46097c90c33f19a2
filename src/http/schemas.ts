// Shared TypeBox shapes: the success envelope, the problem document, and the primitives every
// domain composes. Shapes with an `$id` are named components in the OpenAPI document.
import Type, { type TSchema } from 'typebox';

/** RFC 9457 problem document with Retool's `success`/`message` members. */
export const Problem = Type.Object(
  {
    success: Type.Literal(false),
    message: Type.String({ description: 'What went wrong, for people' }),
    code: Type.String({ description: 'Stable machine-readable code; never changes once shipped' }),
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
  { $id: 'Problem', additionalProperties: true, description: 'An error (application/problem+json)' },
);

export const ProblemRef = Type.Ref('Problem');

/** Every shared schema, to register with Fastify (serialization, OpenAPI) and the validators. */
export const sharedSchemas: TSchema[] = [Problem];

export function envelope<T extends TSchema>(data: T, description?: string) {
  return Type.Object({ success: Type.Literal(true), data }, description ? { description } : {});
}

export function ok<T>(data: T): { success: true; data: T } {
  return { success: true, data };
}

type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 415 | 422 | 429 | 500 | 503;

const ERROR_DESCRIPTIONS: Record<ErrorStatus, string> = {
  400: 'Invalid input: every bad field is listed in `errors`',
  401: 'Missing, unknown, expired or revoked bearer token',
  403: 'The token lacks the scope this route needs',
  404: 'Not found',
  409: 'Conflict with the current state',
  413: 'Request body too large',
  415: 'Unsupported content type',
  422: 'The repository content is invalid',
  429: 'Too many requests',
  500: 'Internal error: details are in the log under the request id',
  503: 'A dependency (database, git remote, provider) is unavailable',
};

/** Problem responses (application/problem+json) for the given statuses, for a route's `response`. */
export function problems(...statuses: ErrorStatus[]): Record<number, ProblemResponse> {
  const responses: Record<number, ProblemResponse> = {};
  for (const status of statuses) {
    responses[status] = { description: ERROR_DESCRIPTIONS[status], content: { 'application/problem+json': { schema: ProblemRef } } };
  }
  return responses;
}

interface ProblemResponse {
  description: string;
  content: { 'application/problem+json': { schema: TSchema } };
}

/** Error responses every authenticated route can give. */
export const AUTHENTICATED_ERRORS = [400, 401, 403, 413, 415, 500] as const;

// --- domain primitives (DESIGN §2), shared by the route schemas ---------------------------------

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
 * which real HTTP clients then wait on; an empty schema sends nothing.)
 */
export const NotModified = Type.Any({ description: 'Not modified: the ETag still matches; no body' });

/** Whether an `If-None-Match` header matches `etag` (a list, weak tags and `*` included; RFC 9110 §13.1.2). */
export function ifNoneMatch(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(/\s*,\s*/).some((tag) => tag === '*' || tag.replace(/^W\//, '') === etag);
}
