import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { buildTestApp } from '../helpers/app.js';
import { element, manifestName, manifestYaml, seed } from '../helpers/repo-fixture.js';

const run = promisify(execFile);
const API = '/api/v2/source_control';
const SYSTEM = { name: 'merger', email: 'merger@example.com', tokenId: null, requestId: null };

t.test('instances: create, bind, rebind, unbind, delete — each audited', async (t) => {
  const ctx = await buildTestApp(t);
  const { app } = ctx;
  const a = element('PAGE', ['1.0.0']);
  const prod = manifestName('prod');
  const uat = manifestName('uat');
  await seed(ctx.git, { elements: [a], manifests: { [prod]: manifestYaml(prod, { apps: [[a.uuid, '1.0.0']] }), [uat]: manifestYaml(uat) } });
  const writer = await ctx.tokenFor('source_control:write');
  const reader = await ctx.tokenFor('source_control:read');
  const name = manifestName('eu-1');
  const call = (method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, payload?: object, token = writer) =>
    app.inject({ method, url: `${API}/instances${url}`, headers: ctx.auth(token), ...(payload ? { payload } : {}) });

  const created = await call('POST', '', { name, description: 'EU production', url: 'https://eu.example.com', manifest: uat });
  t.equal(created.statusCode, 201);
  t.match(created.json().data.instance, {
    name,
    description: 'EU production',
    url: 'https://eu.example.com',
    manifest: uat,
    created_by: 'test-source_control:write',
  });
  t.equal((await call('POST', '', { name })).json().code, 'instance_exists');

  const rebound = await call('PUT', `/${name}/manifest`, { manifest: prod });
  t.equal(rebound.statusCode, 200);
  t.equal(rebound.json().data.instance.manifest, prod);
  const got = await call('GET', `/${name}`, undefined, reader);
  t.equal(got.json().data.instance.manifest, prod);
  const listed = await call('GET', `?manifest=${prod}`, undefined, reader);
  t.same(
    listed.json().data.instances.map((i: { name: string }) => i.name),
    [name],
  );

  const patched = await call('PATCH', `/${name}`, { description: 'EU prod (Frankfurt)', url: null });
  t.match(patched.json().data.instance, { description: 'EU prod (Frankfurt)', url: null, manifest: prod });

  const unbound = await call('PUT', `/${name}/manifest`, { manifest: null });
  t.equal(unbound.json().data.instance.manifest, null);
  const releases = await call('GET', `/${name}/releases`, undefined, reader);
  t.equal(releases.statusCode, 409);
  t.match(releases.headers['content-type'], /^application\/problem\+json/);
  t.equal(releases.json().code, 'instance_unbound');

  const deleted = await call('DELETE', `/${name}`);
  t.equal(deleted.statusCode, 200);
  t.equal((await call('GET', `/${name}`, undefined, reader)).statusCode, 404);

  const actions = (await app.services.audit.list({ target: `instance:${name}` })).map((e) => e.action).reverse();
  t.same(actions, ['instance.create', 'instance.bind', 'instance.update', 'instance.unbind', 'instance.delete']);
  const bind = (await app.services.audit.list({ target: `instance:${name}`, action: 'instance.bind' }))[0];
  t.match(bind?.details, { from: uat, to: prod });
});

t.test('instance errors: 404, 400, binding a missing manifest, scopes', async (t) => {
  const ctx = await buildTestApp(t);
  const { app } = ctx;
  const writer = await ctx.tokenFor('source_control:write');
  const call = (method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, payload?: object, token = writer) =>
    app.inject({ method, url: `${API}/instances${url}`, headers: ctx.auth(token), ...(payload ? { payload } : {}) });

  for (const [method, url, payload] of [
    ['GET', '/nobody', undefined],
    ['GET', '/nobody/releases', undefined],
    ['PATCH', '/nobody', { description: 'x' }],
    ['DELETE', '/nobody', undefined],
    ['PUT', '/nobody/manifest', { manifest: null }],
  ] as const) {
    const res = await call(method, url, payload);
    t.equal(res.statusCode, 404, `${method} ${url}`);
    t.equal(res.json().code, 'instance_not_found');
  }
  const badName = await call('POST', '', { name: 'Bad Name' });
  t.equal(badName.statusCode, 400);
  t.equal(badName.json().errors[0].field, 'body.name');
  t.equal((await call('GET', '/UPPER')).json().errors[0].field, 'params.name');
  const missing = await call('POST', '', { name: 'edge', manifest: 'no-such-manifest' });
  t.equal(missing.statusCode, 404);
  t.equal(missing.json().code, 'manifest_not_found');
  t.equal((await call('GET', '/edge')).statusCode, 404, 'nothing was written');
  await call('POST', '', { name: 'edge' });
  const bindMissing = await call('PUT', '/edge/manifest', { manifest: 'no-such-manifest' });
  t.equal(bindMissing.statusCode, 404);
  t.equal(bindMissing.json().code, 'manifest_not_found');
  t.equal((await call('PATCH', '/edge', {})).statusCode, 400, 'an empty patch');
  const releasesReader = await ctx.tokenFor('source_control:releases_read');
  t.equal((await call('GET', '', undefined, releasesReader)).statusCode, 403, 'instances need source_control:read');
  t.equal((await call('POST', '', { name: 'x' }, await ctx.tokenFor('source_control:read'))).statusCode, 403);
});

t.test('GET /instances/{name}/releases: resolved artifacts, ETag, 304, and a merge changes it', async (t) => {
  const ctx = await buildTestApp(t);
  const { app } = ctx;
  const a = element('PAGE', ['1.0.0', '1.1.0']);
  const w = element('WORKFLOW', ['2.0.0']);
  const ghost = element('PAGE', []);
  const prod = manifestName('prod');
  const fixture = await seed(ctx.git, {
    elements: [a, w],
    manifests: {
      [prod]: manifestYaml(prod, {
        apps: [
          [a.uuid, '1.0.0'],
          [ghost.uuid, '3.0.0'],
        ],
        workflows: [[w.uuid, 'latest']],
      }),
    },
  });
  const admin = ctx.auth();
  for (const name of ['eu-1', 'us-1']) {
    await app.inject({ method: 'POST', url: `${API}/instances`, headers: admin, payload: { name, manifest: prod } });
  }
  const reader = await ctx.tokenFor('source_control:read');
  const releases = (name: string, headers: Record<string, string> = {}) =>
    app.inject({ method: 'GET', url: `${API}/instances/${name}/releases`, headers: { ...ctx.auth(reader), ...headers } });

  const eu = await releases('eu-1');
  t.equal(eu.statusCode, 200);
  t.match(eu.headers['content-type'], /^application\/json/);
  const zip = await run('git', ['--git-dir', path.join(ctx.config.dataDir, 'repo.git'), 'cat-file', 'blob', `main:dist/apps/${a.uuid}/1.0.0.zip`], {
    encoding: 'buffer',
  });
  const body = eu.json();
  t.match(body, { success: true, data: { instance: 'eu-1', manifest: prod, commit_sha: fixture.commit } });
  const byUuid = new Map(body.data.elements.map((e: { uuid: string }) => [e.uuid, e]));
  t.same(byUuid.get(a.uuid), {
    uuid: a.uuid,
    type: 'PAGE',
    name: a.name,
    release: '1.0.0',
    artifact: {
      path: `dist/apps/${a.uuid}/1.0.0.zip`,
      sha256: createHash('sha256').update(zip.stdout).digest('hex'),
      size: zip.stdout.length,
      download_url: `http://127.0.0.1:3000${API}/releases/${a.uuid}/1.0.0/artifact?elementType=PAGE`,
    },
  });
  t.same(byUuid.get(w.uuid), { uuid: w.uuid, type: 'WORKFLOW', name: w.name, release: 'latest', artifact: null, source_commit: fixture.commit });
  t.match(
    byUuid.get(ghost.uuid),
    { release: '3.0.0', artifact: null, name: null, error: { code: 'release_not_found' } },
    'a missing artifact is reported per entry',
  );

  const us = await releases('us-1');
  t.same(us.json().data.elements, body.data.elements, 'two instances on one manifest see the same releases');
  t.not(us.headers.etag, eu.headers.etag, 'each answer names its instance');

  const etag = eu.headers.etag as string;
  const notModified = await releases('eu-1', { 'if-none-match': etag });
  t.equal(notModified.statusCode, 304);
  t.equal(notModified.body, '');
  t.equal(notModified.headers.etag, etag);
  t.equal((await releases('eu-1', { 'if-none-match': `"stale", W/${etag}` })).statusCode, 304, 'a list with a weak match');
  t.equal((await releases('eu-1', { 'if-none-match': '"stale"' })).statusCode, 200);

  // A change merged to the default branch: the answer and its ETag change.
  const writer = await ctx.tokenFor('source_control:releases_write');
  const opened = await app.inject({
    method: 'PUT',
    url: `${API}/manifests/${prod}/${a.uuid}?elementType=PAGE`,
    headers: ctx.auth(writer),
    payload: { release: '1.1.0' },
  });
  t.equal((await releases('eu-1', { 'if-none-match': etag })).statusCode, 304, 'an open pull request changes nothing');
  await app.services.pullRequests.merge(opened.json().data.pull_request.number, SYSTEM);
  const after = await releases('eu-1', { 'if-none-match': etag });
  t.equal(after.statusCode, 200);
  t.not(after.headers.etag, etag);
  t.match(
    after.json().data.elements.find((e: { uuid: string }) => e.uuid === a.uuid),
    { release: '1.1.0', artifact: { path: `dist/apps/${a.uuid}/1.1.0.zip` } },
  );
  t.equal(after.json().data.commit_sha, (await run('git', ['--git-dir', path.join(ctx.config.dataDir, 'repo.git'), 'rev-parse', 'main'])).stdout.trim());

  // Rebinding is seen at once by this process.
  const other = manifestName('canary');
  await seed(ctx.git, { manifests: { [other]: manifestYaml(other, { workflows: [[w.uuid, '2.0.0']] }) } });
  await app.inject({ method: 'PUT', url: `${API}/instances/eu-1/manifest`, headers: admin, payload: { manifest: other } });
  const rebound = await releases('eu-1');
  t.equal(rebound.json().data.manifest, other);
  t.same(
    rebound.json().data.elements.map((e: { uuid: string; release: string }) => [e.uuid, e.release]),
    [[w.uuid, '2.0.0']],
  );
});

t.test('an instance whose manifest is broken or gone', async (t) => {
  const ctx = await buildTestApp(t);
  const { app } = ctx;
  const name = manifestName('m');
  await seed(ctx.git, { manifests: { [name]: manifestYaml(name) } });
  await app.inject({ method: 'POST', url: `${API}/instances`, headers: ctx.auth(), payload: { name: 'eu-1', manifest: name } });
  await seed(ctx.git, { manifests: { [name]: 'name: [broken\n' } });
  const broken = await app.inject({ method: 'GET', url: `${API}/instances/eu-1/releases`, headers: ctx.auth() });
  t.equal(broken.statusCode, 422);
  t.equal(broken.json().code, 'manifest_invalid');
});
