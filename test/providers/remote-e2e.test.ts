// End to end in remote mode, as deployed on GitHub: the git remote is a real `git http-backend`,
// GitHub's API is its validating mock. A release request pushes the branch to the remote and opens
// the pull request on the forge; the forge merges it (native git, as GitHub's merge button would)
// and sends its signed "merged" webhook; the release becomes available here.
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { buildForgeApp, hubSignature, mergeOnRemote } from '../helpers/forge-app.js';
import { startPrismMocks } from '../helpers/prism.js';
import { element, seed } from '../helpers/repo-fixture.js';

const API = '/api/v2/source_control';
const SECRET = 'e2e-webhook-secret-0123456789';

t.test('a release through GitHub: pushed to the remote, opened on the forge, available once the merged webhook arrives', async (t) => {
  const { github } = await startPrismMocks(t, ['github']);
  const ctx = await buildForgeApp(t, { forge: 'github', apiUrl: github.url, secret: SECRET });
  const { app } = ctx;
  const shop = element('PAGE', []);
  await seed(ctx.git, { elements: [shop] });
  const writer = await ctx.tokenFor('source_control:releases_write');

  const created = await app.inject({
    method: 'POST',
    url: `${API}/releases/${shop.uuid}?elementType=PAGE`,
    headers: ctx.auth(writer),
    payload: { release_version: '1.0.0', release_description: 'First cut' },
  });
  t.equal(created.statusCode, 200, created.body);
  const data = created.json().data;
  t.match(data.pull_request, { provider: 'github', external_number: Number, state: 'open' });
  t.equal(data.url, data.pull_request.url, "the answer's url is the forge's pull request page");
  t.equal((await ctx.remoteGit('rev-parse', data.branch_name)).trim(), data.commit_sha, 'the branch is on the remote');
  t.equal((await ctx.remoteGit('diff', '--name-only', `main..${data.branch_name}`)).trim(), `dist/apps/${shop.uuid}/1.0.0.zip`);
  t.match(github.log.join(''), /post \/repos\/acme\/releases\/pulls/i, 'the pull request was opened on GitHub');

  const status = async () =>
    (
      (await app.inject({ method: 'GET', url: `${API}/releases/${shop.uuid}?elementType=PAGE`, headers: ctx.auth(writer) })).json().data as {
        release_version: string;
        status: string;
      }[]
    )
      .filter((r) => r.release_version === '1.0.0')
      .map((r) => r.status);
  t.same(await status(), ['pending'], 'pending until the forge merges it');

  const mergeCommit = await mergeOnRemote(ctx.origin, data.branch_name);
  const body = JSON.stringify({
    action: 'closed',
    number: data.pull_request.external_number,
    pull_request: {
      id: 1,
      number: data.pull_request.external_number,
      html_url: data.pull_request.url,
      state: 'closed',
      merged: true,
      merged_at: new Date().toISOString(),
      merge_commit_sha: mergeCommit,
      head: { ref: data.branch_name, sha: data.commit_sha },
      merged_by: { login: 'octocat' },
    },
  });
  const hook = await app.inject({
    method: 'POST',
    url: `${API}/webhooks/github`,
    headers: { 'content-type': 'application/json', 'x-github-event': 'pull_request', 'x-hub-signature-256': hubSignature(SECRET, body) },
    payload: body,
  });
  t.equal(hook.statusCode, 200, hook.body);
  t.same(hook.json().data, { action: 'merged', pull_request: data.pull_request.number });

  const pr = (await app.inject({ method: 'GET', url: `${API}/pull_requests/${data.pull_request.number}`, headers: ctx.auth(writer) })).json().data.pull_request;
  t.match(pr, { state: 'merged', merge_commit: mergeCommit, merged_by: 'github:octocat' });
  t.equal(await ctx.git.headCommit(), mergeCommit, 'the mirror has the merged default branch');
  const artifact = await app.inject({ method: 'GET', url: `${API}/releases/${shop.uuid}/1.0.0/artifact?elementType=PAGE`, headers: ctx.auth(writer) });
  t.equal(artifact.statusCode, 200, 'the release is available');
  t.equal(createHash('sha256').update(artifact.rawPayload).digest('hex'), data.sha256, 'the artifact announced');
  t.same(await status(), ['available']);
  t.equal((await ctx.remoteGit('for-each-ref', `refs/heads/${data.branch_name}`)).trim(), '', 'the branch is deleted on the remote');
});

t.test('a forge that refuses a merge answers 409 with its reason; a refused token is 503', async (t) => {
  // A stand-in for GitHub that answers like GitHub does when branch protection blocks a merge.
  const requests: string[] = [];
  let mergeAnswer = { status: 405, body: { message: 'Required status check "ci" is expected.', documentation_url: 'https://docs.github.com/rest' } };
  const server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    req.resume();
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'GET' && req.url?.startsWith('/repos/acme/releases/pulls')) return json(200, []);
    if (req.method === 'POST' && req.url === '/repos/acme/releases/pulls') {
      return json(201, {
        id: 9,
        number: 77,
        html_url: 'https://github.com/acme/releases/pull/77',
        state: 'open',
        merged_at: null,
        merge_commit_sha: null,
        head: { ref: 'x', sha: 'y' },
      });
    }
    if (req.method === 'PUT' && req.url === '/repos/acme/releases/pulls/77/merge') return json(mergeAnswer.status, mergeAnswer.body);
    return json(404, { message: 'Not Found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const ctx = await buildForgeApp(t, { forge: 'github', apiUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, secret: SECRET });
  const shop = element('PAGE', ['1.0.0']);
  await seed(ctx.git, { elements: [shop] });
  const opened = await ctx.app.inject({
    method: 'PUT',
    url: `${API}/manifests/prod/${shop.uuid}?elementType=PAGE`,
    headers: ctx.auth(),
    payload: { release: '1.0.0' },
  });
  t.equal(opened.statusCode, 200, opened.body);
  const number = opened.json().data.pull_request.number;
  t.equal(opened.json().data.pull_request.external_number, 77);
  t.equal(opened.json().data.url, 'https://github.com/acme/releases/pull/77');

  const refused = await ctx.app.inject({ method: 'POST', url: `${API}/pull_requests/${number}/merge`, headers: ctx.auth() });
  t.equal(refused.statusCode, 409);
  t.match(refused.headers['content-type'], /^application\/problem\+json/);
  t.match(refused.json(), { code: 'provider_refused', provider: 'github', reason: 'Required status check "ci" is expected.', provider_status: 405 });
  t.equal(
    (await ctx.app.inject({ method: 'GET', url: `${API}/pull_requests/${number}`, headers: ctx.auth() })).json().data.pull_request.state,
    'open',
    'still open',
  );
  t.match(requests, [
    'GET /repos/acme/releases/pulls?state=open&head=acme%3A' + opened.json().data.branch_name.replace(/\//g, '%2F') + '&base=main&per_page=100',
    'POST /repos/acme/releases/pulls',
    'PUT /repos/acme/releases/pulls/77/merge',
  ]);

  mergeAnswer = { status: 401, body: { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' } };
  const denied = await ctx.app.inject({ method: 'POST', url: `${API}/pull_requests/${number}/merge`, headers: ctx.auth() });
  t.equal(denied.statusCode, 503);
  t.match(denied.json(), { code: 'provider_auth_failed', message: /github refused the token: 401 Bad credentials/ });

  mergeAnswer = { status: 502, body: { message: 'Server Error', documentation_url: 'https://docs.github.com/rest' } };
  const down = await ctx.app.inject({ method: 'POST', url: `${API}/pull_requests/${number}/merge`, headers: ctx.auth() });
  t.equal(down.statusCode, 503);
  t.match(down.json(), { code: 'provider_unavailable', provider: 'github' });
  t.notMatch(down.json().message, /forge-token/, 'the token never appears');
});
