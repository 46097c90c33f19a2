import type { Kysely } from 'kysely';
import type { NewPullRequest, PullRequestRow, PullRequestState, Tables } from '../db/database.js';

export function insertPullRequest(db: Kysely<Tables>, row: NewPullRequest): Promise<PullRequestRow> {
  return db.insertInto('pull_requests').values(row).returningAll().executeTakeFirstOrThrow();
}

export function findPullRequest(db: Kysely<Tables>, number: number): Promise<PullRequestRow | undefined> {
  return db.selectFrom('pull_requests').selectAll().where('number', '=', number).executeTakeFirst();
}

export function listPullRequests(
  db: Kysely<Tables>,
  filter: { states?: readonly PullRequestState[]; kinds?: readonly PullRequestRow['kind'][]; limit: number; before?: number },
): Promise<PullRequestRow[]> {
  let query = db.selectFrom('pull_requests').selectAll().orderBy('number', 'desc').limit(filter.limit);
  if (filter.states?.length) query = query.where('state', 'in', filter.states);
  if (filter.kinds?.length) query = query.where('kind', 'in', filter.kinds);
  if (filter.before !== undefined) query = query.where('number', '<', filter.before);
  return query.execute();
}

/** Moves a pull request between states, only from one of `from`: the row, or undefined if it was elsewhere. */
export function transitionPullRequest(
  db: Kysely<Tables>,
  number: number,
  from: readonly PullRequestState[],
  set: Partial<Pick<PullRequestRow, 'state' | 'merge_commit' | 'merged_by' | 'merged_at' | 'closed_at' | 'head_commit'>> & { conflicts?: string | null },
): Promise<PullRequestRow | undefined> {
  return db
    .updateTable('pull_requests')
    .set({ ...set, updated_at: new Date() })
    .where('number', '=', number)
    .where('state', 'in', from)
    .returningAll()
    .executeTakeFirst();
}

export function setExternal(
  db: Kysely<Tables>,
  number: number,
  external: { external_id: string | null; external_number: number | null; external_url: string | null },
): Promise<PullRequestRow> {
  return db.updateTable('pull_requests').set({ ...external, updated_at: new Date() }).where('number', '=', number).returningAll().executeTakeFirstOrThrow();
}

/** Points an open (or conflicted) pull request at its rebuilt branch; it applies again, so it is open. */
export function rebasePullRequest(
  db: Kysely<Tables>,
  number: number,
  branch: { base_commit: string; head_commit: string },
): Promise<PullRequestRow | undefined> {
  return db
    .updateTable('pull_requests')
    .set({ ...branch, state: 'open', conflicts: null, updated_at: new Date() })
    .where('number', '=', number)
    .where('state', 'in', ['open', 'conflicted'])
    .returningAll()
    .executeTakeFirst();
}

export function findByExternalId(db: Kysely<Tables>, provider: string, externalId: string): Promise<PullRequestRow | undefined> {
  return db.selectFrom('pull_requests').selectAll().where('provider', '=', provider).where('external_id', '=', externalId).executeTakeFirst();
}

/** The live pull request of a branch (at most one: pull_requests_live_branch_idx). */
export function findLiveByBranch(db: Kysely<Tables>, provider: string, branch: string): Promise<PullRequestRow | undefined> {
  return db
    .selectFrom('pull_requests')
    .selectAll()
    .where('provider', '=', provider)
    .where('source_branch', '=', branch)
    .where('state', 'in', ['open', 'conflicted'])
    .executeTakeFirst();
}

/** Removes the row of a proposal that failed before its pull request existed anywhere else. */
export async function deletePullRequest(db: Kysely<Tables>, number: number): Promise<void> {
  await db.deleteFrom('pull_requests').where('number', '=', number).execute();
}
