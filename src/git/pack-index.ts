// Pack files, read and indexed with node:zlib. isomorphic-git's indexPack resolves every delta in
// JavaScript through its generic object reader and is what makes its clone 14× slower than native
// git (FACTS.md); this indexer walks the pack once, inflating each entry with zlib (whose
// `bytesWritten` tells where the entry's compressed data ends) and applying deltas from memory.
// Formats: https://git-scm.com/docs/gitformat-pack (pack and .idx version 2).
import { createHash } from 'node:crypto';
import zlib from 'node:zlib';

export type ObjectType = 'commit' | 'tree' | 'blob' | 'tag';

const TYPES: Record<number, ObjectType> = { 1: 'commit', 2: 'tree', 3: 'blob', 4: 'tag' };
const OFS_DELTA = 6;
const EMPTY = Buffer.alloc(0);
const REF_DELTA = 7;

export interface IndexedObject {
  readonly oid: string;
  readonly type: ObjectType;
  /** Inflated size in bytes. */
  readonly size: number;
  readonly offset: number;
  /** The content, for the types asked for with `keep`. */
  readonly content?: Buffer;
}

export interface IndexedPack {
  /** The .idx file (version 2). */
  readonly idx: Buffer;
  readonly objects: readonly IndexedObject[];
  /** Hex of the pack's trailing checksum, which names the pack. */
  readonly checksum: string;
}

interface Entry {
  offset: number;
  /** 1..4, or OFS_DELTA / REF_DELTA. */
  kind: number;
  data: Buffer;
  baseOffset?: number;
  baseOid?: string;
  crc: number;
  oid?: string;
  type?: ObjectType;
  content?: Buffer;
}

function sha1(type: ObjectType, content: Buffer): string {
  return createHash('sha1').update(`${type} ${content.length}\0`).update(content).digest('hex');
}

function readVarint(data: Buffer, at: { pos: number }): number {
  let result = 0;
  let shift = 0;
  let byte: number;
  do {
    byte = data[at.pos++]!;
    result += (byte & 0x7f) * 2 ** shift;
    shift += 7;
  } while (byte & 0x80);
  return result;
}

/** Applies a git delta (https://git-scm.com/docs/gitformat-pack#_deltified_representation). */
export function applyDelta(delta: Buffer, base: Buffer): Buffer {
  const at = { pos: 0 };
  const baseSize = readVarint(delta, at);
  if (baseSize !== base.length) throw new Error(`delta base size ${baseSize} != ${base.length}`);
  const size = readVarint(delta, at);
  const out = Buffer.allocUnsafe(size);
  let written = 0;
  while (at.pos < delta.length) {
    const op = delta[at.pos++]!;
    if (op & 0x80) {
      let offset = 0;
      let length = 0;
      for (let i = 0; i < 4; i++) if (op & (1 << i)) offset |= delta[at.pos++]! << (8 * i);
      for (let i = 0; i < 3; i++) if (op & (0x10 << i)) length |= delta[at.pos++]! << (8 * i);
      offset >>>= 0;
      if (length === 0) length = 0x10000;
      if (offset + length > base.length || written + length > size) throw new Error('delta copy out of range');
      base.copy(out, written, offset, offset + length);
      written += length;
    } else if (op > 0) {
      if (written + op > size || at.pos + op > delta.length) throw new Error('delta insert out of range');
      delta.copy(out, written, at.pos, at.pos + op);
      at.pos += op;
      written += op;
    } else {
      throw new Error('delta opcode 0 is reserved');
    }
  }
  if (written !== size) throw new Error(`delta produced ${written} bytes, expected ${size}`);
  return out;
}

/**
 * Indexes a complete (not thin) pack: every object's oid, type, size and offset, and the .idx
 * file git and isomorphic-git read. Throws on a corrupt pack or a delta whose base is missing.
 */
export function indexPack(pack: Uint8Array, options: { keep?: (type: ObjectType) => boolean } = {}): IndexedPack {
  const indexer = new PackStreamIndexer(options);
  indexer.push(pack);
  return indexer.finish();
}

/**
 * Indexes a pack while it arrives, as native git's index-pack does during a clone: entries are
 * inflated as soon as their compressed bytes are all there, so indexing overlaps the transfer.
 * `push` the bytes in order, then `finish` resolves the deltas and writes the .idx.
 */
export class PackStreamIndexer {
  private buf: Buffer = Buffer.allocUnsafe(1 << 16);
  private filled = 0;
  private pos = 12;
  private count = -1;
  private readonly entries: Entry[] = [];
  private readonly byOffset = new Map<number, Entry>();
  private readonly byOid = new Map<string, Entry>();
  private readonly hash = createHash('sha1');
  private hashed = 0;
  /** Bytes of the current entry's stream that were not enough last time: wait for twice as many. */
  private waitFor = 0;

  constructor(private readonly options: { keep?: (type: ObjectType) => boolean } = {}) {}

  /** The pack received so far. */
  get bytes(): Buffer {
    return this.buf.subarray(0, this.filled);
  }

  push(chunk: Uint8Array): void {
    if (this.filled + chunk.length > this.buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.filled + chunk.length));
      this.buf.copy(grown, 0, 0, this.filled);
      this.buf = grown;
    }
    this.buf.set(chunk, this.filled);
    this.filled += chunk.length;
    this.parse(false);
  }

  private parse(final: boolean): void {
    const buf = this.buf;
    if (this.count < 0) {
      if (this.filled < 12) return;
      if (buf.toString('latin1', 0, 4) !== 'PACK') throw new Error('not a pack file');
      const version = buf.readUInt32BE(4);
      if (version !== 2 && version !== 3) throw new Error(`unsupported pack version ${version}`);
      this.count = buf.readUInt32BE(8);
    }
    while (this.entries.length < this.count) {
      // Headers are at most ~40 bytes; keep 20 in reserve for the trailing checksum.
      if (!final && this.filled - this.pos < 64) return;
      const offset = this.pos;
      let pos = offset;
      let byte = buf[pos++]!;
      const kind = (byte >> 4) & 7;
      let size = byte & 0x0f;
      let shift = 4;
      while (byte & 0x80) {
        byte = buf[pos++]!;
        size += (byte & 0x7f) * 2 ** shift;
        shift += 7;
      }
      const entry: Entry = { offset, kind, data: EMPTY, crc: 0 };
      if (kind === OFS_DELTA) {
        byte = buf[pos++]!;
        let back = byte & 0x7f;
        while (byte & 0x80) {
          byte = buf[pos++]!;
          back = (back + 1) * 128 + (byte & 0x7f);
        }
        entry.baseOffset = offset - back;
      } else if (kind === REF_DELTA) {
        entry.baseOid = buf.subarray(pos, pos + 20).toString('hex');
        pos += 20;
      } else if (!TYPES[kind]) {
        throw new Error(`bad object type ${kind} at offset ${offset}`);
      }
      const limit = final ? this.filled - 20 : this.filled;
      if (pos >= limit) {
        if (final) throw new Error('truncated pack');
        return;
      }
      if (!final && limit - pos < this.waitFor) return;
      let inflated: { buffer: Buffer; engine: { bytesWritten: number } };
      try {
        // zlib stops at the end of the entry's stream and reports how much input it used. An
        // output chunk of the known size: zlib's 16 KiB default, allocated per entry, costs more
        // than the inflating itself on a pack of small objects.
        inflated = zlib.inflateSync(buf.subarray(pos, limit), { info: true, chunkSize: Math.max(64, size) }) as unknown as typeof inflated;
      } catch (error) {
        if (!final && (error as { code?: string }).code === 'Z_BUF_ERROR') {
          this.waitFor = 2 * (limit - pos);
          return;
        }
        throw error;
      }
      this.waitFor = 0;
      entry.data = inflated.buffer;
      if (entry.data.length !== size) throw new Error(`object at offset ${offset} inflates to ${entry.data.length} bytes, not ${size}`);
      pos += inflated.engine.bytesWritten;
      entry.crc = zlib.crc32(buf.subarray(offset, pos));
      if (kind !== OFS_DELTA && kind !== REF_DELTA) {
        entry.type = TYPES[kind]!;
        entry.content = entry.data;
        entry.oid = sha1(entry.type, entry.content);
        this.byOid.set(entry.oid, entry);
      } else {
        // An ofs-delta's base precedes it, so most deltas resolve while the pack still arrives.
        const base = entry.baseOffset !== undefined ? this.byOffset.get(entry.baseOffset) : this.byOid.get(entry.baseOid!);
        if (base?.content) {
          entry.type = base.type!;
          entry.content = applyDelta(entry.data, base.content);
          entry.oid = sha1(entry.type, entry.content);
          entry.data = EMPTY;
          this.byOid.set(entry.oid, entry);
        }
      }
      this.entries.push(entry);
      this.byOffset.set(offset, entry);
      this.pos = pos;
    }
    // Hash what is known to precede the trailer, as it arrives.
    if (this.entries.length === this.count && this.pos > this.hashed) {
      this.hash.update(buf.subarray(this.hashed, this.pos));
      this.hashed = this.pos;
    }
  }

  finish(): IndexedPack {
    this.parse(true);
    const buf = this.buf;
    const end = this.pos;
    if (this.count < 0 || this.filled < 32) throw new Error('not a pack file');
    if (this.filled - end !== 20) throw new Error(`pack has ${this.filled - end - 20} bytes after its last object`);
    const checksum = buf.toString('hex', end, end + 20);
    if (this.hash.digest('hex') !== checksum) throw new Error('pack checksum mismatch');
    const entries = this.entries;
    const byOffset = this.byOffset;

    const byOid = this.byOid;

    // Resolves a delta chain iteratively (chains can be deep; no recursion).
    const resolve = (entry: Entry): void => {
      const chain: Entry[] = [];
      let current: Entry | undefined = entry;
      while (current && current.content === undefined) {
        chain.push(current);
        current = current.baseOffset !== undefined ? byOffset.get(current.baseOffset) : byOid.get(current.baseOid!);
      }
      if (!current) return; // a ref-delta base not resolved yet: retried below
      for (let i = chain.length - 1; i >= 0; i--) {
        const e = chain[i]!;
        const base = i === chain.length - 1 ? current : chain[i + 1]!;
        e.type = base.type!;
        e.content = applyDelta(e.data, base.content!);
        e.oid = sha1(e.type, e.content);
        e.data = EMPTY;
        byOid.set(e.oid, e);
      }
    };
    let pending = entries.filter((e) => e.content === undefined);
    while (pending.length > 0) {
      for (const e of pending) resolve(e);
      const left = pending.filter((e) => e.content === undefined);
      if (left.length === pending.length) throw new Error(`${left.length} deltas have no base in the pack (a thin pack?)`);
      pending = left;
    }

    const keep = this.options.keep ?? (() => false);
    const objects: IndexedObject[] = entries.map((e) => ({
      oid: e.oid!,
      type: e.type!,
      size: e.content!.length,
      offset: e.offset,
      ...(keep(e.type!) ? { content: e.content! } : {}),
    }));
    const sorted = entries.slice().sort((a, b) => (a.oid! < b.oid! ? -1 : a.oid! > b.oid! ? 1 : 0));
    return { idx: writeIdx(sorted, buf.subarray(end, end + 20)), objects, checksum };
  }
}

function writeIdx(sorted: readonly Entry[], packChecksum: Buffer): Buffer {
  const n = sorted.length;
  const large = sorted.filter((e) => e.offset >= 0x80000000);
  const out = Buffer.alloc(8 + 256 * 4 + n * 20 + n * 4 + n * 4 + large.length * 8 + 40);
  out.writeUInt32BE(0xff744f63, 0);
  out.writeUInt32BE(2, 4);
  const fanout = new Uint32Array(256);
  for (const e of sorted) fanout[parseInt(e.oid!.slice(0, 2), 16)]!++;
  let total = 0;
  for (let i = 0; i < 256; i++) {
    total += fanout[i]!;
    out.writeUInt32BE(total, 8 + i * 4);
  }
  let at = 8 + 1024;
  for (const e of sorted) {
    out.write(e.oid!, at, 'hex');
    at += 20;
  }
  for (const e of sorted) {
    out.writeUInt32BE(e.crc >>> 0, at);
    at += 4;
  }
  let largeIndex = 0;
  const largeAt = at + n * 4;
  for (const e of sorted) {
    if (e.offset >= 0x80000000) {
      out.writeUInt32BE((0x80000000 | largeIndex) >>> 0, at);
      out.writeBigUInt64BE(BigInt(e.offset), largeAt + largeIndex * 8);
      largeIndex++;
    } else out.writeUInt32BE(e.offset, at);
    at += 4;
  }
  at = largeAt + large.length * 8;
  packChecksum.copy(out, at);
  at += 20;
  createHash('sha1').update(out.subarray(0, at)).digest().copy(out, at);
  return out;
}

/** The offsets of a version-2 .idx file, by oid. */
export function readIdxOffsets(idx: Buffer): Map<string, number> {
  if (idx.readUInt32BE(0) !== 0xff744f63 || idx.readUInt32BE(4) !== 2) throw new Error('unsupported pack index version');
  const n = idx.readUInt32BE(8 + 255 * 4);
  const names = 8 + 1024;
  const offsets = names + n * 24;
  const largeStart = offsets + n * 4;
  const map = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    let offset = idx.readUInt32BE(offsets + i * 4);
    if (offset & 0x80000000) offset = Number(idx.readBigUInt64BE(largeStart + (offset & 0x7fffffff) * 8));
    map.set(idx.toString('hex', names + i * 20, names + i * 20 + 20), offset);
  }
  return map;
}

/**
 * The inflated size of the object at `offset` of a pack, reading only its header — and for a
 * delta the first bytes of the delta, which start with the result's size.
 */
export function sizeAt(pack: Buffer, offset: number): number {
  let pos = offset;
  let byte = pack[pos++]!;
  const kind = (byte >> 4) & 7;
  let size = byte & 0x0f;
  let shift = 4;
  while (byte & 0x80) {
    byte = pack[pos++]!;
    size += (byte & 0x7f) * 2 ** shift;
    shift += 7;
  }
  if (kind !== OFS_DELTA && kind !== REF_DELTA) return size;
  if (kind === OFS_DELTA) while (pack[pos++]! & 0x80);
  else pos += 20;
  // The delta starts with two varints (base size, result size): inflate just enough of it. A
  // dynamic-Huffman block header can be long, so widen the window until both varints are out.
  for (const window of [128, 2048, pack.length - pos]) {
    const head = zlib.inflateSync(pack.subarray(pos, Math.min(pack.length, pos + window)), {
      finishFlush: zlib.constants.Z_SYNC_FLUSH,
    });
    if (hasTwoVarints(head)) {
      const at = { pos: 0 };
      readVarint(head, at);
      return readVarint(head, at);
    }
  }
  throw new Error(`cannot read the delta header at offset ${offset}`);
}

function hasTwoVarints(data: Buffer): boolean {
  let complete = 0;
  for (let i = 0; i < data.length && complete < 2; i++) if (!(data[i]! & 0x80)) complete++;
  return complete === 2;
}

export interface PackEntryHeader {
  /** 1..4 for whole objects, 6 ofs-delta, 7 ref-delta. */
  readonly kind: number;
  /** Inflated size of the entry's data (for a delta: of the delta). */
  readonly size: number;
  /** Where the zlib stream starts. */
  readonly dataAt: number;
  readonly baseOffset?: number;
  readonly baseOid?: string;
}

export function readEntryHeader(pack: Buffer, offset: number): PackEntryHeader {
  let pos = offset;
  let byte = pack[pos++]!;
  const kind = (byte >> 4) & 7;
  let size = byte & 0x0f;
  let shift = 4;
  while (byte & 0x80) {
    byte = pack[pos++]!;
    size += (byte & 0x7f) * 2 ** shift;
    shift += 7;
  }
  if (kind === OFS_DELTA) {
    byte = pack[pos++]!;
    let back = byte & 0x7f;
    while (byte & 0x80) {
      byte = pack[pos++]!;
      back = (back + 1) * 128 + (byte & 0x7f);
    }
    return { kind, size, dataAt: pos, baseOffset: offset - back };
  }
  if (kind === REF_DELTA) return { kind, size, dataAt: pos + 20, baseOid: pack.toString('hex', pos, pos + 20) };
  if (!TYPES[kind]) throw new Error(`bad object type ${kind} at offset ${offset}`);
  return { kind, size, dataAt: pos };
}

/** Inflates an entry's data (a whole object, or a delta). */
export function inflateEntry(pack: Buffer, header: PackEntryHeader): Buffer {
  const data = zlib.inflateSync(pack.subarray(header.dataAt, pack.length - 20), { chunkSize: Math.max(64, header.size) });
  if (data.length !== header.size) throw new Error(`object inflates to ${data.length} bytes, not ${header.size}`);
  return data;
}

export function typeOfKind(kind: number): ObjectType | undefined {
  return TYPES[kind];
}

/**
 * Lookups in a version-2 .idx file as it is, by binary search within its fan-out bucket:
 * nothing is parsed up front (building a Map of 50,000 hex oids took ~0.6 s).
 */
export class PackIdx {
  private readonly count: number;
  private readonly names = 8 + 1024;

  constructor(private readonly idx: Buffer) {
    if (idx.length < 8 + 1024 || idx.readUInt32BE(0) !== 0xff744f63 || idx.readUInt32BE(4) !== 2) {
      throw new Error('unsupported pack index version');
    }
    this.count = idx.readUInt32BE(8 + 255 * 4);
  }

  get size(): number {
    return this.count;
  }

  /** The pack offset of `oid`, or undefined when this pack does not hold it. */
  offsetOf(oid: string): number | undefined {
    if (oid.length !== 40) return undefined;
    const key = Buffer.from(oid, 'hex');
    const first = key[0]!;
    let lo = first === 0 ? 0 : this.idx.readUInt32BE(8 + (first - 1) * 4);
    let hi = this.idx.readUInt32BE(8 + first * 4);
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const at = this.names + mid * 20;
      const cmp = this.idx.compare(key, 0, 20, at, at + 20);
      if (cmp === 0) {
        const offsets = this.names + this.count * 24;
        const offset = this.idx.readUInt32BE(offsets + mid * 4);
        if (!(offset & 0x80000000)) return offset;
        return Number(this.idx.readBigUInt64BE(offsets + this.count * 4 + (offset & 0x7fffffff) * 8));
      }
      // Buffer#compare(target…) compares target to this buffer's range: > 0 means key is smaller.
      if (cmp > 0) hi = mid;
      else lo = mid + 1;
    }
    return undefined;
  }
}
