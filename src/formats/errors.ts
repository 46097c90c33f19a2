// Errors for repository content that does not hold up: a file in the repository that does not
// parse, or an artifact that is not a safe zip. All are 422 (the request was fine, the repository
// content is not), built on the catalog in src/errors.ts so the handler renders them
// like every other AppError. Details use snake_case members, as problem documents do.

import { type AppError, errors } from '../errors.js';

/** Which limit an oversized artifact broke. */
export type ArtifactLimit = 'entries' | 'total_bytes' | 'entry_bytes' | 'metadata_bytes';

export const repoErrors = {
  /** A manifest that does not parse or breaks the format; `line` is 1-based. */
  manifestInvalid: (path: string, line: number, reason: string): AppError => errors.manifestInvalid(path, line, reason),

  /** Any other repository file (the protected lists) that does not parse; `line` is 1-based. */
  fileInvalid: (path: string, line: number, reason: string): AppError => errors.repositoryFileInvalid(path, line, reason),

  /** A zip that is corrupt or unsafe to unpack, or files that cannot become one. */
  artifactInvalid: (reason: string, where: { path?: string | undefined; entry?: string | undefined } = {}): AppError =>
    errors.artifactInvalid(withWhere('Invalid artifact', reason, where), {
      reason,
      ...definedOnly(where),
    }),

  /**
   * A zip over one of the unpacking limits: a zip bomb, or an entry that inflates past the size
   * it declares. 422 rather than 413: the artifact comes from the repository, not the request.
   */
  artifactTooLarge: (reason: string, limit: ArtifactLimit, max: number, where: { path?: string | undefined; entry?: string | undefined } = {}): AppError =>
    errors.artifactTooLarge(withWhere('Artifact too large', reason, where), {
      reason,
      limit,
      max,
      ...definedOnly(where),
    }),
} as const;

function withWhere(title: string, reason: string, where: { path?: string | undefined; entry?: string | undefined }): string {
  const place = [where.path, where.entry].filter((s) => s !== undefined).join(': ');
  return place === '' ? `${title}: ${reason}` : `${title} (${place}): ${reason}`;
}

function definedOnly(where: { path?: string | undefined; entry?: string | undefined }): Record<string, string> {
  const out: Record<string, string> = {};
  if (where.path !== undefined) out.path = where.path;
  if (where.entry !== undefined) out.entry = where.entry;
  return out;
}
