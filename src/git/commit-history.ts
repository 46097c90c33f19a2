// Walks of history: whether one commit descends from another, and the commits on a branch since
// a given one.
import { errors } from '../errors.js';
import { resolveRef } from './local-refs.js';
import type { CommitInfo, GitGateway } from './types.js';
import type { GatewayContext } from './gateway-context.js';

type HistoryContext = Pick<GatewayContext, 'store' | 'gitdir'>;

/** Whether `ancestor` is reachable from `oid` (newest commits first; stops at older ones). */
export async function isDescendant(ctx: HistoryContext, oid: string, ancestor: string): Promise<boolean> {
  if (!(await ctx.store.has(oid)) || !(await ctx.store.has(ancestor))) return false;
  const horizon = (await ctx.store.readCommit(ancestor)).committer.timestamp;
  const seen = new Set<string>([oid]);
  const queue = [oid];
  while (queue.length > 0) {
    const current = queue.shift()!;
    const commit = await ctx.store.readCommit(current);
    for (const parent of commit.parent) {
      if (parent === ancestor) return true;
      if (seen.has(parent)) continue;
      seen.add(parent);
      // Committer dates can be skewed; allow a day before giving up on a line of history.
      const when = (await ctx.store.readCommit(parent)).committer.timestamp;
      if (when >= horizon - 86_400) queue.push(parent);
    }
  }
  return false;
}

/** The gateway's `log`: commits reachable from `ref` that are not `since` or behind it. */
export async function log(ctx: HistoryContext, { ref, since, limit = 1000 }: Parameters<GitGateway['log']>[0]): Promise<CommitInfo[]> {
  const start = await resolveRef(ctx, ref);
  if (!start) throw errors.branchNotFound(ref);
  const out: CommitInfo[] = [];
  const seen = new Set<string>(since ? [since] : []);
  // Newest first by committer time, like `git log since..ref` on the linear branches this serves.
  const frontier: { sha: string; time: number }[] = [];
  const push = async (sha: string) => {
    if (seen.has(sha)) return;
    seen.add(sha);
    const c = await ctx.store.readCommit(sha);
    frontier.push({ sha, time: c.committer.timestamp });
  };
  await push(start);
  while (frontier.length > 0 && out.length < limit) {
    frontier.sort((a, b) => b.time - a.time);
    const { sha } = frontier.shift()!;
    const c = await ctx.store.readCommit(sha);
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
}
