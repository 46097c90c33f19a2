// The git worker: the only module that reads and writes the source control repository.
// Embedded mode: `<dataDir>/repo.git` is the repository. Remote mode: `<dataDir>/mirror.git` is a
// bare mirror of every branch of `git.url`, kept up to date by fetching, and written to by
// pushing (smart-HTTP spoken directly: src/git/smart-http.ts). Reads go to the local bare
// repository (src/git/object-store.ts); refs and object writes go through isomorphic-git.
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import git from 'isomorphic-git';
import type { Config } from '../config.js';
import { errors, isAppError } from '../errors.js';
import { repoErrors } from '../repo/errors.js';
import { createObjectStore, EMPTY_TREE, isNotFound, type ObjectStore } from './object-store.js';
import { PackStreamIndexer } from './pack-index.js';
import { createProcessLock } from './process-lock.js';
import { repairRepository } from './repair.js';
import { createSmartHttpClient, ZERO_OID, redact, type SmartHttpClient } from './smart-http.js';
import { createSnapshotBuilder } from './snapshot.js';
import { applyChanges, checkChangePath } from './tree-surgery.js';
import type {
  BranchInfo,
  CommitInfo,
  FolderFile,
  GitWorker,
  GitWorkerStats,
  Logger,
  WriteLock,
} from './types.js';

export interface GitWorkerOptions {
  readonly git: Config['git'];
  /** Absolute; holds repo.git (embedded) or mirror.git (remote). */
  readonly dataDir: string;
  /** Held by every process writing to this repository (src/db/lock.ts in production). */
  readonly lock: WriteLock;
  readonly logger: Logger;
  /** Milliseconds before an HTTP request to the remote is abandoned; default 120 s. */
  readonly httpTimeoutMs?: number;
}

/** Files of the initial commit of a new embedded repository (DESIGN §2: empty protected lists). */
export const INITIAL_FILES: readonly { path: string; text: string }[] = [
  {
    path: 'README.md',
    text: '# Releases\n\nManaged by mir: `manifests/` maps each instance to release versions, `dist/` holds the release artifacts.\n',
  },
  { path: '.retool/protected-apps.yaml', text: 'apps: []\n' },
  { path: '.retool/protected-workflows.yaml', text: 'workflows: []\n' },
];

const SYSTEM_AUTHOR = { name: 'mir', email: 'mir@localhost' };
const MAX_PUSH_WALK = 500;
const FETCH_ATTEMPTS = 4;
/** How long a successful check of the remote stands for /readyz (probes must not load the remote). */
const CHECK_TRUST_MS = 5_000;
/** Lock files in the embedded repository older than this are a dead writer's (native git's live for ms). */
const STALE_LOCK_MS = 30_000;
const encoder = new TextEncoder();

/** git check-ref-format rules for a branch name (https://git-scm.com/docs/git-check-ref-format). */
export function isValidBranchName(name: string): boolean {
  if (name.length === 0 || name.length > 255 || name.startsWith('/') || name.endsWith('/') || name.endsWith('.')) return false;
  if (name === '@' || name.includes('..') || name.includes('//') || name.includes('@{')) return false;
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x20\x7f~^:?*[\\]/.test(name)) return false;
  return name.split('/').every((s) => s.length > 0 && !s.startsWith('.') && !s.endsWith('.lock'));
}

function isSha(value: string): boolean {
  return /^[0-9a-f]{40}$/.test(value);
}

function now(): { timestamp: number; timezoneOffset: number } {
  return { timestamp: Math.floor(Date.now() / 1000), timezoneOffset: 0 };
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.promises.access(file);
    return true;
  } catch {
    return false;
  }
}

/** Anything that is not already an AppError is a fault of the local repository: 500. */
function internal(action: string, error: unknown): never {
  if (isAppError(error)) throw error;
  throw errors.internal(`git ${action} failed: ${(error as Error)?.message ?? String(error)}`, error);
}

export function createGitWorker(options: GitWorkerOptions): GitWorker {
  const { logger } = options;
  const defaultBranch = options.git.defaultBranch;
  const defaultRef = `refs/heads/${defaultBranch}`;
  const mode: 'embedded' | 'remote' = options.git.url ? 'remote' : 'embedded';
  const gitdir = path.join(options.dataDir, mode === 'embedded' ? 'repo.git' : 'mirror.git');
  // Replaced only when an unusable mirror is fetched again from nothing (rebuildMirror).
  let store: ObjectStore = createObjectStore(gitdir);
  let builder = createSnapshotBuilder(store);
  const client: SmartHttpClient | undefined = options.git.url
    ? createSmartHttpClient({
        url: options.git.url,
        timeoutMs: options.httpTimeoutMs ?? 120_000,
        // Tokens only through onAuth (https://isomorphic-git.org/docs/en/onAuth): asked on a 401.
        onAuth: () =>
          options.git.token ? { username: options.git.username ?? 'x-access-token', password: options.git.token } : undefined,
      })
    : undefined;
  const remoteLabel = options.git.url ? redact(options.git.url) : gitdir;

  const queue = createProcessLock();
  const fetchQueue = createProcessLock();
  const insideLock = new AsyncLocalStorage<true>();
  const inFlight = new Set<Promise<unknown>>();
  /** Commits the remote has because we pushed them (they stay loose in the mirror). */
  const pushed = new Set<string>();
  const counters = { fetches: 0, packsReceived: 0, pushes: 0 };
  let knownPacks = new Set<string>();
  let lastHead: string | undefined;
  /** When the remote last answered a request of ours (ms since the epoch); 0: not yet. */
  let remoteCheckedAt = 0;
  let checking: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let polling = false;
  let closed = false;

  // --- local refs --------------------------------------------------------------------------------

  async function readLocalRef(ref: string): Promise<string | null> {
    try {
      // https://isomorphic-git.org/docs/en/resolveRef — reads loose refs and packed-refs.
      return await git.resolveRef({ fs: store.fs, gitdir, ref });
    } catch (error) {
      if (isNotFound(error)) return null;
      return internal('resolveRef', error);
    }
  }

  async function localHeads(): Promise<Map<string, string>> {
    // https://isomorphic-git.org/docs/en/listBranches
    const names = await git.listBranches({ fs: store.fs, gitdir });
    const heads = new Map<string, string>();
    await Promise.all(
      names.map(async (name) => {
        const oid = await readLocalRef(`refs/heads/${name}`);
        if (oid) heads.set(name, oid);
      }),
    );
    return heads;
  }

  /**
   * Compare-and-swap of a ref in the local repository, under git's own `<ref>.lock` protocol so
   * that native git writing to the same repository (people pushing to the embedded one) and we
   * never interleave. `expected`: undefined = no check, null = must not exist. `next` null deletes.
   */
  async function casRef(ref: string, expected: string | null | undefined, next: string | null): Promise<{ ok: true } | { ok: false; current: string | null; reason: string }> {
    const file = path.join(gitdir, ref);
    const lockFile = `${file}.lock`;
    let handle: fs.promises.FileHandle | undefined;
    try {
      await fs.promises.mkdir(path.dirname(file), { recursive: true });
      handle = await fs.promises.open(lockFile, 'wx');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      return {
        ok: false,
        current: await readLocalRef(ref).catch(() => null),
        reason: code === 'EEXIST' ? `${ref} is locked by another writer` : `cannot lock ${ref}: ${code ?? (error as Error).message}`,
      };
    }
    let done = false;
    try {
      const current = await readLocalRef(ref);
      if (expected !== undefined && current !== expected) {
        return { ok: false, current, reason: `${ref} is at ${current ?? 'nothing'}, expected ${expected ?? 'nothing'}` };
      }
      if (next === null) {
        await handle.close();
        handle = undefined;
        // https://isomorphic-git.org/docs/en/deleteRef — removes the loose ref and its packed-refs line.
        await git.deleteRef({ fs: store.fs, gitdir, ref });
      } else {
        await handle.writeFile(`${next}\n`);
        await handle.close();
        handle = undefined;
        await fs.promises.rename(lockFile, file);
        done = true;
      }
      return { ok: true };
    } finally {
      await handle?.close().catch(() => undefined);
      if (!done) await fs.promises.unlink(lockFile).catch(() => undefined);
    }
  }

  async function setLocalRef(ref: string, oid: string | null): Promise<void> {
    const result = await casRef(ref, undefined, oid);
    if (!result.ok) throw errors.internal(`Cannot update the local ref ${ref}: ${result.reason}`);
  }

  // --- packs -------------------------------------------------------------------------------------

  /**
   * isomorphic-git caches parsed pack indexes by file name, so packs added by a fetch are found
   * without a new cache. A pack that disappeared (native `git gc` on the embedded repository) leaves
   * a stale entry: then start a new cache and let the old one be collected.
   */
  async function refreshCacheIfPacksVanished(): Promise<void> {
    const dir = path.join(gitdir, 'objects', 'pack');
    const names = new Set((await fs.promises.readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith('.idx')));
    if ([...knownPacks].some((n) => !names.has(n))) store.resetCache();
    knownPacks = names;
  }

  /**
   * A pack being received: indexed by our own indexer (src/git/pack-index.ts: isomorphic-git's
   * indexPack is what makes its clone slow) and written aside as it arrives, both overlapping the
   * transfer as native git's index-pack does. `store` then puts it in place: readers list only
   * .idx files, so the .pack goes in first and the .idx last, each renamed into place: a reader
   * never sees half of one.
   */
  async function receivePack(): Promise<{ push(chunk: Uint8Array): void; store(): Promise<void>; discard(): Promise<void> }> {
    const indexer = new PackStreamIndexer({ keep: (type) => type === 'tree' || type === 'commit' });
    const scratch = path.join(gitdir, 'objects', `incoming-${randomBytes(6).toString('hex')}`);
    await fs.promises.mkdir(scratch, { recursive: true });
    const incoming = path.join(scratch, 'incoming.pack');
    const file = await fs.promises.open(incoming, 'w');
    // Pieces wait here while a write is under way, then go out together in one writev.
    let queued: Uint8Array[] = [];
    let writing: Promise<void> | undefined;
    let failed: unknown;
    let closed = false;
    const flush = async (): Promise<void> => {
      while (queued.length > 0 && !failed) {
        const batch = queued;
        queued = [];
        // writev takes at most IOV_MAX (1024) buffers per call on Linux.
        for (let i = 0; i < batch.length; i += 1024) await file.writev(batch.slice(i, i + 1024)).catch((error: unknown) => (failed ??= error));
      }
      writing = undefined;
    };
    const close = async () => {
      await writing;
      if (!closed) await file.close();
      closed = true;
    };
    return {
      push(chunk) {
        indexer.push(chunk);
        queued.push(chunk);
        writing ??= flush();
      },
      async store() {
        await close();
        if (failed) throw failed;
        const { idx, checksum, objects, pack } = indexer.finish();
        if (objects.length === 0) return;
        const name = `pack-${checksum}`;
        const packDir = path.join(gitdir, 'objects', 'pack');
        await fs.promises.mkdir(packDir, { recursive: true });
        await fs.promises.writeFile(path.join(scratch, `${name}.idx`), idx);
        await fs.promises.rename(incoming, path.join(packDir, `${name}.pack`));
        await fs.promises.rename(path.join(scratch, `${name}.idx`), path.join(packDir, `${name}.idx`));
        knownPacks.add(`${name}.idx`);
        store.prime(objects);
        // The bytes are in memory already, in the pieces received: read from them, never joined.
        store.addPack(`${name}.idx`, idx, pack);
        counters.packsReceived++;
      },
      async discard() {
        await close().catch(() => undefined);
        await fs.promises.rm(scratch, { recursive: true, force: true });
      },
    };
  }

  /**
   * The objects the remote lacks to accept `commit`. Everything the remote sent us is in a pack
   * (we write loose objects only — also copies of content a pack holds, as isomorphic-git's
   * writeBlob/writeTree do not look), so walk back through unpacked commits not yet pushed, and
   * for each take the commit plus the unpacked objects its tree adds over its first parent's —
   * descending only into subtrees whose oid changed and that are not packed.
   */
  async function objectsToPush(commit: string): Promise<string[]> {
    const tips = new Set((await localHeads()).values());
    const out = new Set<string>();
    const stack = [commit];
    const seen = new Set<string>();
    while (stack.length > 0 && seen.size < MAX_PUSH_WALK) {
      const oid = stack.pop()!;
      if (seen.has(oid)) continue;
      seen.add(oid);
      if (pushed.has(oid) || tips.has(oid) || (await store.isPacked(oid))) continue;
      out.add(oid);
      const object = await store.readCommit(oid);
      const parent = object.parent[0];
      const parentTree = parent ? (await store.readCommit(parent)).tree : null;
      await addTreeDiff(object.tree, parentTree, out);
      stack.push(...object.parent);
    }
    return [...out];
  }

  async function addTreeDiff(tree: string, base: string | null, out: Set<string>): Promise<void> {
    if (tree === base || out.has(tree)) return;
    // A packed object came from the remote, with everything it reaches: the remote has it.
    if (tree !== EMPTY_TREE && (await store.isPacked(tree))) return;
    out.add(tree);
    if (tree === EMPTY_TREE) return;
    const before = new Map(base ? (await store.readTree(base)).map((e) => [e.path, e]) : []);
    await Promise.all(
      (await store.readTree(tree)).map(async (entry) => {
        const old = before.get(entry.path);
        if (old?.oid === entry.oid) return;
        if (entry.type === 'tree') await addTreeDiff(entry.oid, old?.type === 'tree' ? old.oid : null, out);
        else if (entry.type === 'blob' && !(await store.isPacked(entry.oid))) out.add(entry.oid);
      }),
    );
  }

  // --- fetch -------------------------------------------------------------------------------------

  /**
   * A branch can vanish between the advertisement and our request for its commit (another replica
   * merged the pull request and deleted it): upload-pack then answers "not our ref". Ask again with
   * a new advertisement, a few times, before calling the remote unavailable.
   */
  async function fetchRemote(remote: SmartHttpClient): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fetchOnce(remote);
      } catch (error) {
        if (!(isAppError(error) && /not our ref/.test(error.message)) || attempt >= FETCH_ATTEMPTS) throw error;
        logger.debug({ remote: remoteLabel, attempt }, 'a ref vanished during the fetch; fetching again');
      }
    }
  }

  async function fetchOnce(remote: SmartHttpClient): Promise<void> {
    const advertised = await remote.listRefs('git-upload-pack');
    const heads = new Map<string, string>();
    for (const [ref, oid] of advertised.refs) if (ref.startsWith('refs/heads/')) heads.set(ref.slice('refs/heads/'.length), oid);
    const local = await localHeads();
    const localTips = new Set(local.values());
    const wants: string[] = [];
    for (const oid of new Set(heads.values())) {
      if (!localTips.has(oid) && !pushed.has(oid) && !(await store.has(oid))) wants.push(oid);
    }
    const started = performance.now();
    let downloaded = started;
    let packBytes = 0;
    if (wants.length > 0) {
      const pack = await receivePack();
      try {
        await remote.fetchPack({
          wants,
          haves: [...localTips],
          onData: (chunk) => {
            packBytes += chunk.length;
            pack.push(chunk);
          },
        });
        downloaded = performance.now();
        await pack.store();
      } catch (error) {
        if (isAppError(error)) throw error;
        throw errors.gitUnavailable(`the pack the remote sent is unusable: ${(error as Error).message}`, error);
      } finally {
        await pack.discard();
      }
    }
    for (const [name, oid] of heads) if (local.get(name) !== oid) await setLocalRef(`refs/heads/${name}`, oid);
    for (const name of local.keys()) if (!heads.has(name)) await setLocalRef(`refs/heads/${name}`, null);
    if (wants.length > 0) {
      const timing = { downloadMs: Math.round(downloaded - started), storeMs: Math.round(performance.now() - downloaded) };
      logger.debug({ remote: remoteLabel, wants: wants.length, packBytes, ...timing }, 'fetched');
    }
  }

  async function doFetch(): Promise<{ head: string; changed: boolean }> {
    counters.fetches++;
    await refreshCacheIfPacksVanished();
    if (client) await fetchRemote(client);
    const head = await readLocalRef(defaultRef);
    if (!head) throw errors.gitUnavailable(`${remoteLabel} has no branch ${defaultBranch}`);
    const changed = lastHead !== undefined && head !== lastHead;
    lastHead = head;
    return { head, changed };
  }

  // --- start -------------------------------------------------------------------------------------

  async function initialCommit(): Promise<string> {
    const tree = await applyChanges(store, {
      baseTree: EMPTY_TREE,
      changes: INITIAL_FILES.map((f) => ({ path: f.path, bytes: encoder.encode(f.text) })),
    });
    const stamp = now();
    return store.writeCommit({
      message: 'Initialize the release repository\n',
      tree,
      parent: [],
      author: { ...SYSTEM_AUTHOR, ...stamp },
      committer: { ...SYSTEM_AUTHOR, ...stamp },
    });
  }

  async function ensureRepository(): Promise<void> {
    await fs.promises.mkdir(options.dataDir, { recursive: true });
    if (await exists(path.join(gitdir, 'HEAD'))) {
      // Whatever a killed process left (src/git/repair.ts). The mirror is ours alone; the embedded
      // repository is shared with native git, whose live locks are young.
      const { removed } = await repairRepository(gitdir, { minLockAgeMs: mode === 'remote' ? 0 : STALE_LOCK_MS });
      if (removed.length > 0) logger.warn({ repository: gitdir, removed }, 'removed what an interrupted process left in the repository');
    } else {
      // https://isomorphic-git.org/docs/en/init
      await git.init({ fs: store.fs, gitdir, bare: true, defaultBranch });
    }
  }

  async function rebuildMirror(): Promise<void> {
    const aside = `${gitdir}.broken-${Date.now()}`;
    await fs.promises.rename(gitdir, aside);
    await fs.promises.rm(aside, { recursive: true, force: true });
    store = createObjectStore(gitdir);
    builder = createSnapshotBuilder(store);
    knownPacks = new Set();
    pushed.clear();
    await git.init({ fs: store.fs, gitdir, bare: true, defaultBranch });
  }

  async function start(): Promise<void> {
    if (closed) throw errors.gitUnavailable('the git worker is closed');
    await ensureRepository();
    if (mode === 'embedded') {
      // Under the cross-process lock: two processes starting at once create one initial commit.
      await options.lock.withLock(async () => {
        if (!(await readLocalRef(defaultRef))) {
          const commit = await initialCommit();
          const result = await casRef(defaultRef, null, commit);
          if (result.ok) logger.info({ repository: gitdir, commit }, 'created the embedded release repository');
        }
      });
    } else {
      // The first (possibly whole-repository) fetch runs outside the write lock: other processes
      // keep writing meanwhile.
      // The fetch, then a read of the default branch's commit and tree: a fetch that finds the
      // remote unchanged reads no object, and would not notice a mirror whose packs are unusable.
      const fetchAndRead = async () => {
        await fetchRemote(client!);
        const head = await readLocalRef(defaultRef);
        if (head) await store.readTree((await store.readCommit(head)).tree);
      };
      await fetchQueue.withLock(fetchAndRead).catch(async (error: unknown) => {
        if (isAppError(error) && error.status === 503) throw error;
        // Not the remote's fault: the mirror itself is unusable. It holds nothing the remote lacks
        // (our commits count only once pushed), so start it again from the remote.
        logger.error({ err: error, repository: gitdir }, 'the mirror is unusable; fetching it again from the remote');
        await rebuildMirror();
        await fetchQueue.withLock(() => fetchRemote(client!));
      });
      if (!(await readLocalRef(defaultRef)) && (await localHeads()).size === 0) {
        await options.lock.withLock(async () => {
          await fetchQueue.withLock(() => fetchRemote(client!));
          if ((await localHeads()).size > 0) return;
          // An empty remote: give it the same initial commit an embedded repository gets.
          const commit = await initialCommit();
          await pushRef({ branch: defaultBranch, commit, old: ZERO_OID, onReject: (reason) => errors.pushRejected(defaultBranch, reason) });
          logger.info({ remote: remoteLabel, commit }, 'initialized the empty remote repository');
        });
      }
    }
    lastHead = await worker.headCommit();
    if (options.git.pollSeconds > 0) {
      timer = setInterval(() => {
        if (polling || closed) return;
        polling = true;
        // Tracked like a write, so close() does not return while it still moves refs.
        void track(
          fetch()
            .then(({ head, changed }) => {
              if (changed) logger.debug({ remote: remoteLabel, head }, 'the default branch moved');
            })
            .catch((error: unknown) => logger.warn({ err: error, remote: remoteLabel }, 'polling the git remote failed'))
            .finally(() => {
              polling = false;
            }),
        );
      }, options.git.pollSeconds * 1000);
      timer.unref();
    }
  }

  function fetch(): Promise<{ head: string; changed: boolean }> {
    return fetchQueue.withLock(doFetch);
  }

  /**
   * Brings the default branch up to the remote's current one: one ref advertisement, and a fetch
   * only when it moved. Embedded: the ref is read again (people push to the repository with git).
   * What every write decides on, so that a replica never proposes against a branch another
   * replica has already moved.
   */
  async function catchUp(): Promise<void> {
    if (!client) {
      await fetch();
      return;
    }
    const remoteHead = (await client.listRefs('git-upload-pack')).refs.get(defaultRef);
    remoteCheckedAt = Date.now();
    const localHead = await readLocalRef(defaultRef);
    if (remoteHead !== undefined && remoteHead === localHead) {
      lastHead = localHead;
      return;
    }
    await fetch();
  }

  /** For /readyz: the remote answers (trusted for CHECK_TRUST_MS), or the embedded branch is readable. */
  async function check(): Promise<void> {
    if (closed) throw errors.gitUnavailable('the git worker is closed');
    if (!client) {
      if (!(await readLocalRef(defaultRef))) throw errors.gitUnavailable(`${remoteLabel} has no branch ${defaultBranch}`);
      return;
    }
    if (Date.now() - remoteCheckedAt < CHECK_TRUST_MS) return;
    // Concurrent probes share one request. One connection reset is not an outage: ask twice.
    const ask = () => client!.listRefs('git-upload-pack');
    checking ??= ask()
      .catch(() => new Promise((resolve) => setTimeout(resolve, 200)).then(ask))
      .then(() => void (remoteCheckedAt = Date.now()))
      .finally(() => (checking = undefined));
    await checking;
  }

  // --- writes ------------------------------------------------------------------------------------

  function track<T>(promise: Promise<T>): Promise<T> {
    inFlight.add(promise);
    const forget = () => inFlight.delete(promise);
    promise.then(forget, forget);
    return promise;
  }

  function runLocked<T>(fn: () => Promise<T>, fetchFirst: boolean): Promise<T> {
    if (insideLock.getStore()) return fn();
    if (closed) return Promise.reject(errors.gitUnavailable('the git worker is closed'));
    return track(
      queue.withLock(() =>
        options.lock.withLock(() =>
          insideLock.run(true, async () => {
            if (fetchFirst) await fetch();
            return fn();
          }),
        ),
      ),
    );
  }

  function withWriteLock<T>(fn: () => Promise<T>): Promise<T> {
    return runLocked(fn, true);
  }

  /**
   * A single write called outside withWriteLock takes the locks but skips the fetch: every ref
   * update carries the value it expects (compare-and-swap by the remote's receive-pack, or by our
   * lock file), so a stale mirror can only make it fail, never lose an update — and a push costs
   * one request, as native git's does.
   */
  function locked<T>(fn: () => Promise<T>): Promise<T> {
    return runLocked(fn, false);
  }

  /** Sends one ref update with the objects `commit` needs; the mirror's ref follows on success. */
  async function pushRef(update: { branch: string; commit: string | null; old: string; onReject: (reason: string) => Error }): Promise<void> {
    const ref = `refs/heads/${update.branch}`;
    let pack: Uint8Array | null = null;
    if (update.commit) {
      const oids = await objectsToPush(update.commit);
      logger.debug({ remote: remoteLabel, ref, objects: oids.length }, 'pushing');
      // https://isomorphic-git.org/docs/en/packObjects — whole objects, no deltas: a handful of them.
      pack = (await git.packObjects({ fs: store.fs, gitdir, oids, cache: store.cache })).packfile ?? null;
    }
    const { results, messages } = await client!.receivePack({ commands: [{ ref, old: update.old, new: update.commit ?? ZERO_OID }], pack });
    counters.pushes++;
    const result = results[0];
    if (!result?.ok) {
      logger.warn({ remote: remoteLabel, ref, reason: result?.reason, remoteMessages: messages }, 'the git remote rejected a push');
      // The `ng` reason is terse ("pre-receive hook declined"); the hook's own words say why.
      const said = messages.map((m) => m.trim()).join(' ').slice(0, 500);
      throw update.onReject(`${result?.reason ?? 'rejected'}${said ? ` (${said})` : ''}`);
    }
    if (update.commit) pushed.add(update.commit);
    // Behind any fetch in progress (a poll), whose older view of the remote would otherwise
    // overwrite this newer value in the mirror.
    await fetchQueue.withLock(() => setLocalRef(ref, update.commit));
  }

  /** Whether `ancestor` is reachable from `oid` (newest commits first; stops at older ones). */
  async function isDescendant(oid: string, ancestor: string): Promise<boolean> {
    if (!(await store.has(oid)) || !(await store.has(ancestor))) return false;
    const horizon = (await store.readCommit(ancestor)).committer.timestamp;
    const seen = new Set<string>([oid]);
    const queue = [oid];
    while (queue.length > 0) {
      const current = queue.shift()!;
      const commit = await store.readCommit(current);
      for (const parent of commit.parent) {
        if (parent === ancestor) return true;
        if (seen.has(parent)) continue;
        seen.add(parent);
        // Committer dates can be skewed; allow a day before giving up on a line of history.
        const when = (await store.readCommit(parent)).committer.timestamp;
        if (when >= horizon - 86_400) queue.push(parent);
      }
    }
    return false;
  }

  function checkBranch(branch: string): void {
    if (!isValidBranchName(branch)) throw errors.internal(`Invalid branch name ${JSON.stringify(branch)}`);
    if (branch === defaultBranch) throw errors.internal(`Use fastForwardDefault to move ${defaultBranch}`);
  }

  // --- reads -------------------------------------------------------------------------------------

  async function resolveRef(ref: string): Promise<string | null> {
    if (isSha(ref)) return (await store.has(ref)) ? ref : null;
    const full = ref.startsWith('refs/') ? ref : `refs/heads/${ref}`;
    if (!isValidBranchName(full)) return null;
    return readLocalRef(full);
  }

  /** The tree entry at `filePath` in the commit `ref` names; undefined when any part is missing. */
  async function entryAt(ref: string, filePath: string): Promise<{ oid: string; type: string } | undefined> {
    const sha = await resolveRef(ref);
    if (!sha) return undefined;
    let tree = (await store.readCommit(sha)).tree;
    const segments = filePath === '' ? [] : checkChangePath(filePath);
    let entry: { oid: string; type: string } = { oid: tree, type: 'tree' };
    for (const segment of segments) {
      if (entry.type !== 'tree') return undefined;
      const found = (await store.readTree(tree)).find((e) => e.path === segment);
      if (!found) return undefined;
      entry = found;
      tree = found.oid;
    }
    return entry;
  }

  /** The files under a tree, by blob id: trees are read, blobs are not. */
  async function collect(tree: string, prefix: string, out: { path: string; oid: string; executable: boolean }[]): Promise<void> {
    const entries = await store.readTree(tree);
    await Promise.all(
      entries.map(async (e) => {
        if (e.type === 'tree') await collect(e.oid, `${prefix}${e.path}/`, out);
        else if (e.type === 'blob' && (e.mode === '100644' || e.mode === '100755')) {
          out.push({ path: `${prefix}${e.path}`, oid: e.oid, executable: e.mode === '100755' });
        }
      }),
    );
  }

  const byteOrder = (a: { path: string }, b: { path: string }) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path));

  const worker: GitWorker = {
    mode,
    defaultBranch,
    start,

    async close() {
      closed = true;
      if (timer) clearInterval(timer);
      timer = undefined;
      await Promise.allSettled([...inFlight]);
    },

    fetch,

    async headCommit() {
      // The default branch as of the last fetch (poll, before each write, on demand) or of our own
      // last move of it: the hot read paths ask on every request, and reading the ref from disk
      // each time would cost more than serving the cached answer. Reads are therefore as fresh as
      // the last fetch, in both modes, as DESIGN §6 says of the mirror.
      if (lastHead) return lastHead;
      const head = await readLocalRef(defaultRef);
      if (!head) throw errors.gitUnavailable(`${remoteLabel} has no branch ${defaultBranch}`);
      return head;
    },

    async snapshot(options = {}) {
      if (options.fresh) await catchUp();
      return builder.build(await worker.headCommit());
    },

    check,

    async readFile({ ref, path: filePath }) {
      try {
        const entry = await entryAt(ref, filePath);
        return entry?.type === 'blob' ? await store.readBlob(entry.oid) : null;
      } catch (error) {
        return internal('readFile', error);
      }
    },

    async readBlob({ oid }) {
      if (!isSha(oid)) return null;
      try {
        return (await store.has(oid)) ? await store.readBlob(oid) : null;
      } catch (error) {
        return internal('readBlob', error);
      }
    },

    async readFolder({ ref, path: folder, maxBytes }) {
      try {
        const entry = await entryAt(ref, folder.replace(/\/+$/, ''));
        if (entry?.type !== 'tree') return null;
        const files: { path: string; oid: string; executable: boolean }[] = [];
        await collect(entry.oid, '', files);
        if (maxBytes !== undefined) {
          // From object headers alone, so a folder over the limit costs no blob in memory.
          const total = (await store.objectSizes(files.map((f) => f.oid))).reduce((sum, size) => sum + size, 0);
          if (total > maxBytes) {
            throw repoErrors.artifactTooLarge(`source folder holds ${total} bytes in ${files.length} files`, 'total_bytes', maxBytes, { path: folder });
          }
        }
        const out = await Promise.all(files.map(async (f): Promise<FolderFile> => ({ path: f.path, bytes: await store.readBlob(f.oid), executable: f.executable })));
        return out.sort(byteOrder);
      } catch (error) {
        return internal('readFolder', error);
      }
    },

    resolveRef,

    async listBranches({ prefix = '' }) {
      const heads = await localHeads();
      const out: BranchInfo[] = [];
      for (const [name, sha] of heads) if (name.startsWith(prefix)) out.push({ name, sha });
      return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    },

    async log({ ref, since, limit = 1000 }) {
      const start = await resolveRef(ref);
      if (!start) throw errors.branchNotFound(ref);
      const out: CommitInfo[] = [];
      const seen = new Set<string>(since ? [since] : []);
      // Newest first by committer time, like `git log since..ref` on the linear branches this serves.
      const frontier: { sha: string; time: number }[] = [];
      const push = async (sha: string) => {
        if (seen.has(sha)) return;
        seen.add(sha);
        const c = await store.readCommit(sha);
        frontier.push({ sha, time: c.committer.timestamp });
      };
      await push(start);
      while (frontier.length > 0 && out.length < limit) {
        frontier.sort((a, b) => b.time - a.time);
        const { sha } = frontier.shift()!;
        const c = await store.readCommit(sha);
        out.push({
          sha,
          tree: c.tree,
          parents: [...c.parent],
          message: c.message,
          author: { name: c.author.name, email: c.author.email, timestamp: c.author.timestamp },
        });
        for (const p of c.parent) await push(p);
      }
      return out;
    },

    async commit({ parent, changes, message, author }) {
      try {
        const base = await store.readCommit(parent).catch((error: unknown) => {
          if (isNotFound(error)) throw errors.internal(`No commit ${parent} to build on`);
          throw error;
        });
        const tree = await applyChanges(store, { baseTree: base.tree, changes });
        const stamp = now();
        return await store.writeCommit({
          message: message.endsWith('\n') ? message : `${message}\n`,
          tree,
          parent: [parent],
          author: { name: author.name, email: author.email, ...stamp },
          committer: { name: author.name, email: author.email, ...stamp },
        });
      } catch (error) {
        return internal('commit', error);
      }
    },

    async pushBranch({ branch, commit, expectedOld, force = false }) {
      checkBranch(branch);
      const ref = `refs/heads/${branch}`;
      const refused = (current: string | null, reason: string) =>
        expectedOld === null && current !== null ? errors.branchExists(branch) : errors.pushRejected(branch, reason);
      return locked(async () => {
        if (!client) {
          const result = await casRef(ref, force ? undefined : expectedOld, commit);
          if (!result.ok) throw refused(result.current, result.reason);
          if (branch === defaultBranch) lastHead = commit;
          return;
        }
        // A forced push still names the value it replaces: the remote's current one.
        const old = force ? ((await client.listRefs('git-receive-pack')).refs.get(ref) ?? ZERO_OID) : (expectedOld ?? ZERO_OID);
        await pushRef({
          branch,
          commit,
          old,
          // receive-pack says "failed to update ref"; its message says why (git 2.39: "reference already exists").
          onReject: (reason) => (expectedOld === null && /already exists/.test(reason) ? errors.branchExists(branch) : errors.pushRejected(branch, reason)),
        });
        if (branch === defaultBranch) lastHead = commit;
      });
    },

    async deleteBranch({ branch }) {
      checkBranch(branch);
      const ref = `refs/heads/${branch}`;
      return withWriteLock(async () => {
        const current = await readLocalRef(ref);
        if (!current) throw errors.branchNotFound(branch);
        if (!client) {
          const result = await casRef(ref, current, null);
          if (!result.ok) throw errors.pushRejected(branch, result.reason);
          return;
        }
        await pushRef({ branch, commit: null, old: current, onReject: (reason) => errors.pushRejected(branch, reason) });
      });
    },

    fastForwardDefault({ from, to }) {
      return locked(async () => {
        if (to !== from) {
          const descends = await isDescendant(to, from);
          if (!descends) throw errors.notFastForward(defaultBranch, `${to} does not descend from ${from}`);
        }
        if (!client) {
          const result = await casRef(defaultRef, from, to);
          if (!result.ok) throw errors.notFastForward(defaultBranch, `it is at ${result.current ?? 'nothing'}, not ${from}`);
        } else if (to !== from) {
          await pushRef({ branch: defaultBranch, commit: to, old: from, onReject: (reason) => errors.notFastForward(defaultBranch, reason) });
        } else if ((await client.listRefs('git-receive-pack')).refs.get(defaultRef) !== from) {
          throw errors.notFastForward(defaultBranch, `it is no longer at ${from}`);
        }
        lastHead = to;
      });
    },

    withWriteLock,

    stats(): GitWorkerStats {
      return { ...builder.counters, ...counters };
    },
  };
  return worker;
}
