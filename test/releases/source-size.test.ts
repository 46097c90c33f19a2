// A release of a source folder over the artifact limit is refused from the tree's object headers,
// before any file of it is read (issue 13 item 7): the folder never costs its size in memory.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { deflateSync } from 'node:zlib';
import t from 'tap';
import { DEFAULT_ARTIFACT_LIMITS } from '../../src/formats/artifact.js';
import { buildTestApp } from '../helpers/app.js';
import { element, seed } from '../helpers/repo-fixture.js';

const run = promisify(execFile);
const API = '/api/v2/source_control';

t.test('readFolder with maxBytes sums the sizes first', async (t) => {
  const ctx = await buildTestApp(t);
  const e = element('PAGE', [], { 'a.txt': 'x'.repeat(600), 'lib/b.txt': 'y'.repeat(500) });
  const { commit } = await seed(ctx.git, { elements: [e] });
  const folder = `apps/${e.name}`;
  t.same(
    (await ctx.git.readFolder({ ref: commit, path: folder, maxBytes: 1100 }))?.map((f) => [f.path, f.bytes.length]),
    [
      ['a.txt', 600],
      ['lib/b.txt', 500],
    ],
    'at the limit: read',
  );
  await t.rejects(ctx.git.readFolder({ ref: commit, path: folder, maxBytes: 1099 }), {
    code: 'artifact_too_large',
    status: 422,
    details: { path: folder, limit: 'total_bytes', max: 1099, reason: 'source folder holds 1100 bytes in 2 files' },
  });
  t.equal((await ctx.git.readFolder({ ref: commit, path: folder }))?.length, 2, 'no maxBytes: no limit');
});

t.test('POST a release of an app holding a file over the limit: 422 before the file is read', async (t) => {
  const ctx = await buildTestApp(t);
  const e = element('PAGE', []);
  await seed(ctx.git, { elements: [e] });
  // Committed with plain git: a blob whose header says one byte over the limit and whose content
  // is not there. Its size is known from the header; reading it would fail (a 500, not this 422),
  // so the answer shows the blob was never read — and the test does not write 256 MiB.
  const repo = path.join(ctx.config.dataDir, 'repo.git');
  const size = DEFAULT_ARTIFACT_LIMITS.maxTotalBytes + 1;
  const object = Buffer.concat([Buffer.from(`blob ${size}\0`), Buffer.from('the rest was never written')]);
  const oid = createHash('sha1').update(object).digest('hex');
  await mkdir(path.join(repo, 'objects', oid.slice(0, 2)), { recursive: true });
  await writeFile(path.join(repo, 'objects', oid.slice(0, 2), oid.slice(2)), deflateSync(object));
  const index = path.join(await mkdtemp(path.join(os.tmpdir(), 'mir-index-')), 'index');
  t.teardown(() => rm(path.dirname(index), { recursive: true, force: true }));
  const env = {
    ...process.env,
    GIT_INDEX_FILE: index,
    GIT_AUTHOR_NAME: 'Editor',
    GIT_AUTHOR_EMAIL: 'editor@example.com',
    GIT_COMMITTER_NAME: 'Editor',
    GIT_COMMITTER_EMAIL: 'editor@example.com',
  };
  const git = async (...args: string[]) => (await run('git', ['--git-dir', repo, ...args], { env })).stdout.trim();
  await git('read-tree', 'main');
  await git('update-index', '--add', '--cacheinfo', `100644,${oid},apps/${e.name}/huge.bin`);
  const commit = await git('commit-tree', await git('write-tree'), '-p', 'main', '-m', 'Add a huge file');
  await git('update-ref', 'refs/heads/main', commit);
  await ctx.git.fetchAllBranches();
  const writer = await ctx.tokenFor('source_control:releases_write');

  const res = await ctx.app.inject({
    method: 'POST',
    url: `${API}/releases/${e.uuid}?elementType=PAGE`,
    headers: ctx.auth(writer),
    payload: { release_version: '1.0.0' },
  });
  t.equal(res.statusCode, 422, res.body);
  t.match(res.json(), {
    code: 'artifact_too_large',
    limit: 'total_bytes',
    max: DEFAULT_ARTIFACT_LIMITS.maxTotalBytes,
    path: `apps/${e.name}`,
    reason: /^source folder holds \d+ bytes in 3 files$/,
  });
  t.ok(Number(/holds (\d+)/.exec(res.json().reason)![1]) > size, 'the size is the sum of the headers');
  t.same(await ctx.app.services.pullRequests.list({}), [], 'no pull request');
});
