// The one place errors become HTTP responses: RFC 9457 problem documents
// (`application/problem+json`) that also carry Retool's `{success: false, message}`. Catalog
// errors render as they are; Fastify's own errors (validation, body size, content type, JSON
// syntax) are mapped to catalog codes; anything else is a 500 whose text stays in the log.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, errors, invalidField, isAppError, statusTitle, type FieldError } from '../errors.js';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
/** Seconds a 503 asks the client to wait (`Retry-After`). */
export const RETRY_AFTER_SECONDS = 5;

interface ValidationIssue {
  instancePath?: string;
  message?: string;
  keyword?: string;
  params?: Record<string, unknown>;
}

export function registerErrorHandling(app: FastifyInstance, bodyLimit: number): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const appError = toAppError(error, bodyLimit);
    if (appError.code === 'internal_error') {
      request.log.error({ err: error }, 'request failed');
    } else if (appError.status >= 500 && appError.code !== 'not_ready') {
      // A catalog 5xx is a dependency away for now (database, git remote, forge): a warning, with
      // the cause, rather than an alarm.
      request.log.warn({ err: error, code: appError.code, status: appError.status }, appError.message);
    } else {
      // Client errors, and `not_ready`: a readiness probe asks every few seconds and its answer is
      // the signal; at error level each probe during a start-up or an outage was one more alarm.
      request.log.info({ code: appError.code, status: appError.status }, appError.message);
    }
    return sendProblem(request, reply, appError);
  });

  app.setNotFoundHandler((request, reply) => sendProblem(request, reply, errors.routeNotFound(request.method, request.url.split('?')[0]!)));
}

export function sendProblem(request: FastifyRequest, reply: FastifyReply, error: AppError): FastifyReply {
  // Every 503 is a dependency that is away for now (database, git remote, forge, start-up): say when
  // to try again (RFC 9110 §10.2.3).
  if (error.status === 503) reply.header('retry-after', String(RETRY_AFTER_SECONDS));
  return reply.code(error.status).type(PROBLEM_CONTENT_TYPE).send(problemDocument(error, request.id));
}

/** The problem document sent for `error` (the document's examples are rendered by it too). */
export function problemDocument(error: AppError, requestId: string) {
  const status = error.status;
  const internal = status >= 500 && error.code === 'internal_error';
  return {
    ...error.details,
    success: false as const,
    // A 5xx message may carry internals (SQL, paths, stack); only catalog errors that are meant
    // for clients (git_unavailable…) keep theirs.
    message: internal ? `Internal error; quote request id ${requestId} when reporting it` : error.message,
    code: error.code,
    status,
    title: statusTitle(status),
    request_id: requestId,
  };
}

function toAppError(error: FastifyError, bodyLimit: number): AppError {
  if (isAppError(error)) return error;
  if (error.validation) return errors.validation(validationFields(error.validation, error.validationContext));
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return errors.payloadTooLarge(bodyLimit);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return errors.unsupportedMediaType('Send the body as application/json');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return invalidField('body', 'must not be empty when Content-Type is application/json');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return errors.invalidContentLength();
  }
  if (error instanceof SyntaxError || error.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
    return errors.invalidJson(`The body is not valid JSON: ${error.message}`);
  }
  const status = error.statusCode;
  if (status && status >= 400 && status < 500) {
    // Fastify's other client errors (a malformed URL, an unsupported method…): one catalog code.
    return errors.badRequest(error.message);
  }
  return errors.internal(error.message, error);
}

function validationFields(issues: ValidationIssue[], context: string | undefined): FieldError[] {
  const part = context ?? 'body';
  const fields = new Map<string, FieldError>();
  for (const issue of issues) {
    let field = part + pointerToPath(issue.instancePath ?? '');
    let message = issue.message ?? 'is invalid';
    if (issue.keyword === 'additionalProperties' && typeof issue.params?.additionalProperty === 'string') {
      field += `.${issue.params.additionalProperty}`;
      message = 'is not a known field';
    } else if (issue.keyword === 'required' && typeof issue.params?.missingProperty === 'string') {
      field += `.${issue.params.missingProperty}`;
      message = 'is required';
    }
    // anyOf/oneOf report every branch; the first message per field is the useful one.
    if (!fields.has(field)) fields.set(field, { field, message });
  }
  return [...fields.values()];
}

/** `/manifest/apps/0/uuid` → `.manifest.apps[0].uuid` */
function pointerToPath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((segment) => (/^\d+$/.test(segment) ? `[${segment}]` : `.${segment}`))
    .join('');
}
