// Release versions: strict X.Y.Z, no `v`, no pre-release, no build metadata. The pattern allows components of any length, so
// comparison is on digit strings (no leading zeros: longer means larger) and arithmetic on BigInt;
// `Number` would silently round 9007199254740993.
// The semver package is not used: it accepts what the format forbids (`v1.2.3`, pre-releases).

import { invalidField } from '../errors.js';
import { parseLine, parseVersion } from './values.js';

export type BumpKind = 'major' | 'minor' | 'patch';

interface Parts {
  major: string;
  minor: string;
  patch: string;
}

function parts(version: string, field: string): Parts {
  const [major, minor, patch] = parseVersion(version, field).split('.') as [string, string, string];
  return { major, minor, patch };
}

function compareDigits(a: string, b: string): number {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** -1, 0 or 1, by major, then minor, then patch, numerically. */
export function compareVersions(a: string, b: string): number {
  const x = parts(a, 'a');
  const y = parts(b, 'b');
  return compareDigits(x.major, y.major) || compareDigits(x.minor, y.minor) || compareDigits(x.patch, y.patch);
}

/** A new array, highest first. */
export function sortVersionsDesc(versions: readonly string[]): string[] {
  versions.forEach((v, i) => parseVersion(v, `versions[${i}]`));
  return [...versions].sort((a, b) => compareVersions(b, a));
}

export function highestVersion(versions: readonly string[]): string | null {
  return sortVersionsDesc(versions)[0] ?? null;
}

/** True when `version` is greater than every one of `versions` (so always for none). */
export function isGreaterThanAll(version: string, versions: readonly string[]): boolean {
  parseVersion(version, 'version');
  return versions.every((v) => compareVersions(version, v) > 0);
}

function increment(digits: string): string {
  return (BigInt(digits) + 1n).toString();
}

/**
 * The next version after `highest`. With no release yet the first is 1.0.0, 0.1.0 or 0.0.1: the
 * bump applied to an imaginary 0.0.0.
 */
export function bumpVersion(highest: string | null, kind: BumpKind): string {
  const { major, minor, patch } = highest === null ? { major: '0', minor: '0', patch: '0' } : parts(highest, 'highest');
  switch (kind) {
    case 'major':
      return `${increment(major)}.0.0`;
    case 'minor':
      return `${major}.${increment(minor)}.0`;
    case 'patch':
      return `${major}.${minor}.${increment(patch)}`;
    default:
      throw invalidField('bump', `must be major, minor or patch, got ${JSON.stringify(kind)}`);
  }
}

/** `X.Y` of `X.Y.Z`. */
export function lineOf(version: string): string {
  const { major, minor } = parts(version, 'version');
  return `${major}.${minor}`;
}

/** The versions of one line, highest first. */
export function versionsInLine(versions: readonly string[], line: string): string[] {
  parseLine(line, 'line');
  return sortVersionsDesc(versions).filter((v) => lineOf(v) === line);
}

export function highestInLine(versions: readonly string[], line: string): string | null {
  return versionsInLine(versions, line)[0] ?? null;
}

/**
 * The hotfix release of a line: `X.Y.(highest patch in the line + 1)`. A line with no version
 * yet starts at `X.Y.0`, the first version a line can have. Hotfixes always start from an
 * existing release, so the service never relies on that case; it is defined rather than thrown
 * so the function is total.
 */
export function nextPatchInLine(versions: readonly string[], line: string): string {
  const highest = highestInLine(versions, line);
  return highest === null ? `${parseLine(line, 'line')}.0` : bumpVersion(highest, 'patch');
}
