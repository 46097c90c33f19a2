import type { Kysely } from 'kysely';
import type { InstanceRow, Tables } from '../db/database.js';

export function listInstances(db: Kysely<Tables>, filter: { manifest?: string }): Promise<InstanceRow[]> {
  let query = db.selectFrom('instances').selectAll().orderBy('name');
  if (filter.manifest) query = query.where('manifest', '=', filter.manifest);
  return query.execute();
}

export function findInstance(db: Kysely<Tables>, name: string): Promise<InstanceRow | undefined> {
  return db.selectFrom('instances').selectAll().where('name', '=', name).executeTakeFirst();
}

/** undefined when the name is taken. */
export function insertInstance(
  db: Kysely<Tables>,
  row: { name: string; description: string; url: string | null; manifest: string | null; created_by: string },
): Promise<InstanceRow | undefined> {
  return db
    .insertInto('instances')
    .values(row)
    .onConflict((oc) => oc.column('name').doNothing())
    .returningAll()
    .executeTakeFirst();
}

export function updateInstance(
  db: Kysely<Tables>,
  name: string,
  set: Partial<Pick<InstanceRow, 'description' | 'url' | 'manifest'>>,
): Promise<InstanceRow | undefined> {
  return db
    .updateTable('instances')
    .set({ ...set, updated_at: new Date() })
    .where('name', '=', name)
    .returningAll()
    .executeTakeFirst();
}

export function deleteInstance(db: Kysely<Tables>, name: string): Promise<InstanceRow | undefined> {
  return db.deleteFrom('instances').where('name', '=', name).returningAll().executeTakeFirst();
}

/** Last contact: when the instance last asked what to run, and the commit it was answered at. */
export function recordContact(db: Kysely<Tables>, name: string, at: Date, commit: string): Promise<unknown> {
  return db.updateTable('instances').set({ last_seen_at: at, last_seen_commit: commit }).where('name', '=', name).execute();
}
