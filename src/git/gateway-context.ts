// What the pieces of the git gateway share (src/git/gateway.ts builds one of these per gateway and
// hands it to each piece): where the repository is, how the remote is reached, and the state that
// more than one piece reads or moves. State only one piece needs stays inside that piece.
import { errors, isAppError } from '../errors.js';
import type { ObjectStore } from './object-store.js';
import type { SmartHttpClient } from './smart-http.js';
import type { Logger, WriteLock } from './types.js';

export interface GatewayContext {
  readonly logger: Logger;
  readonly mode: 'embedded' | 'remote';
  /** Absolute; holds repo.git (embedded) or mirror.git (remote). */
  readonly dataDir: string;
  readonly gitdir: string;
  readonly defaultBranch: string;
  /** `refs/heads/<defaultBranch>`. */
  readonly defaultRef: string;
  /** Seconds between polls (fetches, or re-reads of the embedded ref); 0: no polling. */
  readonly pollSeconds: number;
  /** The remote, in remote mode; undefined in embedded mode. */
  readonly client: SmartHttpClient | undefined;
  /** The remote's URL without credentials, or the embedded repository's path: for logs and errors. */
  readonly remoteLabel: string;
  /** Held by every process writing to this repository (src/db/lock.ts in production). */
  readonly lock: WriteLock;
  /** One fetch at a time, and the mirror's ref moves after a push wait behind it. */
  readonly fetchQueue: WriteLock;
  // Replaced only when an unusable mirror is fetched again from nothing (rebuildMirror).
  store: ObjectStore;
  /** The .idx files of the pack folder as last seen. */
  knownPacks: Set<string>;
  /** Commits the remote has because we pushed them (they stay loose in the mirror). */
  readonly pushed: Set<string>;
  readonly counters: { fetches: number; packsReceived: number; pushes: number };
  /** The default branch's commit as of the last fetch or of our own last move of it. */
  lastHead: string | undefined;
  /** When the remote last answered a request of ours (ms since the epoch); 0: not yet. */
  remoteCheckedAt: number;
  /** Set by close(): nothing starts after it. */
  closed: boolean;
}

/** Anything that is not already an AppError is a fault of the local repository: 500. */
export function internal(action: string, error: unknown): never {
  if (isAppError(error)) throw error;
  throw errors.internal(`git ${action} failed: ${(error as Error)?.message ?? String(error)}`, error);
}

export function now(): { timestamp: number; timezoneOffset: number } {
  return { timestamp: Math.floor(Date.now() / 1000), timezoneOffset: 0 };
}
