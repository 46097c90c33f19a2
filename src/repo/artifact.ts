// Release artifacts: `dist/<apps|workflows>/<uuid>/<X.Y.Z>.zip` (DESIGN §2).
//
// Writing uses jszip, whose DEFLATE is pako: pure JavaScript, so the same inputs give the same
// bytes on every machine. Node's zlib would not promise that: its bundled zlib (Chromium's fork)
// picks deflate code paths by CPU features, and a Node upgrade can change its output.
//
// Reading does not use jszip. A zip from the repository is untrusted input, and jszip's public API
// hides exactly what a safe reader must see: it rewrites `../x` to `x` silently, keeps only the
// last of two entries with one name, and exposes no declared sizes before inflating. So this
// module reads the central directory itself, checks every name, count and declared size before
// inflating anything, then inflates each entry with node:zlib capped at its declared size
// (`maxOutputLength`), so an entry that lies about its size stops within one output chunk of
// the lie instead of filling memory.

import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { crc32, createInflateRaw, inflateRaw, inflateRawSync } from 'node:zlib';
import JSZip from 'jszip';
import { errors, invalidField, isAppError, type FieldError } from '../errors.js';
import { repoErrors } from './errors.js';
import { parseArtifactPath, relativePathProblem } from './layout.js';
import { type ElementType, isElementType, isUuid, isVersion, quote } from './values.js';

const inflateRawAsync = promisify(inflateRaw);
/**
 * Entries this small inflate on the event loop (tens of microseconds): zlib's thread pool costs more
 * than that per call, and a check of thousands of small artifacts is mostly such calls.
 */
const INFLATE_SYNC_BYTES = 64 * 1024;

export const RELEASE_METADATA_PATH = '.release.json';

export interface ArtifactFile {
  /** Relative to the element's source folder, `/`-separated. */
  path: string;
  bytes: Uint8Array;
}

/** `.release.json` at the root of every artifact this service builds (DESIGN §2). */
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

export interface ReadArtifactOptions extends Partial<ArtifactLimits> {
  /**
   * Where the zip lives in the repository: named in errors, and when it is an artifact path the
   * metadata must agree with it (a release copied to another element's folder is refused).
   */
  path?: string;
}

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

// --- metadata -----------------------------------------------------------------------------------

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
 * The `.release.json` text: keys in the order of DESIGN §2 whatever the input's order, two-space
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

// --- building -----------------------------------------------------------------------------------

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
    if (problem !== null) throw repoErrors.artifactInvalid(`file path ${quote(file.path)} ${problem}`, { entry: file.path });
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

/** A path used twice, or used both as a file and as a folder of another path; else null. */
function pathConflict(filePaths: readonly string[], dirPaths: readonly string[]): { path: string; reason: string } | null {
  const files = new Set<string>();
  const dirs = new Set<string>();
  for (const path of filePaths) {
    if (files.has(path)) return { path, reason: `${quote(path)} appears twice` };
    files.add(path);
  }
  for (const path of dirPaths) {
    if (dirs.has(path)) return { path, reason: `folder ${quote(path)} appears twice` };
    dirs.add(path);
  }
  for (const path of [...filePaths, ...dirPaths]) {
    for (let i = path.indexOf('/'); i >= 0; i = path.indexOf('/', i + 1)) dirs.add(path.slice(0, i));
  }
  for (const path of files) {
    if (dirs.has(path)) return { path, reason: `${quote(path)} is both a file and a folder` };
  }
  return null;
}

// --- reading ------------------------------------------------------------------------------------

interface ZipEntry {
  name: string;
  isDir: boolean;
  method: number;
  crc: number;
  compressedSize: number;
  uncompressedSize: number;
  localOffset: number;
  dataStart: number;
  dataEnd: number;
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

// Signatures and layouts from PKWARE's APPNOTE.TXT 6.3.10, §4.3.
const EOCD_SIGNATURE = 0x06054b50;
const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
const ZIP64_EOCD_SIGNATURE = 0x06064b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
const EOCD_SIZE = 22;
const CENTRAL_SIZE = 46;
const LOCAL_SIZE = 30;
const FLAG_ENCRYPTED = 0x0001;
const FLAG_STRONG_ENCRYPTION = 0x0040;
const FLAG_UTF8 = 0x0800;
const FLAG_ENCRYPTED_DIRECTORY = 0x2000;
const EXTRA_ZIP64 = 0x0001;
const EXTRA_UNICODE_PATH = 0x7075;

/**
 * Every entry of the central directory, checked: structure in bounds, no encryption, stored or
 * deflate only, safe unique names that agree with their local headers, no overlapping data
 * (the overlapping-entries bomb), entry count and declared sizes within the limits.
 */
function readCentralDirectory(bytes: Uint8Array, limits: ArtifactLimits, where: { path?: string | undefined }): ZipEntry[] {
  const invalid = (reason: string, entry?: string): never => {
    throw repoErrors.artifactInvalid(reason, { ...where, entry });
  };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u16 = (at: number): number => view.getUint16(at, true);
  const u32 = (at: number): number => view.getUint32(at, true);
  const u64 = (at: number): number => {
    const value = view.getBigUint64(at, true);
    return value > BigInt(Number.MAX_SAFE_INTEGER) ? invalid('a zip64 size or offset is out of range') : Number(value);
  };

  // The end record is the last 22 bytes plus a comment of up to 65535; requiring the comment
  // to end exactly at the end of the file keeps a signature inside the comment from matching.
  let eocd = -1;
  for (let at = bytes.length - EOCD_SIZE; at >= 0 && at >= bytes.length - EOCD_SIZE - 0xffff; at--) {
    if (u32(at) === EOCD_SIGNATURE && at + EOCD_SIZE + u16(at + 20) === bytes.length) {
      eocd = at;
      break;
    }
  }
  if (eocd < 0) invalid('not a zip file: no end of central directory record');
  if (u16(eocd + 4) !== 0 || u16(eocd + 6) !== 0 || u16(eocd + 8) !== u16(eocd + 10)) {
    invalid('multi-disk zip files are not supported');
  }
  let count = u16(eocd + 10);
  let directorySize = u32(eocd + 12);
  let directoryOffset = u32(eocd + 16);
  let directoryLimit = eocd;
  if (count === 0xffff || directorySize === 0xffffffff || directoryOffset === 0xffffffff) {
    const locator = eocd - 20;
    if (locator < 0 || u32(locator) !== ZIP64_LOCATOR_SIGNATURE) invalid('zip64 end of central directory locator missing');
    const record = u64(locator + 8);
    if (u32(locator + 4) !== 0 || u32(locator + 16) !== 1) invalid('multi-disk zip files are not supported');
    if (record + 56 > locator || u32(record) !== ZIP64_EOCD_SIGNATURE) invalid('zip64 end of central directory record missing');
    count = u64(record + 32);
    directorySize = u64(record + 40);
    directoryOffset = u64(record + 48);
    directoryLimit = record;
  }
  if (count > limits.maxEntries) {
    throw repoErrors.artifactTooLarge(`the zip has ${count} entries`, 'entries', limits.maxEntries, where);
  }
  const directoryEnd = directoryOffset + directorySize;
  if (directoryEnd > directoryLimit) invalid('the central directory lies outside the file');

  const entries: ZipEntry[] = [];
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  let total = 0;
  let at = directoryOffset;
  for (let i = 0; i < count; i++) {
    if (at + CENTRAL_SIZE > directoryEnd || u32(at) !== CENTRAL_SIGNATURE) invalid(`central directory entry ${i} is corrupt`);
    const flags = u16(at + 8);
    const method = u16(at + 10);
    const crc = u32(at + 16);
    let compressedSize = u32(at + 20);
    let uncompressedSize = u32(at + 24);
    const nameLength = u16(at + 28);
    const extraLength = u16(at + 30);
    const commentLength = u16(at + 32);
    let localOffset = u32(at + 42);
    const next = at + CENTRAL_SIZE + nameLength + extraLength + commentLength;
    if (next > directoryEnd) invalid(`central directory entry ${i} is corrupt`);
    const nameBytes = bytes.subarray(at + CENTRAL_SIZE, at + CENTRAL_SIZE + nameLength);
    const extra = extraFields(bytes.subarray(at + CENTRAL_SIZE + nameLength, at + CENTRAL_SIZE + nameLength + extraLength));
    if (extra === null) invalid(`central directory entry ${i} has corrupt extra fields`);

    let name: string;
    try {
      const unicodePath = extra?.get(EXTRA_UNICODE_PATH);
      // Info-ZIP's Unicode Path field: the real name, when it belongs to this header name.
      if (
        (flags & FLAG_UTF8) === 0 &&
        unicodePath !== undefined &&
        unicodePath.length > 5 &&
        unicodePath[0] === 1 &&
        new DataView(unicodePath.buffer, unicodePath.byteOffset).getUint32(1, true) === crc32(nameBytes)
      ) {
        name = utf8.decode(unicodePath.subarray(5));
      } else {
        name = utf8.decode(nameBytes);
      }
    } catch {
      return invalid(`central directory entry ${i} has a name that is not UTF-8`);
    }

    const zip64 = extra?.get(EXTRA_ZIP64);
    if (uncompressedSize === 0xffffffff || compressedSize === 0xffffffff || localOffset === 0xffffffff) {
      if (zip64 === undefined) invalid('zip64 sizes without a zip64 extra field', name);
      const z = new DataView((zip64 as Uint8Array).buffer, (zip64 as Uint8Array).byteOffset, (zip64 as Uint8Array).byteLength);
      let field = 0;
      const take = (): number => {
        if (field + 8 > z.byteLength) invalid('zip64 extra field too short', name);
        const value = z.getBigUint64(field, true);
        field += 8;
        return value > BigInt(Number.MAX_SAFE_INTEGER) ? invalid('zip64 size out of range', name) : Number(value);
      };
      if (uncompressedSize === 0xffffffff) uncompressedSize = take();
      if (compressedSize === 0xffffffff) compressedSize = take();
      if (localOffset === 0xffffffff) localOffset = take();
    }

    if ((flags & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION | FLAG_ENCRYPTED_DIRECTORY)) !== 0) invalid('entry is encrypted', name);
    if (method !== 0 && method !== 8) {
      invalid(`entry uses compression method ${method}; only stored (0) and deflate (8) are read`, name);
    }
    const isDir = name.endsWith('/');
    const problem = relativePathProblem(isDir ? name.slice(0, -1) : name);
    if (problem !== null) invalid(`entry name ${quote(name)} ${problem}`, name);
    if (isDir && uncompressedSize !== 0) invalid('folder entry has content', name);
    if (method === 0 && compressedSize !== uncompressedSize) invalid('stored entry has different compressed and uncompressed sizes', name);
    if (uncompressedSize > limits.maxEntryBytes) {
      throw repoErrors.artifactTooLarge(`entry declares ${uncompressedSize} bytes`, 'entry_bytes', limits.maxEntryBytes, { ...where, entry: name });
    }
    total += uncompressedSize;
    if (total > limits.maxTotalBytes) {
      throw repoErrors.artifactTooLarge(`entries declare more than ${limits.maxTotalBytes} bytes in total`, 'total_bytes', limits.maxTotalBytes, where);
    }

    if (localOffset + LOCAL_SIZE > directoryOffset || u32(localOffset) !== LOCAL_SIGNATURE) invalid('local header missing', name);
    const localNameLength = u16(localOffset + 26);
    const localExtraLength = u16(localOffset + 28);
    const localName = bytes.subarray(localOffset + LOCAL_SIZE, localOffset + LOCAL_SIZE + localNameLength);
    // Streaming unzippers read names from local headers: both copies must say the same.
    if (Buffer.compare(localName, nameBytes) !== 0) invalid('the local header names another file', name);
    if (u16(localOffset + 8) !== method) invalid('the local header gives another compression method', name);
    const dataStart = localOffset + LOCAL_SIZE + localNameLength + localExtraLength;
    const dataEnd = dataStart + compressedSize;
    if (dataEnd > directoryOffset) invalid('entry data lies outside the file', name);

    entries.push({ name, isDir, method, crc, compressedSize, uncompressedSize, localOffset, dataStart, dataEnd });
    at = next;
  }
  if (at !== directoryEnd) invalid('the central directory size does not match its entries');

  const byOffset = [...entries].sort((a, b) => a.localOffset - b.localOffset);
  for (let i = 1; i < byOffset.length; i++) {
    const previous = byOffset[i - 1] as ZipEntry;
    const current = byOffset[i] as ZipEntry;
    if (previous.dataEnd > current.localOffset) invalid(`entries ${quote(previous.name)} and ${quote(current.name)} overlap`, current.name);
  }
  const conflict = pathConflict(
    entries.filter((e) => !e.isDir).map((e) => e.name),
    entries.filter((e) => e.isDir).map((e) => e.name.slice(0, -1)),
  );
  if (conflict !== null) invalid(conflict.reason, conflict.path);
  return entries;
}

/** Extra fields by id, or null when they do not parse. */
function extraFields(bytes: Uint8Array): Map<number, Uint8Array> | null {
  const fields = new Map<number, Uint8Array>();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  while (at + 4 <= bytes.length) {
    const id = view.getUint16(at, true);
    const size = view.getUint16(at + 2, true);
    if (at + 4 + size > bytes.length) return null;
    fields.set(id, bytes.subarray(at + 4, at + 4 + size));
    at += 4 + size;
  }
  // Some writers pad the extra area with a few zero bytes; anything else is corruption.
  return bytes.subarray(at).every((b) => b === 0) ? fields : null;
}
