// Set-up shared by the remote-mode tests: an origin repository served by a real `git http-backend`
// on 127.0.0.1, and gateways mirroring it, all removed in teardown.
import type { Test } from 'tap';
import { INITIAL_FILES } from '../../src/git/gateway.js';
import { Mutex } from '../../src/runtime/mutex.js';
import { createBareRepo, runGit, startGitServer, tempDir } from '../helpers/git-server.js';
import { createTestLogger, makeGateway } from './fixtures.js';

export const initialFiles = Object.fromEntries(INITIAL_FILES.map((f) => [f.path, f.text]));

export async function looseCount(repo: string): Promise<number> {
  return Number(/^count: (\d+)$/m.exec(await runGit(['count-objects', '-v'], { cwd: repo }))![1]);
}

export async function inPackCount(repo: string): Promise<number> {
  return Number(/^in-pack: (\d+)$/m.exec(await runGit(['count-objects', '-v'], { cwd: repo }))![1]);
}

export async function remoteSetup(t: Test, options: { auth?: { username: string; password: string }; files?: Record<string, string> | null } = {}) {
  const root = await tempDir('mir-remote-');
  t.teardown(root.remove);
  const data = await tempDir('mir-data-');
  t.teardown(data.remove);
  const origin = await createBareRepo({
    root: root.path,
    name: 'origin',
    ...(options.files === null ? {} : { files: options.files ?? { ...initialFiles, 'apps/Shop/main.js': 'shop\n' } }),
  });
  const server = await startGitServer({ root: root.path, ...(options.auth ? { auth: options.auth } : {}) });
  t.teardown(() => server.close());
  const logger = createTestLogger();
  const make = (git: Parameters<typeof makeGateway>[0]['git'] = {}, dataDir = data.path, lock = new Mutex()) => {
    const gateway = makeGateway({ dataDir, logger, lock, git: { url: server.repoUrl('origin'), ...git } });
    t.teardown(() => gateway.close());
    return gateway;
  };
  const git = (...args: string[]) => runGit(args, { cwd: origin });
  return { root: root.path, data: data.path, origin, server, logger, make, git };
}
