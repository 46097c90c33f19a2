// Builds the configured forge's provider. Each adapter is a small module over fetch; branches are
// pushed and deleted through the git worker (the same remote, with the same token), never through
// a forge's branch API.
import type { ForgeName, ProviderConfig } from '../../config.js';
import type { ForgeEvent, ForgeProvider, ProviderPullRequest } from '../types.js';
import { createAzureProvider } from './azure.js';
import { createBitbucketProvider } from './bitbucket.js';
import { createGitHubProvider } from './github.js';
import { createGitLabProvider } from './gitlab.js';

export type ForgeConfig = Extract<ProviderConfig, { name: ForgeName }>;

export interface ForgeDeps {
  readonly config: ForgeConfig;
  readonly defaultBranch: string;
  /** Deletes a branch on the remote; absent already is fine. */
  readonly deleteBranch: (branch: string) => Promise<void>;
  /** How long a merge waits for a forge that completes asynchronously (Azure); default 5 s. */
  readonly mergeCompletionTimeoutMs?: number;
}

export function createForgeProvider(deps: ForgeDeps): ForgeProvider {
  const provider = createAdapter(deps);
  return { ...provider, check: rememberSuccess(provider.check!.bind(provider), CHECK_MEMORY_MS) };
}

function createAdapter(deps: ForgeDeps): ForgeProvider {
  switch (deps.config.name) {
    case 'github':
      return createGitHubProvider(deps);
    case 'gitlab':
      return createGitLabProvider(deps);
    case 'bitbucket':
      return createBitbucketProvider(deps);
    case 'azure':
      return createAzureProvider(deps);
  }
}

// Readiness probes come every few seconds: a success is trusted this long, so probes do not spend
// the forge's rate limit; a failure is checked again at the next probe.
const CHECK_MEMORY_MS = 30_000;

function rememberSuccess(check: () => Promise<void>, ms: number): () => Promise<void> {
  let okUntil = 0;
  return async () => {
    if (Date.now() < okUntil) return;
    await check();
    okUntil = Date.now() + ms;
  };
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
