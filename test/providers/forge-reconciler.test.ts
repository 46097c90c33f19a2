// The reconciler with a forge, where merging is a text merge on the forge: when one pull request
// merges there, the others whose files it changed are rebuilt from their intent on the new default
// branch and force-pushed to the remote, so the forge's merge of them is clean; one whose intent
// now truly conflicts is marked conflicted and its description on the forge says why. Merges are
// done with native git on the remote, as the forge's merge button would, and reported by webhook.
// Polling brings a close made on the forge.
import t from 'tap';
import { createForgeProvider } from '../../src/providers/forge/forge.js';
import { startFakeGitHub } from '../helpers/fake-github.js';
import { buildForgeApp, hubSignature, mergeOnRemote, type ForgeApp } from '../helpers/forge-app.js';
import { runGit } from '../helpers/git-server.js';
import { element, manifestName, manifestYaml, seed, elementsInUuidOrder, type FixtureElement } from '../helpers/repo-fixture.js';

const API = '/api/v2/source_control';
const SECRET = 'reconciler-webhook-secret-42';

async function mergedWebhook(ctx: ForgeApp, pr: { number: number; branch: string }, mergeCommit: string) {
  const body = JSON.stringify({
    action: 'closed',
    number: pr.number,
    pull_request: {
      id: 1,
      number: pr.number,
      html_url: 'x',
      state: 'closed',
      merged: true,
      merge_commit_sha: mergeCommit,
      head: { ref: pr.branch, sha: 'f'.repeat(40) },
    },
  });
  return ctx.app.inject({
    method: 'POST',
    url: `${API}/webhooks/github`,
    headers: { 'content-type': 'application/json', 'x-github-event': 'pull_request', 'x-hub-signature-256': hubSignature(SECRET, body) },
    payload: body,
  });
}

t.test('a merge on the forge: neighbours rebuilt and mergeable, a true conflict marked and explained', async (t) => {
  const github = await startFakeGitHub(t);
  const ctx = await buildForgeApp(t, { forge: 'github', apiUrl: github.url, secret: SECRET });
  const { app } = ctx;
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
  const write = async (method: 'PUT', url: string, payload: Record<string, unknown>) => {
    const res = await app.inject({ method, url, headers: ctx.auth(), payload });
    t.equal(res.statusCode, 200, res.body);
    const data = res.json().data;
    return { ours: data.pull_request.number as number, number: data.pull_request.external_number as number, branch: data.branch_name as string };
  };
  // First: add a and move z to 2.0.0 (the whole manifest). Second: add b, next to a. Third: move z to latest.
  const first = await write('PUT', `${API}/manifests/${name}`, {
    manifest: {
      name,
      apps: [
        { uuid: x.uuid, release: '1.0.0' },
        { uuid: a.uuid, release: '1.0.0' },
        { uuid: z.uuid, release: '2.0.0' },
      ],
      workflows: [],
    },
  });
  const second = await write('PUT', `${API}/manifests/${name}/${b.uuid}?elementType=PAGE`, { release: '1.0.0' });
  const third = await write('PUT', `${API}/manifests/${name}/${z.uuid}?elementType=PAGE`, { release: 'latest' });
  t.same([first.number, second.number, third.number], [100, 101, 102], 'three pull requests on the forge');
  const staleSecond = (await ctx.remoteGit('rev-parse', second.branch)).trim();

  const mergeCommit = await mergeOnRemote(ctx.origin, first.branch);
  t.equal((await mergedWebhook(ctx, first, mergeCommit)).json().data.action, 'merged');
  await app.services.pullRequestSync.reconcileAll(); // the run the merge started, awaited

  const main = (await ctx.remoteGit('rev-parse', 'main')).trim();
  t.equal(main, mergeCommit);
  t.not((await ctx.remoteGit('rev-parse', second.branch)).trim(), staleSecond, 'the neighbour was rebuilt and force-pushed to the remote');
  t.equal((await ctx.remoteGit('rev-parse', `${second.branch}^`)).trim(), main, 'on the merged default branch');
  await runGit(['merge-tree', '--write-tree', 'main', second.branch], { cwd: ctx.origin }).then(
    () => t.pass('a text merge of it on the forge is clean'),
    (error: Error) => t.fail(error.message),
  );
  const view = async (n: number) => (await app.inject({ method: 'GET', url: `${API}/pull_requests/${n}`, headers: ctx.auth() })).json().data.pull_request;
  t.match(await view(third.ours), {
    state: 'conflicted',
    conflicts: [{ target: `manifest:${name}/PAGE:${z.uuid}`, expected: '1.0.0', found: '2.0.0', wanted: 'latest' }],
  });
  t.match(github.pulls.get(third.number)!.body, new RegExp(`conflicts with the default branch[\\s\\S]*manifest:${name}/PAGE:${z.uuid}`), 'the forge is told');
  t.notMatch(github.pulls.get(second.number)!.body, /conflicts/, 'the rebuilt one is not');

  const secondMerge = await mergeOnRemote(ctx.origin, second.branch);
  t.equal((await mergedWebhook(ctx, second, secondMerge)).json().data.action, 'merged');
  t.equal(
    await ctx.remoteGit('show', `main:manifests/${name}.yaml`),
    manifestYaml(name, {
      apps: [
        [x.uuid, '1.0.0'],
        [a.uuid, '1.0.0'],
        [b.uuid, '1.0.0'],
        [z.uuid, '2.0.0'],
      ],
    }),
    'both entries are on the default branch',
  );

  // Closed on the forge with no webhook: the next polling round brings it.
  github.pulls.get(third.number)!.state = 'closed';
  await app.services.pullRequestSync.poll();
  t.equal((await view(third.ours)).state, 'closed', 'polling records a close made on the forge');
  t.equal((await ctx.remoteGit('for-each-ref', `refs/heads/${third.branch}`)).trim(), '', 'and deletes the branch');
});

t.test('merge and close through mir call the forge; opening again for the same branch reuses its pull request', async (t) => {
  const github = await startFakeGitHub(t);
  const ctx = await buildForgeApp(t, { forge: 'github', apiUrl: github.url, secret: SECRET });
  github.onMerge = (pull) => mergeOnRemote(ctx.origin, pull.head);
  const [a, b] = [element('PAGE', ['1.0.0']), element('PAGE', ['1.0.0'])];
  const name = manifestName('prod');
  await seed(ctx.git, { elements: [a, b] });
  const open = async (uuid: string) =>
    (
      await ctx.app.inject({ method: 'PUT', url: `${API}/manifests/${name}/${uuid}?elementType=PAGE`, headers: ctx.auth(), payload: { release: '1.0.0' } })
    ).json().data;
  const toMerge = await open(a.uuid);
  const toClose = await open(b.uuid);

  const merged = await ctx.app.inject({ method: 'POST', url: `${API}/pull_requests/${toMerge.pull_request.number}/merge`, headers: ctx.auth() });
  t.equal(merged.statusCode, 200, merged.body);
  const main = (await ctx.remoteGit('rev-parse', 'main')).trim();
  t.match(merged.json().data, { commit_sha: main, pull_request: { state: 'merged', merge_commit: main } }, "the forge's merge commit");
  t.ok(github.requests.includes(`PUT /repos/acme/releases/pulls/${toMerge.pull_request.external_number}/merge`));
  t.match(await ctx.remoteGit('show', `main:manifests/${name}.yaml`), a.uuid, 'the change is on the default branch');
  t.equal((await ctx.remoteGit('for-each-ref', `refs/heads/${toMerge.branch_name}`)).trim(), '', 'its branch is deleted');

  const closed = await ctx.app.inject({ method: 'POST', url: `${API}/pull_requests/${toClose.pull_request.number}/close`, headers: ctx.auth() });
  t.equal(closed.statusCode, 200, closed.body);
  t.equal(github.pulls.get(toClose.pull_request.external_number)!.state, 'closed', 'closed on the forge');
  t.equal((await ctx.remoteGit('for-each-ref', `refs/heads/${toClose.branch_name}`)).trim(), '', 'its branch is deleted');

  // A retried open of a branch that already has an open pull request gets that one back.
  const provider = createForgeProvider({
    config: { name: 'github', apiUrl: github.url, repository: 'acme/releases', token: 't', webhookSecret: undefined, pollSeconds: 0 },
    defaultBranch: 'main',
    deleteBranch: async () => {},
  });
  const before = github.pulls.size;
  // The adapter reads only these fields of the row.
  const row = { source_branch: 'mir/manifest/prod/retry', target_branch: 'main', title: 'Retry', body: 'b' } as Parameters<
    typeof provider.open
  >[0]['pullRequest'];
  const once = await provider.open({ pullRequest: row });
  const twice = await provider.open({ pullRequest: row });
  t.equal(twice.number, once.number, 'the same pull request');
  t.equal(github.pulls.size, before + 1, 'opened once');
});
