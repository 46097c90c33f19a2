// Remote mode against a real `git http-backend` on 127.0.0.1: the gateway keeps a bare mirror and
// pushes through smart HTTP. What lands on the remote is checked with native git.
import path from 'node:path';
import t from 'tap';
import { Mutex } from '../../src/runtime/mutex.js';
import type { GitGateway } from '../../src/git/types.js';
import { commitFiles, runGit, tempDir } from '../helpers/git-server.js';
import { author, dec, enc } from './fixtures.js';
import { looseCount, inPackCount, remoteSetup } from './remote-fixtures.js';

t.test('start mirrors every branch; pushes carry only the objects written', async (t) => {
  const { data, origin, make, git } = await remoteSetup(t);
  await commitFiles({ repo: origin, branch: 'hotfix/x/1.0', files: { 'apps/Shop/fix.js': 'fix\n' }, message: 'fix' });
  const gateway = make();
  await gateway.start();
  t.equal(gateway.mode, 'remote');
  const mirror = path.join(data, 'mirror.git');
  t.equal((await runGit(['rev-parse', '--is-bare-repository'], { cwd: mirror })).trim(), 'true');
  t.equal(await gateway.headCommit(), (await git('rev-parse', 'main')).trim());
  t.same(
    (await gateway.listBranches({})).map((b) => b.name),
    ['hotfix/x/1.0', 'main'],
  );
  t.equal(dec(await gateway.readFile({ ref: 'hotfix/x/1.0', path: 'apps/Shop/fix.js' })), 'fix\n');
  await runGit(['fsck', '--strict'], { cwd: mirror });

  const base = await gateway.headCommit();
  const commit = await gateway.commit({
    parent: base,
    changes: [{ path: 'manifests/prod.yaml', bytes: enc('version: 1.0.0\nname: prod\napps: []\nworkflows: []\n') }],
    message: 'Add prod',
    author,
  });
  const looseBefore = await looseCount(origin);
  await gateway.pushBranch({ branch: 'mir/manifest/prod/a1', commit, expectedOld: null });
  t.equal((await git('rev-parse', 'mir/manifest/prod/a1')).trim(), commit);
  t.equal(await git('show', 'mir/manifest/prod/a1:manifests/prod.yaml'), 'version: 1.0.0\nname: prod\napps: []\nworkflows: []\n');
  t.equal((await git('log', '-1', '--format=%an|%s', commit)).trim(), 'Ada Lovelace|Add prod');
  // commit + root tree + manifests/ tree + blob: receive-pack keeps small pushes loose.
  t.equal((await looseCount(origin)) - looseBefore, 4, 'exactly the four new objects were sent');
  await git('fsck', '--strict');
  t.equal(await gateway.resolveRef('mir/manifest/prod/a1'), commit, 'the mirror follows the push');

  await gateway.fastForwardDefault({ from: base, to: commit });
  t.equal((await git('rev-parse', 'main')).trim(), commit);
  t.equal(await gateway.headCommit(), commit);
  t.equal((await looseCount(origin)) - looseBefore, 4, 'nothing sent twice');

  // A commit on top of the pushed one sends only its own objects.
  const next = await gateway.commit({ parent: commit, changes: [{ path: 'manifests/dev.yaml', bytes: enc('x') }], message: 'dev', author });
  await gateway.pushBranch({ branch: 'mir/manifest/dev/b2', commit: next, expectedOld: null });
  t.equal((await looseCount(origin)) - looseBefore, 8);

  await gateway.deleteBranch({ branch: 'mir/manifest/prod/a1' });
  await t.rejects(git('rev-parse', '--verify', 'refs/heads/mir/manifest/prod/a1'));
  t.equal(await gateway.resolveRef('mir/manifest/prod/a1'), null);
  await git('fsck', '--strict');
  await runGit(['fsck', '--strict'], { cwd: mirror });
});

t.test('fetch brings only new objects, on the default branch and on a new branch', async (t) => {
  const { data, origin, make } = await remoteSetup(t);
  const gateway = make();
  await gateway.start();
  const mirror = path.join(data, 'mirror.git');
  const before = await inPackCount(mirror);
  t.same(await gateway.fetchAllBranches(), { head: await gateway.headCommit(), changed: false });

  const main2 = await commitFiles({ repo: origin, branch: 'main', files: { 'manifests/x.yaml': 'x' }, message: 'x' });
  const fix = await commitFiles({ repo: origin, branch: 'hotfix/u/2.1', files: { 'apps/Shop/main.js': 'fixed\n' }, message: 'fix' });
  const result = await gateway.fetchAllBranches();
  t.same(result, { head: main2, changed: true });
  t.equal(await gateway.resolveRef('hotfix/u/2.1'), fix);
  t.equal(dec(await gateway.readFile({ ref: 'hotfix/u/2.1', path: 'apps/Shop/main.js' })), 'fixed\n');
  // main2: commit, root tree, manifests/ tree, blob; fix: commit, root, apps/, apps/Shop/, blob.
  t.equal((await inPackCount(mirror)) - before, 9, 'only the new objects were downloaded');
  t.same(await gateway.log({ ref: 'hotfix/u/2.1', since: main2 }).then((l) => l.map((c) => c.sha)), [fix]);

  // A branch deleted on the remote disappears from the mirror.
  await runGit(['update-ref', '-d', 'refs/heads/hotfix/u/2.1'], { cwd: origin });
  await gateway.fetchAllBranches();
  t.equal(await gateway.resolveRef('hotfix/u/2.1'), null);
  await runGit(['fsck', '--strict'], { cwd: mirror });

  // A restart reuses the mirror and downloads nothing.
  await gateway.close();
  const again = make();
  const packs = await inPackCount(mirror);
  await again.start();
  t.equal(await again.headCommit(), main2);
  t.equal(await inPackCount(mirror), packs);
});

t.test('the remote refuses stale writes: non-fast-forward and compare-and-swap', async (t) => {
  const { origin, make, git, logger } = await remoteSetup(t);
  const gateway = make();
  await gateway.start();
  const base = await gateway.headCommit();
  const mine = await gateway.commit({ parent: base, changes: [{ path: 'm', bytes: enc('m') }], message: 'mine', author });

  // Someone pushes to main: the remote refuses to move it from where it no longer is.
  const theirs = await commitFiles({ repo: origin, branch: 'main', files: { t: 't' }, message: 'theirs' });
  await t.rejects(gateway.fastForwardDefault({ from: base, to: mine }), { status: 409, code: 'not_fast_forward' });
  t.equal((await git('rev-parse', 'main')).trim(), theirs);

  // The caller re-fetches and re-applies. Someone pushes between our fetch and our push: the
  // remote itself refuses.
  t.same(await gateway.fetchAllBranches(), { head: theirs, changed: true });
  const mine2 = await gateway.commit({ parent: theirs, changes: [{ path: 'm', bytes: enc('m') }], message: 'mine', author });
  let racer = '';
  await t.rejects(
    gateway.withWriteLock(async () => {
      racer = await commitFiles({ repo: origin, branch: 'main', files: { r: 'r' }, message: 'racer' });
      await gateway.fastForwardDefault({ from: theirs, to: mine2 });
    }),
    { status: 409, code: 'not_fast_forward' },
  );
  t.equal((await git('rev-parse', 'main')).trim(), racer);
  t.ok(
    logger.lines.some((l) => l.level === 'warn' && /rejected a push/.test(l.msg ?? '')),
    'the rejection is logged',
  );

  await t.rejects(
    gateway.withWriteLock(async () => {
      await commitFiles({ repo: origin, branch: 'mir/release/u/1.0.0', files: { r: 'x' }, message: 'other' });
      await gateway.pushBranch({ branch: 'mir/release/u/1.0.0', commit: mine2, expectedOld: null });
    }),
    { status: 409, code: 'branch_exists' },
    'the remote refuses to create a branch that appeared meanwhile',
  );
  const other = (await git('rev-parse', 'mir/release/u/1.0.0')).trim();
  await t.rejects(gateway.pushBranch({ branch: 'mir/release/u/1.0.0', commit: mine2, expectedOld: base }), {
    status: 409,
    code: 'push_rejected',
    details: { reason: /failed to update ref/ },
  });
  t.equal((await git('rev-parse', 'mir/release/u/1.0.0')).trim(), other, 'nothing moved');
  // Compare-and-swap against the value it really has goes through; force replaces whatever is there.
  await gateway.pushBranch({ branch: 'mir/release/u/1.0.0', commit: mine2, expectedOld: other });
  t.equal((await git('rev-parse', 'mir/release/u/1.0.0')).trim(), mine2);
  await gateway.pushBranch({ branch: 'mir/release/u/1.0.0', commit: base, expectedOld: null, force: true });
  t.equal((await git('rev-parse', 'mir/release/u/1.0.0')).trim(), base);
  await git('fsck', '--strict');
});

t.test('two gateways on one remote never lose an update', async (t) => {
  const { make, git } = await remoteSetup(t);
  const lock = new Mutex();
  const dirs = await Promise.all([tempDir(), tempDir()]);
  for (const d of dirs) t.teardown(d.remove);
  const gateways: GitGateway[] = dirs.map((d) => make({}, d.path, lock));
  await Promise.all(gateways.map((w) => w.start()));
  const increment = (gateway: GitGateway, i: number) =>
    gateway.withWriteLock(async () => {
      const head = await gateway.headCommit();
      const n = Number(dec(await gateway.readFile({ ref: head, path: 'counter' })) ?? '0');
      const next = await gateway.commit({ parent: head, changes: [{ path: 'counter', bytes: enc(String(n + 1)) }], message: `+1 ${i}`, author });
      await gateway.fastForwardDefault({ from: head, to: next });
    });
  await Promise.all(Array.from({ length: 12 }, (_, i) => increment(gateways[i % 2]!, i)));
  t.equal(await git('show', 'main:counter'), '12');
  await git('fsck', '--strict');
});

t.test('objects the remote already has are not sent again', async (t) => {
  const { make, git, logger } = await remoteSetup(t);
  const gateway = make();
  await gateway.start();
  const head = await gateway.headCommit();
  // Copying a file the remote has (the hotfix flow copies released sources back) adds no blob,
  // and hotfix/Shop/ is then the very tree apps/Shop/ is.
  const existing = await gateway.readFile({ ref: head, path: 'apps/Shop/main.js' });
  const commit = await gateway.commit({
    parent: head,
    changes: [
      { path: 'hotfix/Shop/main.js', bytes: existing! },
      { path: 'hotfix/NOTES', bytes: enc('new') },
    ],
    message: 'copy',
    author,
  });
  await gateway.pushBranch({ branch: 'hotfix/u/9.9', commit, expectedOld: null });
  const pushed = logger.lines.filter((l) => l.msg === 'pushing').at(-1)?.obj as { objects?: number } | undefined;
  t.equal(pushed?.objects, 4, 'commit, root tree, hotfix/ tree and the NOTES blob only');
  t.equal(await git('show', 'hotfix/u/9.9:hotfix/Shop/main.js'), 'shop\n');
  await git('fsck', '--strict');
});
