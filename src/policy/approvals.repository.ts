import type { Kysely } from 'kysely';
import type { PullRequestApprovalRow, Tables } from '../db/database.js';

export function listApprovals(db: Kysely<Tables>, pullRequest: number): Promise<PullRequestApprovalRow[]> {
  return db.selectFrom('pull_request_approvals').selectAll().where('pull_request', '=', pullRequest).orderBy('approved_at').orderBy('approver').execute();
}

/** Approvals by anyone but the author: what a policy counts. */
export async function countApprovals(db: Kysely<Tables>, pullRequest: number, author: string): Promise<number> {
  const row = await db
    .selectFrom('pull_request_approvals')
    .select((eb) => eb.fn.countAll<string>().as('count'))
    .where('pull_request', '=', pullRequest)
    .where('approver', '<>', author)
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

/** false when that approver had approved already. */
export async function insertApproval(db: Kysely<Tables>, row: { pull_request: number; approver: string; token_id: string | null }): Promise<boolean> {
  const inserted = await db
    .insertInto('pull_request_approvals')
    .values(row)
    .onConflict((oc) => oc.columns(['pull_request', 'approver']).doNothing())
    .returning('approver')
    .executeTakeFirst();
  return inserted !== undefined;
}

export async function deleteApproval(db: Kysely<Tables>, pullRequest: number, approver: string): Promise<boolean> {
  const deleted = await db
    .deleteFrom('pull_request_approvals')
    .where('pull_request', '=', pullRequest)
    .where('approver', '=', approver)
    .returning('approver')
    .executeTakeFirst();
  return deleted !== undefined;
}
