// The gateway's public writes: a commit built on a parent, and the branch moves — a branch pushed
// or deleted, the default branch fast-forwarded — by compare-and-swap, in the embedded repository
// (our lock file) or on the remote (its receive-pack).
import { errors } from '../errors.js';
import { isDescendant } from './commit-history.js';
import { casRef, isValidBranchName, readLocalRef } from './local-refs.js';
import { isNotFound } from './object-store.js';
import { pushRef } from './remote-push.js';
import { ZERO_OID } from './smart-http.js';
import { applyChanges } from './tree-surgery.js';
import type { GitGateway } from './types.js';
import { internal, now, type GatewayContext } from './gateway-context.js';
import type { WriteLocking } from './write-locking.js';

function checkBranch(ctx: GatewayContext, branch: string): void {
  if (!isValidBranchName(branch)) throw errors.internal(`Invalid branch name ${JSON.stringify(branch)}`);
  if (branch === ctx.defaultBranch) throw errors.internal(`Use fastForwardDefault to move ${ctx.defaultBranch}`);
}

export async function commit(ctx: Pick<GatewayContext, 'store'>, { parent, changes, message, author }: Parameters<GitGateway['commit']>[0]): Promise<string> {
  try {
    const base = await ctx.store.readCommit(parent).catch((error: unknown) => {
      if (isNotFound(error)) throw errors.internal(`No commit ${parent} to build on`);
      throw error;
    });
    const tree = await applyChanges(ctx.store, { baseTree: base.tree, changes });
    const stamp = now();
    return await ctx.store.writeCommit({
      message: message.endsWith('\n') ? message : `${message}\n`,
      tree,
      parent: [parent],
      author: { name: author.name, email: author.email, ...stamp },
      committer: { name: author.name, email: author.email, ...stamp },
    });
  } catch (error) {
    return internal('commit', error);
  }
}

export async function pushBranch(
  ctx: GatewayContext,
  locking: WriteLocking,
  { branch, commit, expectedOld, force = false }: Parameters<GitGateway['pushBranch']>[0],
): Promise<void> {
  checkBranch(ctx, branch);
  const ref = `refs/heads/${branch}`;
  const refused = (current: string | null, reason: string) =>
    expectedOld === null && current !== null ? errors.branchExists(branch) : errors.pushRejected(branch, reason);
  return locking.withLocksNoFetch(async () => {
    const { client } = ctx;
    if (!client) {
      const result = await casRef(ctx, ref, force ? undefined : expectedOld, commit);
      if (!result.ok) throw refused(result.current, result.reason);
      if (branch === ctx.defaultBranch) ctx.lastHead = commit;
      return;
    }
    // A forced push still names the value it replaces: the remote's current one.
    const old = force ? ((await client.listRefs('git-receive-pack')).refs.get(ref) ?? ZERO_OID) : (expectedOld ?? ZERO_OID);
    await pushRef(ctx, {
      branch,
      commit,
      old,
      // receive-pack says "failed to update ref"; its message says why (git 2.39: "reference already exists").
      onReject: (reason) => (expectedOld === null && /already exists/.test(reason) ? errors.branchExists(branch) : errors.pushRejected(branch, reason)),
    });
    if (branch === ctx.defaultBranch) ctx.lastHead = commit;
  });
}

export async function deleteBranch(ctx: GatewayContext, locking: WriteLocking, { branch }: Parameters<GitGateway['deleteBranch']>[0]): Promise<void> {
  checkBranch(ctx, branch);
  const ref = `refs/heads/${branch}`;
  return locking.withWriteLock(async () => {
    const current = await readLocalRef(ctx, ref);
    if (!current) throw errors.branchNotFound(branch);
    if (!ctx.client) {
      const result = await casRef(ctx, ref, current, null);
      if (!result.ok) throw errors.pushRejected(branch, result.reason);
      return;
    }
    await pushRef(ctx, { branch, commit: null, old: current, onReject: (reason) => errors.pushRejected(branch, reason) });
  });
}

export function fastForwardDefault(ctx: GatewayContext, locking: WriteLocking, { from, to }: Parameters<GitGateway['fastForwardDefault']>[0]): Promise<void> {
  const { defaultBranch, defaultRef } = ctx;
  return locking.withLocksNoFetch(async () => {
    if (to !== from) {
      const descends = await isDescendant(ctx, to, from);
      if (!descends) throw errors.notFastForward(defaultBranch, `${to} does not descend from ${from}`);
    }
    if (!ctx.client) {
      const result = await casRef(ctx, defaultRef, from, to);
      if (!result.ok) throw errors.notFastForward(defaultBranch, `it is at ${result.current ?? 'nothing'}, not ${from}`);
    } else if (to !== from) {
      await pushRef(ctx, { branch: defaultBranch, commit: to, old: from, onReject: (reason) => errors.notFastForward(defaultBranch, reason) });
    } else if ((await ctx.client.listRefs('git-receive-pack')).refs.get(defaultRef) !== from) {
      throw errors.notFastForward(defaultBranch, `it is no longer at ${from}`);
    }
    ctx.lastHead = to;
  });
}
