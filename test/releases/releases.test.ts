import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import JSZip from 'jszip';
import t from 'tap';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { element, seed } from '../helpers/repo-fixture.js';
import { retoolResponseErrors } from '../helpers/retool-contract.js';

const run = promisify(execFile);
const PROBLEM = /^application\/problem\+json/;
const API = '/api/v2/source_control';
const SYSTEM = { name: 'merger', email: 'merger@example.com', tokenId: null, requestId: null };

async function git(ctx: TestApp, ...args: string[]): Promise<string> {
  return (await run('git', ['--git-dir', path.join(ctx.config.dataDir, 'repo.git'), ...args], { maxBuffer: 64 * 1024 * 1024 })).stdout;
}

async function refs(ctx: TestApp): Promise<string> {
  return git(ctx, 'for-each-ref', '--format=%(refname) %(objectname)');
}

async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...(await listFiles(path.join(dir, entry.name), rel)));
    else out.push(rel);
  }
  return out.sort();
}

const fiftyFiles = Object.fromEntries(
  Array.from({ length: 50 }, (_, i) => [
    i % 5 === 0 ? `queries/q${i}.sql` : i % 7 === 0 ? `lib/deep/m${i}.js` : `components/c${i}.json`,
    `// file ${i}\n${'x'.repeat(i * 37)}\n`,
  ]),
);

t.test('POST a release of a 50-file app: branch, pull request, and after merge the zip unzips to the source', async (t) => {
  const ctx = await buildTestApp(t);
  const { app } = ctx;
  const big = element('PAGE', [], fiftyFiles);
  await seed(ctx.git, { elements: [big] });
  const writer = await ctx.tokenFor('source_control:releases_write');
  const url = `${API}/releases/${big.uuid}?elementType=PAGE`;
  const payload = { release_version: '1.0.0', release_description: 'First cut', commit_message: 'Release the big app' };

  const dry = await app.inject({ method: 'POST', url: `${url}&dry_run=true`, headers: ctx.auth(writer), payload });
  const dryAgain = await app.inject({ method: 'POST', url: `${url}&dry_run=true`, headers: ctx.auth(writer), payload });
  t.equal(dry.statusCode, 200);
  t.match(dry.json().data, {
    dry_run: true,
    release_version: '1.0.0',
    branch_name: `mir/release/${big.uuid}/1.0.0`,
    files: [{ path: `dist/apps/${big.uuid}/1.0.0.zip`, change: 'added' }],
  });
  t.equal(dryAgain.json().data.sha256, dry.json().data.sha256, 'the same commit builds the same bytes');

  const res = await app.inject({ method: 'POST', url, headers: ctx.auth(writer), payload });
  t.equal(res.statusCode, 200, res.body);
  t.same(retoolResponseErrors('POST', '/source_control/releases/{elementUuid}', 200, res.json()), []);
  const data = res.json().data;
  t.match(data, {
    branch_name: `mir/release/${big.uuid}/1.0.0`,
    release_version: '1.0.0',
    sha256: dry.json().data.sha256,
    pull_request: { state: 'open', title: `Release ${big.name} 1.0.0` },
  });
  t.equal((await git(ctx, 'rev-parse', data.branch_name)).trim(), data.commit_sha);
  t.match(await git(ctx, 'log', '-1', '--format=%an%n%B', data.commit_sha), /^test-source_control:releases_write\nRelease the big app/);
  t.equal((await git(ctx, 'diff', '--name-only', `main..${data.branch_name}`)).trim(), `dist/apps/${big.uuid}/1.0.0.zip`, 'the branch adds only the zip');
  const audit = await app.services.audit.list({ target: `element:PAGE:${big.uuid}` });
  t.match(audit[0], { action: 'release.create', details: { release_version: '1.0.0', sha256: data.sha256, pull_request: data.pull_request.number } });

  await app.services.pullRequests.merge(data.pull_request.number, SYSTEM);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mir-unzip-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await run('sh', ['-c', `git --git-dir '${path.join(ctx.config.dataDir, 'repo.git')}' cat-file blob main:dist/apps/${big.uuid}/1.0.0.zip > '${dir}/a.zip'`]);
  const bytes = await readFile(path.join(dir, 'a.zip'));
  t.equal(createHash('sha256').update(bytes).digest('hex'), data.sha256, 'the merged zip is the one announced');
  await run('unzip', ['-q', path.join(dir, 'a.zip'), '-d', path.join(dir, 'out')]);
  t.same(await listFiles(path.join(dir, 'out')), ['.release.json', ...Object.keys(fiftyFiles)].sort(), 'exactly the source folder plus .release.json');
  for (const [file, text] of Object.entries(fiftyFiles)) {
    if ((await readFile(path.join(dir, 'out', file), 'utf8')) !== text) t.fail(`${file} differs`);
  }
  const metadata = JSON.parse(await readFile(path.join(dir, 'out', '.release.json'), 'utf8'));
  const sourceCommit = (await git(ctx, 'rev-parse', `${data.commit_sha}^`)).trim();
  t.match(metadata, {
    format: 1,
    element_uuid: big.uuid,
    element_type: 'PAGE',
    name: big.name,
    release_version: '1.0.0',
    release_description: 'First cut',
    created_by: 'test-source_control:releases_write',
    source_commit: sourceCommit,
    source_tree: (await git(ctx, 'rev-parse', `${sourceCommit}:apps/${big.name}`)).trim(),
  });

  const listed = await app.inject({ method: 'GET', url, headers: ctx.auth(writer) });
  t.match(listed.json().data, [{ release_version: '1.0.0', status: 'available', release_description: 'First cut', sha256: data.sha256, size: bytes.length }]);
});

t.test('GET releases: Retool shape, newest first, pending ones overlaid; the deprecated app form', async (t) => {
  const ctx = await buildTestApp(t);
  const { app } = ctx;
  const a = element('PAGE', ['1.0.0', '1.10.0', '1.2.0']);
  const wf = element('WORKFLOW', ['0.1.0']);
  await seed(ctx.git, { elements: [a, wf] });
  const reader = await ctx.tokenFor('source_control:releases_read');
  const writer = await ctx.tokenFor('source_control:releases_write');

  const res = await app.inject({ method: 'GET', url: `${API}/releases/${a.uuid}?elementType=PAGE`, headers: ctx.auth(reader) });
  t.equal(res.statusCode, 200);
  t.same(retoolResponseErrors('GET', '/source_control/releases/{elementUuid}', 200, res.json()), []);
  const releases = res.json().data;
  t.same(
    releases.map((r: { release_version: string }) => r.release_version),
    ['1.10.0', '1.2.0', '1.0.0'],
    'numeric order, newest first',
  );
  t.match(releases[0], {
    status: 'available',
    release_description: `release 1.10.0 of ${a.name}`,
    created_at: '2026-01-01T00:00:00.000Z',
    created_by: 'Grace Hopper',
    sha256: /^[0-9a-f]{64}$/,
    size: Number,
  });
  t.notOk('pull_request' in releases[0]);

  const proposed = await app.inject({
    method: 'POST',
    url: `${API}/releases/${a.uuid}?elementType=PAGE`,
    headers: ctx.auth(writer),
    payload: { bump: 'minor', release_description: 'Dark mode' },
  });
  t.equal(proposed.statusCode, 200);
  t.equal(proposed.json().data.release_version, '1.11.0', 'bump minor from the highest, 1.10.0');
  const withPending = await app.inject({ method: 'GET', url: `${API}/releases/${a.uuid}?elementType=PAGE`, headers: ctx.auth(reader) });
  t.same(retoolResponseErrors('GET', '/source_control/releases/{elementUuid}', 200, withPending.json()), []);
  t.match(withPending.json().data[0], {
    release_version: '1.11.0',
    status: 'pending',
    release_description: 'Dark mode',
    sha256: proposed.json().data.sha256,
    pull_request: { number: proposed.json().data.pull_request.number, state: 'open' },
  });

  const deprecated = await app.inject({ method: 'GET', url: `${API}/releases/apps/${a.uuid}`, headers: ctx.auth(reader) });
  t.equal(deprecated.statusCode, 200);
  t.same(retoolResponseErrors('GET', '/source_control/releases/apps/{appUuid}', 200, deprecated.json()), []);
  t.same(deprecated.json().data, withPending.json().data);

  const workflow = await app.inject({ method: 'GET', url: `${API}/releases/${wf.uuid}?elementType=WORKFLOW`, headers: ctx.auth(reader) });
  t.same(
    workflow.json().data.map((r: { release_version: string }) => r.release_version),
    ['0.1.0'],
  );
  const wrongType = await app.inject({ method: 'GET', url: `${API}/releases/${wf.uuid}?elementType=PAGE`, headers: ctx.auth(reader) });
  t.equal(wrongType.statusCode, 404);
  t.match(wrongType.headers['content-type'], PROBLEM);
  t.match(wrongType.json(), { code: 'element_not_found', element_uuid: wf.uuid, element_type: 'PAGE' });
  t.same(retoolResponseErrors('GET', '/source_control/releases/{elementUuid}', 404, wrongType.json()), []);

  const noType = await app.inject({ method: 'GET', url: `${API}/releases/${a.uuid}`, headers: ctx.auth(reader) });
  t.equal(noType.statusCode, 400);
  t.equal(noType.json().errors[0].field, 'querystring.elementType');
  const badUuid = await app.inject({ method: 'GET', url: `${API}/releases/nope?elementType=PAGE`, headers: ctx.auth(reader) });
  t.equal(badUuid.statusCode, 400);
  t.equal(badUuid.json().errors[0].field, 'params.elementUuid');
  const anonymous = await app.inject({ method: 'GET', url: `${API}/releases/${a.uuid}?elementType=PAGE` });
  t.equal(anonymous.statusCode, 401);
  const readerWrites = await app.inject({
    method: 'POST',
    url: `${API}/releases/${a.uuid}?elementType=PAGE`,
    headers: ctx.auth(reader),
    payload: { bump: 'patch' },
  });
  t.equal(readerWrites.statusCode, 403);
});

t.test('zips made by other tools (no .release.json) are listed with the commit that added them', async (t) => {
  const ctx = await buildTestApp(t);
  const a = element('PAGE', []);
  await seed(ctx.git, { elements: [a] });
  const zip = new JSZip();
  zip.file('main.json', '{"made": "by retool"}');
  const bytes = await zip.generateAsync({ type: 'uint8array' });
  const retool = { name: 'Retool Bot', email: 'bot@retool.example' };
  const added = await ctx.git.withWriteLock(async () => {
    const head = await ctx.git.headCommit();
    const next = await ctx.git.commit({
      parent: head,
      changes: [{ path: `dist/apps/${a.uuid}/2.0.0.zip`, bytes }],
      message: 'Retool release 2.0.0',
      author: retool,
    });
    await ctx.git.fastForwardDefault({ from: head, to: next });
    return next;
  });
  // Later unrelated commits must not move its date.
  await seed(ctx.git, { elements: [element('WORKFLOW')] });
  await seed(ctx.git, { elements: [element('WORKFLOW')] });
  const addedAt = Number((await git(ctx, 'log', '-1', '--format=%at', added)).trim());

  const res = await ctx.app.inject({ method: 'GET', url: `${API}/releases/${a.uuid}?elementType=PAGE`, headers: ctx.auth() });
  t.equal(res.statusCode, 200);
  t.same(retoolResponseErrors('GET', '/source_control/releases/{elementUuid}', 200, res.json()), []);
  t.match(res.json().data, [
    {
      release_version: '2.0.0',
      release_description: '',
      created_by: 'Retool Bot',
      created_at: new Date(addedAt * 1000).toISOString(),
      status: 'available',
      size: bytes.length,
    },
  ]);
  const again = await ctx.app.inject({ method: 'GET', url: `${API}/releases/${a.uuid}?elementType=PAGE`, headers: ctx.auth() });
  t.same(again.json().data, res.json().data, 'the remembered answer is the same');
});

t.test('version rules, bump rules and their errors; bad input writes nothing', async (t) => {
  const ctx = await buildTestApp(t);
  const { app } = ctx;
  const a = element('PAGE', ['1.2.0', '2.0.0']);
  const fresh = element('WORKFLOW', []);
  const empty = { ...element('PAGE', []), files: {} };
  await seed(ctx.git, { elements: [a, fresh, empty] });
  const writer = await ctx.tokenFor('source_control:releases_write');
  const post = (uuid: string, payload: unknown, type = 'PAGE', query = '') =>
    app.inject({ method: 'POST', url: `${API}/releases/${uuid}?elementType=${type}${query}`, headers: ctx.auth(writer), payload: payload as object });

  const before = await refs(ctx);
  const bad: [unknown, string][] = [
    [{ release_version: 'v3.0.0' }, 'body.release_version'],
    [{ release_version: '3.0' }, 'body.release_version'],
    [{ release_version: '3.0.0-rc.1' }, 'body.release_version'],
    [{ release_version: '03.0.0' }, 'body.release_version'],
    [{ bump: 'huge' }, 'body.bump'],
    [{}, 'body.release_version'],
    [{ release_version: '3.0.0', bump: 'major' }, 'body.release_version'],
    [{ release_version: '3.0.0', extra: 1 }, 'body.extra'],
  ];
  for (const [payload, field] of bad) {
    const res = await post(a.uuid, payload);
    t.equal(res.statusCode, 400, JSON.stringify(payload));
    t.match(res.headers['content-type'], PROBLEM);
    t.ok(
      res.json().errors.some((e: { field: string }) => e.field === field),
      `${field} named in ${JSON.stringify(res.json().errors)}`,
    );
  }
  const exists = await post(a.uuid, { release_version: '2.0.0' });
  t.equal(exists.statusCode, 409);
  t.match(exists.json(), { code: 'version_exists', release_version: '2.0.0', pull_request: null });
  const lower = await post(a.uuid, { release_version: '1.5.0' });
  t.equal(lower.statusCode, 409);
  t.match(lower.json(), { code: 'version_not_greater', highest: '2.0.0' });
  const missing = await post('0d7c1c9e-4a8e-4d0c-9a57-2f2f6f1d8a11', { release_version: '1.0.0' });
  t.equal(missing.statusCode, 404);
  t.equal(missing.json().code, 'element_not_found');
  const noSource = await post(empty.uuid, { release_version: '1.0.0' });
  t.equal(noSource.statusCode, 422);
  t.match(noSource.json(), { code: 'source_folder_empty', folder: `apps/${empty.name}` });
  t.equal(await refs(ctx), before, 'nothing was pushed');

  const pending = await post(a.uuid, { release_version: '2.1.0' });
  t.equal(pending.statusCode, 200);
  const again = await post(a.uuid, { release_version: '2.1.0' });
  t.equal(again.statusCode, 409);
  t.match(again.json(), { code: 'version_exists', pull_request: pending.json().data.pull_request.number });
  const belowPending = await post(a.uuid, { release_version: '2.0.5' });
  t.match(belowPending.json(), { code: 'version_not_greater', highest: '2.1.0' }, 'pending versions count');
  const patch = await post(a.uuid, { bump: 'patch' }, 'PAGE', '&dry_run=true');
  t.equal(patch.json().data.release_version, '2.1.1');
  const major = await post(a.uuid, { bump: 'major' }, 'PAGE', '&dry_run=true');
  t.equal(major.json().data.release_version, '3.0.0');

  for (const [bump, first] of [
    ['major', '1.0.0'],
    ['minor', '0.1.0'],
    ['patch', '0.0.1'],
  ]) {
    const res = await post(fresh.uuid, { bump }, 'WORKFLOW', '&dry_run=true');
    t.equal(res.json().data.release_version, first, `first ${bump} release`);
    t.match(res.json().data.files, [{ path: `dist/workflows/${fresh.uuid}/${first}.zip`, change: 'added' }]);
  }

  const concurrent = await Promise.all([
    post(fresh.uuid, { release_version: '5.0.0' }, 'WORKFLOW'),
    post(fresh.uuid, { release_version: '5.0.0' }, 'WORKFLOW'),
  ]);
  t.same(concurrent.map((r) => r.statusCode).sort(), [200, 409], 'two concurrent requests for one version: one wins');
  t.equal(concurrent.find((r) => r.statusCode === 409)!.json().code, 'version_exists');

  const deprecated = await app.inject({
    method: 'POST',
    url: `${API}/releases/apps/${a.uuid}`,
    headers: ctx.auth(writer),
    payload: { release_version: '9.0.0' },
  });
  t.equal(deprecated.statusCode, 200);
  t.same(retoolResponseErrors('POST', '/source_control/releases/apps/{appUuid}', 200, deprecated.json()), []);
  t.equal(deprecated.json().data.branch_name, `mir/release/${a.uuid}/9.0.0`);
  const deprecatedError = await app.inject({
    method: 'POST',
    url: `${API}/releases/apps/${a.uuid}`,
    headers: ctx.auth(writer),
    payload: { release_version: '1.0.0' },
  });
  t.same(retoolResponseErrors('POST', '/source_control/releases/apps/{appUuid}', 409, deprecatedError.json()), []);
});

t.test('dry runs push nothing and record nothing', async (t) => {
  const ctx = await buildTestApp(t);
  const a = element('PAGE', ['1.0.0']);
  await seed(ctx.git, { elements: [a] });
  const before = await refs(ctx);
  const audits = (await ctx.app.services.audit.list({ limit: 1000 })).length;
  const res = await ctx.app.inject({
    method: 'POST',
    url: `${API}/releases/${a.uuid}?elementType=PAGE&dry_run=true`,
    headers: ctx.auth(),
    payload: { bump: 'patch' },
  });
  t.equal(res.statusCode, 200);
  t.match(res.json().data, { dry_run: true, release_version: '1.0.1', operations: [{ op: 'add_artifact', version: '1.0.1', element_uuid: a.uuid }] });
  t.equal(await refs(ctx), before);
  t.equal((await ctx.app.services.pullRequests.list({})).length, 0);
  t.equal((await ctx.app.services.audit.list({ limit: 1000 })).length, audits);
});

t.test('GET the artifact: the zip, ETag = sha256, 304, Content-Disposition; 404', async (t) => {
  const ctx = await buildTestApp(t);
  const a = element('PAGE', ['1.0.0', '1.1.0']);
  await seed(ctx.git, { elements: [a] });
  const reader = await ctx.tokenFor('source_control:releases_read');
  const url = `${API}/releases/${a.uuid}/1.1.0/artifact?elementType=PAGE`;
  const res = await ctx.app.inject({ method: 'GET', url, headers: ctx.auth(reader) });
  t.equal(res.statusCode, 200);
  t.equal(res.headers['content-type'], 'application/zip');
  const sha = createHash('sha256').update(res.rawPayload).digest('hex');
  t.equal(res.headers.etag, `"${sha}"`);
  t.match(res.headers['content-disposition'], `attachment; filename="${a.name}-1.1.0.zip"`);
  const onMain = await run('sh', [
    '-c',
    `git --git-dir '${path.join(ctx.config.dataDir, 'repo.git')}' cat-file blob main:dist/apps/${a.uuid}/1.1.0.zip | sha256sum`,
  ]);
  t.equal(onMain.stdout.split(' ')[0], sha, 'the bytes on the default branch');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mir-dl-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(path.join(dir, 'a.zip'), res.rawPayload);
  t.match((await run('unzip', ['-l', path.join(dir, 'a.zip')])).stdout, /\.release\.json[\s\S]*lib\/util\.js[\s\S]*main\.json/);

  const cached = await ctx.app.inject({ method: 'GET', url, headers: { ...ctx.auth(reader), 'if-none-match': `"${sha}"` } });
  t.equal(cached.statusCode, 304);
  t.equal(cached.body, '');
  const stale = await ctx.app.inject({ method: 'GET', url, headers: { ...ctx.auth(reader), 'if-none-match': `"${'0'.repeat(64)}"` } });
  t.equal(stale.statusCode, 200);

  const missing = await ctx.app.inject({ method: 'GET', url: `${API}/releases/${a.uuid}/3.0.0/artifact?elementType=PAGE`, headers: ctx.auth(reader) });
  t.equal(missing.statusCode, 404);
  t.match(missing.headers['content-type'], PROBLEM);
  t.match(missing.json(), { code: 'release_not_found', release: '3.0.0' });
  const badVersion = await ctx.app.inject({ method: 'GET', url: `${API}/releases/${a.uuid}/latest/artifact?elementType=PAGE`, headers: ctx.auth(reader) });
  t.equal(badVersion.statusCode, 400);
  t.equal(badVersion.json().errors[0].field, 'params.version');
});

t.test('a protected list that does not parse is 422, not "not found"', async (t) => {
  const ctx = await buildTestApp(t);
  const a = element('PAGE', ['1.0.0']);
  await seed(ctx.git, { elements: [a] });
  await ctx.git.withWriteLock(async () => {
    const head = await ctx.git.headCommit();
    const next = await ctx.git.commit({
      parent: head,
      changes: [{ path: '.retool/protected-apps.yaml', bytes: new TextEncoder().encode('apps: [oops\n') }],
      message: 'Break it',
      author: { name: 'x', email: 'x@example.com' },
    });
    await ctx.git.fastForwardDefault({ from: head, to: next });
  });
  const res = await ctx.app.inject({ method: 'POST', url: `${API}/releases/${a.uuid}?elementType=PAGE`, headers: ctx.auth(), payload: { bump: 'patch' } });
  t.equal(res.statusCode, 422);
  t.match(res.headers['content-type'], PROBLEM);
  t.match(res.json(), { code: 'repository_file_invalid', path: '.retool/protected-apps.yaml' });
  const listed = await ctx.app.inject({ method: 'GET', url: `${API}/releases/${a.uuid}?elementType=PAGE`, headers: ctx.auth() });
  t.equal(listed.statusCode, 200, 'its artifacts are still listed');
});
