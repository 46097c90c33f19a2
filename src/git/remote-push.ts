// Pushing to the remote: which objects it lacks to accept a commit, and one ref update sent to
// its receive-pack with them.
import git from 'isomorphic-git';
import { localHeads, setLocalRef } from './local-refs.js';
import { EMPTY_TREE } from './object-formats.js';
import { ZERO_OID } from './smart-http.js';
import type { GatewayContext } from './gateway-context.js';

const MAX_PUSH_WALK = 500;

export interface RefUpdate {
  readonly branch: string;
  /** null deletes the branch. */
  readonly commit: string | null;
  /** The value the remote must have now (ZERO_OID: no branch). */
  readonly old: string;
  readonly onReject: (reason: string) => Error;
}

/**
 * The objects the remote lacks to accept `commit`. Everything the remote sent us is in a pack
 * (we write loose objects only — also copies of content a pack holds, as isomorphic-git's
 * writeBlob/writeTree do not look), so walk back through unpacked commits not yet pushed, and
 * for each take the commit plus the unpacked objects its tree adds over its first parent's —
 * descending only into subtrees whose oid changed and that are not packed.
 */
export async function objectsToPush(ctx: Pick<GatewayContext, 'store' | 'gitdir' | 'pushed'>, commit: string): Promise<string[]> {
  const tips = new Set((await localHeads(ctx)).values());
  const out = new Set<string>();
  const stack = [commit];
  const seen = new Set<string>();
  while (stack.length > 0 && seen.size < MAX_PUSH_WALK) {
    const oid = stack.pop()!;
    if (seen.has(oid)) continue;
    seen.add(oid);
    if (ctx.pushed.has(oid) || tips.has(oid) || (await ctx.store.isPacked(oid))) continue;
    out.add(oid);
    const object = await ctx.store.readCommit(oid);
    const parent = object.parent[0];
    const parentTree = parent ? (await ctx.store.readCommit(parent)).tree : null;
    await addTreeDiff(ctx, object.tree, parentTree, out);
    stack.push(...object.parent);
  }
  return [...out];
}

async function addTreeDiff(ctx: Pick<GatewayContext, 'store'>, tree: string, base: string | null, out: Set<string>): Promise<void> {
  if (tree === base || out.has(tree)) return;
  // A packed object came from the remote, with everything it reaches: the remote has it.
  if (tree !== EMPTY_TREE && (await ctx.store.isPacked(tree))) return;
  out.add(tree);
  if (tree === EMPTY_TREE) return;
  const before = new Map(base ? (await ctx.store.readTree(base)).map((e) => [e.path, e]) : []);
  await Promise.all(
    (await ctx.store.readTree(tree)).map(async (entry) => {
      const old = before.get(entry.path);
      if (old?.oid === entry.oid) return;
      if (entry.type === 'tree') await addTreeDiff(ctx, entry.oid, old?.type === 'tree' ? old.oid : null, out);
      else if (entry.type === 'blob' && !(await ctx.store.isPacked(entry.oid))) out.add(entry.oid);
    }),
  );
}

/** Sends one ref update with the objects `commit` needs; the mirror's ref follows on success. */
export async function pushRef(ctx: GatewayContext, update: RefUpdate): Promise<void> {
  const { logger, remoteLabel } = ctx;
  const ref = `refs/heads/${update.branch}`;
  let pack: Uint8Array | null = null;
  if (update.commit) {
    const oids = await objectsToPush(ctx, update.commit);
    logger.debug({ remote: remoteLabel, ref, objects: oids.length }, 'pushing');
    // https://isomorphic-git.org/docs/en/packObjects — whole objects, no deltas: a handful of them.
    pack = (await git.packObjects({ fs: ctx.store.fs, gitdir: ctx.gitdir, oids, cache: ctx.store.cache })).packfile ?? null;
  }
  const { results, messages } = await ctx.client!.receivePack({ commands: [{ ref, old: update.old, new: update.commit ?? ZERO_OID }], pack });
  ctx.counters.pushes++;
  const result = results[0];
  if (!result?.ok) {
    logger.warn({ remote: remoteLabel, ref, reason: result?.reason, remoteMessages: messages }, 'the git remote rejected a push');
    // The `ng` reason is terse ("pre-receive hook declined"); the hook's own words say why.
    const said = messages
      .map((m) => m.trim())
      .join(' ')
      .slice(0, 500);
    throw update.onReject(`${result?.reason ?? 'rejected'}${said ? ` (${said})` : ''}`);
  }
  if (update.commit) ctx.pushed.add(update.commit);
  // Behind any fetch in progress (a poll), whose older view of the remote would otherwise
  // overwrite this newer value in the mirror.
  await ctx.fetchQueue.withLock(() => setLocalRef(ctx, ref, update.commit));
}
