// Forge webhooks end to end through the real app: a write opens the pull request on the forge
// (its validating mock), a signed delivery of the forge's "merged" event marks it merged the same
// way a merge here does (branch deleted, audit), a bad or missing proof is 401 and changes
// nothing, a repeated delivery is a no-op. Each forge with its own scheme and payload shape.
import t from 'tap';
import { hmacSignature } from '../../src/providers/forge/signatures.js';
import { buildForgeApp, hubSignature, type ForgeApp } from '../helpers/forge-app.js';
import { startPrismMocks, type Forge } from '../helpers/prism.js';
import { element, manifestName, manifestYaml, seed } from '../helpers/repo-fixture.js';

const API = '/api/v2/source_control';
// GitHub's documented test-vector secret, for every forge.
const SECRET = "It's a Secret to Everybody";
const FORGES = ['github', 'gitlab', 'bitbucket', 'azure'] as const;

interface Opened {
  number: number;
  external: number;
  branch: string;
}

/** Seeds an element and a manifest, and proposes one entry change: a pull request on the forge. */
async function openPullRequest(ctx: ForgeApp): Promise<Opened> {
  const a = element('PAGE', ['1.0.0']);
  const name = manifestName('prod');
  await seed(ctx.git, { elements: [a], manifests: { [name]: manifestYaml(name) } });
  const res = await ctx.app.inject({
    method: 'PUT',
    url: `${API}/manifests/${name}/${a.uuid}?elementType=PAGE`,
    headers: ctx.auth(),
    payload: { release: '1.0.0' },
  });
  if (res.statusCode !== 200) throw new Error(`write failed: ${res.body}`);
  const data = res.json().data;
  return { number: data.pull_request.number, external: data.pull_request.external_number, branch: data.branch_name };
}

/** The forge's "merged" delivery for a pull request: headers (with a valid proof) and body. */
function mergedDelivery(forge: Forge, pr: Opened, mergeCommit: string): { headers: Record<string, string>; body: string } {
  switch (forge) {
    case 'github': {
      // https://docs.github.com/en/webhooks/webhook-events-and-payloads#pull_request (action closed, merged true)
      const body = JSON.stringify({
        action: 'closed',
        number: pr.external,
        pull_request: {
          id: 1,
          number: pr.external,
          html_url: 'https://github.com/acme/releases/pull/1',
          state: 'closed',
          merged: true,
          merged_at: '2026-01-01T00:00:00Z',
          merge_commit_sha: mergeCommit,
          head: { ref: pr.branch, sha: 'c'.repeat(40) },
          merged_by: { login: 'octocat' },
        },
        repository: { full_name: 'acme/releases' },
        sender: { login: 'octocat' },
      });
      return {
        headers: {
          'x-github-event': 'pull_request',
          'x-github-delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958',
          'x-hub-signature-256': hubSignature(SECRET, body),
        },
        body,
      };
    }
    case 'gitlab': {
      // https://docs.gitlab.com/user/project/integrations/webhook_events/#merge-request-events
      const body = JSON.stringify({
        object_kind: 'merge_request',
        event_type: 'merge_request',
        user: { username: 'root' },
        object_attributes: {
          id: 99,
          iid: pr.external,
          state: 'merged',
          action: 'merge',
          merge_commit_sha: mergeCommit,
          source_branch: pr.branch,
          target_branch: 'main',
          web_url: 'https://gitlab.com/acme/platform/releases/-/merge_requests/1',
        },
      });
      return { headers: { 'x-gitlab-event': 'Merge Request Hook', 'x-gitlab-token': SECRET }, body };
    }
    case 'bitbucket': {
      // https://support.atlassian.com/bitbucket-cloud/docs/event-payloads/#Merged (12-character merge commit)
      const body = JSON.stringify({
        actor: { nickname: 'ada', display_name: 'Ada' },
        pullrequest: {
          id: pr.external,
          type: 'pullrequest',
          state: 'MERGED',
          merge_commit: { hash: mergeCommit.slice(0, 12) },
          source: { branch: { name: pr.branch } },
          destination: { branch: { name: 'main' } },
        },
        repository: { full_name: 'acme/releases' },
      });
      return { headers: { 'x-event-key': 'pullrequest:fulfilled', 'x-hook-uuid': 'b5b2a3c4', 'x-hub-signature': hmacSignature(SECRET, body) }, body };
    }
    case 'azure': {
      // https://learn.microsoft.com/en-us/azure/devops/service-hooks/events#git.pullrequest.merged
      const body = JSON.stringify({
        eventType: 'git.pullrequest.merged',
        resource: {
          pullRequestId: pr.external,
          status: 'completed',
          mergeStatus: 'succeeded',
          sourceRefName: `refs/heads/${pr.branch}`,
          targetRefName: 'refs/heads/main',
          lastMergeCommit: { commitId: mergeCommit },
          closedBy: { uniqueName: 'ada@example.com' },
        },
      });
      return { headers: { authorization: `Basic ${Buffer.from(`azure-hook:${SECRET}`).toString('base64')}` }, body };
    }
  }
}

/** The same delivery with its proof spoiled. */
function forged(forge: Forge, delivery: { headers: Record<string, string>; body: string }): Record<string, string> {
  const headers = { ...delivery.headers };
  if (forge === 'github') headers['x-hub-signature-256'] = hubSignature('not-the-secret-at-all', delivery.body);
  if (forge === 'bitbucket') headers['x-hub-signature'] = hmacSignature(SECRET, `${delivery.body} `);
  if (forge === 'gitlab') headers['x-gitlab-token'] = 'wrong-token-wrong-token';
  if (forge === 'azure') headers.authorization = `Basic ${Buffer.from('azure-hook:wrong').toString('base64')}`;
  return headers;
}

function withoutProof(forge: Forge, delivery: { headers: Record<string, string> }): Record<string, string> {
  const headers = { ...delivery.headers };
  delete headers[{ github: 'x-hub-signature-256', bitbucket: 'x-hub-signature', gitlab: 'x-gitlab-token', azure: 'authorization' }[forge]];
  return headers;
}

t.test("GitHub's documented test vector", async (t) => {
  // https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries#testing-the-webhook-payload-validation
  t.equal(hmacSignature("It's a Secret to Everybody", 'Hello, World!'), 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17');
});

t.test('webhooks per forge', async (t) => {
  const mocks = await startPrismMocks(t, FORGES);

  for (const forge of FORGES) {
    t.test(forge, async (t) => {
      const ctx = await buildForgeApp(t, { forge, apiUrl: mocks[forge].url, secret: SECRET });
      const ready = await ctx.app.inject({ method: 'GET', url: '/readyz' });
      t.equal(ready.statusCode, 200, 'ready: the forge answers');
      t.same(ready.json().checks, { database: 'ok', git: 'ok', provider: 'ok' });

      const pr = await openPullRequest(ctx);
      // The mock answers its description's static example, so the number is whatever that example holds.
      t.type(pr.external, 'number', `the pull request was opened on ${forge} (#${pr.external})`);
      t.equal((await ctx.remoteGit('rev-parse', '--verify', `refs/heads/${pr.branch}`)).trim().length, 40, 'its branch was pushed to the remote');
      const view = await ctx.app.inject({ method: 'GET', url: `${API}/pull_requests/${pr.number}`, headers: ctx.auth() });
      t.match(view.json().data.pull_request, { provider: forge, external_number: pr.external, state: 'open', url: String });

      const mergeCommit = (await ctx.remoteGit('rev-parse', 'main')).trim();
      const delivery = mergedDelivery(forge, pr, mergeCommit);
      const post = (headers: Record<string, string>, body = delivery.body, provider: string = forge) =>
        ctx.app.inject({ method: 'POST', url: `${API}/webhooks/${provider}`, headers: { 'content-type': 'application/json', ...headers }, payload: body });
      const state = async () =>
        (await ctx.app.inject({ method: 'GET', url: `${API}/pull_requests/${pr.number}`, headers: ctx.auth() })).json().data.pull_request.state;

      for (const [what, headers] of [
        ['forged', forged(forge, delivery)],
        ['missing', withoutProof(forge, delivery)],
      ] as const) {
        const refused = await post(headers);
        t.equal(refused.statusCode, 401, `${what} proof: 401`);
        t.match(refused.headers['content-type'], /^application\/problem\+json/);
        t.equal(refused.json().code, 'webhook_unauthorized');
      }
      t.equal(await state(), 'open', 'a refused delivery changes nothing');
      t.equal((await post(delivery.headers, delivery.body, forge === 'github' ? 'gitlab' : 'github')).statusCode, 404, 'another forge’s webhook path is 404');

      const merged = await post(delivery.headers);
      t.equal(merged.statusCode, 200, merged.body);
      t.same(merged.json().data, { action: 'merged', pull_request: pr.number });
      t.equal(await state(), 'merged');
      t.equal((await ctx.remoteGit('for-each-ref', `refs/heads/${pr.branch}`)).trim(), '', 'the branch is deleted on the remote');
      const audit = await ctx.app.services.audit.list({ target: `pull_request:${pr.number}` });
      t.same(
        audit.map((e) => e.action),
        ['pull_request.merge'],
      );
      t.match(audit[0]!.actor, new RegExp(`^${forge}`), 'the forge is the actor');

      const again = await post(delivery.headers);
      t.equal(again.statusCode, 200);
      t.same(again.json().data, { action: 'unchanged', pull_request: pr.number }, 'a repeated delivery is a no-op');
      t.equal((await ctx.app.services.audit.list({ target: `pull_request:${pr.number}` })).length, 1, 'and records nothing');

      if (forge === 'gitlab') {
        const late = JSON.stringify({
          object_kind: 'merge_request',
          object_attributes: { iid: pr.external, state: 'closed', action: 'close', source_branch: pr.branch },
        });
        const res = await post({ 'x-gitlab-event': 'Merge Request Hook', 'x-gitlab-token': SECRET }, late);
        t.same(res.json().data, { action: 'unchanged', pull_request: pr.number }, 'a late close of a merged pull request changes nothing');
        t.equal(await state(), 'merged');
      }
      if (forge === 'github') {
        const vector = await post(
          { 'x-github-event': 'pull_request', 'x-hub-signature-256': 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17' },
          'Hello, World!',
        );
        t.equal(vector.statusCode, 400, 'signed as in GitHub’s test vector: authentic; then the body is not JSON');
        t.equal(vector.json().code, 'invalid_webhook_payload');
      }
      const ping = await post(
        {
          ...delivery.headers,
          ...(forge === 'github' ? { 'x-github-event': 'ping', 'x-hub-signature-256': hubSignature(SECRET, '{"zen":"Keep it logically awesome."}') } : {}),
        },
        forge === 'github' ? '{"zen":"Keep it logically awesome."}' : delivery.body,
      );
      t.equal(ping.statusCode, 200, 'other events are acknowledged');
    });
  }

  t.test('a forge that cannot be reached fails readiness, naming it; without a secret every delivery is refused', async (t) => {
    const ctx = await buildForgeApp(t, { forge: 'gitlab', apiUrl: 'http://127.0.0.1:9' });
    const res = await ctx.app.inject({ method: 'GET', url: '/readyz' });
    t.equal(res.statusCode, 503);
    t.match(res.json(), { code: 'not_ready', checks: { provider: /^gitlab is unreachable/ } });
    const hook = await ctx.app.inject({
      method: 'POST',
      url: `${API}/webhooks/gitlab`,
      headers: { 'content-type': 'application/json', 'x-gitlab-token': '' },
      payload: '{}',
    });
    t.equal(hook.statusCode, 401);
    t.match(hook.json().message, /MIR_WEBHOOK_SECRET/);

    const a = element('PAGE', ['1.0.0']);
    await seed(ctx.git, { elements: [a] });
    const write = await ctx.app.inject({
      method: 'PUT',
      url: `${API}/manifests/prod/${a.uuid}?elementType=PAGE`,
      headers: ctx.auth(),
      payload: { release: '1.0.0' },
    });
    t.equal(write.statusCode, 503, 'a write while the forge is unreachable fails');
    t.match(write.json(), { code: 'provider_unavailable', provider: 'gitlab' });
    t.same(
      (await ctx.app.inject({ method: 'GET', url: `${API}/pull_requests`, headers: ctx.auth() })).json().data.pull_requests,
      [],
      'and records no pull request',
    );
    t.equal((await ctx.remoteGit('for-each-ref', 'refs/heads/mir/')).trim(), '', 'nor leaves its branch on the remote');
  });
});
