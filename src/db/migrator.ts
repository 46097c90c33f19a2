// Forward-only SQL migrations: migrations/NNNN_name.sql, applied in increasing order, each in its own
// transaction, recorded with a checksum in schema_migrations. Safe when several processes start at
// once: on PostgreSQL the run holds a session advisory lock; PGlite is one process by construction.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql, type Kysely } from 'kysely';
import { yieldToEventLoop } from '../runtime/event-loop.js';
import type { DatabaseHandle } from './client.js';
import type { Tables } from './database.js';

/** migrations/ at the package root, from src/db/ (tsx, tests) or build/src/db/ (compiled). */
export const MIGRATIONS_DIR = ['../../migrations/', '../../../migrations/']
  .map((relative) => fileURLToPath(new URL(relative, import.meta.url)))
  .find((dir) => existsSync(dir))!;

/** Any constant shared by every mir process: the key of the migration advisory lock. */
const MIGRATION_LOCK_KEY = 0x6d69725f6d6967n; // "mir_mig"

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly script: string;
  readonly checksum: string;
}

export interface MigrationResult {
  readonly applied: readonly string[];
  readonly current: number;
}

export async function loadMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((file) => file.endsWith('.sql')).sort();
  const migrations: Migration[] = [];
  for (const file of files) {
    const match = /^(\d{4})_([a-z0-9_]+)\.sql$/.exec(file);
    if (!match) throw new Error(`Migration file ${file} is not named NNNN_name.sql`);
    const version = Number(match[1]);
    // Numbers only increase; gaps are allowed, so work developed in parallel can reserve numbers.
    if (migrations.some((m) => m.version >= version)) throw new Error(`Migration ${file}: numbers must increase (duplicate or out of order)`);
    const script = await readFile(path.join(dir, file), 'utf8');
    migrations.push({ version, name: match[2]!, script, checksum: createHash('sha256').update(script).digest('hex') });
  }
  return migrations;
}

export async function migrate(database: DatabaseHandle, migrations?: readonly Migration[]): Promise<MigrationResult> {
  const all = migrations ?? (await loadMigrations());
  return database.db.connection().execute(async (connection) => {
    if (database.kind === 'postgres') await sql`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`.execute(connection);
    try {
      return await applyPending(database, connection, all);
    } finally {
      if (database.kind === 'postgres') await sql`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`.execute(connection);
    }
  });
}

async function applyPending(database: DatabaseHandle, connection: Kysely<Tables>, migrations: readonly Migration[]): Promise<MigrationResult> {
  await database.runScript(
    connection,
    `create table if not exists schema_migrations (
       version integer primary key,
       name text not null,
       checksum text not null,
       applied_at timestamptz not null default now()
     )`,
  );
  const done = await connection.selectFrom('schema_migrations').selectAll().orderBy('version').execute();
  const byVersion = new Map(done.map((row) => [row.version, row]));
  for (const row of done) {
    const migration = migrations.find((m) => m.version === row.version);
    if (!migration) throw new Error(`The database has migration ${row.version} (${row.name}) that this build does not know: a newer build migrated it`);
    if (migration.checksum !== row.checksum)
      throw new Error(`Migration ${row.version} (${row.name}) changed after it was applied; migrations are forward-only`);
  }
  const applied: string[] = [];
  for (const migration of migrations) {
    if (byVersion.has(migration.version)) continue;
    // The process already listens (src/server.ts): PGlite runs each script synchronously, and ten of
    // them back to back held `/healthz` ~130 ms on a fresh data dir.
    await yieldToEventLoop();
    await database.runScript(connection, 'begin');
    try {
      await database.runScript(connection, migration.script);
      await connection.insertInto('schema_migrations').values({ version: migration.version, name: migration.name, checksum: migration.checksum }).execute();
      await database.runScript(connection, 'commit');
    } catch (error) {
      await database.runScript(connection, 'rollback');
      throw new Error(`Migration ${migration.version} (${migration.name}) failed: ${(error as Error).message}`, { cause: error });
    }
    applied.push(`${String(migration.version).padStart(4, '0')}_${migration.name}`);
  }
  return { applied, current: migrations.at(-1)?.version ?? 0 };
}
