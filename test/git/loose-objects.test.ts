// The loose-object writer against native git and against isomorphic-git, which wrote every object
// before it: the same ids for the same content, objects `git fsck --strict` accepts, and the tree
// entry names git refuses still refused.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import fc from 'fast-check';
import git from 'isomorphic-git';
import t, { type Test } from 'tap';
import { EMPTY_TREE, type CommitObject } from '../../src/git/object-formats.js';
import { createObjectStore } from '../../src/git/object-store.js';
import { applyChanges } from '../../src/git/tree-surgery.js';
import { runGit, tempDir } from '../helpers/git-server.js';

const enc = (s: string) => new TextEncoder().encode(s);

async function bareRepo(t: Test): Promise<string> {
  const dir = await tempDir();
  t.teardown(dir.remove);
  await runGit(['init', '-q', '--bare', dir.path]);
  return dir.path;
}

async function looseFiles(gitdir: string): Promise<string[]> {
  const objects = path.join(gitdir, 'objects');
  const found: string[] = [];
  for (const dir of await readdir(objects)) {
    if (!/^[0-9a-f]{2}$/.test(dir)) continue;
    for (const name of await readdir(path.join(objects, dir))) found.push(`${dir}${name}`);
  }
  return found.sort();
}

// Names whose order differs between a plain sort and git's (a folder sorts as `name/`), non-ASCII
// ones (git compares bytes), and an executable.
const NAMES = ['a', 'a.b', 'a-b', 'a0', 'ab', 'B', 'é', 'z日本', 'main.json', 'run.sh'];
const fileTree = fc.uniqueArray(fc.tuple(fc.array(fc.constantFrom(...NAMES), { minLength: 1, maxLength: 3 }), fc.string({ maxLength: 20 })), {
  minLength: 1,
  maxLength: 12,
  selector: ([segments]) => segments.join('/'),
});

t.test('trees are the ones native git writes for the same files, and pass git fsck --strict', async (t) => {
  await fc.assert(
    fc.asyncProperty(fileTree, async (files) => {
      // A path that is also a folder of another cannot exist in one tree: keep the first of the two.
      const kept: [string, string][] = [];
      for (const [segments, text] of files) {
        const file = segments.join('/');
        if (kept.some(([other]) => other.startsWith(`${file}/`) || file.startsWith(`${other}/`))) continue;
        kept.push([file, text]);
      }
      const gitdir = await tempDir();
      try {
        await runGit(['init', '-q', '--bare', gitdir.path]);
        const store = createObjectStore(gitdir.path);
        const ours = await applyChanges(store, { baseTree: EMPTY_TREE, changes: kept.map(([p, text]) => ({ path: p, bytes: enc(text) })) });
        // Native: the same files through the index (`update-index --add --cacheinfo`, then write-tree).
        for (const [p, text] of kept) {
          const blob = (await runGit(['hash-object', '-w', '--stdin'], { cwd: gitdir.path, input: text })).trim();
          await runGit(['update-index', '--add', '--cacheinfo', `100644,${blob},${p}`], { cwd: gitdir.path });
        }
        const native = (await runGit(['write-tree'], { cwd: gitdir.path })).trim();
        t.equal(ours, native, `the tree of ${kept.map(([p]) => p).join(', ')}`);
        await runGit(['fsck', '--strict', '--no-dangling'], { cwd: gitdir.path });
      } finally {
        await gitdir.remove();
      }
    }),
    { numRuns: 25 },
  );
});

t.test('commits have the ids isomorphic-git gave the same commits, and git reads them back', async (t) => {
  const ours = await bareRepo(t);
  const theirs = await bareRepo(t);
  const store = createObjectStore(ours);
  const tree = await store.writeTree([{ mode: '100644', path: 'README.md', oid: await store.writeBlob(enc('hello\n')), type: 'blob' }]);
  const person = (timezoneOffset: number) => ({ name: 'Grace Hopper', email: 'grace@example.com', timestamp: 1767225600, timezoneOffset });
  const messages = ['Publish 1.0.0\n', 'no newline', '\n\nleading blank lines\r\nand CRLF\r\n\n\n', 'Ünïcödé — 日本\n\nbody\n'];
  let parent: string[] = [];
  for (const [i, message] of messages.entries()) {
    const commit: CommitObject = { message, tree, parent, author: person([0, -120, 330, 60][i]!), committer: person([0, 0, -330, 0][i]!) };
    const id = await store.writeCommit(commit);
    const expected = await git.writeCommit({
      fs,
      gitdir: theirs,
      commit: { ...commit, parent: [...parent], author: { ...commit.author }, committer: { ...commit.committer } },
    });
    t.equal(id, expected, `commit ${i} (${JSON.stringify(message)})`);
    t.same(await store.readCommit(id), { ...commit, message: (await store.readCommit(id)).message }, `commit ${i} reads back`);
    t.match(await runGit(['cat-file', '-p', id], { cwd: ours }), new RegExp(`^tree ${tree}\n`), 'native git reads it');
    parent = i === 2 ? [id, parent[0]!] : [id];
  }
  await runGit(['fsck', '--strict', '--no-dangling'], { cwd: ours });
});

t.test('a large blob (deflated off the event loop) and a blob written twice', async (t) => {
  const gitdir = await bareRepo(t);
  const store = createObjectStore(gitdir);
  const big = randomBytes(300 * 1024);
  const id = await store.writeBlob(big);
  t.equal(id, (await runGit(['hash-object', '--stdin'], { cwd: gitdir, input: big })).trim(), 'the id native git computes');
  t.same(Buffer.from(await store.readBlob(id)), big, 'read back');
  t.equal((await runGit(['cat-file', '-s', id], { cwd: gitdir })).trim(), String(big.length), 'native git reads its size');
  const file = path.join(gitdir, 'objects', id.slice(0, 2), id.slice(2));
  const before = await stat(file);
  t.equal(await store.writeBlob(big), id, 'the same id the second time');
  t.equal((await stat(file)).mtimeMs, before.mtimeMs, 'the stored object is not written again');
  t.same(await looseFiles(gitdir), [id], 'one object, no temp file left');
});

t.test('tree entry names git refuses are refused, and nothing is written', async (t) => {
  const gitdir = await bareRepo(t);
  const store = createObjectStore(gitdir);
  const oid = await store.writeBlob(enc('x'));
  const written = await looseFiles(gitdir);
  for (const name of ['.git', '.GIT', 'git~1', '.git.', '.git ', '.git::$INDEX_ALLOCATION', '.g\u200Cit', 'a\\b', 'a/b', '..', '. .', '', 'a\0b']) {
    await t.rejects(store.writeTree([{ mode: '100644', path: name, oid, type: 'blob' }]), TypeError, JSON.stringify(name));
  }
  t.same(await looseFiles(gitdir), written, 'no tree was written');
  // Close to those but fine: git checks these out.
  for (const name of ['.gitignore', 'git~0', 'a.git', '...x', 'x:y']) {
    t.ok(await store.writeTree([{ mode: '100644', path: name, oid, type: 'blob' }]), JSON.stringify(name));
  }
});
