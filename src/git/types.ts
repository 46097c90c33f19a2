// The git gateway's public types. Services are written against GitGateway; nothing here imports
// isomorphic-git, so a service never sees the library.
import type { ObjectReader } from './object-reader.js';

/** What reading a commit's trees and blobs needs, without the writes and pack bookkeeping. */
export type ObjectReads = Pick<ObjectReader, 'readTree' | 'readBlob' | 'readCommit' | 'objectSizes' | 'peekTree' | 'peekSize' | 'cacheStats'>;

export type { Logger } from '../runtime/logger.js';

/**
 * A lock shared by every process writing to one repository (a Postgres advisory lock in
 * production, a `Mutex` in unit tests). `withLock` runs `fn` while holding it.
 */
export interface WriteLock {
  withLock<T>(fn: () => Promise<T>): Promise<T>;
}

export type FileChange = { readonly path: string; readonly bytes: Uint8Array } | { readonly path: string; readonly delete: true };

export interface CommitAuthor {
  readonly name: string;
  readonly email: string;
}

export interface CommitInfo {
  readonly sha: string;
  readonly tree: string;
  readonly parents: readonly string[];
  readonly message: string;
  readonly author: CommitAuthor & { readonly timestamp: number };
}

export interface FolderFile {
  /** Relative to the folder read, `/`-separated. */
  readonly path: string;
  readonly bytes: Uint8Array;
  /** True for mode 100755. */
  readonly executable: boolean;
}

export interface BranchInfo {
  /** Without `refs/heads/`. */
  readonly name: string;
  readonly sha: string;
}

/** Counters for tests and /metrics: how much fetching and pushing the gateway did. */
export interface GitGatewayStats {
  readonly fetches: number;
  readonly packsReceived: number;
  readonly pushes: number;
}

export interface GitGateway {
  /** `embedded` when `<dataDir>/repo.git` is the repository, `remote` with a URL. */
  readonly mode: 'embedded' | 'remote';
  readonly defaultBranch: string;
  /**
   * Creates the repository (embedded, with an initial commit) or the mirror (remote, a full
   * first fetch), then polls every `pollSeconds` (if > 0). Throws 503 git_unavailable /
   * git_auth_failed when the remote cannot be reached.
   */
  start(): Promise<void>;
  /** Stops polling and waits for writes in flight. */
  close(): Promise<void>;
  /**
   * Brings the mirror up to date with the remote (every branch; only objects it lacks).
   * Embedded: re-reads the default branch (people push to it with plain git).
   * `changed`: the default branch moved since the previous fetch.
   */
  fetchAllBranches(): Promise<{ head: string; changed: boolean }>;
  /**
   * The default branch's commit as of the last fetch, or with `fresh` as the remote has it now
   * (one ref advertisement; a fetch only when it moved). Reads take the cached one; every write
   * decides on a fresh one.
   */
  headCommit(options?: { fresh?: boolean }): Promise<string>;
  /**
   * Reads of objects by id, for building views of a commit (src/snapshots/). A new reader after
   * an unusable mirror was fetched again from nothing: callers holding caches keyed by the reader
   * compare it by identity.
   */
  objects(): ObjectReads;
  /** Resolves when the repository (the remote, in remote mode) answers; for /readyz. */
  check(): Promise<void>;
  /** A file's bytes at a branch name or commit sha; null when the ref or the file is missing. */
  readFile(options: { ref: string; path: string }): Promise<Uint8Array | null>;
  /** A blob's bytes by its id (from a snapshot): no path walk. null when the object is absent. */
  readBlob(options: { oid: string }): Promise<Uint8Array | null>;
  /**
   * Every file under a folder at a ref, recursively, sorted by path (byte order). Symlinks and
   * submodules are skipped. null when the ref or the folder is missing. With `maxBytes`, 422
   * `artifact_too_large` when the files sum to more, decided from object headers before any
   * blob is read.
   */
  readFolder(options: { ref: string; path: string; maxBytes?: number }): Promise<FolderFile[] | null>;
  /** A branch name (`main`, `mir/x/y`, `refs/heads/…`) or a full sha to a commit sha; null if absent. */
  resolveRef(ref: string): Promise<string | null>;
  /** Branches whose name starts with `prefix`, sorted by name. */
  listBranches(options: { prefix?: string }): Promise<BranchInfo[]>;
  /**
   * Commits reachable from `ref` that are not `since` or behind it, newest first (at most
   * `limit`, default 1000): what was committed on a hotfix branch since it was cut.
   */
  log(options: { ref: string; since?: string; limit?: number }): Promise<CommitInfo[]>;
  /**
   * Writes a commit on top of `parent` with `changes` applied, by tree surgery (no working tree,
   * no index): new blobs, the trees on the changed paths, the commit. Moves no ref.
   */
  commit(options: { parent: string; changes: readonly FileChange[]; message: string; author: CommitAuthor }): Promise<string>;
  /**
   * Points `branch` (without refs/heads/) at `commit`, in the repository or on the remote.
   * `expectedOld`: the sha the branch must have now, or null when it must not exist — checked
   * by the remote (or the embedded repository) atomically: 409 branch_exists when it must not
   * exist and does, 409 push_rejected (with the remote's reason) otherwise. `force` replaces
   * whatever is there. Never the default branch (see fastForwardDefault).
   */
  pushBranch(options: { branch: string; commit: string; expectedOld: string | null; force?: boolean }): Promise<void>;
  /** Deletes a branch (404 branch_not_found when absent). Never the default branch. */
  deleteBranch(options: { branch: string }): Promise<void>;
  /**
   * Moves the default branch from `from` to `to`, which must descend from it. 409
   * not_fast_forward when the default branch is no longer at `from`: fetch, re-apply, retry.
   */
  fastForwardDefault(options: { from: string; to: string }): Promise<void>;
  /**
   * Runs `fn` as the only writer of this repository: one queue in the process, then the
   * cross-process lock, then a fetch — so `fn` reads the newest state and builds on it. Write
   * methods called inside reuse the lock; called outside, each takes the locks for itself without
   * fetching (every ref update is a compare-and-swap, so staleness fails it, never loses data).
   */
  withWriteLock<T>(fn: () => Promise<T>): Promise<T>;
  stats(): GitGatewayStats;
}
