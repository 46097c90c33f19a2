// A fresh, migrated database for each test file: real PostgreSQL when TEST_DATABASE_URL is set
// (a new database cloned from a migrated template), embedded PGlite otherwise (a copy of a migrated
// template data directory: creating a PGlite from nothing costs ~3.4 s and ~850 MB, opening a copy
// ~0.3 s — ../shared/FACTS.md). Templates are keyed by the migrations' checksums and built once.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { openDatabase, type DatabaseHandle } from '../../src/db/client.js';
import { advisoryKey } from '../../src/db/lock.js';
import { loadMigrations, migrate } from '../../src/db/migrator.js';

export interface TestDatabase {
  readonly handle: DatabaseHandle;
  /** For a second process or handle on the same database. */
  readonly databaseUrl: string | undefined;
  readonly dataDir: string;
  /** Closes the handle and drops the database or removes its directory. */
  dispose(): Promise<void>;
}

export const usingPostgres = Boolean(process.env.TEST_DATABASE_URL);

async function migrationsKey(): Promise<string> {
  const hash = createHash('sha256');
  for (const migration of await loadMigrations()) hash.update(migration.checksum);
  return hash.digest('hex').slice(0, 12);
}

/** A migrated database of its own, plus an empty data dir for everything else the app writes. */
export async function createTestDatabase(options: { migrated?: boolean } = {}): Promise<TestDatabase> {
  const migrated = options.migrated ?? true;
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'mir-test-'));
  if (usingPostgres) return createPostgresDatabase(dataDir, migrated);
  const pgliteDir = path.join(dataDir, 'pglite');
  if (migrated) await cp(await pgliteTemplate(), pgliteDir, { recursive: true });
  const handle = await openDatabase({ databaseUrl: undefined, dataDir });
  return {
    handle,
    databaseUrl: undefined,
    dataDir,
    dispose: async () => {
      await handle.close().catch(() => {});
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

async function pgliteTemplate(): Promise<string> {
  const dir = path.join(os.tmpdir(), `mir-pglite-template-${await migrationsKey()}`);
  if (existsSync(dir)) return dir;
  // Built aside and renamed into place, so parallel test files never see half a template.
  const building = await mkdtemp(path.join(os.tmpdir(), 'mir-pglite-building-'));
  const handle = await openDatabase({ databaseUrl: undefined, dataDir: building });
  await migrate(handle);
  await handle.close();
  try {
    await rename(path.join(building, 'pglite'), dir);
  } catch (error) {
    if (!existsSync(dir)) throw error;
  } finally {
    await rm(building, { recursive: true, force: true });
  }
  return dir;
}

async function createPostgresDatabase(dataDir: string, migrated: boolean): Promise<TestDatabase> {
  const adminUrl = process.env.TEST_DATABASE_URL!;
  const name = `mir_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    if (migrated) {
      const template = await postgresTemplate(admin, adminUrl);
      await admin.query(`create database ${name} template ${template}`);
    } else {
      await admin.query(`create database ${name}`);
    }
  } finally {
    await admin.end();
  }
  const databaseUrl = withDatabase(adminUrl, name);
  const handle = await openDatabase({ databaseUrl, dataDir });
  return {
    handle,
    databaseUrl,
    dataDir,
    dispose: async () => {
      await handle.close().catch(() => {});
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      try {
        await client.query(`drop database if exists ${name} with (force)`);
      } finally {
        await client.end();
      }
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

async function postgresTemplate(admin: pg.Client, adminUrl: string): Promise<string> {
  const template = `mir_template_${await migrationsKey()}`;
  await admin.query('select pg_advisory_lock($1)', [advisoryKey('mir-test-template')]);
  try {
    const exists = await admin.query('select 1 from pg_database where datname = $1', [template]);
    if (exists.rowCount === 0) {
      await admin.query(`create database ${template}`);
      const handle = await openDatabase({ databaseUrl: withDatabase(adminUrl, template), dataDir: os.tmpdir(), maxConnections: 1 });
      await migrate(handle);
      await handle.close();
    }
  } finally {
    await admin.query('select pg_advisory_unlock($1)', [advisoryKey('mir-test-template')]);
  }
  return template;
}

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

export async function makeTempDir(prefix = 'mir-test-'): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  await mkdir(dir, { recursive: true });
  return dir;
}
