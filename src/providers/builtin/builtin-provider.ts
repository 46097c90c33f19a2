// The builtin provider: pull requests live only in our table, and merging re-applies the intent
// on the default branch through a PullRequestHost (the pull-request service satisfies it).
import type { Kysely } from 'kysely';
import type { PullRequestRow, Tables } from '../../db/database.js';
import { hasCode } from '../../errors.js';
import type { GitGateway } from '../../git/types.js';
import { listPullRequests } from '../../pull-requests/pull-requests.repository.js';
import type { ProviderPullRequest, PullRequestHost, PullRequestProvider } from '../types.js';

export interface BuiltinProviderDeps {
  readonly db: Kysely<Tables>;
  readonly git: GitGateway;
  readonly url: PullRequestHost['pullRequestUrl'];
  readonly applyToDefaultBranch: PullRequestHost['applyToDefaultBranch'];
}

export function createBuiltinProvider(deps: BuiltinProviderDeps): PullRequestProvider {
  const view = (row: PullRequestRow): ProviderPullRequest => ({
    externalId: null,
    number: row.number,
    url: deps.url(row.number),
    state: row.state,
    mergeCommit: row.merge_commit,
  });
  return {
    name: 'builtin',
    open: async ({ pullRequest }) => view(pullRequest),
    get: async (row) => view(row),
    merge: (row, merger) => deps.applyToDefaultBranch(row, merger),
    async close(row) {
      try {
        await deps.git.deleteBranch({ branch: row.source_branch });
      } catch (error) {
        // Already gone (someone deleted it with plain git): closing still means closed.
        if (!hasCode(error, 'branch_not_found')) throw error;
      }
    },
    async list(filter) {
      const rows = await listPullRequests(deps.db, { ...(filter.state ? { states: [filter.state] } : {}), limit: 100_000 });
      return rows.filter((row) => row.provider === 'builtin').map(view);
    },
  };
}
