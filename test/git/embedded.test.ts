// Embedded mode: <dataDir>/repo.git is the repository. Every write is checked with native git.
import path from 'node:path';
import t, { type Test } from 'tap';
import { Mutex } from '../../src/runtime/mutex.js';
import { createSnapshots } from '../../src/snapshots/snapshots.js';
import { INITIAL_FILES } from '../../src/git/gateway.js';
import { commitFiles, runGit, tempDir } from '../helpers/git-server.js';
import { author, dec, enc, makeGateway } from './fixtures.js';

async function started(t: Test) {
  const dir = await tempDir();
  t.teardown(dir.remove);
  const gateway = makeGateway({ dataDir: dir.path });
  await gateway.start();
  t.teardown(() => gateway.close());
  const repo = path.join(dir.path, 'repo.git');
  return { dir: dir.path, repo, gateway, git: (...args: string[]) => runGit(args, { cwd: repo }) };
}

t.test('first start creates a bare repository with one initial commit on the default branch', async (t) => {
  const { dir, repo, gateway, git } = await started(t);
  t.equal(gateway.mode, 'embedded');
  t.equal((await git('rev-parse', '--is-bare-repository')).trim(), 'true');
  t.equal((await git('symbolic-ref', 'HEAD')).trim(), 'refs/heads/main');
  t.equal((await git('rev-list', '--count', 'main')).trim(), '1');
  const files = (await git('ls-tree', '-r', '--name-only', 'main')).trim().split('\n');
  t.same(files.sort(), INITIAL_FILES.map((f) => f.path).sort());
  await git('fsck', '--strict');
  const head = await gateway.headCommit();
  t.equal(head, (await git('rev-parse', 'main')).trim());

  // A second start on the same data directory keeps the repository as it is.
  const again = makeGateway({ dataDir: dir });
  await again.start();
  t.teardown(() => again.close());
  t.equal(await again.headCommit(), head);
  t.equal((await git('rev-list', '--count', 'main')).trim(), '1');
  t.ok(repo);
});

t.test('commit + pushBranch + fastForwardDefault + deleteBranch, checked with native git', async (t) => {
  const { gateway, git } = await started(t);
  const base = await gateway.headCommit();
  const commit = await gateway.commit({
    parent: base,
    changes: [
      { path: 'manifests/prod.yaml', bytes: enc('version: 1.0.0\nname: prod\napps: []\nworkflows: []\n') },
      { path: 'README.md', delete: true },
    ],
    message: 'Add the prod manifest',
    author,
  });
  t.equal((await git('cat-file', '-t', commit)).trim(), 'commit');
  t.equal((await git('log', '-1', '--format=%an <%ae>|%s|%P', commit)).trim(), `Ada Lovelace <ada@example.com>|Add the prod manifest|${base}`);
  t.equal(await gateway.resolveRef('mir/manifest/prod/abc'), null, 'commit moves no ref');

  await gateway.pushBranch({ branch: 'mir/manifest/prod/abc', commit, expectedOld: null });
  t.equal((await git('rev-parse', 'mir/manifest/prod/abc')).trim(), commit);
  t.equal(await git('show', 'mir/manifest/prod/abc:manifests/prod.yaml'), 'version: 1.0.0\nname: prod\napps: []\nworkflows: []\n');
  await git('fsck', '--strict');

  await gateway.fastForwardDefault({ from: base, to: commit });
  t.equal((await git('rev-parse', 'main')).trim(), commit);
  t.equal(await gateway.headCommit(), commit);
  await git('fsck', '--strict');

  await gateway.deleteBranch({ branch: 'mir/manifest/prod/abc' });
  await t.rejects(git('rev-parse', '--verify', 'refs/heads/mir/manifest/prod/abc'));
  await t.rejects(gateway.deleteBranch({ branch: 'mir/manifest/prod/abc' }), { status: 404, code: 'branch_not_found' });
  await git('fsck', '--strict');
});

t.test('pushBranch compares and swaps against expectedOld', async (t) => {
  const { gateway, git } = await started(t);
  const base = await gateway.headCommit();
  const one = await gateway.commit({ parent: base, changes: [{ path: 'a.txt', bytes: enc('1') }], message: 'one', author });
  const two = await gateway.commit({ parent: one, changes: [{ path: 'a.txt', bytes: enc('2') }], message: 'two', author });
  await gateway.pushBranch({ branch: 'hotfix/x/1.2', commit: one, expectedOld: null });
  await t.rejects(gateway.pushBranch({ branch: 'hotfix/x/1.2', commit: two, expectedOld: null }), { status: 409, code: 'branch_exists' });
  await t.rejects(gateway.pushBranch({ branch: 'hotfix/x/1.2', commit: two, expectedOld: base }), { status: 409, code: 'push_rejected' });
  t.equal((await git('rev-parse', 'hotfix/x/1.2')).trim(), one, 'a refused push moves nothing');
  await gateway.pushBranch({ branch: 'hotfix/x/1.2', commit: two, expectedOld: one });
  t.equal((await git('rev-parse', 'hotfix/x/1.2')).trim(), two);
  await gateway.pushBranch({ branch: 'hotfix/x/1.2', commit: base, expectedOld: null, force: true });
  t.equal((await git('rev-parse', 'hotfix/x/1.2')).trim(), base);
  await t.rejects(gateway.pushBranch({ branch: 'main', commit: two, expectedOld: base }), { status: 500, code: 'internal_error' }, 'never the default branch');
  await t.rejects(gateway.pushBranch({ branch: 'bad..name', commit: two, expectedOld: null }), { status: 500, code: 'internal_error' });
  await git('fsck', '--strict');
});

t.test('fastForwardDefault refuses a moved default branch and a non-descendant', async (t) => {
  const { gateway, repo, git } = await started(t);
  const base = await gateway.headCommit();
  const mine = await gateway.commit({ parent: base, changes: [{ path: 'mine.txt', bytes: enc('m') }], message: 'mine', author });
  // Someone pushes to the embedded repository with plain git meanwhile.
  const theirs = await commitFiles({ repo, branch: 'main', files: { 'theirs.txt': 't' }, message: 'theirs' });
  await t.rejects(gateway.fastForwardDefault({ from: base, to: mine }), { status: 409, code: 'not_fast_forward' });
  t.equal((await git('rev-parse', 'main')).trim(), theirs);
  const sideways = await gateway.commit({ parent: base, changes: [{ path: 's.txt', bytes: enc('s') }], message: 's', author });
  await t.rejects(gateway.fastForwardDefault({ from: theirs, to: sideways }), { status: 409, code: 'not_fast_forward' });
  // Re-applied on the new head, it goes through.
  const again = await gateway.commit({ parent: theirs, changes: [{ path: 'mine.txt', bytes: enc('m') }], message: 'mine', author });
  await gateway.fastForwardDefault({ from: theirs, to: again });
  t.equal(await git('show', 'main:theirs.txt'), 't');
  t.equal(await git('show', 'main:mine.txt'), 'm');
  await git('fsck', '--strict');
});

t.test('reads: files, folders, refs, branches, log', async (t) => {
  const { gateway, repo } = await started(t);
  const base = await gateway.headCommit();
  const c1 = await gateway.commit({
    parent: base,
    changes: [
      { path: 'apps/Shop/b.json', bytes: enc('b') },
      { path: 'apps/Shop/a.json', bytes: enc('a') },
      { path: 'apps/Shop/lib/z.js', bytes: enc('z') },
      { path: 'apps/Shop-old/x', bytes: enc('x') },
    ],
    message: 'c1',
    author,
  });
  await gateway.pushBranch({ branch: 'hotfix/u/1.0', commit: c1, expectedOld: null });
  const c2 = await gateway.commit({ parent: c1, changes: [{ path: 'apps/Shop/a.json', bytes: enc('a2') }], message: 'c2', author });
  await gateway.pushBranch({ branch: 'hotfix/u/1.0', commit: c2, expectedOld: c1 });
  await gateway.pushBranch({ branch: 'mir/release/u/1.0.1', commit: c1, expectedOld: null });

  t.equal(dec(await gateway.readFile({ ref: 'hotfix/u/1.0', path: 'apps/Shop/a.json' })), 'a2');
  t.equal(dec(await gateway.readFile({ ref: c1, path: 'apps/Shop/a.json' })), 'a');
  t.equal(dec(await gateway.readFile({ ref: 'refs/heads/hotfix/u/1.0', path: 'apps/Shop/b.json' })), 'b');
  t.equal(await gateway.readFile({ ref: 'main', path: 'apps/Shop/a.json' }), null);
  t.equal(await gateway.readFile({ ref: 'nope', path: 'README.md' }), null);
  t.equal(await gateway.readFile({ ref: 'hotfix/u/1.0', path: 'apps/Shop' }), null, 'a folder is not a file');
  t.equal(await gateway.readFile({ ref: 'f'.repeat(40), path: 'README.md' }), null);

  const folder = await gateway.readFolder({ ref: 'hotfix/u/1.0', path: 'apps/Shop' });
  t.same(
    folder?.map((f) => [f.path, dec(f.bytes)]),
    [
      ['a.json', 'a2'],
      ['b.json', 'b'],
      ['lib/z.js', 'z'],
    ],
  );
  t.equal(await gateway.readFolder({ ref: 'main', path: 'apps/Shop' }), null);
  t.equal(await gateway.readFolder({ ref: 'hotfix/u/1.0', path: 'apps/Shop/a.json' }), null);

  t.equal(await gateway.resolveRef('hotfix/u/1.0'), c2);
  t.equal(await gateway.resolveRef(c1), c1);
  t.equal(await gateway.resolveRef('../../config'), null);
  t.same(await gateway.listBranches({ prefix: 'hotfix/' }), [{ name: 'hotfix/u/1.0', sha: c2 }]);
  t.same(
    (await gateway.listBranches({})).map((b) => b.name),
    ['hotfix/u/1.0', 'main', 'mir/release/u/1.0.1'],
  );

  const log = await gateway.log({ ref: 'hotfix/u/1.0', since: base });
  t.same(
    log.map((c) => c.sha),
    [c2, c1],
  );
  t.same(log[0]?.parents, [c1]);
  t.equal(log[0]?.message, 'c2\n');
  t.equal(log[0]?.author.email, author.email);
  t.same(
    (await gateway.log({ ref: 'hotfix/u/1.0', since: c1 })).map((c) => c.sha),
    [c2],
  );
  t.equal((await gateway.log({ ref: 'hotfix/u/1.0' })).length, 3);
  await t.rejects(gateway.log({ ref: 'nope' }), { status: 404, code: 'branch_not_found' });
  t.ok(repo);
});

t.test('fetch notices commits pushed to the embedded repository with plain git', async (t) => {
  const { gateway, repo } = await started(t);
  const before = await gateway.fetchAllBranches();
  t.equal(before.changed, false);
  const theirs = await commitFiles({ repo, branch: 'main', files: { 'x.txt': 'x' }, message: 'x' });
  const after = await gateway.fetchAllBranches();
  t.same(after, { head: theirs, changed: true });
  t.equal(dec(await gateway.readFile({ ref: 'main', path: 'x.txt' })), 'x');
  t.same(await gateway.fetchAllBranches(), { head: theirs, changed: false });
});

t.test('concurrent writes through withWriteLock never lose an update', async (t) => {
  const dir = await tempDir();
  t.teardown(dir.remove);
  // Two gateways on one repository sharing one lock: what two processes with the advisory lock do.
  const lock = new Mutex();
  const a = makeGateway({ dataDir: dir.path, lock });
  const b = makeGateway({ dataDir: dir.path, lock });
  await a.start();
  await b.start();
  t.teardown(() => Promise.all([a.close(), b.close()]));

  const increment = (gateway: typeof a, i: number) =>
    gateway.withWriteLock(async () => {
      const head = await gateway.headCommit();
      const current = Number(dec(await gateway.readFile({ ref: head, path: 'counter' })) ?? '0');
      // Yield so that, without the lock, the other writers would interleave here.
      await new Promise((r) => setTimeout(r, 1));
      const next = await gateway.commit({ parent: head, changes: [{ path: 'counter', bytes: enc(String(current + 1)) }], message: `+1 (${i})`, author });
      await gateway.fastForwardDefault({ from: head, to: next });
    });
  await Promise.all(Array.from({ length: 20 }, (_, i) => increment(i % 2 === 0 ? a : b, i)));
  const repo = path.join(dir.path, 'repo.git');
  t.equal(await runGit(['show', 'main:counter'], { cwd: repo }), '20');
  t.equal((await runGit(['rev-list', '--count', 'main'], { cwd: repo })).trim(), '21');
  await runGit(['fsck', '--strict'], { cwd: repo });
});

t.test('close waits for writes in flight and refuses new ones', async (t) => {
  const { gateway } = await started(t);
  const base = await gateway.headCommit();
  let finished = false;
  const write = gateway.withWriteLock(async () => {
    await new Promise((r) => setTimeout(r, 50));
    finished = true;
  });
  await new Promise((r) => setTimeout(r, 5));
  await gateway.close();
  t.equal(finished, true);
  await write;
  await t.rejects(gateway.pushBranch({ branch: 'x', commit: base, expectedOld: null }), { status: 503, code: 'git_unavailable' });
});

t.test('keeps working after native git gc repacks the embedded repository', async (t) => {
  const { gateway, git } = await started(t);
  const base = await gateway.headCommit();
  const one = await gateway.commit({ parent: base, changes: [{ path: 'apps/A/a.txt', bytes: enc('a') }], message: 'one', author });
  await gateway.fastForwardDefault({ from: base, to: one });
  t.equal(dec(await gateway.readFile({ ref: 'main', path: 'apps/A/a.txt' })), 'a');
  const snapshots = createSnapshots(gateway);
  await snapshots.latest();
  // Everything loose goes into a pack; run twice so the first pack is replaced by another.
  await git('gc', '--quiet', '--prune=now');
  const two = await gateway.commit({ parent: one, changes: [{ path: 'apps/A/b.txt', bytes: enc('b') }], message: 'two', author });
  await gateway.fastForwardDefault({ from: one, to: two });
  await git('repack', '-a', '-d', '-f', '-q');
  await git('prune-packed');
  t.equal(dec(await gateway.readFile({ ref: 'main', path: 'apps/A/a.txt' })), 'a');
  t.same(
    (await gateway.readFolder({ ref: 'main', path: 'apps/A' }))?.map((f) => f.path),
    ['a.txt', 'b.txt'],
  );
  t.equal((await snapshots.latest()).commit, two);
  const three = await gateway.commit({ parent: two, changes: [{ path: 'apps/A/c.txt', bytes: enc('c') }], message: 'three', author });
  await gateway.pushBranch({ branch: 'mir/after-gc', commit: three, expectedOld: null });
  t.equal(await git('show', 'mir/after-gc:apps/A/c.txt'), 'c');
  await git('fsck', '--strict');
});
