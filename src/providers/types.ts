// Pull request providers: where a pull request lives besides our own table. The builtin provider
// keeps it here and merges by re-applying the intent; forge adapters (GitHub, GitLab, Bitbucket,
// Azure Repos) open and merge it on the forge. Services depend on this interface only.
import type { PullRequestRow, PullRequestState } from '../db/database.js';

/** What a provider knows of one pull request. */
export interface ProviderPullRequest {
  /** The forge's id; null for builtin. */
  readonly externalId: string | null;
  /** The number people see (the forge's, or ours for builtin). */
  readonly number: number;
  /** Where people look at it. */
  readonly url: string;
  readonly state: PullRequestState;
  readonly mergeCommit: string | null;
}

export interface OpenPullRequest {
  /** Our row, already inserted (number, branches, title, body, intent). */
  readonly pullRequest: PullRequestRow;
}

export interface PullRequestProvider {
  readonly name: string;
  /** Opens the pull request for a pushed branch; reuses an open one for the same branch. */
  open(request: OpenPullRequest): Promise<ProviderPullRequest>;
  /** The provider's current view of it. */
  get(pullRequest: PullRequestRow): Promise<ProviderPullRequest>;
  /** Merges it into the target branch; 409 merge_conflict / forge refusals otherwise. */
  merge(pullRequest: PullRequestRow, merger: { name: string; email: string }): Promise<{ mergeCommit: string }>;
  /** Closes it without merging and deletes its branch. */
  close(pullRequest: PullRequestRow): Promise<void>;
  /** Open pull requests the provider knows of (for reconciliation with our table). */
  list(filter: { state?: PullRequestState }): Promise<ProviderPullRequest[]>;
}
