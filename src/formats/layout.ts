// Where things live in the source control repository and the names of the branches
// this service pushes. Every function re-validates its inputs even when the caller already did:
// a value that fails a check can never become a path or a ref.

import { invalidField } from '../errors.js';
import { relativePathProblem } from '../git/tree-path.js';
import {
  type ElementType,
  isCanonicalUuid,
  isLine,
  isManifestName,
  isVersion,
  parseElementType,
  parseLine,
  parseManifestName,
  parseUuid,
  parseVersion,
  quoteForError,
} from './values.js';

export const PROTECTED_APPS_PATH = '.retool/protected-apps.yaml';
export const PROTECTED_WORKFLOWS_PATH = '.retool/protected-workflows.yaml';
export const MANIFESTS_DIR = 'manifests';
export const DIST_DIR = 'dist';
export const MANIFEST_EXTENSION = '.yaml';

export type DistFolder = 'apps' | 'workflows';

export function protectedListPath(type: ElementType): string {
  return parseElementType(type, 'type') === 'PAGE' ? PROTECTED_APPS_PATH : PROTECTED_WORKFLOWS_PATH;
}

export function distFolderOf(type: ElementType): DistFolder {
  return parseElementType(type, 'type') === 'PAGE' ? 'apps' : 'workflows';
}

export function typeOfDistFolder(folder: string): ElementType | null {
  if (folder === 'apps') return 'PAGE';
  if (folder === 'workflows') return 'WORKFLOW';
  return null;
}

// --- manifests ----------------------------------------------------------------------------------

export function manifestPath(name: string): string {
  return `${MANIFESTS_DIR}/${parseManifestName(name, 'name')}${MANIFEST_EXTENSION}`;
}

/** The manifest name of `manifests/<name>.yaml`, or null for any other path (nested, `.yml`…). */
export function parseManifestPath(path: string): string | null {
  const prefix = `${MANIFESTS_DIR}/`;
  if (!path.startsWith(prefix) || !path.endsWith(MANIFEST_EXTENSION)) return null;
  const name = path.slice(prefix.length, path.length - MANIFEST_EXTENSION.length);
  return isManifestName(name) ? name : null;
}

// --- artifacts ----------------------------------------------------------------------------------

export interface ArtifactLocation {
  type: ElementType;
  uuid: string;
  version: string;
}

export function artifactDir(type: ElementType, uuid: string): string {
  return `${DIST_DIR}/${distFolderOf(type)}/${parseUuid(uuid, 'uuid')}`;
}

export function artifactPath(type: ElementType, uuid: string, version: string): string {
  return `${artifactDir(type, uuid)}/${parseVersion(version, 'version')}.zip`;
}

/**
 * The element and version of `dist/<apps|workflows>/<uuid>/<X.Y.Z>.zip`, or null. Only the
 * canonical spelling matches (lowercase uuid), so `artifactPath(parseArtifactPath(p)) === p`.
 */
export function parseArtifactPath(path: string): ArtifactLocation | null {
  const parts = path.split('/');
  if (parts.length !== 4 || parts[0] !== DIST_DIR) return null;
  const [, folder, uuid, file] = parts as [string, string, string, string];
  const type = typeOfDistFolder(folder);
  if (type === null || !isCanonicalUuid(uuid) || !file.endsWith('.zip')) return null;
  const version = file.slice(0, -'.zip'.length);
  return isVersion(version) ? { type, uuid, version } : null;
}

// --- source folders -----------------------------------------------------------------------------

export { relativePathProblem };

/** Why `name` cannot be one folder name, or null when it can. */
export function segmentProblem(name: string): string | null {
  if (name.includes('/')) return 'contains a slash';
  return relativePathProblem(name);
}

export interface SourceFolderInput {
  type: ElementType;
  name: string;
  path?: string | undefined;
}

/**
 * Why the element's source folder cannot be computed, or null. Shared with the protected-list
 * parser, which turns the reason into a 422 pointing at the offending line.
 */
export function sourceFolderProblem(element: SourceFolderInput): string | null {
  if (element.path !== undefined) {
    const folder = stripTrailingSlashes(element.path);
    const problem = relativePathProblem(folder);
    if (problem !== null) return `path ${quoteForError(element.path)} ${problem}`;
    // The protected lists live there: a release would ship them, and an editor's source could
    // overwrite them. Any case, since a case-insensitive checkout makes `.Retool` the same folder.
    if (folder.split('/')[0]!.toLowerCase() === '.retool')
      return `path ${quoteForError(element.path)} is inside .retool, which holds the protected lists, not source`;
    return null;
  }
  const problem = segmentProblem(element.name);
  return problem === null ? null : `name ${quoteForError(element.name)} cannot be a folder name: it ${problem}; set path`;
}

/** `element.path` normalized (no trailing slash), else `apps/<name>` or `workflows/<name>`. */
export function sourceFolder(element: SourceFolderInput): string {
  const type = parseElementType(element.type, 'type');
  const problem = sourceFolderProblem(element);
  if (problem !== null) throw invalidField(element.path !== undefined ? 'path' : 'name', problem);
  if (element.path !== undefined) return stripTrailingSlashes(element.path);
  return `${type === 'PAGE' ? 'apps' : 'workflows'}/${element.name}`;
}

function stripTrailingSlashes(path: string): string {
  let end = path.length;
  while (end > 0 && path[end - 1] === '/') end--;
  return path.slice(0, end);
}

/** `path` relative to `folder` when it lies strictly inside it, else null. */
export function relativeToFolder(path: string, folder: string): string | null {
  const prefix = `${folder}/`;
  return path.startsWith(prefix) && path.length > prefix.length ? path.slice(prefix.length) : null;
}

// --- branches -----------------------------------------------------------------------------------

export const DEFAULT_BRANCH_PREFIX = 'mir/';

const BRANCH_PREFIX = /^([A-Za-z0-9][A-Za-z0-9._-]*\/)*$/;
const BRANCH_ID = /^[a-z0-9]{6,16}$/;

/**
 * The configured prefix: empty, or `/`-terminated segments. Beyond the pattern, git's
 * check-ref-format forbids `..` anywhere and a segment ending in `.` or `.lock`.
 */
export function isBranchPrefix(prefix: string): boolean {
  if (!BRANCH_PREFIX.test(prefix) || prefix.includes('..')) return false;
  return prefix
    .split('/')
    .slice(0, -1)
    .every((segment) => !segment.endsWith('.') && !segment.endsWith('.lock'));
}

export function parseBranchPrefix(value: unknown, field: string): string {
  if (typeof value !== 'string' || !isBranchPrefix(value)) {
    throw invalidField(field, 'must be empty or segments of letters, digits, ., _ and - each followed by / (like mir/)');
  }
  return value;
}

/** The short random part of a branch name; generating one is the caller's business. */
export function isBranchId(id: string): boolean {
  return BRANCH_ID.test(id);
}

function parseBranchId(id: string): string {
  if (!isBranchId(id)) throw invalidField('id', 'must be 6 to 16 characters of a-z and 0-9');
  return id;
}

export function manifestBranch(prefix: string, name: string, id: string): string {
  return `${parseBranchPrefix(prefix, 'branchPrefix')}manifest/${parseManifestName(name, 'name')}/${parseBranchId(id)}`;
}

export function releaseBranch(prefix: string, uuid: string, version: string): string {
  return `${parseBranchPrefix(prefix, 'branchPrefix')}release/${parseUuid(uuid, 'uuid')}/${parseVersion(version, 'version')}`;
}

export function publishBranch(prefix: string, id: string): string {
  return `${parseBranchPrefix(prefix, 'branchPrefix')}publish/${parseBranchId(id)}`;
}

/** Hotfix branches carry no prefix: people push to them with plain git. */
export function hotfixBranch(uuid: string, line: string): string {
  return `hotfix/${parseUuid(uuid, 'uuid')}/${parseLine(line, 'line')}`;
}

export type BranchPurpose =
  | { kind: 'manifest'; name: string; id: string }
  | { kind: 'release'; uuid: string; version: string }
  | { kind: 'publish'; id: string }
  | { kind: 'hotfix'; uuid: string; line: string };

/** What a branch this service pushes is for, or null for any other branch. */
export function parseBranchName(prefix: string, branch: string): BranchPurpose | null {
  const hotfix = branch.split('/');
  if (hotfix.length === 3 && hotfix[0] === 'hotfix') {
    const [, uuid, line] = hotfix as [string, string, string];
    if (isCanonicalUuid(uuid) && isLine(line)) return { kind: 'hotfix', uuid, line };
  }
  if (!isBranchPrefix(prefix) || !branch.startsWith(prefix)) return null;
  const parts = branch.slice(prefix.length).split('/');
  const [kind, a, b] = parts;
  if (kind === 'manifest' && parts.length === 3 && isManifestName(a) && isBranchId(b ?? '')) {
    return { kind, name: a, id: b as string };
  }
  if (kind === 'release' && parts.length === 3 && isCanonicalUuid(a) && isVersion(b)) {
    return { kind, uuid: a, version: b };
  }
  if (kind === 'publish' && parts.length === 2 && isBranchId(a ?? '')) return { kind, id: a as string };
  return null;
}
