// The git gateway: the only module that reads and writes the source control repository.
// Embedded mode: `<dataDir>/repo.git` is the repository. Remote mode: `<dataDir>/mirror.git` is a
// bare mirror of every branch of `git.url`, kept up to date by fetching, and written to by
// pushing (smart-HTTP spoken directly: src/git/smart-http.ts). Reads go to the local bare
// repository through our own reader (src/git/object-reader.ts); refs and object writes go through
// isomorphic-git (src/git/object-store.ts).
//
// This file assembles the gateway from its pieces, which share one GatewayContext
// (src/git/gateway-context.ts): local refs (local-refs.ts), packs received (pack-receiver.ts),
// pushes (remote-push.ts), fetches (mirror-fetch.ts), the write locks (write-locking.ts),
// start-up and polling (gateway-lifecycle.ts), history walks (commit-history.ts), reads
// (repository-reads.ts) and writes (branch-writes.ts).
import path from 'node:path';
import type { Config } from '../config.js';
import { commit, deleteBranch, fastForwardDefault, pushBranch } from './branch-writes.js';
import { log } from './commit-history.js';
import { resolveRef } from './local-refs.js';
import { catchUp, fetchAllBranches } from './mirror-fetch.js';
import { createObjectStore } from './object-store.js';
import { Mutex } from '../runtime/mutex.js';
import { headCommit, listBranches, readBlob, readFile, readFolder } from './repository-reads.js';
import { createSmartHttpClient, redact } from './smart-http.js';
import type { GitGateway, GitGatewayStats, Logger, WriteLock } from './types.js';
import type { GatewayContext } from './gateway-context.js';
import { createLifecycle } from './gateway-lifecycle.js';
import { createWriteLocking } from './write-locking.js';

export { isValidBranchName } from './local-refs.js';
export { INITIAL_FILES } from './gateway-lifecycle.js';

export interface GitGatewayOptions {
  readonly git: Config['git'];
  /** Absolute; holds repo.git (embedded) or mirror.git (remote). */
  readonly dataDir: string;
  /** Held by every process writing to this repository (src/db/lock.ts in production). */
  readonly lock: WriteLock;
  readonly logger: Logger;
  /** Milliseconds before an HTTP request to the remote is abandoned; default 120 s. */
  readonly httpTimeoutMs?: number;
}

export function createGitGateway(options: GitGatewayOptions): GitGateway {
  const defaultBranch = options.git.defaultBranch;
  const mode: 'embedded' | 'remote' = options.git.url ? 'remote' : 'embedded';
  const gitdir = path.join(options.dataDir, mode === 'embedded' ? 'repo.git' : 'mirror.git');
  const store = createObjectStore(gitdir);
  const ctx: GatewayContext = {
    logger: options.logger,
    mode,
    dataDir: options.dataDir,
    gitdir,
    defaultBranch,
    defaultRef: `refs/heads/${defaultBranch}`,
    pollSeconds: options.git.pollSeconds,
    client: options.git.url
      ? createSmartHttpClient({
          url: options.git.url,
          timeoutMs: options.httpTimeoutMs ?? 120_000,
          // Tokens only through onAuth (https://isomorphic-git.org/docs/en/onAuth): asked on a 401.
          onAuth: () => (options.git.token ? { username: options.git.username ?? 'x-access-token', password: options.git.token } : undefined),
        })
      : undefined,
    remoteLabel: options.git.url ? redact(options.git.url) : gitdir,
    lock: options.lock,
    fetchQueue: new Mutex(),
    store,
    knownPacks: new Set(),
    pushed: new Set(),
    counters: { fetches: 0, packsReceived: 0, pushes: 0 },
    lastHead: undefined,
    remoteCheckedAt: 0,
    closed: false,
  };
  const locking = createWriteLocking(ctx);
  const lifecycle = createLifecycle(ctx, locking);

  return {
    mode,
    defaultBranch,
    start: lifecycle.start,
    close: lifecycle.close,
    fetchAllBranches: () => fetchAllBranches(ctx),
    async headCommit(options = {}) {
      if (options.fresh) await catchUp(ctx);
      return headCommit(ctx);
    },
    objects: () => ctx.store,
    check: lifecycle.check,
    readFile: (options) => readFile(ctx, options),
    readBlob: (options) => readBlob(ctx, options),
    readFolder: (options) => readFolder(ctx, options),
    resolveRef: (ref) => resolveRef(ctx, ref),
    listBranches: (options) => listBranches(ctx, options),
    log: (options) => log(ctx, options),
    commit: (options) => commit(ctx, options),
    pushBranch: (options) => pushBranch(ctx, locking, options),
    deleteBranch: (options) => deleteBranch(ctx, locking, options),
    fastForwardDefault: (options) => fastForwardDefault(ctx, locking, options),
    withWriteLock: locking.withWriteLock,
    stats(): GitGatewayStats {
      return { ...ctx.counters };
    },
  };
}
