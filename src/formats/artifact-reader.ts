// Reading a release zip from the repository: unpacking it (readArtifact), checking that an instance
// can unpack it (checkArtifact), or reading only its `.release.json` (readArtifactMetadata).
//
// Nothing is inflated before the central directory passed its checks (zip-directory.ts). Each entry
// is then inflated with node:zlib capped at its declared size (`maxOutputLength`), so an entry that
// lies about its size stops within one output chunk of the lie instead of filling memory.

import { promisify } from 'node:util';
import { crc32, createInflateRaw, inflateRaw, inflateRawSync } from 'node:zlib';
import { invalidField, isAppError } from '../errors.js';
import { compareBytewise, DEFAULT_ARTIFACT_LIMITS, MAX_METADATA_BYTES, type Artifact, type ArtifactFile, type ArtifactLimits } from './artifact.js';
import { repoErrors } from './errors.js';
import { parseArtifactPath } from './layout.js';
import { parseReleaseMetadata, RELEASE_METADATA_PATH, type ReleaseMetadata } from './release-metadata.js';
import { readCentralDirectory, type ZipEntry } from './zip-directory.js';

const inflateRawAsync = promisify(inflateRaw);
/**
 * Entries this small inflate on the event loop (tens of microseconds): zlib's thread pool costs more
 * than that per call, and a check of thousands of small artifacts is mostly such calls.
 */
const INFLATE_SYNC_BYTES = 64 * 1024;

export interface ReadArtifactOptions extends Partial<ArtifactLimits> {
  /**
   * Where the zip lives in the repository: named in errors, and when it is an artifact path the
   * metadata must agree with it (a release copied to another element's folder is refused).
   */
  path?: string;
}

/** Unpacks an artifact within limits; see the module comment for what is checked and when. */
export async function readArtifact(bytes: Uint8Array, options: ReadArtifactOptions = {}): Promise<Artifact> {
  const limits = limitsOf(options);
  const where = { path: options.path };
  const zipEntries = readCentralDirectory(bytes, limits, where);
  let metadata: ReleaseMetadata | null = null;
  const entries: ArtifactFile[] = [];
  for (const entry of zipEntries) {
    if (entry.isDir) continue;
    if (entry.name === RELEASE_METADATA_PATH) {
      metadata = await metadataOf(bytes, entry, options.path);
    } else {
      entries.push({ path: entry.name, bytes: await contentOf(bytes, entry, where) });
    }
  }
  entries.sort((a, b) => compareBytewise(a.path, b.path));
  return { metadata, entries };
}

/**
 * Whether an instance can unpack the zip safely and gets what it declares, keeping none of it:
 * the central directory checks of readArtifact (structure, safe unique names, counts, declared
 * sizes), then every entry inflated to exactly its declared size with its CRC-32, one at a time,
 * large ones as a stream so at most one chunk of each is held. `.release.json` is only bounded
 * here, not interpreted (readArtifactMetadata does that). Throws what readArtifact throws.
 *
 * Event-loop cost: the central directory is walked synchronously, O(entries), so a zip at the
 * 10,000-entry limit holds the loop for tens of milliseconds once; inflating runs on libuv's
 * thread pool, and CRC-32s of large entries are taken a megabyte at a time.
 */
export async function checkArtifact(bytes: Uint8Array, options: ReadArtifactOptions = {}): Promise<void> {
  const where = { path: options.path };
  for (const entry of readCentralDirectory(bytes, limitsOf(options), where)) {
    if (entry.isDir) continue;
    if (entry.name === RELEASE_METADATA_PATH && entry.uncompressedSize > MAX_METADATA_BYTES) {
      throw repoErrors.artifactTooLarge(`${RELEASE_METADATA_PATH} declares ${entry.uncompressedSize} bytes`, 'metadata_bytes', MAX_METADATA_BYTES, {
        ...where,
        entry: entry.name,
      });
    }
    if (entry.uncompressedSize <= CHECK_CHUNK_BYTES) await contentOf(bytes, entry, where);
    else await checkLargeContent(bytes, entry, where);
  }
}

const CHECK_CHUNK_BYTES = 1024 * 1024;

/** contentOf's checks for an entry too big to hold twice: streamed, nothing kept. */
async function checkLargeContent(bytes: Uint8Array, entry: ZipEntry, where: { path?: string | undefined }): Promise<void> {
  const at = { ...where, entry: entry.name };
  const data = bytes.subarray(entry.dataStart, entry.dataEnd);
  let length = 0;
  let crc = 0;
  if (entry.method === 0) {
    for (let i = 0; i < data.length; i += CHECK_CHUNK_BYTES) {
      crc = crc32(data.subarray(i, i + CHECK_CHUNK_BYTES), crc);
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    length = data.length;
  } else {
    const inflater = createInflateRaw({ chunkSize: 256 * 1024 });
    inflater.end(data);
    try {
      for await (const chunk of inflater as AsyncIterable<Buffer>) {
        length += chunk.length;
        if (length > entry.uncompressedSize) {
          inflater.destroy();
          throw repoErrors.artifactTooLarge(
            `entry inflates to more than the ${entry.uncompressedSize} bytes it declares`,
            'entry_bytes',
            entry.uncompressedSize,
            at,
          );
        }
        crc = crc32(chunk, crc);
      }
    } catch (error) {
      if (isAppError(error)) throw error;
      throw repoErrors.artifactInvalid(`entry does not inflate: ${(error as Error).message}`, at);
    }
  }
  if (length !== entry.uncompressedSize) {
    throw repoErrors.artifactInvalid(`entry holds ${length} bytes but declares ${entry.uncompressedSize}`, at);
  }
  if (crc !== entry.crc) throw repoErrors.artifactInvalid('entry fails its CRC-32 check', at);
}

/** Only `.release.json`, without inflating any other entry; null when the zip has none. */
export async function readArtifactMetadata(bytes: Uint8Array, options: ReadArtifactOptions = {}): Promise<ReleaseMetadata | null> {
  const entries = readCentralDirectory(bytes, limitsOf(options), { path: options.path });
  const entry = entries.find((e) => !e.isDir && e.name === RELEASE_METADATA_PATH);
  return entry === undefined ? null : metadataOf(bytes, entry, options.path);
}

function limitsOf(options: ReadArtifactOptions): ArtifactLimits {
  const limits = {
    maxEntries: options.maxEntries ?? DEFAULT_ARTIFACT_LIMITS.maxEntries,
    maxTotalBytes: options.maxTotalBytes ?? DEFAULT_ARTIFACT_LIMITS.maxTotalBytes,
    maxEntryBytes: options.maxEntryBytes ?? DEFAULT_ARTIFACT_LIMITS.maxEntryBytes,
  };
  for (const [key, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value < 0) throw invalidField(key, 'must be a non-negative integer');
  }
  return limits;
}

async function metadataOf(bytes: Uint8Array, entry: ZipEntry, path: string | undefined): Promise<ReleaseMetadata> {
  if (entry.uncompressedSize > MAX_METADATA_BYTES) {
    throw repoErrors.artifactTooLarge(`${RELEASE_METADATA_PATH} declares ${entry.uncompressedSize} bytes`, 'metadata_bytes', MAX_METADATA_BYTES, {
      path,
      entry: entry.name,
    });
  }
  const metadata = parseReleaseMetadata(await contentOf(bytes, entry, { path }), { ...(path !== undefined ? { path } : {}) });
  const location = path === undefined ? null : parseArtifactPath(path);
  if (
    location !== null &&
    (location.uuid !== metadata.element_uuid || location.type !== metadata.element_type || location.version !== metadata.release_version)
  ) {
    throw repoErrors.artifactInvalid(
      `${RELEASE_METADATA_PATH} describes ${metadata.element_type} ${metadata.element_uuid} ${metadata.release_version}, not the element and version of its path`,
      { path, entry: RELEASE_METADATA_PATH },
    );
  }
  return metadata;
}

async function contentOf(bytes: Uint8Array, entry: ZipEntry, where: { path?: string | undefined }): Promise<Uint8Array> {
  const at = { ...where, entry: entry.name };
  const data = bytes.subarray(entry.dataStart, entry.dataEnd);
  let content: Uint8Array;
  if (entry.method === 0) {
    content = data.slice();
  } else {
    try {
      // maxOutputLength must be at least 1; an empty entry that inflates to 1 byte fails below.
      const options = { maxOutputLength: Math.max(1, entry.uncompressedSize) };
      const out = entry.uncompressedSize <= INFLATE_SYNC_BYTES ? inflateRawSync(data, options) : await inflateRawAsync(data, options);
      content = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    } catch (error) {
      if ((error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') {
        throw repoErrors.artifactTooLarge(
          `entry inflates to more than the ${entry.uncompressedSize} bytes it declares`,
          'entry_bytes',
          entry.uncompressedSize,
          at,
        );
      }
      throw repoErrors.artifactInvalid(`entry does not inflate: ${(error as Error).message}`, at);
    }
  }
  if (content.length !== entry.uncompressedSize) {
    throw repoErrors.artifactInvalid(`entry holds ${content.length} bytes but declares ${entry.uncompressedSize}`, at);
  }
  if (crc32(content) !== entry.crc) throw repoErrors.artifactInvalid('entry fails its CRC-32 check', at);
  return content;
}
