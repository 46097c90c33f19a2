// The test helper's reused PGlite (test/helpers/database.ts, `reuse`): what a test finds on a
// database an earlier test of the same process used must be what a fresh copy of the migrated
// template holds. On PostgreSQL every test database is a fresh clone, and this checks that too.
import { sql } from 'kysely';
import t from 'tap';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

const rows = async (database: TestDatabase, table: string) =>
  Number((await sql<{ n: string }>`select count(*) as n from ${sql.table(table)}`.execute(database.handle.db)).rows[0]!.n);

const audit = (database: TestDatabase, action: string) =>
  sql<{ id: string }>`insert into audit_events (actor, action, target) values ('test', ${action}, 'x') returning id`.execute(database.handle.db);

t.test('a database used and disposed leaves nothing for the next one, whose rules are intact', async (t) => {
  const first = await createTestDatabase({ reuse: true });
  await audit(first, 'first');
  await audit(first, 'second');
  await sql`insert into api_tokens (name, token_hash, token_prefix, scopes) values ('a', 'h', 'p', '{admin}')`.execute(first.handle.db);
  const migrations = await rows(first, 'schema_migrations');
  t.ok(migrations > 0, 'migrated');
  await first.dispose();

  const second = await createTestDatabase({ reuse: true });
  t.teardown(() => second.dispose());
  t.equal(await rows(second, 'audit_events'), 0, 'no audit event left');
  t.equal(await rows(second, 'api_tokens'), 0, 'no token left');
  t.equal(await rows(second, 'schema_migrations'), migrations, 'the migrations are still recorded');
  const { rows: inserted } = await audit(second, 'again');
  t.equal(String(inserted[0]!.id), '1', 'identities start again at 1');
  await t.rejects(sql`update audit_events set actor = 'someone else'`.execute(second.handle.db), /append-only/, 'the audit trail still refuses an update');
  await t.rejects(sql`truncate audit_events`.execute(second.handle.db), /append-only/, 'and a truncate');
});

t.test('a database whose schema a test changed, or that a test closed, is not used again', async (t) => {
  const altered = await createTestDatabase({ reuse: true });
  await sql`alter table api_tokens add column extra text`.execute(altered.handle.db);
  await altered.dispose();
  const next = await createTestDatabase({ reuse: true });
  const extra = await sql<{
    n: string;
  }>`select count(*) as n from information_schema.columns where table_name = 'api_tokens' and column_name = 'extra'`.execute(next.handle.db);
  t.equal(Number(extra.rows[0]!.n), 0, 'the next database has the migrated schema');
  await next.handle.close();
  await next.dispose();
  const after = await createTestDatabase({ reuse: true });
  t.teardown(() => after.dispose());
  t.equal(await rows(after, 'audit_events'), 0, 'a closed database is replaced by a working one');
});
