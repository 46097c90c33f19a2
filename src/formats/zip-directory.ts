// The central directory of a zip from the repository, read and checked before anything is inflated.
//
// A zip from the repository is untrusted input, and jszip's public API hides exactly what a safe
// reader must see: it rewrites `../x` to `x` silently, keeps only the last of two entries with one
// name, and exposes no declared sizes before inflating. So the directory is read here, by hand,
// and every name, count and declared size is checked against the limits first.

import { crc32 } from 'node:zlib';
import { pathConflict, type ArtifactLimits } from './artifact.js';
import { repoErrors } from './errors.js';
import { relativePathProblem } from './layout.js';
import { quoteForError } from './values.js';

/** One entry of the central directory, with where its data lies in the zip. */
export interface ZipEntry {
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
export function readCentralDirectory(bytes: Uint8Array, limits: ArtifactLimits, where: { path?: string | undefined }): ZipEntry[] {
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
    if (problem !== null) invalid(`entry name ${quoteForError(name)} ${problem}`, name);
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
    if (previous.dataEnd > current.localOffset) invalid(`entries ${quoteForError(previous.name)} and ${quoteForError(current.name)} overlap`, current.name);
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
