import { sql, type Kysely } from 'kysely';
import type { NewPullRequest, PullRequestRecord, PullRequestRow, PullRequestState, Tables } from '../db/database.js';
import { packedColumn, packedValue, packJson, unpackEach } from '../db/packed-json.js';
import type { Intent } from './intent.js';

/** PostgreSQL's unique_violation: here, a branch name another live or opening pull request holds. */
export function isBranchTaken(error: unknown): boolean {
  const e = error as { code?: unknown; constraint?: unknown } | null;
  return e?.code === '23505' && (e.constraint === undefined || e.constraint === 'pull_requests_live_branch_idx');
}

/**
 * Every column but the intent, for writes that return their row: the caller holds the intent
 * already, and one of a whole-manifest write is megabytes (hundreds of KB packed), not worth reading back.
 */
const ALL_BUT_INTENT = [
  'number',
  'provider',
  'external_id',
  'external_number',
  'external_url',
  'kind',
  'title',
  'body',
  'source_branch',
  'target_branch',
  'base_commit',
  'head_commit',
  'state',
  'conflicts',
  'author',
  'author_email',
  'merge_commit',
  'merged_by',
  'created_at',
  'updated_at',
  'merged_at',
  'closed_at',
  'entry_manifests',
] as const satisfies readonly Exclude<keyof PullRequestRecord, 'intent'>[];

/** A whole row: the intent comes packed (base64), for `unpackRow`. */
const WHOLE_ROW = [...ALL_BUT_INTENT, packedColumn('intent').as('intent')] as const;

async function unpackRow<R extends { intent: string }>(row: R): Promise<Omit<R, 'intent'> & { intent: unknown }> {
  return (await unpackEach([row], 'intent'))[0]!;
}

/** The manifests in which `intent` sets entries, sorted (the row's `entry_manifests`). */
function entryManifests(intent: Intent): string[] {
  return [...new Set(intent.operations.flatMap((op) => (op.op === 'set_entry' ? [op.manifest] : [])))].sort();
}

/**
 * Records a proposal before its branch is pushed (state `opening`): a crash after the push then
 * leaves a row naming the branch, which the sweeper removes (src/pull-requests/orphans.ts).
 * Throws a unique violation (isBranchTaken) when a live pull request holds the branch name.
 */
export async function insertOpening(
  db: Kysely<Tables>,
  row: Omit<NewPullRequest, 'state' | 'intent' | 'entry_manifests'> & { intent: Intent },
): Promise<PullRequestRecord> {
  const inserted = await db
    .insertInto('pull_requests')
    .values({ ...row, intent: packedValue(await packJson(row.intent)), entry_manifests: entryManifests(row.intent), state: 'opening' })
    .returning(ALL_BUT_INTENT)
    .executeTakeFirstOrThrow();
  return { ...inserted, intent: row.intent };
}

/** An opening row becomes the open pull request (its branch is pushed, the provider has it); `intent` is the row's. */
export async function markOpened(
  db: Kysely<Tables>,
  opening: Pick<PullRequestRecord, 'number' | 'intent'>,
  external: { external_id: string | null; external_number: number | null; external_url: string | null },
): Promise<PullRequestRow | undefined> {
  const row = await db
    .updateTable('pull_requests')
    .set({ ...external, state: 'open', updated_at: new Date() })
    .where('number', '=', opening.number)
    .where('state', '=', 'opening')
    .returning(ALL_BUT_INTENT)
    .executeTakeFirst();
  return row && ({ ...row, intent: opening.intent } as PullRequestRow);
}

/** Opening rows created before `before`: proposals whose process died mid-way. */
export async function listStaleOpening(db: Kysely<Tables>, before: Date, limit: number): Promise<PullRequestRecord[]> {
  return unpackEach(
    await db
      .selectFrom('pull_requests')
      .select(WHOLE_ROW)
      .where('state', '=', 'opening')
      .where('created_at', '<', before)
      .orderBy('number')
      .limit(limit)
      .execute(),
    'intent',
  );
}

/** Removes an opening row (a proposal that failed, or that the sweeper found dead); false if it was not opening. */
export async function deleteOpening(db: Kysely<Tables>, number: number): Promise<boolean> {
  const deleted = await db.deleteFrom('pull_requests').where('number', '=', number).where('state', '=', 'opening').executeTakeFirst();
  return deleted.numDeletedRows > 0n;
}

/** Branches some row still needs: an opening or live pull request's. */
export async function branchesInUse(db: Kysely<Tables>): Promise<Set<string>> {
  const rows = await db.selectFrom('pull_requests').select('source_branch').where('state', 'in', ['opening', 'open', 'conflicted']).execute();
  return new Set(rows.map((r) => r.source_branch));
}

export async function findPullRequest(db: Kysely<Tables>, number: number): Promise<PullRequestRow | undefined> {
  const row = await db.selectFrom('pull_requests').select(WHOLE_ROW).where('number', '=', number).where('state', '!=', 'opening').executeTakeFirst();
  return row && ((await unpackRow(row)) as PullRequestRow);
}

export async function listPullRequests(
  db: Kysely<Tables>,
  filter: { states?: readonly PullRequestState[]; kinds?: readonly PullRequestRow['kind'][]; limit: number; before?: number },
): Promise<PullRequestRow[]> {
  let query = db.selectFrom('pull_requests').select(WHOLE_ROW).where('state', '!=', 'opening').orderBy('number', 'desc').limit(filter.limit);
  if (filter.states?.length) query = query.where('state', 'in', filter.states);
  if (filter.kinds?.length) query = query.where('kind', 'in', filter.kinds);
  if (filter.before !== undefined) query = query.where('number', '<', filter.before);
  return (await unpackEach(await query.execute(), 'intent')) as PullRequestRow[];
}

/** Merged pull requests whose intent sets entries in one of `manifests`, the latest merge first. */
export async function listMergedSettingEntries(db: Kysely<Tables>, manifests: readonly string[], limit: number): Promise<PullRequestRow[]> {
  const rows = await db
    .selectFrom('pull_requests')
    .select(WHOLE_ROW)
    .where('state', '=', 'merged')
    .where('entry_manifests', '&&', sql<string[]>`${[...manifests]}::text[]`)
    .orderBy('merged_at', 'desc')
    .limit(limit)
    .execute();
  return (await unpackEach(rows, 'intent')) as PullRequestRow[];
}

/** Moves a pull request between states, only from one of `from`: the row, or undefined if it was elsewhere. */
export async function transitionPullRequest(
  db: Kysely<Tables>,
  number: number,
  from: readonly PullRequestState[],
  set: Partial<Pick<PullRequestRow, 'state' | 'merge_commit' | 'merged_by' | 'merged_at' | 'closed_at' | 'head_commit'>> & { conflicts?: string | null },
): Promise<PullRequestRow | undefined> {
  const row = await db
    .updateTable('pull_requests')
    .set({ ...set, updated_at: new Date() })
    .where('number', '=', number)
    .where('state', 'in', from)
    .returning(WHOLE_ROW)
    .executeTakeFirst();
  return row && ((await unpackRow(row)) as PullRequestRow);
}

/** Points an open (or conflicted) pull request at its rebuilt branch; it applies again, so it is open. */
export async function rebasePullRequest(
  db: Kysely<Tables>,
  number: number,
  branch: { base_commit: string; head_commit: string },
): Promise<PullRequestRow | undefined> {
  const row = await db
    .updateTable('pull_requests')
    .set({ ...branch, state: 'open', conflicts: null, updated_at: new Date() })
    .where('number', '=', number)
    .where('state', 'in', ['open', 'conflicted'])
    .returning(WHOLE_ROW)
    .executeTakeFirst();
  return row && ((await unpackRow(row)) as PullRequestRow);
}

export async function findByExternalId(db: Kysely<Tables>, provider: string, externalId: string): Promise<PullRequestRow | undefined> {
  const row = await db
    .selectFrom('pull_requests')
    .select(WHOLE_ROW)
    .where('provider', '=', provider)
    .where('external_id', '=', externalId)
    .where('state', '!=', 'opening')
    .executeTakeFirst();
  return row && ((await unpackRow(row)) as PullRequestRow);
}

/** The live pull request of a branch (at most one: pull_requests_live_branch_idx). */
export async function findLiveByBranch(db: Kysely<Tables>, provider: string, branch: string): Promise<PullRequestRow | undefined> {
  const row = await db
    .selectFrom('pull_requests')
    .select(WHOLE_ROW)
    .where('provider', '=', provider)
    .where('source_branch', '=', branch)
    .where('state', 'in', ['open', 'conflicted'])
    .executeTakeFirst();
  return row && ((await unpackRow(row)) as PullRequestRow);
}
