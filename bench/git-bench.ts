// Benchmarks the git gateway against native git on the generated repository (issue 3), each ratio
// measured in the same run against the same smart-HTTP server (`git http-backend` in a separate
// process). Results are printed and written to the `git` section of bench/RESULTS.md with the
// machine and the date.
//
//   npx tsx bench/git-bench.ts [--apps 5000] [--runs 5] [--no-write]
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createGitGateway } from '../src/git/gateway.js';
import { Mutex } from '../src/runtime/mutex.js';
import { createSnapshots } from '../src/snapshots/snapshots.js';
import { createSmartHttpClient } from '../src/git/smart-http.js';
import type { GitGateway, Logger } from '../src/git/types.js';
import { generateRepo } from './generate-repo.js';
import { appendResults, numberFlag, writeResults } from './results.js';

const execFileAsync = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const APPS = numberFlag('apps', 5000);
const RUNS = numberFlag('runs', 5);
const GIT_ENV = {
  ...process.env,
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_AUTHOR_NAME: 'bench',
  GIT_AUTHOR_EMAIL: 'bench@example.com',
  GIT_COMMITTER_NAME: 'bench',
  GIT_COMMITTER_EMAIL: 'bench@example.com',
};

async function git(argv: string[], options: { cwd?: string; input?: string } = {}): Promise<string> {
  if (options.input === undefined) {
    const { stdout } = await execFileAsync('git', argv, { cwd: options.cwd, env: GIT_ENV, maxBuffer: 1 << 28 });
    return stdout;
  }
  return new Promise((resolve, reject) => {
    const child = spawn('git', argv, { cwd: options.cwd, env: GIT_ENV });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`git ${argv[0]}: ${err}`))));
    child.stdin.end(options.input);
  });
}

async function time<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const started = performance.now();
  const value = await fn();
  return [performance.now() - started, value];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const silent: Logger = { info() {}, warn() {}, error() {}, debug() {} };

function gateway(url: string, dataDir: string): GitGateway {
  return createGitGateway({
    dataDir,
    git: { url, username: undefined, token: undefined, defaultBranch: 'main', pollSeconds: 0, branchPrefix: 'mir/' },
    lock: new Mutex(),
    logger: silent,
  });
}

async function startServer(root: string): Promise<{ url: string; proc: ChildProcess }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'git-serve.ts'), root], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    proc.stdout!.once('data', (c: Buffer) => resolve(c.toString().trim().split('\n')[0]!));
    proc.once('exit', (code) => reject(new Error(`server exited ${code}`)));
  });
  return { url, proc };
}

/** A one-file change with native plumbing: hash-object, mktree ×2, commit-tree, push. */
async function nativeCommitPush(clone: string, url: string, branch: string, content: string): Promise<void> {
  const blob = (await git(['hash-object', '-w', '--stdin'], { cwd: clone, input: content })).trim();
  const manifests = (await git(['ls-tree', 'main:manifests'], { cwd: clone })).replace(/^(100644 blob )\S+(\tuat\.yaml)$/m, `$1${blob}$2`);
  const manifestsTree = (await git(['mktree'], { cwd: clone, input: manifests })).trim();
  const root = (await git(['ls-tree', 'main'], { cwd: clone })).replace(/^(040000 tree )\S+(\tmanifests)$/m, `$1${manifestsTree}$2`);
  const rootTree = (await git(['mktree'], { cwd: clone, input: root })).trim();
  const commit = (await git(['commit-tree', rootTree, '-p', 'main', '-m', `native ${branch}`], { cwd: clone })).trim();
  await git(['push', '-q', url, `${commit}:refs/heads/${branch}`], { cwd: clone });
}

async function main(): Promise<void> {
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'mir-git-bench-'));
  const loadAtStart = os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
  const results: { name: string; ours: number; native?: number; note?: string }[] = [];
  let server: ChildProcess | undefined;
  try {
    console.log(`generating ${APPS} apps …`);
    const [genMs, repo] = await time(() => generateRepo({ root: path.join(scratch, 'remote'), apps: APPS }));
    console.log(`  ${repo.objects} objects in ${genMs.toFixed(0)} ms`);
    const started = await startServer(path.join(scratch, 'remote'));
    server = started.proc;
    const url = `${started.url}/origin.git`;
    const pusher = path.join(scratch, 'pusher');
    await git(['clone', '-q', url, pusher]);

    // 1. Cold start: clone + first snapshot, against git clone --bare.
    const cold: number[] = [];
    const coldParse: number[] = [];
    const nativeClone: number[] = [];
    let w: GitGateway | undefined;
    for (let i = 0; i < Math.min(RUNS, 3); i++) {
      const dir = path.join(scratch, `native-clone-${i}`);
      nativeClone.push((await time(() => git(['clone', '-q', '--bare', url, dir])))[0]);
      await rm(dir, { recursive: true, force: true });
      const data = path.join(scratch, `cold-${i}`);
      const candidate = gateway(url, data);
      const candidateSnapshots = createSnapshots(candidate);
      cold.push(
        (
          await time(async () => {
            await candidate.start();
            await candidateSnapshots.latest();
          })
        )[0],
      );
      const snap = await candidateSnapshots.latest();
      coldParse.push(
        (
          await time(async () => {
            for (const m of snap.manifests.values()) void m.file;
            void snap.elements;
          })
        )[0],
      );
      if (w) await w.close();
      w = candidate;
    }
    const runs = (values: number[]) => values.map((ms) => ms.toFixed(0)).join(', ');
    results.push({
      name: 'cold start: clone + first snapshot',
      ours: median(cold),
      native: median(nativeClone),
      // The first run in the process also pays for compiling the hot code and growing the heap.
      note: `runs in order: ${runs(cold)} ms; native ${runs(nativeClone)} ms`,
    });
    // Where the cold start goes: the same request, its pack only counted (server + transfer).
    const client = createSmartHttpClient({ url });
    const wants = [...new Set([...(await client.listRefs('git-upload-pack')).refs].filter(([r]) => r.startsWith('refs/heads/')).map(([, o]) => o))];
    const transfer: number[] = [];
    for (let i = 0; i < Math.min(RUNS, 3); i++) {
      transfer.push((await time(() => client.fetchPack({ wants, haves: [], onData: () => undefined })))[0]);
    }
    results.push({
      name: '(of which the server + transfer of the whole pack alone)',
      ours: median(transfer),
      note: 'the rest is indexing in JS (single thread), writing, snapshot',
    });
    results.push({ name: 'then parse all 10 manifests + protected list (src/formats)', ours: median(coldParse), note: 'not in native; lazy, on first use' });
    const ours = w!;
    const oursSnapshots = createSnapshots(ours);
    await oursSnapshots.latest();

    // 2. One-file commit + push of a new branch.
    const nativeMirror = path.join(scratch, 'native-mirror.git');
    await git(['clone', '-q', '--mirror', url, nativeMirror]);
    const pushOurs: number[] = [];
    const pushNative: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const content = `version: 1.0.0\nname: uat\napps: []\nworkflows: []\n# ${i} ${Date.now()}\n`;
      pushNative.push((await time(() => nativeCommitPush(nativeMirror, url, `bench/native-${i}-${Date.now()}`, content)))[0]);
      pushOurs.push(
        (
          await time(async () => {
            const head = await ours.headCommit();
            const commit = await ours.commit({
              parent: head,
              changes: [{ path: 'manifests/uat.yaml', bytes: Buffer.from(content) }],
              message: 'bench',
              author: { name: 'bench', email: 'bench@example.com' },
            });
            await ours.pushBranch({ branch: `mir/bench-${i}-${Date.now()}`, commit, expectedOld: null });
          })
        )[0],
      );
    }
    results.push({
      name: 'one-file commit + push of a new branch',
      ours: median(pushOurs),
      native: median(pushNative),
      note: 'pushBranch: locks + one receive-pack POST',
    });

    // 3. Fetch of one new commit: on main, then on a branch not present locally.
    const fetchMainOurs: number[] = [];
    const fetchMainNative: number[] = [];
    const fetchBranchOurs: number[] = [];
    const fetchBranchNative: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      await git(['commit', '-q', '--allow-empty', '-m', `main ${i}`], { cwd: pusher });
      await git(['push', '-q', 'origin', 'HEAD:main'], { cwd: pusher });
      fetchMainNative.push((await time(() => git(['fetch', '-q', 'origin'], { cwd: nativeMirror })))[0]);
      fetchMainOurs.push((await time(() => ours.fetchAllBranches()))[0]);

      await git(['checkout', '-q', '-B', `hotfix/bench/${i}`, 'origin/main'], { cwd: pusher });
      await git(['fetch', '-q'], { cwd: pusher });
      await git(['reset', '-q', '--hard', 'origin/main'], { cwd: pusher });
      await git(['-c', 'core.safecrlf=false', 'commit', '-q', '--allow-empty', '-m', `fix ${i}`], { cwd: pusher });
      await git(['push', '-q', 'origin', `HEAD:refs/heads/hotfix/bench/${i}`], { cwd: pusher });
      fetchBranchNative.push((await time(() => git(['fetch', '-q', 'origin'], { cwd: nativeMirror })))[0]);
      fetchBranchOurs.push((await time(() => ours.fetchAllBranches()))[0]);
      await git(['checkout', '-q', 'main'], { cwd: pusher });
    }
    results.push({ name: 'fetch of one new commit on main', ours: median(fetchMainOurs), native: median(fetchMainNative) });
    results.push({ name: 'fetch of a new branch (one commit)', ours: median(fetchBranchOurs), native: median(fetchBranchNative) });

    // 4. Snapshot rebuild after a one-manifest change.
    const rebuild: number[] = [];
    const reparse: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      await ours.withWriteLock(async () => {
        const from = await ours.headCommit();
        const to = await ours.commit({
          parent: from,
          changes: [{ path: 'manifests/inst-02.yaml', bytes: Buffer.from(`version: 1.0.0\nname: inst-02\napps: []\nworkflows: []\n# ${i}\n`) }],
          message: 'rebuild',
          author: { name: 'bench', email: 'bench@example.com' },
        });
        await ours.fastForwardDefault({ from, to });
      });
      // The snapshot of the previous commit was built in the previous round (or by cold start).
      const [ms, snap] = await time(() => oursSnapshots.latest());
      rebuild.push(ms);
      reparse.push((await time(async () => void snap.manifests.get('inst-02')?.file))[0]);
    }
    results.push({ name: 'snapshot rebuild after a one-manifest change', ours: median(rebuild), note: 'target < 50 ms' });
    results.push({ name: 'then parse the changed (small) manifest', ours: median(reparse) });
    const rss = process.memoryUsage().rss / 1024 / 1024;
    await ours.close();

    const machine = `${os.cpus()[0]?.model ?? 'unknown cpu'} × ${os.cpus().length}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, ${os.type()} ${os.release()}`;
    const gitVersion = (await git(['--version'])).trim();
    const lines = [
      `## git gateway vs native git — ${new Date().toISOString()}`,
      '',
      `Machine: ${machine}; Node ${process.version}; ${gitVersion}; load average ${loadAtStart} at the start, ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(
          ' ',
        )} at the end (other work on the machine slows both sides). Repository: ${repo.objects} objects (${APPS} apps, ${APPS * 4} artifacts, 10 manifests), served by \`git http-backend\` in a separate process on 127.0.0.1. Median of ${RUNS} runs (cold start: ${Math.min(RUNS, 3)}).`,
      '',
      '| operation | gateway (ms) | native git (ms) | ratio | note |',
      '|---|---:|---:|---:|---|',
      ...results.map(
        (r) =>
          `| ${r.name} | ${r.ours.toFixed(1)} | ${r.native === undefined ? '' : r.native.toFixed(1)} | ${r.native === undefined ? '' : `${(r.ours / r.native).toFixed(2)}×`} | ${r.note ?? ''} |`,
      ),
      '',
      `Resident memory of the benchmark process at the end: ${rss.toFixed(0)} MiB.`,
      '',
    ];
    console.log(lines.join('\n'));
    if (writeResults) await appendResults('git', lines.join('\n'));
  } finally {
    server?.kill('SIGTERM');
    await rm(scratch, { recursive: true, force: true });
  }
}

await main();
