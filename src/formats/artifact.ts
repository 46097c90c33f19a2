// Release artifacts, `dist/<apps|workflows>/<uuid>/<X.Y.Z>.zip`: what one holds, and the rules the
// writer (artifact-writer.ts) and the reader (artifact-reader.ts) both hold it to, so that nothing
// this service builds is refused when it is read back.

import { createHash } from 'node:crypto';
import type { ReleaseMetadata } from './release-metadata.js';
import { quoteForError } from './values.js';

export interface ArtifactFile {
  /** Relative to the element's source folder, `/`-separated. */
  path: string;
  bytes: Uint8Array;
}

export interface ArtifactLimits {
  maxEntries: number;
  /** Sum of the uncompressed sizes of all entries. */
  maxTotalBytes: number;
  maxEntryBytes: number;
}

export const DEFAULT_ARTIFACT_LIMITS: Readonly<ArtifactLimits> = Object.freeze({
  maxEntries: 10_000,
  maxTotalBytes: 256 * 1024 * 1024,
  maxEntryBytes: 64 * 1024 * 1024,
});

export const MAX_METADATA_BYTES = 1024 * 1024;

export interface Artifact {
  /** Null for zips without `.release.json`, such as those Retool writes. */
  metadata: ReleaseMetadata | null;
  /** Files only, sorted by path in byte order; `.release.json` is not among them. */
  entries: ArtifactFile[];
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Orders paths by their UTF-8 bytes, as git and `LC_ALL=C sort` do. */
export function compareBytewise(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** A path used twice, or used both as a file and as a folder of another path; else null. */
export function pathConflict(filePaths: readonly string[], dirPaths: readonly string[]): { path: string; reason: string } | null {
  const files = new Set<string>();
  const dirs = new Set<string>();
  for (const path of filePaths) {
    if (files.has(path)) return { path, reason: `${quoteForError(path)} appears twice` };
    files.add(path);
  }
  for (const path of dirPaths) {
    if (dirs.has(path)) return { path, reason: `folder ${quoteForError(path)} appears twice` };
    dirs.add(path);
  }
  for (const path of [...filePaths, ...dirPaths]) {
    for (let i = path.indexOf('/'); i >= 0; i = path.indexOf('/', i + 1)) dirs.add(path.slice(0, i));
  }
  for (const path of files) {
    if (dirs.has(path)) return { path, reason: `${quoteForError(path)} is both a file and a folder` };
  }
  return null;
}
