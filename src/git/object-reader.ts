// Reading git objects of one repository from its .idx/.pack files and loose objects: trees, blobs,
// commits and sizes, with node:zlib, a binary search in each .idx and a bounded cache of delta
// bases. Not through isomorphic-git: its readObject lists the pack folder and probes for a loose
// file on every read and inflates with pako, which made the first snapshot of a large repository
// take seconds (docs/architecture.md has the figures). isomorphic-git keeps refs; loose-objects.ts
// writes objects.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { EMPTY_TREE, parseCommit, parseTree, type CommitObject, type TreeEntry } from './object-formats.js';
import { PackFile } from './pack-file.js';
import { applyDelta, inflateEntry, readEntryHeader, sizeAt, typeOfKind, type ObjectType, type PackBytes, type PackEntryHeader } from './pack-entry.js';
import { PackIdx } from './pack-idx.js';
import type { CacheStats } from '../runtime/bounded-cache.js';
import { waitForTurn, yieldToEventLoop } from '../runtime/event-loop.js';

export interface ObjectReader {
  readTree(oid: string): Promise<TreeEntry[]>;
  readBlob(oid: string): Promise<Uint8Array>;
  readCommit(oid: string): Promise<CommitObject>;
  /** True when the object can be read at all. */
  has(oid: string): Promise<boolean>;
  /** True when a pack holds the object (in remote mode: the remote sent it, so it has it). */
  isPacked(oid: string): Promise<boolean>;
  /** An object's size in bytes, read from its header only (no inflating of the content). */
  objectSize(oid: string): Promise<number>;
  /** `objectSize` of many objects at once: one wait instead of one per object. */
  objectSizes(oids: readonly string[]): Promise<number[]>;
  /**
   * Hands over what indexing a received pack learnt: every object's size, and the content of
   * the small structural objects (trees, commits), so the first snapshot after a clone inflates
   * nothing again. Bounded; anything over the bounds is simply read from the pack later.
   */
  prime(objects: readonly { oid: string; type: ObjectType; size: number; content?: Buffer }[]): void;
  /** Registers a pack just stored, with its bytes at hand (no re-reading the file). */
  addPack(idxName: string, idx: Buffer, pack: PackBytes): void;
  /** A tree's entries when they are at hand without I/O (primed), else undefined. */
  peekTree(oid: string): TreeEntry[] | undefined;
  /** An object's size when known without I/O, else undefined. */
  peekSize(oid: string): number | undefined;
  /** The delta-base cache, the primed objects and the known sizes, for `/metrics`. */
  cacheStats(): CacheStats[];
}

interface PackEntry {
  readonly offsets: PackIdx;
  readonly packPath: string;
  /** The pack: its bytes in memory, or, past `wholePackBytes`, the file read by range. Opened on first use. */
  pack?: Promise<PackBytes | PackFile>;
}

/**
 * Packs up to this size are read whole on first use; larger ones by range (pack-file.ts), their
 * bytes left to the page cache. A repository of 50,000 apps and 200,000 artifacts packs into
 * ~190 MiB, which held whole was a fifth of the process's memory (bench/RESULTS.md).
 */
const WHOLE_PACK_BYTES = 64 * 1024 * 1024;

/** Entries of at least this many bytes are followed by a look at the clock. */
const YIELD_AFTER_BYTES = 256 * 1024;

/**
 * Entries of at least this many bytes inflate in a turn of the event loop of their own. A look at
 * the clock after an entry does not stop reads in flight at once: each runs on in the same turn
 * until its own look, and at a 50,000-app restart three manifests of 1.6-3.3 MB inflated back to
 * back held the loop ~130 ms. An inflate of a MiB takes milliseconds; a turn costs microseconds.
 */
const OWN_TURN_BYTES = 1024 * 1024;

async function beforeInflate(header: PackEntryHeader): Promise<void> {
  if (header.size >= OWN_TURN_BYTES) await waitForTurn();
}

/** Sizes read between two looks at the clock in `objectSizes`. */
const SIZES_PER_CHECK = 32;

interface RawObject {
  readonly type: ObjectType;
  readonly content: Buffer;
}

/** Bytes of resolved pack entries kept for reuse as delta bases. */
const BASE_CACHE_BYTES = 32 * 1024 * 1024;
/** Bounds of what `prime` keeps. */
const PRIMED_BYTES = 64 * 1024 * 1024;
const PRIMED_SIZES = 2_000_000;

/** `wholePackBytes`: packs up to this size are read into memory whole (64 MiB), larger ones by range. */
export function createObjectReader(gitdir: string, options: { wholePackBytes?: number } = {}): ObjectReader {
  const wholePackBytes = options.wholePackBytes ?? WHOLE_PACK_BYTES;
  let packs = new Map<string, PackEntry>();
  let packsLoaded: Promise<void> | undefined;
  const bases = new Map<string, RawObject>();
  const resolving = new Map<string, Promise<RawObject>>();
  let baseBytes = 0;
  const primed = new Map<string, RawObject>();
  let primedBytes = 0;
  const knownSizes = new Map<string, number>();
  const counts = {
    bases: { hits: 0, misses: 0, evictions: 0 },
    primed: { hits: 0, misses: 0 },
    sizes: { hits: 0, misses: 0 },
  };

  function remember(key: string, object: RawObject): void {
    if (object.content.length > BASE_CACHE_BYTES / 8) return;
    bases.set(key, object);
    baseBytes += object.content.length;
    // Map iteration order is insertion order: drop the oldest first.
    for (const [k, v] of bases) {
      if (baseBytes <= BASE_CACHE_BYTES) break;
      bases.delete(k);
      baseBytes -= v.content.length;
      counts.bases.evictions++;
    }
  }

  function packOf(entry: PackEntry): Promise<PackBytes | PackFile> {
    entry.pack ??= (async () => {
      const { size } = await fs.promises.stat(entry.packPath);
      return size <= wholePackBytes ? fs.promises.readFile(entry.packPath) : new PackFile(entry.packPath, size);
    })();
    return entry.pack;
  }

  async function readEntry(entry: PackEntry, offset: number): Promise<{ header: PackEntryHeader; data: Buffer }> {
    const pack = await packOf(entry);
    if (pack instanceof PackFile) return pack.readEntry(offset, beforeInflate);
    const header = readEntryHeader(pack, offset);
    await beforeInflate(header);
    return { header, data: inflateEntry(pack, header) };
  }

  async function sizeOf(oid: string): Promise<number> {
    for (const entry of packs.values()) {
      const offset = entry.offsets.offsetOf(oid);
      if (offset !== undefined) return packedSizeAt(entry, offset);
    }
    return objectSize(oid);
  }

  async function packedSizeAt(entry: PackEntry, offset: number): Promise<number> {
    const pack = await packOf(entry);
    return pack instanceof PackFile ? pack.sizeAt(offset) : sizeAt(pack, offset);
  }

  function readPacked(entry: PackEntry, name: string, offset: number): Promise<RawObject> {
    const key = `${name}:${offset}`;
    const hit = bases.get(key);
    if (hit) {
      counts.bases.hits++;
      return Promise.resolve(hit);
    }
    // Reads at once of objects whose delta chains share bases (the manifests of a first snapshot,
    // each a delta of the next) resolve each base once: nine manifests of 1.6 MB resolved 45
    // levels of 1.6 MB, not 9, before reads in flight were shared.
    const pending = resolving.get(key);
    if (pending) {
      counts.bases.hits++;
      return pending;
    }
    counts.bases.misses++;
    const read = resolvePacked(entry, name, offset, key).finally(() => resolving.delete(key));
    resolving.set(key, read);
    return read;
  }

  async function resolvePacked(entry: PackEntry, name: string, offset: number, key: string): Promise<RawObject> {
    const { header, data } = await readEntry(entry, offset);
    const type = typeOfKind(header.kind);
    let object: RawObject;
    if (type) object = { type, content: data };
    else {
      const base = header.baseOffset !== undefined ? await readPacked(entry, name, header.baseOffset) : await readRaw(header.baseOid!);
      object = { type: base.type, content: applyDelta(data, base.content) };
    }
    remember(key, object);
    // Each entry of a delta chain inflates, and each level copies the whole object: the first
    // snapshot of 50,000 apps reads ten manifests of 1.5-3 MB this way, each tens of small deltas
    // deep, all at once. So after a large entry or a large result (a small delta of a large
    // object): a look at the clock before the next level. Only then: an await before every
    // entry made that start ~3 s longer.
    if (header.size >= YIELD_AFTER_BYTES || object.content.length >= YIELD_AFTER_BYTES) await yieldToEventLoop();
    return object;
  }

  function findPacked(oid: string): Promise<RawObject> | undefined {
    for (const [name, entry] of packs) {
      const offset = entry.offsets.offsetOf(oid);
      if (offset !== undefined) return readPacked(entry, name, offset);
    }
    return undefined;
  }

  const loosePath = (oid: string): string => path.join(gitdir, 'objects', oid.slice(0, 2), oid.slice(2));

  async function isLooseObject(oid: string): Promise<boolean> {
    try {
      await fs.promises.access(loosePath(oid));
      return true;
    } catch {
      return false;
    }
  }

  /** A loose object's deflated bytes; undefined when there is no such file. */
  function readLooseFile(oid: string): Promise<Buffer | undefined> {
    return fs.promises.readFile(loosePath(oid)).catch(() => undefined);
  }

  async function readLoose(oid: string): Promise<RawObject | undefined> {
    const deflated = await readLooseFile(oid);
    if (deflated === undefined) return undefined;
    const raw = zlib.inflateSync(deflated);
    const space = raw.indexOf(0x20);
    const nul = raw.indexOf(0, space);
    const type = raw.toString('latin1', 0, space) as ObjectType;
    return { type, content: raw.subarray(nul + 1) };
  }

  async function readRaw(oid: string): Promise<RawObject> {
    const hit = primed.get(oid);
    if (hit) {
      counts.primed.hits++;
      return hit;
    }
    counts.primed.misses++;
    packsLoaded ??= loadPacks();
    await packsLoaded;
    const packed = findPacked(oid)?.catch(async (error: unknown) => {
      // The pack went away under us (native `git gc` on the embedded repository): look again.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      packsLoaded = loadPacks();
      await packsLoaded;
      return findPacked(oid) ?? readLoose(oid).then((o) => o ?? Promise.reject(error));
    });
    if (packed) return packed;
    const loose = await readLoose(oid);
    if (loose) return loose;
    // A pack that arrived (fetch, native push) or was replaced (native gc) since we last looked.
    packsLoaded = loadPacks();
    await packsLoaded;
    const late = findPacked(oid);
    if (late) return late;
    throw Object.assign(new Error(`Could not find ${oid}.`), { code: 'NotFoundError' });
  }

  async function readTyped(oid: string, expected: ObjectType): Promise<Buffer> {
    const object = await readRaw(oid);
    if (object.type === expected) return object.content;
    if (expected === 'tree' && object.type === 'commit') {
      // Peel a commit to its tree, as isomorphic-git's readTree does.
      return readTyped(object.content.toString('latin1', 5, 45), 'tree');
    }
    throw Object.assign(new Error(`${oid} is a ${object.type}, not a ${expected}`), { code: 'ObjectTypeError' });
  }

  async function loadPacks(): Promise<void> {
    const dir = path.join(gitdir, 'objects', 'pack');
    const names = (await fs.promises.readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith('.idx'));
    const next = new Map<string, PackEntry>();
    for (const name of names) {
      const known = packs.get(name);
      if (known) next.set(name, known);
      else {
        const idx = await fs.promises.readFile(path.join(dir, name));
        next.set(name, { offsets: new PackIdx(idx), packPath: path.join(dir, name.replace(/\.idx$/, '.pack')) });
      }
    }
    packs = next;
  }

  function packedSize(oid: string): Promise<number> | undefined {
    for (const entry of packs.values()) {
      const offset = entry.offsets.offsetOf(oid);
      if (offset === undefined) continue;
      return packedSizeAt(entry, offset);
    }
    return undefined;
  }

  async function looseSize(oid: string): Promise<number | undefined> {
    const deflated = await readLooseFile(oid);
    if (deflated === undefined) return undefined;
    // The header "<type> <size>\0" is in the first inflated bytes.
    const head = zlib.inflateSync(deflated.subarray(0, 256), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    const match = /^[a-z]+ (\d+)\0/.exec(head.toString('latin1', 0, 32));
    if (!match) throw new Error(`corrupt loose object ${oid}`);
    return Number(match[1]);
  }

  async function objectSize(oid: string): Promise<number> {
    const known = knownSizes.get(oid);
    if (known !== undefined) {
      counts.sizes.hits++;
      return known;
    }
    counts.sizes.misses++;
    packsLoaded ??= loadPacks();
    await packsLoaded;
    const packed = packedSize(oid);
    if (packed) return packed;
    // Written here and not packed yet: small, inflate its header.
    const loose = await looseSize(oid);
    if (loose !== undefined) return loose;
    // A pack that arrived since we last looked.
    packsLoaded = loadPacks();
    await packsLoaded;
    const late = packedSize(oid);
    if (late) return late;
    throw Object.assign(new Error(`Could not find ${oid}.`), { code: 'NotFoundError' });
  }

  return {
    async readTree(oid) {
      if (oid === EMPTY_TREE) return [];
      return parseTree(await readTyped(oid, 'tree'));
    },
    async readBlob(oid) {
      // A copy: the content may be a delta base shared through the cache.
      return new Uint8Array(await readTyped(oid, 'blob'));
    },
    async readCommit(oid) {
      return parseCommit(await readTyped(oid, 'commit'));
    },
    addPack(idxName, idx, pack) {
      const entry: PackEntry = {
        offsets: new PackIdx(idx),
        packPath: path.join(gitdir, 'objects', 'pack', idxName.replace(/\.idx$/, '.pack')),
        // Past the bound the received bytes are let go: read by range from the file just stored.
        ...(pack.length <= wholePackBytes ? { pack: Promise.resolve(pack) } : {}),
      };
      packs.set(idxName, entry);
    },
    peekTree(oid) {
      const hit = primed.get(oid);
      return hit?.type === 'tree' ? parseTree(hit.content) : undefined;
    },
    peekSize(oid) {
      return knownSizes.get(oid);
    },
    cacheStats: () => [
      { name: 'git_delta_bases', size: bases.size, limit: undefined, ...counts.bases, bytes: baseBytes, limitBytes: BASE_CACHE_BYTES },
      // Filled once from a received pack, never evicted: what is over the bound is read from the pack.
      { name: 'git_primed_objects', size: primed.size, limit: undefined, ...counts.primed, evictions: 0, bytes: primedBytes, limitBytes: PRIMED_BYTES },
      { name: 'git_object_sizes', size: knownSizes.size, limit: PRIMED_SIZES, ...counts.sizes, evictions: 0 },
    ],
    prime(objects) {
      for (const o of objects) {
        if (knownSizes.size < PRIMED_SIZES) knownSizes.set(o.oid, o.size);
        if (o.content && primedBytes + o.content.length <= PRIMED_BYTES) {
          primed.set(o.oid, { type: o.type, content: o.content });
          primedBytes += o.content.length;
        }
      }
    },
    objectSize,
    async objectSizes(oids) {
      const sizes: (number | undefined)[] = oids.map((oid) => knownSizes.get(oid));
      if (sizes.every((size) => size !== undefined)) return sizes as number[];
      packsLoaded ??= loadPacks();
      await packsLoaded;
      // One after another, yielding: the first snapshot of a repository opened from disk asks for
      // every artifact's size (200,000 at 50,000 apps), which as one Promise.all held the loop. A
      // size read from a pack file by range is a read(2) (~0.1 ms): 512 of them overshot the slice.
      const found: number[] = [];
      for (const [i, oid] of oids.entries()) {
        if (i % SIZES_PER_CHECK === 0) await yieldToEventLoop();
        found.push(sizes[i] ?? (await sizeOf(oid)));
      }
      return found;
    },
    async isPacked(oid) {
      packsLoaded ??= loadPacks();
      await packsLoaded;
      return [...packs.values()].some((p) => p.offsets.offsetOf(oid) !== undefined);
    },
    async has(oid) {
      const known = async () => [...packs.values()].some((p) => p.offsets.offsetOf(oid) !== undefined) || (await isLooseObject(oid));
      packsLoaded ??= loadPacks();
      await packsLoaded;
      if (await known()) return true;
      packsLoaded = loadPacks();
      await packsLoaded;
      return known();
    },
  };
}
