// The real app configured for a forge: its API is a validating mock (test/helpers/prism.ts), its
// git remote a real `git http-backend` on 127.0.0.1 (test/helpers/git-server.ts), as in production
// where branches go to the forge's git and pull requests to its API.
import { createHmac } from 'node:crypto';
import type { Test } from 'tap';
import { INITIAL_FILES } from '../../src/git/gateway.js';
import { buildTestApp, type TestApp } from './app.js';
import { createBareRepo, runGit, startGitServer, tempDir } from './git-server.js';
import type { Forge } from './prism.js';

export const REPOSITORIES: Record<Forge, string> = {
  github: 'acme/releases',
  gitlab: 'acme/platform/releases',
  bitbucket: 'acme/releases',
  azure: 'acme/platform/releases',
};

export interface ForgeApp extends TestApp {
  /** The bare repository behind the git remote, for native git. */
  readonly origin: string;
  remoteGit(...args: string[]): Promise<string>;
}

export async function buildForgeApp(t: Test, options: { forge: Forge; apiUrl: string; secret?: string; env?: Record<string, string> }): Promise<ForgeApp> {
  const root = await tempDir('mir-forge-remote-');
  t.teardown(root.remove);
  const origin = await createBareRepo({ root: root.path, name: 'origin', files: Object.fromEntries(INITIAL_FILES.map((f) => [f.path, f.text])) });
  const server = await startGitServer({ root: root.path });
  t.teardown(() => server.close());
  const ctx = await buildTestApp(t, {
    env: {
      MIR_PROVIDER: options.forge,
      MIR_PROVIDER_API_URL: options.apiUrl,
      MIR_PROVIDER_REPOSITORY: REPOSITORIES[options.forge],
      MIR_PROVIDER_TOKEN: 'forge-token',
      MIR_PROVIDER_POLL_SECONDS: '0',
      MIR_GIT_URL: server.repoUrl('origin'),
      MIR_GIT_POLL_SECONDS: '0',
      ...(options.secret ? { MIR_WEBHOOK_SECRET: options.secret } : {}),
      ...options.env,
    },
  });
  return { ...ctx, origin, remoteGit: (...args: string[]) => runGit(args, { cwd: origin }) };
}

export function hubSignature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * Merges `branch` into main on the remote with native git, as the forge's merge button would.
 * Returns the merge commit.
 */
export async function mergeOnRemote(origin: string, branch: string): Promise<string> {
  const work = await tempDir('mir-forge-merge-');
  try {
    await runGit(['clone', '--quiet', '--branch', 'main', origin, work.path]);
    await runGit(['merge', '--no-ff', '--quiet', '-m', `Merge pull request from ${branch}`, `origin/${branch}`], { cwd: work.path });
    await runGit(['push', '--quiet', 'origin', 'HEAD:refs/heads/main'], { cwd: work.path });
    return (await runGit(['rev-parse', 'HEAD'], { cwd: work.path })).trim();
  } finally {
    await work.remove();
  }
}
