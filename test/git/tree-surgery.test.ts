import t, { type Test } from 'tap';
import { EMPTY_TREE } from '../../src/git/object-formats.js';
import { createObjectStore } from '../../src/git/object-store.js';
import { applyChanges } from '../../src/git/tree-surgery.js';
import { createBareRepo, runGit, tempDir } from '../helpers/git-server.js';

const enc = (s: string) => new TextEncoder().encode(s);

async function setup(t: Test) {
  const dir = await tempDir();
  t.teardown(dir.remove);
  const repo = await createBareRepo({
    root: dir.path,
    name: 'r',
    files: {
      'README.md': 'hello\n',
      'apps/a/main.js': 'a\n',
      'apps/b/main.js': 'b\n',
      'dist/apps/x/1.0.0.zip': 'zip\n',
      'tools/run.sh': '#!/bin/sh\n',
    },
  });
  const head = (await runGit(['rev-parse', 'main'], { cwd: repo })).trim();
  const tree = (await runGit(['rev-parse', 'main^{tree}'], { cwd: repo })).trim();
  return { repo, head, tree, store: createObjectStore(repo) };
}

async function lsTree(repo: string, tree: string): Promise<string> {
  return runGit(['ls-tree', '-r', tree], { cwd: repo });
}

t.test('rewrites only the trees on changed paths and keeps the others', async (t) => {
  const { repo, tree, store } = await setup(t);
  const before = new Map(
    (await lsTree(repo, tree))
      .trim()
      .split('\n')
      .map((l) => [l.split('\t')[1]!, l.split('\t')[0]!]),
  );
  const next = await applyChanges(store, {
    baseTree: tree,
    changes: [
      { path: 'apps/a/main.js', bytes: enc('a2\n') },
      { path: 'manifests/prod.yaml', bytes: enc('version: 1.0.0\n') },
      { path: 'dist/apps/x/1.0.0.zip', delete: true },
    ],
  });
  const after = await lsTree(repo, next);
  t.match(after, /\tapps\/a\/main.js\n/);
  t.match(after, /\tmanifests\/prod.yaml\n/);
  t.notMatch(after, /dist\//, 'a folder left empty disappears');
  t.equal(await runGit(['show', `${next}:apps/a/main.js`], { cwd: repo }), 'a2\n');
  // Untouched subtrees keep their oid: apps/b is the very same tree object.
  const subtree = async (tr: string, p: string) => (await runGit(['rev-parse', `${tr}:${p}`], { cwd: repo })).trim();
  t.equal(await subtree(next, 'apps/b'), await subtree(tree, 'apps/b'));
  t.equal(await subtree(next, 'tools'), await subtree(tree, 'tools'));
  t.not(await subtree(next, 'apps'), await subtree(tree, 'apps'));
  t.equal(before.get('tools/run.sh')!.split(' ')[0], '100644');
  // The written objects pass git's strictest check once reachable.
  const commit = (await runGit(['commit-tree', next, '-m', 'x'], { cwd: repo })).trim();
  await runGit(['update-ref', 'refs/heads/check', commit], { cwd: repo });
  await runGit(['fsck', '--strict', '--no-dangling'], { cwd: repo });
});

t.test('keeps the mode of an existing executable and sorts like git', async (t) => {
  const { repo, tree, store } = await setup(t);
  await runGit(['update-ref', 'refs/heads/x', 'main'], { cwd: repo });
  const withExec = (
    await runGit(['mktree'], {
      cwd: repo,
      input: (await runGit(['ls-tree', tree], { cwd: repo })).replace(/^100644 (blob \S+\tREADME.md)$/m, '100755 $1'),
    })
  ).trim();
  const next = await applyChanges(store, {
    baseTree: withExec,
    changes: [
      { path: 'README.md', bytes: enc('changed\n') },
      // "apps.txt" sorts after the folder "apps" ("apps/" < "apps.") — git's tree order.
      { path: 'apps.txt', bytes: enc('x\n') },
      { path: 'apps-b/y', bytes: enc('y\n') },
    ],
  });
  t.match(await runGit(['ls-tree', next], { cwd: repo }), /^100755 blob \S+\tREADME.md$/m);
  const commit = (await runGit(['commit-tree', next, '-m', 'x'], { cwd: repo })).trim();
  await runGit(['update-ref', 'refs/heads/check', commit], { cwd: repo });
  await runGit(['fsck', '--strict', '--no-dangling'], { cwd: repo });
});

t.test('an unchanged write returns the same tree; an empty result is the empty tree', async (t) => {
  const { tree, store } = await setup(t);
  t.equal(await applyChanges(store, { baseTree: tree, changes: [{ path: 'README.md', bytes: enc('hello\n') }] }), tree);
  t.equal(await applyChanges(store, { baseTree: tree, changes: [{ path: 'nope/x', delete: true }] }), tree);
  const emptied = await applyChanges(store, {
    baseTree: tree,
    changes: ['README.md', 'apps', 'dist', 'tools'].map((p) => ({ path: p, delete: true as const })),
  });
  t.equal(emptied, EMPTY_TREE);
});

t.test('refuses paths that escape the tree or collide', async (t) => {
  const { tree, store } = await setup(t);
  for (const bad of ['../x', '/abs', 'a//b', 'a/./b', '.git/config', 'a/.GIT/x', '', 'a\0b']) {
    await t.rejects(applyChanges(store, { baseTree: tree, changes: [{ path: bad, bytes: enc('x') }] }), { status: 500, code: 'internal_error' }, bad);
  }
  await t.rejects(applyChanges(store, { baseTree: tree, changes: [{ path: 'apps', bytes: enc('x') }] }), /it is a tree/);
  await t.rejects(applyChanges(store, { baseTree: tree, changes: [{ path: 'README.md/x', bytes: enc('x') }] }), /not a folder/);
  await t.rejects(
    applyChanges(store, {
      baseTree: tree,
      changes: [
        { path: 'a', bytes: enc('x') },
        { path: 'a', delete: true },
      ],
    }),
    /changed twice/,
  );
  await t.rejects(
    applyChanges(store, {
      baseTree: tree,
      changes: [
        { path: 'a', bytes: enc('x') },
        { path: 'a/b', bytes: enc('y') },
      ],
    }),
    /under a file|folder of other/,
  );
});
