import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { element, manifestName, manifestYaml, seed, type Fixture } from '../helpers/repo-fixture.js';
import { retoolResponseErrors } from '../helpers/retool-contract.js';

const run = promisify(execFile);
const PROBLEM = /^application\/problem\+json/;
const API = '/api/v2/source_control';

async function git(ctx: TestApp, ...args: string[]): Promise<string> {
  const { stdout } = await run('git', ['--git-dir', path.join(ctx.config.dataDir, 'repo.git'), ...args]);
  return stdout;
}

async function refs(ctx: TestApp): Promise<string> {
  return git(ctx, 'for-each-ref', '--format=%(refname) %(objectname)');
}

t.test('manifests over Retool\u2019s routes', async (t) => {
  const ctx = await buildTestApp(t);
  const { app } = ctx;
  const app1 = element('PAGE', ['1.0.0', '1.1.0']);
  const app2 = element('PAGE', ['2.0.0']);
  const wf1 = element('WORKFLOW', ['0.1.0']);
  const prod = manifestName('prod');
  const broken = manifestName('broken');
  const fixture: Fixture = await seed(ctx.git, {
    elements: [app1, app2, wf1],
    manifests: {
      [prod]: `# production: change through mir\n${manifestYaml(prod, { apps: [[app1.uuid, '1.0.0']], workflows: [[wf1.uuid, '0.1.0']] })}`,
      [broken]: 'version: 1.0.0\nname: [not, a, name\n',
    },
  });
  const reader = await ctx.tokenFor('source_control:releases_read');
  const writer = await ctx.tokenFor('source_control:releases_write');
  const put = (url: string, payload: unknown, token = writer, headers: Record<string, string> = {}) =>
    app.inject({ method: 'PUT', url: `${API}${url}`, headers: { ...ctx.auth(token), ...headers }, payload: payload as object });
  const post = (url: string, payload?: unknown, token = writer) =>
    app.inject({ method: 'POST', url: `${API}${url}`, headers: ctx.auth(token), ...(payload === undefined ? {} : { payload: payload as object }) });
  const get = (url: string, token = reader, headers: Record<string, string> = {}) =>
    app.inject({ method: 'GET', url: `${API}${url}`, headers: { ...ctx.auth(token), ...headers } });

  await t.test('GET /manifests lists every manifest; a broken one with its error', async (t) => {
    const res = await get('/manifests');
    t.equal(res.statusCode, 200);
    t.same(retoolResponseErrors('GET', '/source_control/manifests', 200, res.json()), []);
    const { manifests, commit_sha } = res.json().data;
    t.equal(commit_sha, fixture.commit);
    t.same(
      manifests.find((m: { name: string }) => m.name === prod),
      {
        name: prod,
        apps: [{ uuid: app1.uuid, release: '1.0.0' }],
        workflows: [{ uuid: wf1.uuid, release: '0.1.0' }],
      },
    );
    t.match(
      manifests.find((m: { name: string }) => m.name === broken),
      { name: broken, error: { path: `manifests/${broken}.yaml`, line: Number, reason: String } },
    );
  });

  await t.test('GET /manifests/{name}: Retool shape, commit_sha and ETag; 304; 404; 422; 400', async (t) => {
    const res = await get(`/manifests/${prod}`);
    t.equal(res.statusCode, 200);
    t.same(retoolResponseErrors('GET', '/source_control/manifests/{manifestName}', 200, res.json()), []);
    t.same(res.json().data.manifest, { name: prod, apps: [{ uuid: app1.uuid, release: '1.0.0' }], workflows: [{ uuid: wf1.uuid, release: '0.1.0' }] });
    t.equal(res.headers.etag, `"${fixture.commit}"`);
    const again = await get(`/manifests/${prod}`, reader, { 'if-none-match': `"${fixture.commit}"` });
    t.equal(again.statusCode, 304);
    t.equal(again.body, '');

    const missing = await get('/manifests/nope-nothing');
    t.equal(missing.statusCode, 404);
    t.match(missing.headers['content-type'], PROBLEM);
    t.match(missing.json(), { success: false, code: 'manifest_not_found' });
    t.same(retoolResponseErrors('GET', '/source_control/manifests/{manifestName}', 404, missing.json()), []);

    const invalid = await get(`/manifests/${broken}`);
    t.equal(invalid.statusCode, 422);
    t.match(invalid.json(), { code: 'manifest_invalid', path: `manifests/${broken}.yaml`, line: Number });

    const bad = await get('/manifests/Bad..Name');
    t.equal(bad.statusCode, 400);
    t.equal(bad.json().errors[0].field, 'params.manifestName');
  });

  await t.test('401 and 403', async (t) => {
    const anonymous = await app.inject({ method: 'GET', url: `${API}/manifests` });
    t.equal(anonymous.statusCode, 401);
    const wrongScope = await get('/manifests', await ctx.tokenFor('source_control:read'));
    t.equal(wrongScope.statusCode, 403);
    const readerWrites = await put(`/manifests/${prod}/${app2.uuid}?elementType=PAGE`, { release: '2.0.0' }, reader);
    t.equal(readerWrites.statusCode, 403);
    t.equal(readerWrites.json().code, 'forbidden');
  });

  await t.test('PUT an entry pushes a branch and opens a pull request; the default branch is untouched', async (t) => {
    const before = await git(ctx, 'rev-parse', 'main');
    const res = await put(`/manifests/${prod}/${app2.uuid}?elementType=PAGE`, { release: '2.0.0', commit_message: 'Ship app2 to prod' });
    t.equal(res.statusCode, 200);
    t.same(retoolResponseErrors('PUT', '/source_control/manifests/{manifestName}/{elementUuid}', 200, res.json()), []);
    const data = res.json().data;
    t.match(data.branch_name, new RegExp(`^mir/manifest/${prod}/[a-z0-9]{8}$`));
    t.match(data, {
      commit_sha: /^[0-9a-f]{40}$/,
      url: /\/pull_requests\/\d+$/,
      pull_request: { number: Number, state: 'open', title: `Set ${app2.name} (${app2.uuid.slice(0, 8)}) to 2.0.0 in ${prod}` },
    });
    t.equal((await git(ctx, 'rev-parse', data.branch_name)).trim(), data.commit_sha, 'the branch is in the repository');
    const onBranch = await git(ctx, 'show', `${data.branch_name}:manifests/${prod}.yaml`);
    t.match(onBranch, /^# production: change through mir\n/, 'comments survive the rewrite');
    t.match(onBranch, new RegExp(`uuid: ${app2.uuid}\\n    release: 2.0.0`));
    t.match(
      await git(ctx, 'log', '-1', '--format=%an <%ae>%n%B', data.commit_sha),
      /^test-source_control:releases_write <test-source_control:releases_write@mir.invalid>\nShip app2 to prod/,
    );
    t.equal((await git(ctx, 'rev-parse', 'main')).trim(), before.trim(), 'nothing reaches main before a merge');
    await run('git', ['--git-dir', path.join(ctx.config.dataDir, 'repo.git'), 'fsck', '--strict']);

    const pr = await app.inject({ method: 'GET', url: `${API}/pull_requests/${data.pull_request.number}`, headers: ctx.auth(reader) });
    t.equal(pr.statusCode, 200);
    t.match(pr.json().data.pull_request, {
      state: 'open',
      kind: 'manifest',
      source_branch: data.branch_name,
      target_branch: 'main',
      head_commit: data.commit_sha,
      manifests: [{ manifest: prod, added: [{ element_type: 'PAGE', element_uuid: app2.uuid, release: '2.0.0' }], changed: [], removed: [] }],
    });
    const events = await app.services.audit.list({ target: `manifest:${prod}` });
    t.match(events[0], { action: 'manifest.entry.set', details: { pull_request: data.pull_request.number, to: '2.0.0' } });
  });

  await t.test('the deprecated app forms and the delete forms', async (t) => {
    const set = await put(`/manifests/${prod}/apps/${app1.uuid}`, { release: '1.1.0' });
    t.equal(set.statusCode, 200);
    t.same(retoolResponseErrors('PUT', '/source_control/manifests/{manifestName}/apps/{appUuid}', 200, set.json()), []);
    t.match(await git(ctx, 'show', `${set.json().data.branch_name}:manifests/${prod}.yaml`), new RegExp(`uuid: ${app1.uuid}\\n    release: 1.1.0`));

    const removeApp = await post(`/manifests/${prod}/apps/${app1.uuid}/delete`);
    t.equal(removeApp.statusCode, 200);
    t.same(retoolResponseErrors('POST', '/source_control/manifests/{manifestName}/apps/{appUuid}/delete', 200, removeApp.json()), []);
    t.notMatch(await git(ctx, 'show', `${removeApp.json().data.branch_name}:manifests/${prod}.yaml`), app1.uuid);

    const removeWf = await post(`/manifests/${prod}/${wf1.uuid}/delete?elementType=WORKFLOW`, {});
    t.equal(removeWf.statusCode, 200);
    t.same(retoolResponseErrors('POST', '/source_control/manifests/{manifestName}/{elementUuid}/delete', 200, removeWf.json()), []);

    const noEntry = await post(`/manifests/${prod}/${app2.uuid}/delete?elementType=PAGE`);
    t.equal(noEntry.statusCode, 409);
    t.equal(noEntry.json().code, 'entry_not_found');

    const wholeDelete = await post(`/manifests/${prod}/delete`, { commit_message: 'Retire prod' });
    t.equal(wholeDelete.statusCode, 200);
    t.same(retoolResponseErrors('POST', '/source_control/manifests/{manifestName}/delete', 200, wholeDelete.json()), []);
    await t.rejects(git(ctx, 'show', `${wholeDelete.json().data.branch_name}:manifests/${prod}.yaml`), 'the file is gone on the branch');

    const deleteMissing = await post('/manifests/not-there/delete');
    t.equal(deleteMissing.statusCode, 404);
    t.equal(deleteMissing.json().code, 'manifest_not_found');
  });

  await t.test('PUT a whole manifest: create, replace', async (t) => {
    const fresh = manifestName('uat');
    const created = await put(`/manifests/${fresh}`, { manifest: { apps: [{ uuid: app1.uuid, release: '1.1.0' }], workflows: [] } });
    t.equal(created.statusCode, 200);
    t.same(retoolResponseErrors('PUT', '/source_control/manifests/{manifestName}', 200, created.json()), []);
    t.equal(created.json().data.pull_request.title, `Create manifest ${fresh}`);
    t.equal(
      await git(ctx, 'show', `${created.json().data.branch_name}:manifests/${fresh}.yaml`),
      `version: 1.0.0\nname: ${fresh}\napps:\n  - uuid: ${app1.uuid}\n    release: 1.1.0\nworkflows: []\n`,
    );
    const replaced = await put(`/manifests/${prod}`, { manifest: { name: prod, apps: [{ uuid: app2.uuid, release: 'latest' }] } });
    t.equal(replaced.statusCode, 200);
    const text = await git(ctx, 'show', `${replaced.json().data.branch_name}:manifests/${prod}.yaml`);
    t.match(text, /^# production/);
    t.match(text, new RegExp(`apps:\\n  - uuid: ${app2.uuid}\\n    release: latest\\nworkflows: \\[\\]\\n$`));
    const mismatch = await put(`/manifests/${prod}`, { manifest: { name: 'other', apps: [] } });
    t.equal(mismatch.statusCode, 400);
    t.equal(mismatch.json().errors[0].field, 'body.manifest.name');
  });

  await t.test('bad input is 400 naming the field, and writes nothing', async (t) => {
    const before = await refs(ctx);
    const cases: [string, unknown, string][] = [
      [`/manifests/${prod}/${app2.uuid}?elementType=PAGE`, { release: 'v1.0.0' }, 'body.release'],
      [`/manifests/${prod}/${app2.uuid}?elementType=PAGE`, { release: '1.0' }, 'body.release'],
      [`/manifests/${prod}/${app2.uuid}?elementType=APP`, { release: '2.0.0' }, 'querystring.elementType'],
      [`/manifests/${prod}/${app2.uuid}`, { release: '2.0.0' }, 'querystring.elementType'],
      [`/manifests/${prod}/not-a-uuid?elementType=PAGE`, { release: '2.0.0' }, 'params.elementUuid'],
      [`/manifests/${prod}/${app2.uuid}?elementType=PAGE`, { release: '2.0.0', extra: true }, 'body.extra'],
      [`/manifests/${prod}/${app2.uuid}?elementType=PAGE`, { release: '2.0.0', base_sha: 'abc' }, 'body.base_sha'],
      [
        `/manifests/${prod}`,
        {
          manifest: {
            apps: [
              { uuid: app1.uuid, release: '1.0.0' },
              { uuid: app1.uuid, release: '1.1.0' },
            ],
          },
        },
        'body.manifest.apps[1].uuid',
      ],
      [`/manifests/${prod}`, { manifest: { apps: [{ uuid: 'x', release: '1.0.0' }] } }, 'body.manifest.apps[0].uuid'],
    ];
    for (const [url, payload, field] of cases) {
      const res = await put(url, payload);
      t.equal(res.statusCode, 400, `${url} ${JSON.stringify(payload)}`);
      t.match(res.headers['content-type'], PROBLEM);
      t.ok(
        res.json().errors.some((e: { field: string }) => e.field === field),
        `${field} is named: ${JSON.stringify(res.json().errors)}`,
      );
    }
    t.equal(await refs(ctx), before, 'no branch was pushed');
  });

  await t.test('a release that is not on the default branch is 404 release_not_found; latest is fine', async (t) => {
    const res = await put(`/manifests/${prod}/${app2.uuid}?elementType=PAGE`, { release: '9.9.9' });
    t.equal(res.statusCode, 404);
    t.match(res.json(), { code: 'release_not_found', element_uuid: app2.uuid, release: '9.9.9' });
    const wrongType = await put(`/manifests/${prod}/${app2.uuid}?elementType=WORKFLOW`, { release: '2.0.0' });
    t.equal(wrongType.statusCode, 404, 'an app release is not a workflow release');
    const latest = await put(`/manifests/${prod}/${wf1.uuid}?elementType=WORKFLOW`, { release: 'latest' });
    t.equal(latest.statusCode, 200);
  });

  await t.test('writes to a broken manifest are 422: nothing overwrites a file it could not read', async (t) => {
    const res = await put(`/manifests/${broken}/${app1.uuid}?elementType=PAGE`, { release: '1.0.0' });
    t.equal(res.statusCode, 422);
    t.equal(res.json().code, 'manifest_invalid');
  });

  await t.test('dry runs answer the would-be change and push nothing, record nothing', async (t) => {
    const before = await refs(ctx);
    const pullRequests = (await app.services.pullRequests.list({})).length;
    const audits = (await app.services.audit.list({ limit: 1000 })).length;
    const res = await put(`/manifests/${prod}/${app2.uuid}?elementType=PAGE&dry_run=true`, { release: '2.0.0' });
    t.equal(res.statusCode, 200);
    const data = res.json().data;
    t.match(data, {
      dry_run: true,
      base_sha: fixture.commit,
      branch_name: new RegExp(`^mir/manifest/${prod}/`),
      pull_request: { title: String, body: String },
      files: [{ path: `manifests/${prod}.yaml`, change: 'modified' }],
      operations: [{ op: 'set_entry', manifest: prod, element_uuid: app2.uuid, from: null, to: '2.0.0' }],
    });
    t.notMatch(data.manifests[0].before, app2.uuid);
    t.match(data.manifests[0].after, app2.uuid);
    const deletion = await post(`/manifests/${prod}/delete?dry_run=true`);
    t.match(deletion.json().data, { dry_run: true, files: [{ path: `manifests/${prod}.yaml`, change: 'deleted' }] });
    t.equal(await refs(ctx), before, 'the repository refs are unchanged');
    t.equal((await app.services.pullRequests.list({})).length, pullRequests, 'no pull request row');
    t.equal((await app.services.audit.list({ limit: 1000 })).length, audits, 'no audit row');
  });

  await t.test('setting an entry to what it already is: 409 no_change', async (t) => {
    const res = await put(`/manifests/${prod}/${app1.uuid}?elementType=PAGE`, { release: '1.0.0' });
    t.equal(res.statusCode, 409);
    t.equal(res.json().code, 'no_change');
  });
});

t.test('base_sha and If-Match: 409 stale_base only when a changed entry moved', async (t) => {
  const ctx = await buildTestApp(t);
  const { app } = ctx;
  const a = element('PAGE', ['1.0.0', '2.0.0']);
  const b = element('PAGE', ['1.0.0', '2.0.0']);
  const name = manifestName('stg');
  await seed(ctx.git, {
    elements: [a, b],
    manifests: {
      [name]: manifestYaml(name, {
        apps: [
          [a.uuid, '1.0.0'],
          [b.uuid, '1.0.0'],
        ],
      }),
    },
  });
  const token = await ctx.tokenFor('source_control:releases_write');
  const read = await app.inject({ method: 'GET', url: `${API}/manifests/${name}`, headers: ctx.auth(token) });
  const baseSha = read.json().data.commit_sha as string;
  const etag = read.headers.etag as string;

  // Someone moves a to 2.0.0 and it is merged.
  const moved = await app.inject({
    method: 'PUT',
    url: `${API}/manifests/${name}/${a.uuid}?elementType=PAGE`,
    headers: ctx.auth(token),
    payload: { release: '2.0.0' },
  });
  await app.services.pullRequests.merge(moved.json().data.pull_request.number, { name: 'x', email: 'x@example.com', tokenId: null, requestId: null });

  const stale = await app.inject({
    method: 'PUT',
    url: `${API}/manifests/${name}/${a.uuid}?elementType=PAGE`,
    headers: ctx.auth(token),
    payload: { release: '1.0.0', base_sha: baseSha },
  });
  t.equal(stale.statusCode, 409);
  t.match(stale.json(), { code: 'stale_base', base_sha: baseSha, entries: [`manifest:${name}/PAGE:${a.uuid}`] });

  const staleHeader = await app.inject({
    method: 'PUT',
    url: `${API}/manifests/${name}/${a.uuid}?elementType=PAGE`,
    headers: { ...ctx.auth(token), 'if-match': etag },
    payload: { release: '1.0.0' },
  });
  t.equal(staleHeader.statusCode, 409);
  t.equal(staleHeader.json().code, 'stale_base');

  const unrelated = await app.inject({
    method: 'PUT',
    url: `${API}/manifests/${name}/${b.uuid}?elementType=PAGE`,
    headers: { ...ctx.auth(token), 'if-match': etag },
    payload: { release: '2.0.0' },
  });
  t.equal(unrelated.statusCode, 200, 'an entry that did not move is not stale');

  const whole = await app.inject({
    method: 'PUT',
    url: `${API}/manifests/${name}`,
    headers: ctx.auth(token),
    payload: { manifest: { apps: [] }, base_sha: baseSha },
  });
  t.equal(whole.statusCode, 409, 'a whole-manifest write is stale when anything in it moved');

  const unknown = await app.inject({
    method: 'PUT',
    url: `${API}/manifests/${name}/${b.uuid}?elementType=PAGE`,
    headers: ctx.auth(token),
    payload: { release: '2.0.0', base_sha: 'f'.repeat(40) },
  });
  t.equal(unknown.statusCode, 400);
  t.equal(unknown.json().errors[0].field, 'base_sha');
});
