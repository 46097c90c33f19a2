// A fresh, migrated database for each test file: real PostgreSQL when TEST_DATABASE_URL is set
// (a new database cloned from a migrated template), embedded PGlite otherwise (a copy of a migrated
// template data directory: creating a PGlite from nothing costs ~3.4 s and ~850 MB, 4-14 s on a
// loaded 2-core machine, opening a copy ~0.3 s). Templates are keyed by the migrations' checksums
// and built once; an unmigrated PGlite is a copy too, of an empty template keyed by PGlite's version.
// buildTestApp's PGlite databases are also reused within a test process (`reuse`, below).
import { createHash, randomBytes } from 'node:crypto';
import { cpSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import t from 'tap';
import { createPGlite, openDatabase, pgliteHandle, type DatabaseHandle } from '../../src/db/client.js';
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

/**
 * A migrated database of its own, plus an empty data dir for everything else the app writes.
 * `reuse` (PGlite only): the database may be one an earlier test of this process disposed, emptied
 * (below); it then does not live under `dataDir`, so a test that hands `dataDir` to another
 * process must not ask for it.
 */
export async function createTestDatabase(options: { migrated?: boolean; reuse?: boolean } = {}): Promise<TestDatabase> {
  const migrated = options.migrated ?? true;
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'mir-test-'));
  if (usingPostgres) return createPostgresDatabase(dataDir, migrated);
  if (migrated && options.reuse) return createReusedPglite(dataDir);
  const pgliteDir = path.join(dataDir, 'pglite');
  copyDir(migrated ? await pgliteTemplate() : await pgliteEmptyTemplate(), pgliteDir);
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

// Opening a PGlite costs ~0.5 CPU-s even from a copy (its start-up as a Postgres backend, and the
// copy), and a test file builds up to 7 apps. So a PGlite that buildTestApp's database was on is
// emptied when that database is disposed — every table but the migrations' truncated, identities
// restarted, the session discarded — and the next one of the same process is on it. It is
// reused only if its schema is still the migrated one (a test that altered it, or closed the
// handle itself, gets it closed instead), and only one app is ever on it at a time.
interface PooledPglite {
  readonly pglite: PGlite;
  /** The temp dir holding its data dir, removed when it is closed. */
  readonly dir: string;
  /** schemaFingerprint when it was opened. */
  readonly schema: string;
}

const idlePglites: PooledPglite[] = [];
const openPglites = new Set<PooledPglite>();
// Closed once the file's tests are done: an open PGlite keeps the process alive up to 10 s (the
// backend's idle statistics timer). Removed on exit in any case.
t.teardown(async () => {
  for (const pooled of idlePglites.splice(0)) await pooled.pglite.close().catch(() => {});
});
process.on('exit', () => {
  for (const pooled of openPglites) rmSync(pooled.dir, { recursive: true, force: true });
});

async function createReusedPglite(dataDir: string): Promise<TestDatabase> {
  const pooled = idlePglites.pop() ?? (await openPooledPglite());
  let closedByTest = false;
  const handle = pgliteHandle(pooled.pglite, async () => {
    closedByTest = true;
    await pooled.pglite.close();
  });
  return {
    handle,
    databaseUrl: undefined,
    dataDir,
    dispose: async () => {
      await handle.db.destroy();
      if (!closedByTest && (await emptied(pooled))) idlePglites.push(pooled);
      else {
        await pooled.pglite.close().catch(() => {});
        openPglites.delete(pooled);
        await rm(pooled.dir, { recursive: true, force: true });
      }
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

async function openPooledPglite(): Promise<PooledPglite> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mir-pglite-'));
  copyDir(await pgliteTemplate(), path.join(dir, 'pglite'));
  const pglite = await createPGlite(path.join(dir, 'pglite'));
  const pooled = { pglite, dir, schema: await schemaFingerprint(pglite) };
  openPglites.add(pooled);
  return pooled;
}

/** Empties the database for the next test; false when it cannot be reused. */
async function emptied(pooled: PooledPglite): Promise<boolean> {
  const { pglite } = pooled;
  try {
    if (pglite.closed) return false;
    // A transaction a failed test left open (outside one, `rollback` only warns).
    await pglite.exec('rollback');
    const tables = await pglite.query<{ name: string }>(
      "select quote_ident(tablename) as name from pg_tables where schemaname = 'public' and tablename <> 'schema_migrations'",
    );
    // `replica`: the audit trail's append-only triggers refuse a truncate, as they should for the app.
    await pglite.exec(
      `set session_replication_role = replica; truncate ${tables.rows.map((r) => r.name).join(', ')} restart identity cascade; reset session_replication_role;`,
    );
    await pglite.exec('discard all');
    return (await schemaFingerprint(pglite)) === pooled.schema;
  } catch {
    return false;
  }
}

/** Tables, columns, indexes, constraints, functions and triggers outside the system schemas, and the migrations applied. */
async function schemaFingerprint(pglite: PGlite): Promise<string> {
  const result = await pglite.query<{ fingerprint: string }>(`
    select md5(string_agg(item, ',' order by item)) as fingerprint from (
      select 'rel ' || c.oid::regclass::text || ' ' || c.relkind::text from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast')
      union all select 'col ' || a.attrelid::regclass::text || '.' || a.attname::text || ' ' || a.atttypid::regtype::text || ' ' || a.attnotnull::text
        from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'public' and a.attnum > 0 and not a.attisdropped
      union all select 'con ' || conname::text || ' ' || pg_get_constraintdef(oid) from pg_constraint where connamespace = 'public'::regnamespace
      union all select 'fn ' || p.oid::regprocedure::text || ' ' || md5(p.prosrc) from pg_proc p where p.pronamespace = 'public'::regnamespace
      union all select 'trg ' || tgname::text || ' ' || tgenabled::text from pg_trigger where not tgisinternal
      union all select 'migration ' || version::text || ' ' || checksum from schema_migrations
    ) items(item)`);
  return result.rows[0]!.fingerprint;
}

// cpSync, not fs/promises' cp: a data dir is ~1,000 files (39 MB), and the promise version took
// twice as long (1.9-6.5 s against 0.9-3 s under load).
function copyDir(from: string, to: string): void {
  cpSync(from, to, { recursive: true });
}

function pgliteVersion(): string {
  const main = fileURLToPath(import.meta.resolve('@electric-sql/pglite'));
  let dir = path.dirname(main);
  while (!existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return (JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string }).version;
}

async function pgliteEmptyTemplate(): Promise<string> {
  return buildPgliteTemplate(path.join(os.tmpdir(), `mir-pglite-empty-${pgliteVersion()}`), async (building) => {
    await (await openDatabase({ databaseUrl: undefined, dataDir: building })).close();
  });
}

async function pgliteTemplate(): Promise<string> {
  const empty = await pgliteEmptyTemplate();
  return buildPgliteTemplate(path.join(os.tmpdir(), `mir-pglite-template-${await migrationsKey()}`), async (building) => {
    copyDir(empty, path.join(building, 'pglite'));
    const handle = await openDatabase({ databaseUrl: undefined, dataDir: building });
    await migrate(handle);
    await handle.close();
  });
}

async function buildPgliteTemplate(dir: string, fill: (building: string) => Promise<void>): Promise<string> {
  if (existsSync(dir)) return dir;
  // Built aside and renamed into place, so parallel test files never see half a template.
  const building = await mkdtemp(path.join(os.tmpdir(), 'mir-pglite-building-'));
  await fill(building);
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
