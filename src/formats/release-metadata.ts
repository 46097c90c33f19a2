// `.release.json`, the release metadata at the root of every artifact this service builds: its
// fields, their validation, and the one text they are written as. Instances and people read it to
// learn what a zip holds without this service, so its members and their order are a contract.

import { errors, type FieldError } from '../errors.js';
import { repoErrors } from './errors.js';
import { type ElementType, isElementType, isUuid, isVersion } from './values.js';

export const RELEASE_METADATA_PATH = '.release.json';

export interface ReleaseMetadata {
  format: 1;
  element_uuid: string;
  element_type: ElementType;
  name: string;
  release_version: string;
  release_description: string;
  /** ISO 8601, e.g. `2024-10-08T11:45:48.899Z`. */
  created_at: string;
  created_by: string;
  /** The commit and the tree of the source folder the entries were taken from. */
  source_commit: string;
  source_tree: string;
}

const METADATA_KEYS = [
  'format',
  'element_uuid',
  'element_type',
  'name',
  'release_version',
  'release_description',
  'created_at',
  'created_by',
  'source_commit',
  'source_tree',
] as const satisfies readonly (keyof ReleaseMetadata)[];

const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const OBJECT_ID = /^([0-9a-f]{40}|[0-9a-f]{64})$/;

function metadataProblems(value: unknown): FieldError[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return [{ field: 'metadata', message: 'must be an object' }];
  }
  const m = value as Record<string, unknown>;
  const problems: FieldError[] = [];
  const check = (key: string, ok: boolean, expected: string): void => {
    if (!ok) problems.push({ field: key, message: `must be ${expected}` });
  };
  const text = (v: unknown): v is string => typeof v === 'string';
  check('format', m.format === 1, '1');
  check('element_uuid', isUuid(m.element_uuid), 'a UUID');
  check('element_type', isElementType(m.element_type), 'PAGE or WORKFLOW');
  check('name', text(m.name) && m.name !== '', 'a non-empty string');
  check('release_version', isVersion(m.release_version), 'a version X.Y.Z');
  check('release_description', text(m.release_description), 'a string');
  check('created_at', text(m.created_at) && ISO_8601.test(m.created_at) && !Number.isNaN(Date.parse(m.created_at)), 'an ISO 8601 timestamp');
  check('created_by', text(m.created_by) && m.created_by !== '', 'a non-empty string');
  check('source_commit', text(m.source_commit) && OBJECT_ID.test(m.source_commit), 'a lowercase hex git object id');
  check('source_tree', text(m.source_tree) && OBJECT_ID.test(m.source_tree), 'a lowercase hex git object id');
  return problems;
}

function normalized(m: ReleaseMetadata): ReleaseMetadata {
  const out = {} as Record<string, unknown>;
  for (const key of METADATA_KEYS) out[key] = m[key];
  out.element_uuid = m.element_uuid.toLowerCase();
  return out as unknown as ReleaseMetadata;
}

/**
 * The `.release.json` text: keys in the order of ReleaseMetadata whatever the input's order, two-space
 * indent, trailing newline. Unknown members are dropped. Throws 400 naming each bad field.
 */
export function serializeReleaseMetadata(metadata: ReleaseMetadata): string {
  const problems = metadataProblems(metadata).map((p) => ({ field: `metadata.${p.field}`, message: p.message }));
  if (problems.length > 0) throw errors.validation(problems);
  return `${JSON.stringify(normalized(metadata), null, 2)}\n`;
}

/** Parses `.release.json`; 422 `artifact_invalid` when it is not valid metadata. */
export function parseReleaseMetadata(text: string | Uint8Array, where: { path?: string } = {}): ReleaseMetadata {
  const at = { path: where.path, entry: RELEASE_METADATA_PATH };
  let value: unknown;
  try {
    const source = typeof text === 'string' ? text : new TextDecoder('utf-8', { fatal: true }).decode(text);
    value = JSON.parse(source);
  } catch (error) {
    throw repoErrors.artifactInvalid(`${RELEASE_METADATA_PATH} is not valid UTF-8 JSON: ${(error as Error).message}`, at);
  }
  const problems = metadataProblems(value);
  if (problems.length > 0) {
    const format = (value as { format?: unknown } | null)?.format;
    const reason =
      format !== undefined && format !== 1
        ? `${RELEASE_METADATA_PATH} has format ${JSON.stringify(format)}; this service reads format 1`
        : `${RELEASE_METADATA_PATH}: ${problems.map((p) => `${p.field} ${p.message}`).join('; ')}`;
    throw repoErrors.artifactInvalid(reason, at);
  }
  return normalized(value as ReleaseMetadata);
}
