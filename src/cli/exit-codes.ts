// What a `mir` command's exit code says happened, for scripts (the README lists them). A failed
// command also prints one line on stderr, and with --json the problem document on stdout.
import { isProblem, type Problem } from '../client/client.js';

export const EXIT = {
  ok: 0,
  /** mir refused the request for another reason (400, 422, 500…): the message says which. */
  apiError: 1,
  /** Bad arguments or configuration: nothing was sent. */
  usage: 2,
  /** 409: a version, hotfix or instance exists, the pull request is not open, the base moved… */
  conflict: 3,
  /** 404: no such element, release, manifest, pull request, hotfix or instance. */
  notFound: 4,
  /** mir could not be reached, or answered 503 (starting, or a dependency down): try again. */
  unavailable: 5,
  /** 401 or 403: the token is missing, unknown, expired, revoked or lacks the scope. */
  unauthorized: 6,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A failure the command reports and exits with; the message never carries the token. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    /** mir's problem document, when mir answered one. */
    readonly problem?: Problem,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export function usageError(message: string): CliError {
  return new CliError(message, EXIT.usage);
}

export function exitCodeForStatus(status: number): ExitCode {
  if (status === 404) return EXIT.notFound;
  if (status === 409) return EXIT.conflict;
  if (status === 401 || status === 403) return EXIT.unauthorized;
  if (status === 503) return EXIT.unavailable;
  return EXIT.apiError;
}

/** The error for an answer that is not a success: mir's problem document, or whatever else came back. */
export function apiError(response: Response, body: unknown): CliError {
  const exitCode = exitCodeForStatus(response.status);
  if (isProblem(body)) return new CliError(`${body.message} (${body.code}, HTTP ${response.status})`, exitCode, body);
  return new CliError(`HTTP ${response.status} ${response.statusText} from ${new URL(response.url).pathname}`, exitCode);
}

/** A Node system error's code (ENOENT, ECONNREFUSED…), if it has one. */
export function errorCode(error: unknown): string | undefined {
  return error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}
