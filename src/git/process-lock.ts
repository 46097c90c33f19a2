import type { WriteLock } from './types.js';

/**
 * A lock that serializes its holders within this process only: for one-process deployments
 * and unit tests. Across processes use the Postgres advisory lock (src/db/lock.ts).
 */
export function createProcessLock(): WriteLock {
  let tail: Promise<unknown> = Promise.resolve();
  return {
    withLock<T>(fn: () => Promise<T>): Promise<T> {
      const run = tail.then(fn, fn);
      // The next holder waits for this one to settle, whatever its outcome.
      tail = run.catch(() => undefined);
      return run;
    },
  };
}
