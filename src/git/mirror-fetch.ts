// Bringing the local repository up to the remote: a fetch of every branch (only the objects the
// mirror lacks), and the cheaper catch-up of the default branch every write decides on. Embedded,
// a fetch re-reads the default branch (people push to the repository with git).
import { errors, isAppError } from '../errors.js';
import { localHeads, readLocalRef, setLocalRef } from './local-refs.js';
import { receivePack, refreshCacheIfPacksVanished } from './pack-receiver.js';
import type { SmartHttpClient } from './smart-http.js';
import type { GatewayContext } from './gateway-context.js';

const FETCH_ATTEMPTS = 4;

/**
 * A branch can vanish between the advertisement and our request for its commit (another replica
 * merged the pull request and deleted it): upload-pack then answers "not our ref". Ask again with
 * a new advertisement, a few times, before calling the remote unavailable.
 */
export async function downloadBranches(ctx: GatewayContext, remote: SmartHttpClient): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fetchOnce(ctx, remote);
    } catch (error) {
      if (!(isAppError(error) && /not our ref/.test(error.message)) || attempt >= FETCH_ATTEMPTS) throw error;
      ctx.logger.debug({ remote: ctx.remoteLabel, attempt }, 'a ref vanished during the fetch; fetching again');
    }
  }
}

async function fetchOnce(ctx: GatewayContext, remote: SmartHttpClient): Promise<void> {
  const advertised = await remote.listRefs('git-upload-pack');
  const heads = new Map<string, string>();
  for (const [ref, oid] of advertised.refs) if (ref.startsWith('refs/heads/')) heads.set(ref.slice('refs/heads/'.length), oid);
  const local = await localHeads(ctx);
  const localTips = new Set(local.values());
  const wants: string[] = [];
  for (const oid of new Set(heads.values())) {
    if (!localTips.has(oid) && !ctx.pushed.has(oid) && !(await ctx.store.has(oid))) wants.push(oid);
  }
  const started = performance.now();
  let downloaded = started;
  let packBytes = 0;
  if (wants.length > 0) {
    const pack = await receivePack(ctx);
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
  for (const [name, oid] of heads) if (local.get(name) !== oid) await setLocalRef(ctx, `refs/heads/${name}`, oid);
  for (const name of local.keys()) if (!heads.has(name)) await setLocalRef(ctx, `refs/heads/${name}`, null);
  if (wants.length > 0) {
    const timing = { downloadMs: Math.round(downloaded - started), storeMs: Math.round(performance.now() - downloaded) };
    ctx.logger.debug({ remote: ctx.remoteLabel, wants: wants.length, packBytes, ...timing }, 'fetched');
  }
}

async function fetchNow(ctx: GatewayContext): Promise<{ head: string; changed: boolean }> {
  ctx.counters.fetches++;
  await refreshCacheIfPacksVanished(ctx);
  if (ctx.client) await downloadBranches(ctx, ctx.client);
  const head = await readLocalRef(ctx, ctx.defaultRef);
  if (!head) throw errors.gitUnavailable(`${ctx.remoteLabel} has no branch ${ctx.defaultBranch}`);
  const changed = ctx.lastHead !== undefined && head !== ctx.lastHead;
  ctx.lastHead = head;
  return { head, changed };
}

/** The gateway's `fetchAllBranches`: one at a time. `changed`: the default branch moved since the previous one. */
export function fetchAllBranches(ctx: GatewayContext): Promise<{ head: string; changed: boolean }> {
  return ctx.fetchQueue.withLock(() => fetchNow(ctx));
}

/**
 * Brings the default branch up to the remote's current one: one ref advertisement, and a fetch
 * only when it moved. Embedded: the ref is read again (people push to the repository with git).
 * What every write decides on, so that a replica never proposes against a branch another
 * replica has already moved.
 */
export async function catchUp(ctx: GatewayContext): Promise<void> {
  if (!ctx.client) {
    await fetchAllBranches(ctx);
    return;
  }
  const remoteHead = (await ctx.client.listRefs('git-upload-pack')).refs.get(ctx.defaultRef);
  ctx.remoteCheckedAt = Date.now();
  const localHead = await readLocalRef(ctx, ctx.defaultRef);
  if (remoteHead !== undefined && remoteHead === localHead) {
    ctx.lastHead = localHead;
    return;
  }
  await fetchAllBranches(ctx);
}
