// A named lock held across processes: a PostgreSQL session advisory lock on a dedicated connection.
// On PGlite (one process owns the data directory) an in-process mutex gives the same guarantee,
// and must: holding PGlite's only connection would block the work done under the lock.
import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import type { DatabaseHandle } from './client.js';
import { hasCode } from '../errors.js';
import { Mutex } from '../runtime/mutex.js';

export interface NamedLock {
  withLock<T>(fn: () => Promise<T>): Promise<T>;
}

/** The advisory lock key of a name: the first 8 bytes of its sha256, as a signed bigint. */
export function advisoryKey(name: string): bigint {
  return createHash('sha256').update(name).digest().readBigInt64BE(0);
}

// One mutex per (database, name) in this process: two locks created for the same name (two workers,
// two app instances in one process) exclude each other as two processes would.
const localMutexes = new WeakMap<DatabaseHandle, Map<string, Mutex>>();

function localMutex(database: DatabaseHandle, name: string): Mutex {
  let byName = localMutexes.get(database);
  if (!byName) localMutexes.set(database, (byName = new Map()));
  let mutex = byName.get(name);
  if (!mutex) byName.set(name, (mutex = new Mutex()));
  return mutex;
}

export function createAdvisoryLock(database: DatabaseHandle, name: string): NamedLock {
  // Waiters in this process queue here, so at most one holds a pooled connection for the lock.
  const local = localMutex(database, name);
  // PGlite is one process's: the mutex is the whole lock.
  if (database.kind === 'pglite') return local;
  const key = advisoryKey(name);
  return {
    withLock: (fn) =>
      local.withLock(() =>
        database.db.connection().execute(async (connection) => {
          await sql`select pg_advisory_lock(${key})`.execute(connection);
          try {
            return await fn();
          } finally {
            // A session lock ends with its session: when the connection died meanwhile (a database
            // restart), the lock is gone already, and what `fn` did stands. Every ref update under
            // it is a compare-and-swap, so a lock lost mid-way can fail a write, never lose one.
            await sql`select pg_advisory_unlock(${key})`.execute(connection).catch((error: unknown) => {
              if (!hasCode(error, 'database_unavailable')) throw error;
            });
          }
        }),
      ),
  };
}
