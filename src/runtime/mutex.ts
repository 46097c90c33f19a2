// The one in-process lock: a FIFO async mutex. Within a process it serializes the holders of a
// git write (a `WriteLock` for one-process deployments and unit tests; across processes, the
// Postgres advisory lock in src/db/lock.ts), PGlite's single connection, and a named advisory
// lock's local queue.
/** A FIFO async mutex: `acquire()` resolves with the function that releases it. */
export class Mutex {
  #tail: Promise<void> = Promise.resolve();

  acquire(): Promise<() => void> {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const acquired = this.#tail.then(() => release);
    this.#tail = this.#tail.then(() => held);
    return acquired;
  }

  async withLock<T>(fn: () => Promise<T>): Promise<T> {
    const release = await this.acquire();
    try {
      return await fn();
    } finally {
      release();
    }
  }
}
