import type { Kysely } from 'kysely';
import type { HotfixRow, HotfixState, NewHotfix, Tables } from '../db/database.js';

/** The inserted row, or null when an open hotfix holds that element and line (the unique index). */
export async function insertOpenHotfix(db: Kysely<Tables>, row: NewHotfix): Promise<HotfixRow | null> {
  const inserted = await db
    .insertInto('hotfixes')
    .values(row)
    // `on conflict do nothing` against the partial unique index: no exception, no aborted transaction.
    .onConflict((oc) => oc.columns(['element_type', 'element_uuid', 'line']).where('state', '=', 'open').doNothing())
    .returningAll()
    .executeTakeFirst();
  return inserted ?? null;
}

export function findHotfix(db: Kysely<Tables>, id: string): Promise<HotfixRow | undefined> {
  return db.selectFrom('hotfixes').selectAll().where('id', '=', id).executeTakeFirst();
}

export function findOpenHotfix(db: Kysely<Tables>, element: { type: string; uuid: string; line: string }): Promise<HotfixRow | undefined> {
  return db
    .selectFrom('hotfixes')
    .selectAll()
    .where('element_type', '=', element.type as HotfixRow['element_type'])
    .where('element_uuid', '=', element.uuid)
    .where('line', '=', element.line)
    .where('state', '=', 'open')
    .executeTakeFirst();
}

export function listHotfixes(db: Kysely<Tables>, filter: { state?: HotfixState | undefined; elementUuid?: string | undefined; limit: number }): Promise<HotfixRow[]> {
  let query = db.selectFrom('hotfixes').selectAll().orderBy('created_at', 'desc').orderBy('id').limit(filter.limit);
  if (filter.state) query = query.where('state', '=', filter.state);
  if (filter.elementUuid) query = query.where('element_uuid', '=', filter.elementUuid);
  return query.execute();
}

export function deleteHotfix(db: Kysely<Tables>, id: string): Promise<unknown> {
  return db.deleteFrom('hotfixes').where('id', '=', id).execute();
}

/** Updates an open hotfix; undefined when it is no longer open. */
export function updateOpenHotfix(
  db: Kysely<Tables>,
  id: string,
  set: Partial<Pick<HotfixRow, 'state' | 'release_version' | 'pull_request' | 'release_commit' | 'released_at' | 'abandoned_at' | 'abandoned_by'>>,
): Promise<HotfixRow | undefined> {
  return db.updateTable('hotfixes').set({ ...set, updated_at: new Date() }).where('id', '=', id).where('state', '=', 'open').returningAll().executeTakeFirst();
}
