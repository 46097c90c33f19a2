// The pg pool as Kysely sees it, with the database's outages translated at this boundary: a query
// that fails because the server is gone, restarting or refusing connections becomes 503
// `database_unavailable` (clients retry), not a 500. Errors of the SQL itself pass through unchanged.
import type { PostgresPool, PostgresPoolClient } from 'kysely';
import type pg from 'pg';
import { errors } from '../errors.js';

// SQLSTATE classes and codes that mean "the server is not there right now"
// (https://www.postgresql.org/docs/current/errcodes-appendix.html).
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300', '08000', '08001', '08003', '08004', '08006']);
const UNAVAILABLE_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
// pg's own words when a connection dies or cannot be had (it sets no code on these).
const UNAVAILABLE_MESSAGES = /Connection terminated|timeout exceeded when trying to connect|not queryable|Client was closed|terminating connection/i;

/** Whether `error` says the database is unreachable, rather than that a statement was wrong. */
export function isUnavailable(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown } | null;
  if (typeof e?.code === 'string' && (UNAVAILABLE_SQLSTATES.has(e.code) || UNAVAILABLE_ERRNOS.has(e.code))) return true;
  return typeof e?.message === 'string' && UNAVAILABLE_MESSAGES.test(e.message);
}

function translate(error: unknown): unknown {
  if (!isUnavailable(error)) return error;
  // The code only: pg's messages name hosts and ports, which the log keeps and clients need not see.
  const code = (error as { code?: unknown }).code;
  return errors.databaseUnavailable(typeof code === 'string' ? code : 'the connection was lost', error);
}

/**
 * Wraps `pool` for Kysely's PostgresDialect. Every client gets an 'error' listener for its whole
 * life: a checked-out client whose server goes away (a restart sends 57P01 to every session) emits
 * 'error', and an unhandled one would end the process (https://node-postgres.com/apis/pool#error
 * covers idle clients only).
 */
export function translatingPool(pool: pg.Pool, onConnectionError: (error: Error) => void): PostgresPool {
  pool.on('error', onConnectionError);
  pool.on('connect', (client) => client.on('error', onConnectionError));
  const wrappers = new WeakMap<pg.PoolClient, PostgresPoolClient>();
  const wrap = (client: pg.PoolClient): PostgresPoolClient => {
    let wrapper = wrappers.get(client);
    if (!wrapper) {
      wrapper = {
        // Kysely calls query(sql, parameters) only: the cursor form is for `cursor` in the dialect's config, unset here.
        query: ((sql: string, parameters: readonly unknown[]) =>
          client.query(sql, parameters as unknown[]).catch((error: unknown) => {
            throw translate(error);
          })) as unknown as PostgresPoolClient['query'],
        release: () => client.release(),
      };
      wrappers.set(client, wrapper);
    }
    return wrapper;
  };
  return {
    connect: async () => {
      try {
        return wrap(await pool.connect());
      } catch (error) {
        throw translate(error);
      }
    },
    end: () => pool.end(),
  };
}
