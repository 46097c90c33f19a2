// Pack files indexed with node:zlib. isomorphic-git's indexPack resolves every delta in
// JavaScript through its generic object reader and is what makes its clone many times slower than
// native git (docs/architecture.md); this indexer walks the pack once, inflating each entry with zlib (which tells
// where the entry's compressed data ends; src/git/inflater.ts) and applying deltas from memory.
// Entries are decoded by src/git/pack-entry.ts; the .idx is written by src/git/pack-idx.ts.
import { createHash } from 'node:crypto';
import zlib from 'node:zlib';
import { HEADER_ROOM, hashFramed, objectId } from './object-id.js';
import { inflateOne } from './inflater.js';
import { applyDelta, deflateBound, inflater, KINDS, type ObjectType, readEntryHeader, typeOfKind, TYPES } from './pack-entry.js';
import { writeIdx } from './pack-idx.js';
import { DeltaBaseCache } from './delta-base-cache.js';
import { PackPieces } from './pack-pieces.js';

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
  /** The pack, as the pieces it arrived in. */
  readonly pack: PackPieces;
  readonly objects: readonly IndexedObject[];
  /** Hex of the pack's trailing checksum, which names the pack. */
  readonly checksum: string;
}

/**
 * Indexes a complete (not thin) pack: every object's oid, type, size and offset, and the .idx
 * file git and isomorphic-git read. Throws on a corrupt pack or a delta whose base is missing.
 */
export function indexPack(pack: Uint8Array, options: ConstructorParameters<typeof PackStreamIndexer>[0] = {}): IndexedPack {
  const indexer = new PackStreamIndexer(options);
  indexer.push(pack);
  return indexer.finish();
}

/** Bytes of content kept for resolving later deltas (bases used, results of deltas). */
const BASE_CACHE_BYTES = 16 * 1024 * 1024;

/**
 * Indexes a pack while it arrives, as native git's index-pack does during a clone: entries are
 * inflated as soon as their compressed bytes are all there, so indexing overlaps the transfer.
 * `push` the bytes in order, then `finish` resolves what is left and writes the .idx.
 *
 * A pack of a release repository is tens of thousands of small objects, so the cost is per
 * object, not per byte: what is known of each entry lives in columns (typed arrays, and hex oids
 * as the hash gives them) rather than an object per entry, and content is kept only for the types
 * asked for, plus a bounded cache of delta bases and results; the rest is inflated into one
 * reused buffer, hashed and forgotten. A base not in the cache is inflated again from the pack,
 * which is all in memory: one inflate, where copying every object on arrival would cost more.
 *
 * The pieces pushed are kept as they are, not copied into one growing buffer: a 16 MiB pack
 * would cost 32 MiB of fresh memory that way, and the first touch of a fresh page is what a copy
 * costs most (about 15 µs a 4 KiB page on the VM measured; a cold start at rest takes ~20,000
 * such faults). Parsing reads a reused window that holds the bytes not parsed yet. So a pushed
 * piece must not be changed afterwards.
 */
export class PackStreamIndexer {
  /** What was pushed, as it was pushed. */
  private readonly received = new PackPieces();
  /** The pack's bytes from `winStart` to `received`, contiguous: what parsing reads. */
  private win: Buffer = Buffer.allocUnsafe(1 << 18);
  private winStart = 0;
  private winEnd = 0;
  /** Where the next entry starts. */
  private pos = 12;
  /** Where objects that are only hashed are inflated. */
  private scratch: Buffer = Buffer.allocUnsafe(1 << 16);
  private finished = false;
  private count = -1;
  /** Entries parsed so far; each column is indexed by entry number (pack order). */
  private n = 0;
  private offsets = new Float64Array(0);
  private crcs = new Uint32Array(0);
  /** 1..4 once the object is known (a delta's is its base's type), 0 while a delta is unresolved. */
  private types = new Uint8Array(0);
  private sizes = new Float64Array(0);
  private oids: string[] = [];
  /** Deltas whose base was not resolved when they arrived, by entry number. */
  private readonly unresolved = new Map<number, { delta: Buffer; baseOffset?: number; baseOid?: string }>();
  /** Content of the kept types, by entry number: returned by `finish`. */
  private readonly kept = new Map<number, Buffer>();
  /** Delta bases that were used and results of deltas, for the deltas to come. */
  private readonly cache: DeltaBaseCache;
  /** Entry numbers by hex oid, built only once a ref-delta needs it. */
  private byOid?: Map<string, number>;
  private readonly hash = createHash('sha1');
  private hashed = 0;
  /** Bytes of the current entry's stream that were not enough last time: wait for twice as many. */
  private waitFor = 0;
  private readonly keep: (type: ObjectType) => boolean;

  /**
   * `keep`: the types whose content `finish` returns. `baseCacheBytes`: how much other content to
   * keep for later deltas (16 MiB; a base out of it is inflated again).
   */
  constructor(options: { keep?: (type: ObjectType) => boolean; baseCacheBytes?: number } = {}) {
    this.keep = options.keep ?? (() => false);
    this.cache = new DeltaBaseCache(options.baseCacheBytes ?? BASE_CACHE_BYTES);
  }

  push(chunk: Uint8Array): void {
    if (this.finished) throw new Error('the pack was indexed already');
    const piece = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    this.received.add(piece);
    this.append(piece);
    this.parse(false);
    // The last 20 bytes may be the trailing checksum, which the checksum does not cover.
    this.hashTo(this.received.length - 20);
  }

  /** Adds a piece to the window, first moving what is not parsed yet to the front. */
  private append(piece: Buffer): void {
    if (this.winEnd + piece.length > this.win.length) {
      // Until the header is read, nothing is parsed.
      const from = this.count < 0 ? 0 : this.pos - this.winStart;
      const live = this.winEnd - from;
      const need = live + piece.length;
      // A new window twice what is needed when the old one is more than half full: a large entry
      // arriving in many pieces is then copied a bounded number of times.
      if (2 * need > this.win.length) {
        const grown = Buffer.allocUnsafe(2 * need);
        this.win.copy(grown, 0, from, this.winEnd);
        this.win = grown;
      } else {
        this.win.copyWithin(0, from, this.winEnd);
      }
      this.winStart += from;
      this.winEnd = live;
    }
    this.win.set(piece, this.winEnd);
    this.winEnd += piece.length;
  }

  /** Feeds the pack checksum up to `to`. */
  private hashTo(to: number): void {
    if (to <= this.hashed) return;
    this.received.forEachRange(this.hashed, to, (bytes) => this.hash.update(bytes));
    this.hashed = to;
  }

  // PackBytes: the indexer reads entries it parsed earlier back through these (contentOf).
  get length(): number {
    return this.received.length;
  }

  /** The pack's bytes [start, end): from the window when they lie in it. */
  subarray(start: number, end: number): Buffer {
    if (start >= this.winStart) return this.win.subarray(start - this.winStart, end - this.winStart);
    return this.received.subarray(start, end);
  }

  private grow(): void {
    // The header's count is the remote's word: grow towards it rather than trusting it up front.
    const capacity = Math.min(this.count, Math.max(1024, this.offsets.length * 2));
    const widen = <T extends Float64Array | Uint32Array | Uint8Array>(old: T, make: (n: number) => T): T => {
      const next = make(capacity);
      next.set(old);
      return next;
    };
    this.offsets = widen(this.offsets, (n) => new Float64Array(n));
    this.crcs = widen(this.crcs, (n) => new Uint32Array(n));
    this.types = widen(this.types, (n) => new Uint8Array(n));
    this.sizes = widen(this.sizes, (n) => new Float64Array(n));
  }

  private parse(final: boolean): void {
    // Positions in `buf` are relative to the window; `this.pos` and `offset` are in the pack.
    const buf = this.win;
    const base = this.winStart;
    if (this.count < 0) {
      if (this.received.length < 12) return;
      if (buf.toString('latin1', 0, 4) !== 'PACK') throw new Error('not a pack file');
      const version = buf.readUInt32BE(4);
      if (version !== 2 && version !== 3) throw new Error(`unsupported pack version ${version}`);
      this.count = buf.readUInt32BE(8);
    }
    const limit = (final ? this.received.length - 20 : this.received.length) - base;
    while (this.n < this.count) {
      // Headers are at most ~40 bytes; keep 20 in reserve for the trailing checksum.
      if (!final && this.received.length - this.pos < 64) return;
      const offset = this.pos;
      if (offset - base >= limit) throw new Error('truncated pack');
      const header = readEntryHeader(buf, offset - base);
      const start = header.dataAt;
      if (start >= limit) throw new Error('truncated pack');
      // Inflate only once the whole stream must be there: a failed attempt costs an exception.
      if (!final && limit - start < Math.max(this.waitFor, deflateBound(header.size))) return;
      const type = typeOfKind(header.kind);
      const size = header.size;
      // What is not kept (most blobs, and deltas, which are applied at once) is only hashed:
      // inflated into the reused scratch buffer rather than a buffer of its own. Either way the
      // data lands HEADER_ROOM bytes in, so git's object header can go before it for hashing.
      const kept = type !== undefined && this.keep(type);
      const room = HEADER_ROOM + size + 1;
      if (!kept && this.scratch.length < room) this.scratch = Buffer.allocUnsafe(Math.ceil(room / 65536) * 65536);
      const out = kept ? Buffer.allocUnsafe(room) : this.scratch;
      let consumed: number;
      try {
        consumed = inflater.inflateInto(buf, start, limit, out, HEADER_ROOM, size);
      } catch (error) {
        // Only an encoder less tight than zlib's gets here before its stream is complete.
        if (!final && (error as { code?: string }).code === 'Z_BUF_ERROR') {
          this.waitFor = 2 * (limit - start);
          return;
        }
        throw new Error(`object at offset ${offset}: ${(error as Error).message}`, { cause: error });
      }
      this.waitFor = 0;
      const end = start + consumed;
      const i = this.n;
      if (i === this.offsets.length) this.grow();
      this.offsets[i] = offset;
      this.crcs[i] = zlib.crc32(buf.subarray(offset - base, end));
      this.n++;
      this.pos = base + end;
      if (type) {
        this.types[i] = KINDS[type];
        this.sizes[i] = size;
        this.oids[i] = hashFramed(type, out, size);
        this.byOid?.set(this.oids[i]!, i);
        if (kept) this.kept.set(i, out.subarray(HEADER_ROOM, HEADER_ROOM + size));
        continue;
      }
      const data = out.subarray(HEADER_ROOM, HEADER_ROOM + size);
      // An ofs-delta's base precedes it, so almost every delta resolves while the pack arrives.
      const baseOffset = header.baseOffset === undefined ? undefined : base + header.baseOffset;
      const baseEntry = baseOffset !== undefined ? this.entryAt(baseOffset) : this.entryOf(header.baseOid!);
      const baseContent = baseEntry === undefined ? undefined : this.contentOf(baseEntry);
      if (baseContent) this.record(i, TYPES[this.types[baseEntry!]!]!, applyDelta(data, baseContent));
      else this.unresolved.set(i, { delta: Buffer.from(data), baseOffset, baseOid: header.baseOid });
    }
  }

  /**
   * Records an object made by applying a delta: its type, size and oid, and its content where it
   * is kept, or else cached: it may well be the base of the next delta in its chain.
   */
  private record(i: number, type: ObjectType, content: Buffer): void {
    this.types[i] = KINDS[type];
    this.sizes[i] = content.length;
    this.oids[i] = objectId(type, content);
    this.byOid?.set(this.oids[i]!, i);
    if (this.keep(type)) this.kept.set(i, content);
    else this.cache.remember(i, content);
  }

  /** The entry number at a pack offset (entries are in offset order), or undefined. */
  private entryAt(offset: number): number | undefined {
    let lo = 0;
    let hi = this.n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const at = this.offsets[mid]!;
      if (at === offset) return mid;
      if (at < offset) lo = mid + 1;
      else hi = mid;
    }
    return undefined;
  }

  /** The entry number of a resolved object by oid (for ref-deltas, rare in fetched packs). */
  private entryOf(oid: string): number | undefined {
    if (!this.byOid) {
      this.byOid = new Map();
      for (let i = 0; i < this.n; i++) if (this.types[i]) this.byOid.set(this.oids[i]!, i);
    }
    return this.byOid.get(oid);
  }

  /**
   * A resolved entry's content: kept, cached, or inflated again from the pack (then its delta
   * chain applied, iteratively: chains can be deep). Undefined while the entry is unresolved.
   */
  private contentOf(i: number): Buffer | undefined {
    if (!this.types[i]) return undefined;
    const chain: Buffer[] = [];
    let at = i;
    let content = this.kept.get(at) ?? this.cache.get(at);
    while (!content) {
      const offset = this.offsets[at]!;
      // Exactly the entry: the pack may not have arrived whole yet.
      const header = readEntryHeader(this, offset);
      const end = at + 1 < this.n ? this.offsets[at + 1]! : this.pos;
      const data = inflateOne(inflater, this.subarray(header.dataAt, end), 0, end - header.dataAt, header.size).data;
      if (typeOfKind(header.kind)) {
        content = data;
        break;
      }
      chain.push(data);
      const base = header.baseOffset !== undefined ? this.entryAt(header.baseOffset) : this.entryOf(header.baseOid!);
      if (base === undefined) throw new Error(`the base of the delta at offset ${offset} is missing`);
      at = base;
      content = this.kept.get(at) ?? this.cache.get(at);
    }
    for (let d = chain.length - 1; d >= 0; d--) content = applyDelta(chain[d]!, content);
    if (!this.kept.has(i)) this.cache.remember(i, content);
    return content;
  }

  finish(): IndexedPack {
    if (this.count < 0 || this.received.length < 32) throw new Error('not a pack file');
    this.parse(true);
    const end = this.pos;
    if (this.received.length - end !== 20) throw new Error(`pack has ${this.received.length - end - 20} bytes after its last object`);
    const trailer = this.subarray(end, end + 20);
    this.hashTo(end);
    if (Buffer.compare(this.hash.digest(), trailer) !== 0) throw new Error('pack checksum mismatch');

    // Deltas whose base came later (ref-deltas) or was itself unresolved: rounds until none moves.
    while (this.unresolved.size > 0) {
      let progressed = false;
      for (const [i, delta] of this.unresolved) {
        const base = delta.baseOffset !== undefined ? this.entryAt(delta.baseOffset) : this.entryOf(delta.baseOid!);
        const baseContent = base === undefined ? undefined : this.contentOf(base);
        if (!baseContent) continue;
        this.record(i, TYPES[this.types[base!]!]!, applyDelta(delta.delta, baseContent));
        this.unresolved.delete(i);
        progressed = true;
      }
      if (!progressed) throw new Error(`${this.unresolved.size} deltas have no base in the pack (a thin pack?)`);
    }

    const n = this.n;
    const oids = this.oids;
    const objects: IndexedObject[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const content = this.kept.get(i);
      const object = { oid: oids[i]!, type: TYPES[this.types[i]!]!, size: this.sizes[i]!, offset: this.offsets[i]! };
      objects[i] = content ? { ...object, content } : object;
    }
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => (oids[a]! < oids[b]! ? -1 : 1));
    const idx = writeIdx({ oids, crcs: this.crcs, offsets: this.offsets }, order, trailer);
    // What only indexing needed goes; the pieces stay, as the pack.
    this.finished = true;
    this.cache.clear();
    this.kept.clear();
    this.byOid = undefined;
    this.win = Buffer.alloc(0);
    this.scratch = this.win;
    this.winStart = this.received.length;
    return { idx, pack: this.received, objects, checksum: trailer.toString('hex') };
  }
}
