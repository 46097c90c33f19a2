// blobId and treeId against native git: the ids `git hash-object` and `git write-tree` compute.
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import fc from 'fast-check';
import t from 'tap';
import { blobId, treeId, type TreeFile } from '../../src/git/object-id.js';

const run = promisify(execFile);
const enc = (s: string) => new TextEncoder().encode(s);

async function nativeTree(files: readonly TreeFile[]): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mir-tree-'));
  try {
    await run('git', ['init', '-q', dir]);
    for (const file of files) {
      const full = path.join(dir, ...file.path.split('/'));
      await mkdir(path.dirname(full), { recursive: true });
      await writeFile(full, file.bytes);
      if (file.executable) await chmod(full, 0o755);
    }
    await run('git', ['-C', dir, 'add', '-A']);
    return (await run('git', ['-C', dir, 'write-tree'])).stdout.trim();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

t.test('blobId is git hash-object', async (t) => {
  for (const text of ['', 'hello\n', 'x'.repeat(10_000)]) {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'mir-blob-'));
    await writeFile(path.join(dir, 'f'), text);
    const native = (await run('git', ['hash-object', path.join(dir, 'f')])).stdout.trim();
    await rm(dir, { recursive: true, force: true });
    t.equal(blobId(enc(text)), native, `${text.length} bytes`);
  }
});

t.test('treeId is git write-tree, folder ordering and modes included', async (t) => {
  const files: TreeFile[] = [
    { path: 'a.txt', bytes: enc('a') },
    { path: 'a/b.txt', bytes: enc('b') },
    { path: 'a-b', bytes: enc('dash sorts before a/ but after a') },
    { path: 'a0/deep/er/x.js', bytes: enc('x') },
    { path: 'run.sh', bytes: enc('#!/bin/sh\n'), executable: true },
    { path: 'ünï/cödé.json', bytes: enc('{}') },
  ];
  t.equal(treeId(files), await nativeTree(files));
  t.equal(treeId([...files].reverse()), treeId(files), 'input order does not matter');
  t.throws(() => treeId([{ path: '../x', bytes: enc('') }]), /\.\. segment/);
});

t.test('property: treeId matches git for generated folders', async (t) => {
  const segment = fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,6}$/).filter((s) => !s.endsWith('.') && s.toLowerCase() !== '.git');
  const filesArb = fc
    .uniqueArray(
      fc.array(segment, { minLength: 1, maxLength: 3 }).map((parts) => parts.join('/')),
      { minLength: 1, maxLength: 8 },
    )
    // A path may not be both a file and a folder.
    .filter((paths) => paths.every((p) => !paths.some((q) => q.startsWith(`${p}/`))))
    .map((paths) => paths.map((p, i): TreeFile => ({ path: p, bytes: enc(`${p}:${i}`), executable: i % 3 === 0 })));
  await fc.assert(
    fc.asyncProperty(filesArb, async (files) => treeId(files) === (await nativeTree(files))),
    { numRuns: 25 },
  );
  t.pass('25 generated folders agree with git');
});
