// Writing a release zip that is the same bytes for the same inputs, on every machine.
//
// jszip's DEFLATE is pako: pure JavaScript, so the same inputs give the same bytes everywhere.
// Node's zlib would not promise that: its bundled zlib (Chromium's fork) picks deflate code paths by
// CPU features, and a Node upgrade can change its output.

import JSZip from 'jszip';
import { compareBytewise, DEFAULT_ARTIFACT_LIMITS, pathConflict, type ArtifactFile } from './artifact.js';
import { repoErrors } from './errors.js';
import { relativePathProblem } from './layout.js';
import { RELEASE_METADATA_PATH, serializeReleaseMetadata, type ReleaseMetadata } from './release-metadata.js';
import { quoteForError } from './values.js';

// 1980-01-01T00:00:00Z, the earliest date a zip can hold. jszip writes dates with getUTC*()
// (generate/ZipFileWorker.js), so the time zone of the process does not leak into the bytes.
const ZIP_EPOCH = new Date(Date.UTC(1980, 0, 1, 0, 0, 0));
const FILE_MODE = 0o100644;
// jszip keeps entries in a plain object and writes them in `for…in` order, which puts
// integer-like keys ("2", "10") first in numeric order. Adding everything under a folder makes
// every key non-numeric, so the insertion order — ours — is kept; generating from that folder
// writes names relative to it and leaves the folder itself out.
const STAGING_FOLDER = 'staging';

/**
 * The release zip: `.release.json` first (so a streaming reader meets it at once), then the
 * files sorted by path in byte order; every entry dated 1980-01-01T00:00:00Z, mode 0644 (UNIX),
 * DEFLATE level 9 (empty files stored: jszip's rule, lib/object.js), no comments, no directory
 * entries (directories are implied by paths, and git has no empty ones). Same inputs ⇒
 * byte-identical output, for a given jszip version.
 *
 * Refuses (422 `artifact_invalid`) unsafe or duplicate paths, a path that is both a file and a
 * folder, and a file named `.release.json`; refuses (422 `artifact_too_large`) what
 * readArtifact would refuse under the default limits.
 */
export async function buildArtifact(files: readonly ArtifactFile[], metadata: ReleaseMetadata): Promise<Uint8Array> {
  const json = serializeReleaseMetadata(metadata);
  const limits = DEFAULT_ARTIFACT_LIMITS;
  if (files.length + 1 > limits.maxEntries) {
    throw repoErrors.artifactTooLarge(`${files.length} files and ${RELEASE_METADATA_PATH} exceed ${limits.maxEntries} entries`, 'entries', limits.maxEntries);
  }
  let total = 0;
  for (const file of files) {
    const problem = relativePathProblem(file.path);
    if (problem !== null) throw repoErrors.artifactInvalid(`file path ${quoteForError(file.path)} ${problem}`, { entry: file.path });
    if (file.path === RELEASE_METADATA_PATH) {
      throw repoErrors.artifactInvalid(`${RELEASE_METADATA_PATH} at the root is reserved for the release metadata`, { entry: file.path });
    }
    if (!(file.bytes instanceof Uint8Array)) throw repoErrors.artifactInvalid('file content must be bytes', { entry: file.path });
    if (file.bytes.length > limits.maxEntryBytes) {
      throw repoErrors.artifactTooLarge(`file is ${file.bytes.length} bytes`, 'entry_bytes', limits.maxEntryBytes, { entry: file.path });
    }
    total += file.bytes.length;
  }
  if (total > limits.maxTotalBytes) {
    throw repoErrors.artifactTooLarge(`files total ${total} bytes`, 'total_bytes', limits.maxTotalBytes);
  }
  const conflict = pathConflict(
    files.map((f) => f.path),
    [],
  );
  if (conflict !== null) throw repoErrors.artifactInvalid(conflict.reason, { entry: conflict.path });

  const sorted = [...files].sort((a, b) => compareBytewise(a.path, b.path));
  const staging = new JSZip().folder(STAGING_FOLDER) as JSZip;
  const options = { binary: true, date: ZIP_EPOCH, unixPermissions: FILE_MODE, createFolders: false } as const;
  staging.file(RELEASE_METADATA_PATH, new TextEncoder().encode(json), options);
  for (const file of sorted) staging.file(file.path, file.bytes, options);
  return staging.generateAsync({
    type: 'uint8array',
    compression: 'DEFLATE',
    compressionOptions: { level: 9 },
    platform: 'UNIX',
    streamFiles: false,
  });
}
