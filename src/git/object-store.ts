// Object access for one repository: reads through our own reader of packs and loose objects
// (object-reader.ts), writes through isomorphic-git, as loose objects. isomorphic-git is given ONE
// cache object, shared by every call on this repository until resetCache(), because without it
// each of its packed reads parses the pack index again
// (https://isomorphic-git.org/docs/en/cache).
import git from 'isomorphic-git';
import { atomicFs } from './atomic-fs.js';
import type { CommitObject, TreeEntry } from './object-formats.js';
import { createObjectReader, type ObjectReader } from './object-reader.js';

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

/** `wholePackBytes`: packs up to this size are read into memory whole (256 MiB), larger ones by range. */
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
      return git.writeBlob({ fs: atomicFs, gitdir, blob: bytes });
    },
    writeTree(entries) {
      // isomorphic-git sorts the entries in git's order itself.
      return git.writeTree({ fs: atomicFs, gitdir, tree: entries.map((e) => ({ ...e })) });
    },
    writeCommit(commit) {
      return git.writeCommit({
        fs: atomicFs,
        gitdir,
        commit: { ...commit, parent: [...commit.parent], author: { ...commit.author }, committer: { ...commit.committer } },
      });
    },
  };
}

/** isomorphic-git's NotFoundError (https://isomorphic-git.org/docs/en/errors#notfounderror). */
export function isNotFound(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'NotFoundError';
}
