// The reconciler: when the default branch moves, an open pull request whose branch no longer
// applies cleanly is rebuilt from its intent on the new default branch (so a forge's text merge of
// it is clean), and one whose intent truly conflicts is marked conflicted. Checked with native git:
// `git merge-tree` is what a forge's merge button does.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { element, manifestName, manifestYaml, seed, elementsInUuidOrder, type FixtureElement } from '../helpers/repo-fixture.js';

const run = promisify(execFile);
const API = '/api/v2/source_control';

function gitIn(ctx: TestApp) {
  const gitDir = path.join(ctx.config.dataDir, 'repo.git');
  return {
    out: async (...args: string[]) => (await run('git', ['--git-dir', gitDir, ...args])).stdout.trim(),
    /** Exit code 0: a clean text merge; 1: conflicts. */
    mergesCleanly: async (ours: string, theirs: string) =>
      run('git', ['--git-dir', gitDir, 'merge-tree', '--write-tree', '--no-messages', ours, theirs]).then(
        () => true,
        (error: { code?: number }) => {
          if (error.code === 1) return false;
          throw error;
        },
      ),
  };
}

t.test('two pull requests on neighbouring entries: merging the first leaves the second mergeable after reconciliation', async (t) => {
  const ctx = await buildTestApp(t);
  const { app } = ctx;
  const git = gitIn(ctx);
  // Four apps in uuid order: the manifest holds the first and the last; the two pull requests add
  // the middle two, so both insert their lines at the same place in the file.
  const [x, a, b, z] = elementsInUuidOrder(4, 'PAGE', ['1.0.0', '2.0.0']) as [FixtureElement, FixtureElement, FixtureElement, FixtureElement];
  const name = manifestName('prod');
  await seed(ctx.git, {
    elements: [x, a, b, z],
    manifests: {
      [name]: manifestYaml(name, {
        apps: [
          [x.uuid, '1.0.0'],
          [z.uuid, '1.0.0'],
        ],
      }),
    },
  });
  const writer = await ctx.tokenFor('source_control:releases_write');
  const set = async (uuid: string, release: string) => {
    const res = await app.inject({ method: 'PUT', url: `${API}/manifests/${name}/${uuid}?elementType=PAGE`, headers: ctx.auth(writer), payload: { release } });
    t.equal(res.statusCode, 200, res.body);
    return res.json().data as { branch_name: string; pull_request: { number: number } };
  };
  const first = await set(a.uuid, '1.0.0');
  const second = await set(b.uuid, '1.0.0');
  t.ok(await git.mergesCleanly('main', second.branch_name), 'before anything merges, the second merges cleanly');

  const merged = await app.inject({ method: 'POST', url: `${API}/pull_requests/${first.pull_request.number}/merge`, headers: ctx.auth(writer) });
  t.equal(merged.statusCode, 200);
  const staleHead = await git.out('rev-parse', second.branch_name);
  t.notOk(await git.mergesCleanly('main', second.branch_name), 'after the first merged, a text merge of the second conflicts');

  await app.services.pullRequestSync.reconcileAll();
  const main = await git.out('rev-parse', 'main');
  const rebuilt = await git.out('rev-parse', second.branch_name);
  t.not(rebuilt, staleHead, 'the branch was rebuilt and force-pushed');
  t.equal(await git.out('rev-parse', `${second.branch_name}^`), main, 'on top of the new default branch');
  t.ok(await git.mergesCleanly('main', second.branch_name), 'and now merges cleanly');
  t.equal(
    await git.out('show', `${second.branch_name}:manifests/${name}.yaml`),
    manifestYaml(name, {
      apps: [
        [x.uuid, '1.0.0'],
        [a.uuid, '1.0.0'],
        [b.uuid, '1.0.0'],
        [z.uuid, '1.0.0'],
      ],
    }).trim(),
    'the rebuilt branch holds both entries',
  );
  const view = await app.inject({ method: 'GET', url: `${API}/pull_requests/${second.pull_request.number}`, headers: ctx.auth(writer) });
  t.match(view.json().data.pull_request, { state: 'open', base_commit: main, head_commit: rebuilt });
  const audit = await app.services.audit.list({ target: `pull_request:${second.pull_request.number}` });
  t.match(audit, [{ action: 'pull_request.rebuild', details: { previous_head: staleHead, head_commit: rebuilt } }]);

  const again = await app.inject({ method: 'POST', url: `${API}/pull_requests/${second.pull_request.number}/refresh`, headers: ctx.auth(writer) });
  t.equal(again.statusCode, 200);
  t.equal(again.json().data.action, 'up_to_date', 'refreshing an up-to-date pull request changes nothing');
  t.equal(await git.out('rev-parse', second.branch_name), rebuilt);

  const mergedSecond = await app.inject({ method: 'POST', url: `${API}/pull_requests/${second.pull_request.number}/merge`, headers: ctx.auth(writer) });
  t.equal(mergedSecond.statusCode, 200);
  t.equal(
    await git.out('show', `main:manifests/${name}.yaml`),
    manifestYaml(name, {
      apps: [
        [x.uuid, '1.0.0'],
        [a.uuid, '1.0.0'],
        [b.uuid, '1.0.0'],
        [z.uuid, '1.0.0'],
      ],
    }).trim(),
    'both entries are on the default branch',
  );
});

t.test('refresh: an intent that truly conflicts is marked conflicted; unrelated moves leave a branch alone', async (t) => {
  const ctx = await buildTestApp(t);
  const { app } = ctx;
  const git = gitIn(ctx);
  const x = element('PAGE', ['1.0.0', '2.0.0']);
  const y = element('WORKFLOW', ['1.0.0']);
  const name = manifestName('prod');
  const other = manifestName('dev');
  await seed(ctx.git, { elements: [x, y], manifests: { [name]: manifestYaml(name, { apps: [[x.uuid, '1.0.0']] }) } });
  const writer = await ctx.tokenFor('source_control:releases_write');
  const reader = await ctx.tokenFor('source_control:releases_read');
  const set = async (manifest: string, type: string, uuid: string, release: string) =>
    (
      await app.inject({ method: 'PUT', url: `${API}/manifests/${manifest}/${uuid}?elementType=${type}`, headers: ctx.auth(writer), payload: { release } })
    ).json().data as {
      branch_name: string;
      pull_request: { number: number };
    };
  const refresh = (number: number, token = writer) => app.inject({ method: 'POST', url: `${API}/pull_requests/${number}/refresh`, headers: ctx.auth(token) });

  const winner = await set(name, 'PAGE', x.uuid, '2.0.0');
  const loser = await set(name, 'PAGE', x.uuid, 'latest');
  const unrelated = await set(other, 'WORKFLOW', y.uuid, '1.0.0');
  const unrelatedHead = await git.out('rev-parse', unrelated.branch_name);
  t.equal((await app.inject({ method: 'POST', url: `${API}/pull_requests/${winner.pull_request.number}/merge`, headers: ctx.auth(writer) })).statusCode, 200);

  const conflicted = await refresh(loser.pull_request.number);
  t.equal(conflicted.statusCode, 200);
  t.match(conflicted.json().data, {
    action: 'conflicted',
    pull_request: { state: 'conflicted', conflicts: [{ target: `manifest:${name}/PAGE:${x.uuid}`, expected: '1.0.0', found: '2.0.0', wanted: 'latest' }] },
  });
  t.same(
    (await app.services.audit.list({ target: `pull_request:${loser.pull_request.number}` })).map((e) => e.action),
    ['pull_request.conflict'],
  );
  t.equal((await refresh(loser.pull_request.number)).json().data.action, 'conflicted', 'still conflicted, recorded once');
  t.equal((await app.services.audit.list({ target: `pull_request:${loser.pull_request.number}` })).length, 1);

  const untouched = await refresh(unrelated.pull_request.number);
  t.equal(untouched.json().data.action, 'up_to_date', 'a branch whose files did not move is not rebuilt (no needless force-push)');
  t.equal(await git.out('rev-parse', unrelated.branch_name), unrelatedHead);

  const done = await refresh(winner.pull_request.number);
  t.equal(done.json().data.action, 'unchanged', 'a merged pull request is left alone');
  t.equal((await refresh(999_999)).statusCode, 404);
  const forbidden = await refresh(unrelated.pull_request.number, reader);
  t.equal(forbidden.statusCode, 403);
  t.equal(forbidden.json().code, 'forbidden');
  t.equal((await app.inject({ method: 'POST', url: `${API}/pull_requests/abc/refresh`, headers: ctx.auth(writer) })).statusCode, 400);
});
