// A gateway's life: start-up (the repository created or repaired, the mirror's first fetch, an
// initial commit where there is none), polling the remote, the readiness check, and close.
import fs from 'node:fs';
import path from 'node:path';
import git from 'isomorphic-git';
import { errors, isAppError } from '../errors.js';
import { pathExists } from './atomic-fs.js';
import { createPeriodicTask } from '../runtime/periodic.js';
import { casRef, localHeads, readLocalRef } from './local-refs.js';
import { fetchAllBranches, downloadBranches } from './mirror-fetch.js';
import { EMPTY_TREE } from './object-formats.js';
import { createObjectStore } from './object-store.js';
import { pushRef } from './remote-push.js';
import { repairRepository } from './repair.js';
import { headCommit } from './repository-reads.js';
import { ZERO_OID } from './smart-http.js';
import { applyChanges } from './tree-surgery.js';
import { now, type GatewayContext } from './gateway-context.js';
import type { WriteLocking } from './write-locking.js';

/** Files of the initial commit of a new embedded repository: the protected lists, empty, so every read finds them. */
export const INITIAL_FILES: readonly { path: string; text: string }[] = [
  {
    path: 'README.md',
    text: '# Releases\n\nManaged by mir: `manifests/` maps each instance to release versions, `dist/` holds the release artifacts.\n',
  },
  { path: '.retool/protected-apps.yaml', text: 'apps: []\n' },
  { path: '.retool/protected-workflows.yaml', text: 'workflows: []\n' },
];

const SYSTEM_AUTHOR = { name: 'mir', email: 'mir@localhost' };
/** How long a successful check of the remote stands for /readyz (probes must not load the remote). */
const CHECK_TRUST_MS = 5_000;
/** Lock files in the embedded repository older than this are a dead writer's (native git's live for ms). */
const STALE_LOCK_MS = 30_000;
const encoder = new TextEncoder();

export interface Lifecycle {
  start(): Promise<void>;
  check(): Promise<void>;
  close(): Promise<void>;
}

async function initialCommit(ctx: GatewayContext): Promise<string> {
  const tree = await applyChanges(ctx.store, {
    baseTree: EMPTY_TREE,
    changes: INITIAL_FILES.map((f) => ({ path: f.path, bytes: encoder.encode(f.text) })),
  });
  const stamp = now();
  return ctx.store.writeCommit({
    message: 'Initialize the release repository\n',
    tree,
    parent: [],
    author: { ...SYSTEM_AUTHOR, ...stamp },
    committer: { ...SYSTEM_AUTHOR, ...stamp },
  });
}

async function ensureRepository(ctx: GatewayContext): Promise<void> {
  const { gitdir } = ctx;
  await fs.promises.mkdir(ctx.dataDir, { recursive: true });
  if (await pathExists(path.join(gitdir, 'HEAD'))) {
    // Whatever a killed process left (src/git/repair.ts). The mirror is ours alone; the embedded
    // repository is shared with native git, whose live locks are young.
    const { removed } = await repairRepository(gitdir, { minLockAgeMs: ctx.mode === 'remote' ? 0 : STALE_LOCK_MS });
    if (removed.length > 0) ctx.logger.warn({ repository: gitdir, removed }, 'removed what an interrupted process left in the repository');
  } else {
    // https://isomorphic-git.org/docs/en/init
    await git.init({ fs: ctx.store.fs, gitdir, bare: true, defaultBranch: ctx.defaultBranch });
  }
}

async function rebuildMirror(ctx: GatewayContext): Promise<void> {
  const { gitdir } = ctx;
  const aside = `${gitdir}.broken-${Date.now()}`;
  await fs.promises.rename(gitdir, aside);
  await fs.promises.rm(aside, { recursive: true, force: true });
  ctx.store = createObjectStore(gitdir);
  ctx.knownPacks = new Set();
  ctx.pushed.clear();
  await git.init({ fs: ctx.store.fs, gitdir, bare: true, defaultBranch: ctx.defaultBranch });
}

export function createLifecycle(ctx: GatewayContext, locking: WriteLocking): Lifecycle {
  const { logger, gitdir, remoteLabel, defaultBranch, defaultRef } = ctx;
  let checking: Promise<void> | undefined;
  // Each round is tracked like a write, so close() does not return while it still moves refs.
  const poller = createPeriodicTask({
    everyMs: ctx.pollSeconds * 1000,
    runAtStart: false,
    run: () =>
      locking.track(
        fetchAllBranches(ctx).then(({ head, changed }) => {
          if (changed) logger.debug({ remote: remoteLabel, head }, 'the default branch moved');
        }),
      ),
    onError: (error) => logger.warn({ err: error, remote: remoteLabel }, 'polling the git remote failed'),
  });

  async function start(): Promise<void> {
    if (ctx.closed) throw errors.gitUnavailable('the git gateway is closed');
    await ensureRepository(ctx);
    if (ctx.mode === 'embedded') {
      // Under the cross-process lock: two processes starting at once create one initial commit.
      await ctx.lock.withLock(async () => {
        if (!(await readLocalRef(ctx, defaultRef))) {
          const commit = await initialCommit(ctx);
          const result = await casRef(ctx, defaultRef, null, commit);
          if (result.ok) logger.info({ repository: gitdir, commit }, 'created the embedded release repository');
        }
      });
    } else {
      const client = ctx.client!;
      // The first (possibly whole-repository) fetch runs outside the write lock: other processes
      // keep writing meanwhile.
      // The fetch, then a read of the default branch's commit and tree: a fetch that finds the
      // remote unchanged reads no object, and would not notice a mirror whose packs are unusable.
      const fetchAndRead = async () => {
        await downloadBranches(ctx, client);
        const head = await readLocalRef(ctx, defaultRef);
        if (head) await ctx.store.readTree((await ctx.store.readCommit(head)).tree);
      };
      await ctx.fetchQueue.withLock(fetchAndRead).catch(async (error: unknown) => {
        if (isAppError(error) && error.status === 503) throw error;
        // Not the remote's fault: the mirror itself is unusable. It holds nothing the remote lacks
        // (our commits count only once pushed), so start it again from the remote.
        logger.error({ err: error, repository: gitdir }, 'the mirror is unusable; fetching it again from the remote');
        await rebuildMirror(ctx);
        await ctx.fetchQueue.withLock(() => downloadBranches(ctx, client));
      });
      if (!(await readLocalRef(ctx, defaultRef)) && (await localHeads(ctx)).size === 0) {
        await ctx.lock.withLock(async () => {
          await ctx.fetchQueue.withLock(() => downloadBranches(ctx, client));
          if ((await localHeads(ctx)).size > 0) return;
          // An empty remote: give it the same initial commit an embedded repository gets.
          const commit = await initialCommit(ctx);
          await pushRef(ctx, { branch: defaultBranch, commit, old: ZERO_OID, onReject: (reason) => errors.pushRejected(defaultBranch, reason) });
          logger.info({ remote: remoteLabel, commit }, 'initialized the empty remote repository');
        });
      }
    }
    ctx.lastHead = await headCommit(ctx);
    poller.start();
  }

  /** For /readyz: the remote answers (trusted for CHECK_TRUST_MS), or the embedded branch is readable. */
  async function check(): Promise<void> {
    if (ctx.closed) throw errors.gitUnavailable('the git gateway is closed');
    const { client } = ctx;
    if (!client) {
      if (!(await readLocalRef(ctx, defaultRef))) throw errors.gitUnavailable(`${remoteLabel} has no branch ${defaultBranch}`);
      return;
    }
    if (Date.now() - ctx.remoteCheckedAt < CHECK_TRUST_MS) return;
    // Concurrent probes share one request. One connection reset is not an outage: ask twice.
    const ask = () => client.listRefs('git-upload-pack');
    checking ??= ask()
      .catch(() => new Promise((resolve) => setTimeout(resolve, 200)).then(ask))
      .then(() => void (ctx.remoteCheckedAt = Date.now()))
      .finally(() => (checking = undefined));
    await checking;
  }

  async function close(): Promise<void> {
    ctx.closed = true;
    await poller.stop();
    await locking.settled();
  }

  return { start, check, close };
}
