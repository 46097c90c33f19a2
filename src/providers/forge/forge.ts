// Builds the configured forge's provider. Each adapter is a small module over fetch; branches are
// pushed and deleted through the git gateway (the same remote, with the same token), never through
// a forge's branch API.
import type { ForgeProvider } from '../types.js';
import type { ForgeDeps } from './adapter.js';
import { createAzureProvider } from './azure.js';
import { createBitbucketProvider } from './bitbucket.js';
import { createGitHubProvider } from './github.js';
import { createGitLabProvider } from './gitlab.js';

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
