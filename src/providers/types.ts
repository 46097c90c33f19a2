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
  /** Full sha, or null when not merged (or when the forge reports only an abbreviation). */
  readonly mergeCommit: string | null;
  /** The branch it merges, when the provider says. */
  readonly sourceBranch?: string | null;
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
  /** Tells the people looking at it on the forge (a conflict found by the reconciler). */
  annotate?(pullRequest: PullRequestRow, note: string): Promise<void>;
  /** Readiness: resolves when the provider answers and accepts our credentials. */
  check?(): Promise<void>;
}

/**
 * What the builtin provider needs from the pull-request service, which satisfies it: the provider
 * depends on this, never on the service, and the service hands itself over as this when it builds
 * its provider.
 */
export interface PullRequestHost {
  /** Our own link to pull request `number`. */
  pullRequestUrl(number: number): string;
  /** Merges by re-applying the intent on the default branch: the builtin provider's merge. */
  applyToDefaultBranch(pullRequest: PullRequestRow, merger: { name: string; email: string }): Promise<{ mergeCommit: string }>;
}

/** What a forge's webhook says happened to one pull request. */
export interface ForgeEvent {
  /** The forge's number of the pull request (our `external_id`, as text). */
  readonly externalId: string;
  readonly sourceBranch: string | null;
  readonly state: 'open' | 'merged' | 'closed';
  readonly mergeCommit: string | null;
  /** Who did it on the forge, when the payload says. */
  readonly actor: string | null;
}

/** Raw request headers, lower-cased names (as node:http gives them). */
export type WebhookHeaders = Readonly<Record<string, string | string[] | undefined>>;

/** A pull request provider on a forge, with the forge's webhook scheme. */
export interface ForgeProvider extends PullRequestProvider {
  readonly name: 'github' | 'gitlab' | 'bitbucket' | 'azure';
  /** Throws 401 webhook_unauthorized unless the delivery carries the forge's proof of `secret`. */
  verifyWebhook(headers: WebhookHeaders, rawBody: string, secret: string): void;
  /** The pull request event in a verified delivery; null for other events (pings, pushes…). */
  parseWebhook(headers: WebhookHeaders, payload: unknown): ForgeEvent | null;
}
