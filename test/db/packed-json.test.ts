// Packed JSON (src/db/packed-json.ts, migration 0011): a pull request's intent and an event's
// payload are stored gzip'd in bytea and read back whole, on PGlite and on PostgreSQL; rows from
// before the migration keep their JSON as plain text and read back the same.
import { randomUUID } from 'node:crypto';
import { sql, type Kysely, type RawBuilder } from 'kysely';
import t from 'tap';
import type { Tables } from '../../src/db/database.js';
import { loadMigrations, migrate } from '../../src/db/migrator.js';
import { createEventPublisher } from '../../src/events/events.service.js';
import { eventsAfter } from '../../src/events/outbox.repository.js';
import type { Intent } from '../../src/pull-requests/intent.js';
import { insertOpening, listMergedSettingEntries, listStaleOpening } from '../../src/pull-requests/pull-requests.repository.js';
import { createTestDatabase } from '../helpers/database.js';

const COMMIT = 'c'.repeat(40);

/** A whole-manifest intent of `count` entries (`prod`), plus one entry in `uat` and a release. */
function wholeManifestIntent(count: number): Intent {
  const operations: Intent['operations'][number][] = [];
  for (let i = 0; i < count; i++) {
    const uuid = `${String(i).padStart(8, '0')}-0000-4000-8000-${randomUUID().slice(-12)}`;
    operations.push({ op: 'set_entry', manifest: 'prod', element_type: 'PAGE', element_uuid: uuid, from: `1.${i % 40}.0`, to: `1.${i % 40}.1` });
  }
  operations.push({ op: 'set_entry', manifest: 'uat', element_type: 'WORKFLOW', element_uuid: randomUUID(), from: null, to: '2.0.0' });
  operations.push({ op: 'remove_entry', manifest: 'dev', element_type: 'PAGE', element_uuid: randomUUID(), from: '0.1.0' });
  operations.push({
    op: 'add_artifact',
    element_type: 'PAGE',
    element_uuid: randomUUID(),
    version: '1.0.0',
    blob: 'b'.repeat(40),
    sha256: 'e'.repeat(64),
    size: 12,
  });
  return { version: 1, operations };
}

/** The first bytes of a stored column (`head`) and its length, as `query` selects them. */
async function firstRow(db: Kysely<Tables>, query: RawBuilder<{ head: string; bytes: number }>) {
  return (await query.execute(db)).rows[0]!;
}

t.test('an intent of 14,000 entries and its event are stored gzip-packed and read back whole', async (t) => {
  const database = await createTestDatabase();
  t.teardown(() => database.dispose());
  const db = database.handle.db;
  const intent = wholeManifestIntent(14_000);
  const json = JSON.stringify(intent);

  const opening = await insertOpening(db, {
    kind: 'manifest',
    provider: 'builtin',
    title: 'Whole manifest',
    body: '',
    source_branch: `mir/manifest/prod/${randomUUID().slice(0, 8)}`,
    target_branch: 'main',
    base_commit: COMMIT,
    head_commit: COMMIT,
    intent,
    author: 'ci',
    author_email: 'ci@example.com',
  });
  t.same(opening.intent, intent, 'the inserted row hands back the intent it was given');
  t.same(opening.entry_manifests, ['prod', 'uat'], 'the manifests where it sets entries, sorted, once each (a removal is not one)');
  const stored = await firstRow(
    db,
    sql`select encode(substring(intent from 1 for 2), 'hex') as head, octet_length(intent) as bytes from pull_requests where number = ${opening.number}`,
  );
  t.equal(stored.head, '1f8b', 'gzip in the column');
  t.ok(Number(stored.bytes) * 4 < json.length, `packed ${stored.bytes} bytes, a quarter of the ${json.length} of its JSON at most`);
  const [read] = await listStaleOpening(db, new Date(Date.now() + 60_000), 10);
  t.same(read?.intent, intent, 'read back: the same intent, every operation in order');

  const events = createEventPublisher({ clock: () => new Date('2026-12-07T00:00:00Z') });
  const data = { manifest: 'prod', entries: intent.operations.slice(0, 14_000), note: 'zwölf – 十二' };
  const [id] = await events.publish(db, [
    { type: 'manifest.changed', data },
    { type: 'pull_request.merged', data: { pull_request: { number: 1 } } },
  ]);
  const payload = await firstRow(
    db,
    sql`select encode(substring(payload from 1 for 2), 'hex') as head, octet_length(payload) as bytes from outbox_events where id = ${id}`,
  );
  t.equal(payload.head, '1f8b', 'the event payload is packed too');
  const after = await eventsAfter(db, 0, 10);
  t.same(
    after.map((event) => [event.type, event.payload]),
    [
      ['manifest.changed', data],
      ['pull_request.merged', { pull_request: { number: 1 } }],
    ],
    'events read back in order with their payloads (non-ASCII text intact)',
  );
});

t.test('migration 0011: rows from before it keep their JSON as text, read back the same, and the policy finds them', async (t) => {
  const database = await createTestDatabase({ migrated: false });
  t.teardown(() => database.dispose());
  const db = database.handle.db;
  const migrations = await loadMigrations();
  const before = migrations.filter((m) => m.version < 11);
  t.equal(before.length, migrations.length - 1, 'migration 0011 is the last one (this test writes 0010 rows)');
  await migrate(database.handle, before);

  const intent = wholeManifestIntent(3);
  const insertMerged = (body: Intent) =>
    sql<{ number: number }>`
    insert into pull_requests (kind, title, source_branch, target_branch, base_commit, head_commit, state, intent, author, author_email, merged_at)
    values ('manifest', 'before 0011', ${`mir/manifest/prod/${randomUUID().slice(0, 8)}`}, 'main', ${COMMIT}, ${COMMIT}, 'merged',
      ${JSON.stringify(body)}::jsonb, 'ci', 'ci@example.com', now())
    returning number`.execute(db);
  const [old] = (await insertMerged(intent)).rows;
  await insertMerged({ version: 1, operations: [{ op: 'create_manifest', manifest: 'uat' }] });
  const payload = { manifest: 'prod', entries: [{ element_uuid: 'x', from: null, to: '1.0.0' }], commit_sha: COMMIT };
  await sql`insert into outbox_events (id, type, payload, occurred_at) values (${randomUUID()}, 'manifest.changed', ${JSON.stringify(payload)}::jsonb, now())`.execute(
    db,
  );

  const result = await migrate(database.handle);
  t.same(result.applied, ['0011_packed_documents']);
  const stored = await firstRow(
    db,
    sql`select convert_from(substring(intent from 1 for 1), 'UTF8') as head, octet_length(intent) as bytes from pull_requests where number = ${old!.number}`,
  );
  t.equal(stored.head, '{', 'the old row holds its JSON as text, not gzip');

  const uat = await listMergedSettingEntries(db, ['uat'], 10);
  t.same(
    uat.map((row) => row.number),
    [old!.number],
    'the pull request setting an entry in uat, not the one only creating the manifest',
  );
  t.same(uat[0]!.intent, intent, 'its intent, read from the text the migration left');
  t.same(uat[0]!.entry_manifests, ['prod', 'uat'], 'entry_manifests filled in by the migration');
  t.same(await listMergedSettingEntries(db, ['staging'], 10), [], 'none for a manifest nobody set entries in');
  t.same(
    (await eventsAfter(db, 0, 10)).map((event) => event.payload),
    [payload],
    'the old event reads back the same',
  );
});
