// Object access for one repository: reads through our own reader of packs and loose objects
// (object-reader.ts), writes as loose objects (loose-objects.ts). What isomorphic-git still does
// here (refs, packing for a push) it does through `fs` with ONE cache object, shared by every
// call on this repository until resetCache(), because without it each of its packed reads parses
// the pack index again (https://isomorphic-git.org/docs/en/cache).
import { atomicFs } from './atomic-fs.js';
import { renderCommit, renderTree, type CommitObject, type TreeEntry } from './object-formats.js';
import { createObjectReader, type ObjectReader } from './object-reader.js';
import { writeLooseObject } from './loose-objects.js';

export interface ObjectStore extends ObjectReader {
  readonly gitdir: string;
  /** The file system isomorphic-git reads and writes this repository through. */
  readonly fs: typeof atomicFs;
  /** isomorphic-git's cache; `resetCache()` replaces it. */
  readonly cache: object;
  resetCache(): void;
  writeBlob(bytes: Uint8Array): Promise<string>;
  writeTree(entries: readonly TreeEntry[]): Promise<string>;
  writeCommit(commit: CommitObject): Promise<string>;
}

/** `wholePackBytes`: packs up to this size are read into memory whole (64 MiB), larger ones by range. */
export function createObjectStore(gitdir: string, options: { wholePackBytes?: number } = {}): ObjectStore {
  let cache: object = {};
  return {
    ...createObjectReader(gitdir, options),
    gitdir,
    fs: atomicFs,
    get cache() {
      return cache;
    },
    resetCache() {
      cache = {};
    },
    writeBlob(bytes) {
      return writeLooseObject(gitdir, 'blob', bytes);
    },
    async writeTree(entries) {
      return writeLooseObject(gitdir, 'tree', renderTree(entries));
    },
    async writeCommit(commit) {
      return writeLooseObject(gitdir, 'commit', renderCommit(commit));
    },
  };
}

/** isomorphic-git's NotFoundError (https://isomorphic-git.org/docs/en/errors#notfounderror). */
export function isNotFound(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'NotFoundError';
}
