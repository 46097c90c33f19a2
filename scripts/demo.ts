// `npm run demo`: protects a demo app in the embedded repository the way a person would — clone
// `<data dir>/repo.git` with git, list the app in `.retool/protected-apps.yaml`, add its source under
// `apps/hello-mir/`, commit, push — so the README's quickstart has something to release.
//
// Native git rather than isomorphic-git: this is the path the README tells people to take, and
// isomorphic-git has no transport for a repository on disk (only http), so "clone and push" with it
// would mean writing objects into repo.git behind mir's back instead of pushing. Run it again and
// it changes nothing.
import { execFile } from 'node:child_process';
import { access, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ConfigError, loadConfig } from '../src/config.js';
import { isAppError } from '../src/errors.js';
import { PROTECTED_APPS_PATH } from '../src/formats/layout.js';
import { parseProtectedApps } from '../src/formats/protected.js';
import { DEMO_APP, withDemoApp } from './demo-app.js';

const run = promisify(execFile);
// The demo's own identity, so a machine without user.name / user.email (or with commit signing on) still commits.
const IDENTITY = ['-c', 'user.name=mir demo', '-c', 'user.email=demo@mir.invalid', '-c', 'commit.gpgsign=false'];

/** A reason the demo cannot run, said in one line. */
class DemoFailure extends Error {}

async function git(cwd: string, ...args: string[]): Promise<string> {
  try {
    return (await run('git', [...IDENTITY, ...args], { cwd })).stdout.trim();
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new DemoFailure('needs git on the PATH (apt-get install git)');
    throw new DemoFailure(`git ${args.join(' ')} failed: ${e.stderr?.trim() || e.message}`);
  }
}

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  if (config.git.url) throw new DemoFailure(`MIR_GIT_URL is set: the demo writes to the embedded repository only; push to ${config.git.url} yourself`);
  const repository = path.join(config.dataDir, 'repo.git');
  const branch = config.git.defaultBranch;
  try {
    await access(path.join(repository, 'HEAD'));
  } catch {
    throw new DemoFailure(`no repository at ${repository}: start mir first (npm start creates it), with the same MIR_DATA_DIR`);
  }

  const work = await mkdtemp(path.join(os.tmpdir(), 'mir-demo-'));
  try {
    await git(work, 'clone', '--quiet', '--branch', branch, repository, 'repo');
    const clone = path.join(work, 'repo');
    const listFile = path.join(clone, PROTECTED_APPS_PATH);
    let list = 'apps: []\n';
    try {
      list = await readFile(listFile, 'utf8');
    } catch {
      // No protected list yet: the demo writes the first one.
    }
    const listed = withDemoApp(list);
    if (listed !== null) {
      await mkdir(path.dirname(listFile), { recursive: true });
      await writeFile(listFile, listed);
    }
    const folder = parseProtectedApps(listed ?? list).find((app) => app.uuid === DEMO_APP.uuid)!.sourceFolder;
    for (const [file, text] of Object.entries(DEMO_APP.files)) {
      await mkdir(path.dirname(path.join(clone, folder, file)), { recursive: true });
      await writeFile(path.join(clone, folder, file), text);
    }
    await git(clone, 'add', '--all');
    if ((await git(clone, 'status', '--porcelain')) === '') {
      process.stdout.write(`The demo app ${DEMO_APP.name} (${DEMO_APP.uuid}) is protected in ${repository} already, with its source in ${folder}/.\n`);
      return;
    }
    await git(clone, 'commit', '--quiet', '-m', `Protect the demo app ${DEMO_APP.name}, with its source in ${folder}/`);
    await git(clone, 'push', '--quiet', 'origin', `HEAD:refs/heads/${branch}`);
    const commit = await git(clone, 'rev-parse', 'HEAD');
    process.stdout.write(
      [
        `Protected the demo app ${DEMO_APP.name} (${DEMO_APP.uuid}): listed in ${PROTECTED_APPS_PATH}, its source in ${folder}/,`,
        `pushed to ${branch} of ${repository} (${commit.slice(0, 12)}). mir builds its next release from there.`,
        '',
      ].join('\n'),
    );
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) process.stderr.write(`demo: invalid configuration: ${error.problems.join('; ')}\n`);
  else if (error instanceof DemoFailure || isAppError(error)) process.stderr.write(`demo: ${error.message}\n`);
  else throw error;
  process.exit(1);
});
