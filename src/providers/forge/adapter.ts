// What every forge adapter is built from, and the two translations they share: a description cut
// to the forge's limit, and a webhook's pull request turned into mir's event.
import type { ProviderConfig } from '../../config.js';
import type { ForgeName } from './defaults.js';
import type { ForgeEvent, ProviderPullRequest } from '../types.js';

export type ForgeConfig = Extract<ProviderConfig, { name: ForgeName }>;

export interface ForgeDeps {
  readonly config: ForgeConfig;
  readonly defaultBranch: string;
  /** Deletes a branch on the remote; absent already is fine. */
  readonly deleteBranch: (branch: string) => Promise<void>;
  /** How long a merge waits for a forge that completes asynchronously (Azure); default 5 s. */
  readonly mergeCompletionTimeoutMs?: number;
}

/** Forge descriptions are capped (Azure: 4,000 characters); long manifest diffs are cut with a note. */
export function fitDescription(text: string, limit: number): string {
  if (text.length <= limit) return text;
  const note = '\n\n… (cut; the full change is in the branch)';
  return text.slice(0, limit - note.length) + note;
}

/**
 * A webhook's event, from the adapter's view of the pull request in the payload. `conflicted` is
 * mir's own state: on the forge such a pull request is open.
 */
export function forgeEvent(pr: ProviderPullRequest, sourceBranch: string | null | undefined, actor: string | null | undefined): ForgeEvent {
  return {
    externalId: pr.externalId!,
    sourceBranch: sourceBranch ?? null,
    state: pr.state === 'conflicted' ? 'open' : pr.state,
    mergeCommit: pr.mergeCommit,
    actor: actor ?? null,
  };
}
