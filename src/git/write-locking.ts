// The locks a write holds: one queue in this process, then the cross-process lock, re-entered
// (not taken again) by writes called inside; and the writes in flight, which close() waits for.
import { AsyncLocalStorage } from 'node:async_hooks';
import { errors } from '../errors.js';
import { fetchAllBranches } from './mirror-fetch.js';
import { Mutex } from '../runtime/mutex.js';
import type { GatewayContext } from './gateway-context.js';

export interface WriteLocking {
  /** Counts `promise` as in flight until it settles. */
  track<T>(promise: Promise<T>): Promise<T>;
  /** The gateway's `withWriteLock`: the locks, then a fetch, then `fn`. */
  withWriteLock<T>(fn: () => Promise<T>): Promise<T>;
  /** The locks without the fetch: a single write called outside withWriteLock. */
  withLocksNoFetch<T>(fn: () => Promise<T>): Promise<T>;
  /** Resolves when every write in flight has settled. */
  settled(): Promise<void>;
}

export function createWriteLocking(ctx: GatewayContext): WriteLocking {
  const queue = new Mutex();
  const insideLock = new AsyncLocalStorage<true>();
  const inFlight = new Set<Promise<unknown>>();

  function track<T>(promise: Promise<T>): Promise<T> {
    inFlight.add(promise);
    const forget = () => inFlight.delete(promise);
    promise.then(forget, forget);
    return promise;
  }

  function holdWriteLocks<T>(fn: () => Promise<T>, fetchFirst: boolean): Promise<T> {
    if (insideLock.getStore()) return fn();
    if (ctx.closed) return Promise.reject(errors.gitUnavailable('the git gateway is closed'));
    return track(
      queue.withLock(() =>
        ctx.lock.withLock(() =>
          insideLock.run(true, async () => {
            if (fetchFirst) await fetchAllBranches(ctx);
            return fn();
          }),
        ),
      ),
    );
  }

  function withWriteLock<T>(fn: () => Promise<T>): Promise<T> {
    return holdWriteLocks(fn, true);
  }

  /**
   * A single write called outside withWriteLock takes the locks but skips the fetch: every ref
   * update carries the value it expects (compare-and-swap by the remote's receive-pack, or by our
   * lock file), so a stale mirror can only make it fail, never lose an update — and a push costs
   * one request, as native git's does.
   */
  function withLocksNoFetch<T>(fn: () => Promise<T>): Promise<T> {
    return holdWriteLocks(fn, false);
  }

  async function settled(): Promise<void> {
    await Promise.allSettled([...inFlight]);
  }

  return { track, withWriteLock, withLocksNoFetch, settled };
}
