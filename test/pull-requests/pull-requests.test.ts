import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { element, manifestName, manifestYaml, seed } from '../helpers/repo-fixture.js';

const run = promisify(execFile);
const API = '/api/v2/source_control';

async function git(ctx: TestApp, ...args: string[]): Promise<string> {
  return (await run('git', ['--git-dir', path.join(ctx.config.dataDir, 'repo.git'), ...args])).stdout;
}

function shuffle<T>(items: T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

t.test('20 concurrent pull requests on one manifest, merged in random order: nothing is lost', async (t) => {
  const ctx = await buildTestApp(t);
  const { app } = ctx;
  const elements = Array.from({ length: 20 }, () => element('PAGE', ['1.0.0']));
  const name = manifestName('prod');
  await seed(ctx.git, { elements, manifests: { [name]: manifestYaml(name) } });
  const token = await ctx.tokenFor('source_control:releases_write');

  const opened = await Promise.all(
    elements.map((e) =>
      app.inject({ method: 'PUT', url: `${API}/manifests/${name}/${e.uuid}?elementType=PAGE`, headers: ctx.auth(token), payload: { release: '1.0.0' } }),
    ),
  );
  t.same(
    opened.map((r) => r.statusCode),
    elements.map(() => 200),
    'all 20 opened',
  );
  const numbers = opened.map((r) => r.json().data.pull_request.number as number);
  t.equal(new Set(opened.map((r) => r.json().data.branch_name)).size, 20, '20 distinct branches');

  const merged = await Promise.all(
    shuffle(numbers).map((n) => app.inject({ method: 'POST', url: `${API}/pull_requests/${n}/merge`, headers: ctx.auth(token) })),
  );
  t.same(
    merged.map((r) => r.statusCode),
    numbers.map(() => 200),
    JSON.stringify(merged.filter((r) => r.statusCode !== 200).map((r) => r.json())),
  );
  t.match(merged[0]!.json().data, { pull_request: { state: 'merged', merge_commit: /^[0-9a-f]{40}$/ }, commit_sha: /^[0-9a-f]{40}$/ });

  const text = await git(ctx, 'show', `main:manifests/${name}.yaml`);
  for (const e of elements) t.match(text, new RegExp(`- uuid: ${e.uuid}\\n    release: 1.0.0\\n`), `${e.name} is on main`);
  const uuids = [...text.matchAll(/uuid: ([0-9a-f-]{36})/g)].map((m) => m[1]);
  t.same(uuids, [...uuids].sort(), 'entries stay sorted by uuid');
  t.equal(uuids.length, 20);
  await run('git', ['--git-dir', path.join(ctx.config.dataDir, 'repo.git'), 'fsck', '--strict']);
  const branches = await git(ctx, 'for-each-ref', '--format=%(refname)', 'refs/heads/mir/');
  t.equal(branches.trim(), '', 'merged branches are deleted');
  const mergeCommits = (await git(ctx, 'log', '--format=%s', 'main')).split('\n').filter((s) => s.startsWith('Merge pull request'));
  t.equal(mergeCommits.length, 20);
});

t.test('two pull requests for the same entry: the second conflicts and nothing is overwritten', async (t) => {
  const ctx = await buildTestApp(t);
  const { app } = ctx;
  const a = element('PAGE', ['1.0.0', '2.0.0', '3.0.0']);
  const other = element('WORKFLOW', ['1.0.0']);
  const name = manifestName('prod');
  await seed(ctx.git, { elements: [a, other], manifests: { [name]: manifestYaml(name, { apps: [[a.uuid, '1.0.0']] }) } });
  const token = await ctx.tokenFor('source_control:releases_write');
  const set = (uuid: string, type: string, release: string) =>
    app.inject({ method: 'PUT', url: `${API}/manifests/${name}/${uuid}?elementType=${type}`, headers: ctx.auth(token), payload: { release } });

  const first = (await set(a.uuid, 'PAGE', '2.0.0')).json().data.pull_request.number;
  const second = (await set(a.uuid, 'PAGE', '3.0.0')).json().data.pull_request.number;
  const unrelated = (await set(other.uuid, 'WORKFLOW', '1.0.0')).json().data.pull_request.number;

  const merge = (n: number) => app.inject({ method: 'POST', url: `${API}/pull_requests/${n}/merge`, headers: ctx.auth(token) });
  t.equal((await merge(first)).statusCode, 200);
  const conflict = await merge(second);
  t.equal(conflict.statusCode, 409);
  t.match(conflict.headers['content-type'], /^application\/problem\+json/);
  t.match(conflict.json(), {
    code: 'merge_conflict',
    conflicts: [{ target: `manifest:${name}/PAGE:${a.uuid}`, expected: '1.0.0', found: '2.0.0', wanted: '3.0.0' }],
  });
  const view = await app.inject({ method: 'GET', url: `${API}/pull_requests/${second}`, headers: ctx.auth(token) });
  t.match(view.json().data.pull_request, { state: 'conflicted', conflicts: [{ found: '2.0.0' }] });
  t.equal((await merge(unrelated)).statusCode, 200, 'an unrelated change merged in between never conflicts');

  const text = await git(ctx, 'show', `main:manifests/${name}.yaml`);
  t.match(text, new RegExp(`uuid: ${a.uuid}\\n    release: 2.0.0`), 'the first merge stands');
  t.match(text, new RegExp(`uuid: ${other.uuid}\\n    release: 1.0.0`));

  const conflicted = await app.inject({ method: 'GET', url: `${API}/pull_requests?state=conflicted`, headers: ctx.auth(token) });
  t.same(
    conflicted.json().data.pull_requests.map((p: { number: number }) => p.number),
    [second],
  );
  const events = await app.services.audit.list({ target: `pull_request:${second}` });
  t.same(
    events.map((e) => e.action),
    ['pull_request.conflict'],
  );
});

t.test('merge and close: states, branches, 404 and 409', async (t) => {
  const ctx = await buildTestApp(t);
  const { app } = ctx;
  const a = element('PAGE', ['1.0.0']);
  const name = manifestName('dev');
  await seed(ctx.git, { elements: [a] });
  const writer = await ctx.tokenFor('source_control:releases_write');
  const reader = await ctx.tokenFor('source_control:releases_read');
  const open = async () =>
    (
      await app.inject({ method: 'PUT', url: `${API}/manifests/${name}/${a.uuid}?elementType=PAGE`, headers: ctx.auth(writer), payload: { release: '1.0.0' } })
    ).json().data;

  const toClose = await open();
  const closed = await app.inject({ method: 'POST', url: `${API}/pull_requests/${toClose.pull_request.number}/close`, headers: ctx.auth(writer) });
  t.equal(closed.statusCode, 200);
  t.match(closed.json().data.pull_request, { state: 'closed', closed_at: String });
  t.equal((await git(ctx, 'for-each-ref', `refs/heads/${toClose.branch_name}`)).trim(), '', 'closing deletes the branch');
  const mergeClosed = await app.inject({ method: 'POST', url: `${API}/pull_requests/${toClose.pull_request.number}/merge`, headers: ctx.auth(writer) });
  t.equal(mergeClosed.statusCode, 409);
  t.equal(mergeClosed.json().code, 'pull_request_not_open');

  const toMerge = await open();
  t.equal(
    (await app.inject({ method: 'POST', url: `${API}/pull_requests/${toMerge.pull_request.number}/merge`, headers: ctx.auth(reader) })).statusCode,
    403,
    'merging needs the write scope',
  );
  const merged = await app.inject({ method: 'POST', url: `${API}/pull_requests/${toMerge.pull_request.number}/merge`, headers: ctx.auth(writer) });
  t.equal(merged.statusCode, 200);
  t.equal((await git(ctx, 'rev-parse', 'main')).trim(), merged.json().data.commit_sha);
  t.equal(await git(ctx, 'show', `main:manifests/${name}.yaml`), manifestYaml(name, { apps: [[a.uuid, '1.0.0']] }), 'a manifest created by the merge');
  for (const action of ['merge', 'close']) {
    const again = await app.inject({ method: 'POST', url: `${API}/pull_requests/${toMerge.pull_request.number}/${action}`, headers: ctx.auth(writer) });
    t.equal(again.statusCode, 409, `${action} after merge`);
  }
  const missing = await app.inject({ method: 'GET', url: `${API}/pull_requests/999999`, headers: ctx.auth(reader) });
  t.equal(missing.statusCode, 404);
  t.equal(missing.json().code, 'pull_request_not_found');
  const badNumber = await app.inject({ method: 'GET', url: `${API}/pull_requests/abc`, headers: ctx.auth(reader) });
  t.equal(badNumber.statusCode, 400);

  const list = await app.inject({ method: 'GET', url: `${API}/pull_requests?state=merged`, headers: ctx.auth(reader) });
  t.same(
    list.json().data.pull_requests.map((p: { number: number }) => p.number),
    [toMerge.pull_request.number],
  );
  const audit = await app.services.audit.list({ target: `pull_request:${toMerge.pull_request.number}` });
  t.same(
    audit.map((e) => e.action),
    ['pull_request.merge'],
  );
});

t.test('a push to main from outside between open and merge is kept', async (t) => {
  const ctx = await buildTestApp(t);
  const { app } = ctx;
  const a = element('PAGE', ['1.0.0']);
  const b = element('PAGE', ['1.0.0']);
  const name = manifestName('prod');
  await seed(ctx.git, { elements: [a] });
  const token = await ctx.tokenFor('source_control:releases_write');
  const opened = await app.inject({
    method: 'PUT',
    url: `${API}/manifests/${name}/${a.uuid}?elementType=PAGE`,
    headers: ctx.auth(token),
    payload: { release: '1.0.0' },
  });
  // Someone commits to main with plain git meanwhile (here: more elements and a README change).
  await seed(ctx.git, { elements: [b], manifests: { other: manifestYaml('other') } });
  const merged = await app.inject({ method: 'POST', url: `${API}/pull_requests/${opened.json().data.pull_request.number}/merge`, headers: ctx.auth(token) });
  t.equal(merged.statusCode, 200);
  t.match(await git(ctx, 'show', 'main:manifests/other.yaml'), /name: other/);
  t.match(await git(ctx, 'show', `main:manifests/${name}.yaml`), a.uuid);
  t.match(await git(ctx, 'show', 'main:.retool/protected-apps.yaml'), b.uuid);
});
