// The database: Kysely over a pg Pool when DATABASE_URL is set, otherwise over an embedded PGlite
// whose data lives in <data dir>/pglite. Everything above this module sees only `Kysely<Tables>`.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { Tables } from './database.js';
import { PGliteDialect } from './pglite-dialect.js';
import { translatingPool } from './postgres-pool.js';

export type DatabaseKind = 'postgres' | 'pglite';

export interface DatabaseHandle {
  readonly db: Kysely<Tables>;
  readonly kind: DatabaseKind;
  /**
   * Runs a multi-statement SQL script on `connection` (a Kysely bound to one connection, from
   * `db.connection().execute(...)`). Migrations need it: pg runs a script through the simple query
   * protocol, PGlite through `exec`.
   */
  runScript(connection: Kysely<Tables>, script: string): Promise<void>;
  /** Resolves when the database answers a trivial query. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** postgres:// URL; unset: embedded PGlite under `dataDir/pglite`. */
  readonly databaseUrl: string | undefined;
  readonly dataDir: string;
  /** Largest pool for pg. */
  readonly maxConnections?: number;
  /** A pooled connection failed (the server restarted or went away); the next query reports it too. */
  readonly onConnectionError?: (error: Error) => void;
}

export async function openDatabase(options: DatabaseOptions): Promise<DatabaseHandle> {
  return options.databaseUrl
    ? openPostgres(options.databaseUrl, options.maxConnections ?? 10, options.onConnectionError ?? (() => {}))
    : openPGlite(path.join(options.dataDir, 'pglite'));
}

function openPostgres(connectionString: string, max: number, onConnectionError: (error: Error) => void): DatabaseHandle {
  // A bounded wait for a connection: during an outage a request answers 503 instead of hanging.
  const pool = new pg.Pool({ connectionString, max, connectionTimeoutMillis: 10_000, keepAlive: true });
  const db = new Kysely<Tables>({ dialect: new PostgresDialect({ pool: translatingPool(pool, onConnectionError) }) });
  return {
    db,
    kind: 'postgres',
    runScript: async (connection, script) => {
      await sql.raw(script).execute(connection);
    },
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    close: () => db.destroy(),
  };
}

/**
 * PostgreSQL's shared_buffers inside PGlite. initdb's default, 128 MB, is memory PGlite touches as
 * it starts: a process holding only PGlite on a 50,000-app data dir was 281 MiB RSS with it and
 * 176 with 32 MB (16 MB: 158), and a scan of its 129 MB artifacts table was no slower (805 against
 * 1,300 ms, one run each): PGlite reads its files through Node's fs, so the OS page cache holds
 * them anyway, and the buffers cached them twice.
 */
const PGLITE_SHARED_BUFFERS = '32MB';

/** PGlite's start parameters: they replace its defaults (https://pglite.dev/docs/api), so those come first. */
export const PGLITE_START_PARAMS: readonly string[] = [...PGlite.defaultStartParams, '-c', `shared_buffers=${PGLITE_SHARED_BUFFERS}`];

/** PGlite on `dataDir` as mir runs it (the tests' PGlites too). */
export function createPGlite(dataDir: string): Promise<PGlite> {
  return PGlite.create(dataDir, { startParams: [...PGLITE_START_PARAMS] });
}

async function openPGlite(dataDir: string): Promise<DatabaseHandle> {
  await mkdir(dataDir, { recursive: true });
  return pgliteHandle(await createPGlite(dataDir));
}

/** A handle over an open PGlite; its `close` ends the PGlite too unless `closePGlite` says otherwise. */
export function pgliteHandle(pglite: PGlite, closePGlite: () => Promise<void> = () => pglite.close()): DatabaseHandle {
  const db = new Kysely<Tables>({ dialect: new PGliteDialect(pglite) });
  return {
    db,
    kind: 'pglite',
    // The caller holds the dialect's only connection, so nothing else runs on PGlite meanwhile.
    runScript: async (_connection, script) => {
      await pglite.exec(script);
    },
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    close: async () => {
      await db.destroy();
      await closePGlite();
    },
  };
}
