import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { sql } from 'kysely';
import t from 'tap';
import { openDatabase } from '../../src/db/client.js';
import { loadMigrations, migrate } from '../../src/db/migrator.js';
import { createTestDatabase, usingPostgres } from '../helpers/database.js';
import { TS_NODE_ARGS } from '../helpers/child.js';

const run = promisify(execFile);

t.test('migrates an empty database, then has nothing to do', async (t) => {
  const database = await createTestDatabase({ migrated: false });
  t.teardown(() => database.dispose());
  const migrations = await loadMigrations();
  const first = await migrate(database.handle);
  t.same(
    first.applied,
    migrations.map((m) => `${String(m.version).padStart(4, '0')}_${m.name}`),
  );
  t.equal(first.current, migrations.at(-1)!.version);
  const tables = await sql<{ tablename: string }>`select tablename from pg_tables where schemaname = 'public'`.execute(database.handle.db);
  t.ok(tables.rows.some((row) => row.tablename === 'api_tokens'));
  t.ok(tables.rows.some((row) => row.tablename === 'audit_events'));
  const second = await migrate(database.handle);
  t.same(second.applied, []);
});

t.test('a migration that changed after it was applied stops the start', async (t) => {
  const database = await createTestDatabase();
  t.teardown(() => database.dispose());
  const migrations = await loadMigrations();
  const tampered = migrations.map((m, i) => (i === 0 ? { ...m, checksum: 'different' } : m));
  await t.rejects(migrate(database.handle, tampered), /changed after it was applied/);
  await t.rejects(migrate(database.handle, []), /that this build does not know/, 'a database migrated by a newer build');
});

t.test('a failing migration is rolled back whole and recorded nowhere', async (t) => {
  const database = await createTestDatabase();
  t.teardown(() => database.dispose());
  const migrations = await loadMigrations();
  const broken = {
    version: migrations.at(-1)!.version + 1,
    name: 'broken',
    script: 'create table half_done (id int); select * from no_such_table;',
    checksum: 'x',
  };
  await t.rejects(migrate(database.handle, [...migrations, broken]), new RegExp(`Migration ${broken.version} \\(broken\\) failed`));
  const half = await sql<{ n: number }>`select count(*)::int as n from pg_tables where tablename = 'half_done'`.execute(database.handle.db);
  t.equal(half.rows[0]?.n, 0);
  const recorded = await database.handle.db.selectFrom('schema_migrations').select('version').execute();
  t.equal(recorded.length, migrations.length);
});

t.test('two starts migrating the same database at once', async (t) => {
  const database = await createTestDatabase({ migrated: false });
  t.teardown(() => database.dispose());
  // PGlite belongs to one process, so its two "starts" share the handle; on PostgreSQL each has
  // its own pool, as two processes would.
  const other = usingPostgres ? await openDatabase({ databaseUrl: database.databaseUrl, dataDir: database.dataDir }) : database.handle;
  t.teardown(() => (other === database.handle ? undefined : other.close()));
  const [a, b] = await Promise.all([migrate(database.handle), migrate(other)]);
  const migrations = await loadMigrations();
  t.equal(a.applied.length + b.applied.length, migrations.length, 'each migration applied exactly once');
  const rows = await database.handle.db.selectFrom('schema_migrations').select('version').execute();
  t.same(
    rows.map((r) => r.version).sort((x, y) => x - y),
    migrations.map((m) => m.version),
  );
});

if (usingPostgres) {
  t.test('two processes migrating the same PostgreSQL database at once', async (t) => {
    const database = await createTestDatabase({ migrated: false });
    t.teardown(() => database.dispose());
    const env = { ...process.env, DATABASE_URL: database.databaseUrl!, MIR_DATA_DIR: database.dataDir };
    const start = () => run(process.execPath, [...TS_NODE_ARGS, 'src/db/migrate-cli.ts'], { env });
    const outputs = await Promise.all([start(), start()]);
    const said = outputs.map((o) => o.stdout.trim()).sort();
    t.match(said[0], /^applied 0001_foundation/);
    t.match(said[1], /^up to date/);
    const migrations = await loadMigrations();
    const rows = await database.handle.db.selectFrom('schema_migrations').select('version').execute();
    t.same(
      rows.map((r) => r.version).sort((x, y) => x - y),
      migrations.map((m) => m.version),
    );
  });
}

t.test('audit_events is append-only', async (t) => {
  const database = await createTestDatabase();
  t.teardown(() => database.dispose());
  const db = database.handle.db;
  await db.insertInto('audit_events').values({ actor: 'a', action: 'x.y', target: 't:1', details: '{}', request_id: null }).execute();
  await t.rejects(db.updateTable('audit_events').set({ actor: 'b' }).execute(), /append-only/);
  await t.rejects(db.deleteFrom('audit_events').execute(), /append-only/);
  await t.rejects(sql`truncate audit_events`.execute(db), /append-only/);
  t.equal((await db.selectFrom('audit_events').selectAll().execute()).length, 1);
});
