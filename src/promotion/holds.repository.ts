import type { Insertable, Kysely } from 'kysely';
import type { ReleaseHoldRow, ReleaseHoldsTable, Tables } from '../db/database.js';
import type { ElementType } from '../formats/values.js';

export function listHolds(
  db: Kysely<Tables>,
  filter: { active?: boolean; element?: { type: ElementType; uuid: string }; limit: number },
): Promise<ReleaseHoldRow[]> {
  let query = db.selectFrom('release_holds').selectAll().orderBy('created_at', 'desc').orderBy('id').limit(filter.limit);
  if (filter.active === true) query = query.where('lifted_at', 'is', null);
  if (filter.active === false) query = query.where('lifted_at', 'is not', null);
  if (filter.element) query = query.where('element_type', '=', filter.element.type).where('element_uuid', '=', filter.element.uuid);
  return query.execute();
}

/** Every active hold: a handful, read whole by each gate check rather than once per entry. */
export function activeHolds(db: Kysely<Tables>): Promise<ReleaseHoldRow[]> {
  return db.selectFrom('release_holds').selectAll().where('lifted_at', 'is', null).orderBy('created_at').execute();
}

export function findHold(db: Kysely<Tables>, id: string): Promise<ReleaseHoldRow | undefined> {
  return db.selectFrom('release_holds').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The new hold, or the active one already on that version. */
export async function insertHold(
  db: Kysely<Tables>,
  row: Omit<Insertable<ReleaseHoldsTable>, 'created_at' | 'lifted_at' | 'lifted_by' | 'lift_reason'> & { id: string },
): Promise<{ hold: ReleaseHoldRow; created: boolean }> {
  const inserted = await db
    .insertInto('release_holds')
    .values(row)
    .onConflict((oc) => oc.columns(['element_type', 'element_uuid', 'version']).where('lifted_at', 'is', null).doNothing())
    .returningAll()
    .executeTakeFirst();
  if (inserted) return { hold: inserted, created: true };
  const existing = await db
    .selectFrom('release_holds')
    .selectAll()
    .where('element_type', '=', row.element_type)
    .where('element_uuid', '=', row.element_uuid)
    .where('version', '=', row.version)
    .where('lifted_at', 'is', null)
    .executeTakeFirstOrThrow();
  return { hold: existing, created: false };
}

/** undefined when it was lifted already (or never was). */
export function liftHold(db: Kysely<Tables>, id: string, lift: { by: string; reason: string }): Promise<ReleaseHoldRow | undefined> {
  return db
    .updateTable('release_holds')
    .set({ lifted_at: new Date(), lifted_by: lift.by, lift_reason: lift.reason })
    .where('id', '=', id)
    .where('lifted_at', 'is', null)
    .returningAll()
    .executeTakeFirst();
}
