import type { Kysely } from 'kysely';
import type { HotfixRecord, HotfixRow, HotfixState, NewHotfix, Tables } from '../db/database.js';

/** The states that hold a line: the predicate of the partial unique index (migration 0008). */
const HOLDING_LINE = ['opening', 'open'] as const;

/**
 * Records a hotfix before its branch is pushed (state `opening`): the row is the claim on the line,
 * and a crash after the push leaves it naming the branch, which the sweeper removes
 * (src/pull-requests/orphans.ts). Null when an opening or open hotfix holds that element and line.
 */
export async function insertOpening(db: Kysely<Tables>, row: Omit<NewHotfix, 'state'>): Promise<HotfixRecord | null> {
  const inserted = await db
    .insertInto('hotfixes')
    .values({ ...row, state: 'opening' })
    // `on conflict do nothing` against the partial unique index: no exception, no aborted
    // transaction. PostgreSQL picks the index only when this predicate implies the index's.
    .onConflict((oc) => oc.columns(['element_type', 'element_uuid', 'line']).where('state', 'in', HOLDING_LINE).doNothing())
    .returningAll()
    .executeTakeFirst();
  return inserted ?? null;
}

/** An opening row becomes the open hotfix (its branch is pushed); undefined if it was not opening. */
export async function markOpened(db: Kysely<Tables>, id: string): Promise<HotfixRow | undefined> {
  const row = await db
    .updateTable('hotfixes')
    .set({ state: 'open', updated_at: new Date() })
    .where('id', '=', id)
    .where('state', '=', 'opening')
    .returningAll()
    .executeTakeFirst();
  return row as HotfixRow | undefined;
}

/** Opening rows created before `before`: hotfixes whose process died mid-way. */
export function listStaleOpening(db: Kysely<Tables>, before: Date, limit: number): Promise<HotfixRecord[]> {
  return db
    .selectFrom('hotfixes')
    .selectAll()
    .where('state', '=', 'opening')
    .where('created_at', '<', before)
    .orderBy('created_at')
    .orderBy('id')
    .limit(limit)
    .execute();
}

/** Removes an opening row (a create that failed, or that the sweeper found dead); false if it was not opening. */
export async function deleteOpening(db: Kysely<Tables>, id: string): Promise<boolean> {
  const deleted = await db.deleteFrom('hotfixes').where('id', '=', id).where('state', '=', 'opening').executeTakeFirst();
  return deleted.numDeletedRows > 0n;
}

export async function findHotfix(db: Kysely<Tables>, id: string): Promise<HotfixRow | undefined> {
  const row = await db.selectFrom('hotfixes').selectAll().where('id', '=', id).where('state', '!=', 'opening').executeTakeFirst();
  return row as HotfixRow | undefined;
}

export async function findOpenHotfix(db: Kysely<Tables>, element: { type: string; uuid: string; line: string }): Promise<HotfixRow | undefined> {
  const row = await lineQuery(db, element).where('state', '=', 'open').executeTakeFirst();
  return row as HotfixRow | undefined;
}

/** Whoever holds an element's line, an opening hotfix included: the one a 409 hotfix_exists names. */
export function findLineHolder(db: Kysely<Tables>, element: { type: string; uuid: string; line: string }): Promise<HotfixRecord | undefined> {
  return lineQuery(db, element).where('state', 'in', HOLDING_LINE).executeTakeFirst();
}

function lineQuery(db: Kysely<Tables>, element: { type: string; uuid: string; line: string }) {
  return db
    .selectFrom('hotfixes')
    .selectAll()
    .where('element_type', '=', element.type as HotfixRow['element_type'])
    .where('element_uuid', '=', element.uuid)
    .where('line', '=', element.line);
}

export async function listHotfixes(
  db: Kysely<Tables>,
  filter: { state?: HotfixState | undefined; elementUuid?: string | undefined; limit: number },
): Promise<HotfixRow[]> {
  let query = db.selectFrom('hotfixes').selectAll().where('state', '!=', 'opening').orderBy('created_at', 'desc').orderBy('id').limit(filter.limit);
  if (filter.state) query = query.where('state', '=', filter.state);
  if (filter.elementUuid) query = query.where('element_uuid', '=', filter.elementUuid);
  return (await query.execute()) as HotfixRow[];
}

/** Updates an open hotfix; undefined when it is no longer open. */
export async function updateOpenHotfix(
  db: Kysely<Tables>,
  id: string,
  set: Partial<Pick<HotfixRow, 'state' | 'release_version' | 'pull_request' | 'release_commit' | 'released_at' | 'abandoned_at' | 'abandoned_by'>>,
): Promise<HotfixRow | undefined> {
  const row = await db
    .updateTable('hotfixes')
    .set({ ...set, updated_at: new Date() })
    .where('id', '=', id)
    .where('state', '=', 'open')
    .returningAll()
    .executeTakeFirst();
  return row as HotfixRow | undefined;
}
