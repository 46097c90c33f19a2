import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Kysely } from 'kysely';
import t from 'tap';
import { buildApp } from '../../src/app.js';
import { createAuditService, type AuditService } from '../../src/audit/audit.service.js';
import type { Tables } from '../../src/db/database.js';
import { createAdvisoryLock } from '../../src/db/lock.js';
import { createGitGateway, INITIAL_FILES } from '../../src/git/gateway.js';
import { createLogger } from '../../src/logger.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { CHILD_ENV, TS_NODE_ARGS } from '../helpers/child.js';
import { usingPostgres } from '../helpers/database.js';
import { commitFiles, createBareRepo, runGit, startGitServer, tempDir } from '../helpers/git-server.js';
import { element, manifestName, manifestYaml, PEOPLE, seed, type FixtureElement } from '../helpers/repo-fixture.js';

const run = promisify(execFile);
const API = '/api/v2/source_control';
const PROBLEM = /^application\/problem\+json/;
const enc = (s: string) => new TextEncoder().encode(s);

function repoPath(ctx: TestApp): string {
  return path.join(ctx.config.dataDir, 'repo.git');
}

async function git(ctx: TestApp, ...args: string[]): Promise<string> {
  return (await run('git', ['--git-dir', repoPath(ctx), ...args])).stdout;
}

async function refs(ctx: TestApp): Promise<string> {
  return git(ctx, 'for-each-ref', '--format=%(refname) %(objectname)');
}

/** Commits source changes straight to the default branch, as an editor pushing with git would. */
async function commitSource(ctx: TestApp, e: FixtureElement, files: Record<string, string | null>): Promise<string> {
  return ctx.git.withWriteLock(async () => {
    const head = await ctx.git.headCommit();
    const changes = Object.entries(files).map(([file, text]) =>
      text === null ? { path: `apps/${e.name}/${file}`, delete: true as const } : { path: `apps/${e.name}/${file}`, bytes: enc(text) },
    );
    const next = await ctx.git.commit({ parent: head, changes, message: 'Edit the source', author: PEOPLE });
    await ctx.git.fastForwardDefault({ from: head, to: next });
    return next;
  });
}

/** Releases the current source as `version` through the API and merges it. */
async function release(ctx: TestApp, e: FixtureElement, version: string): Promise<void> {
  const res = await ctx.app.inject({
    method: 'POST',
    url: `${API}/releases/${e.uuid}?elementType=PAGE`,
    headers: ctx.auth(),
    payload: { release_version: version },
  });
  if (res.statusCode !== 200) throw new Error(res.body);
  const merged = await ctx.app.inject({ method: 'POST', url: `${API}/pull_requests/${res.json().data.pull_request.number}/merge`, headers: ctx.auth() });
  if (merged.statusCode !== 200) throw new Error(merged.body);
}

async function unzipFile(ctx: TestApp, rev: string, file: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mir-hotfix-zip-'));
  try {
    await run('sh', ['-c', `git --git-dir '${repoPath(ctx)}' cat-file blob '${rev}' > '${dir}/a.zip'`]);
    return (await run('unzip', ['-p', path.join(dir, 'a.zip'), file])).stdout;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

t.test('end to end: hotfix 1.2 with a native git commit, patch release, merge, publish', async (t) => {
  const ctx = await buildTestApp(t);
  const { app } = ctx;
  const e = element('PAGE', [], { 'main.json': '{"v": "1.2"}\n', 'lib/util.js': 'export const bug = true;\n' });
  const prod = manifestName('prod');
  await seed(ctx.git, { elements: [e], manifests: { [prod]: manifestYaml(prod) } });
  await release(ctx, e, '1.2.0');
  await commitSource(ctx, e, { 'main.json': '{"v": "1.3"}\n', 'new-in-1.3.js': 'export const feature = 1;\n' });
  await release(ctx, e, '1.3.0');
  await commitSource(ctx, e, { 'main.json': '{"v": "1.4-dev"}\n' });
  const sourceBefore = (await git(ctx, 'rev-parse', `main:apps/${e.name}`)).trim();
  const zip130Before = (await git(ctx, 'rev-parse', `main:dist/apps/${e.uuid}/1.3.0.zip`)).trim();
  const writer = await ctx.tokenFor('source_control:releases_write');
  const reader = await ctx.tokenFor('source_control:releases_read');

  const created = await app.inject({
    method: 'POST',
    url: `${API}/hotfixes`,
    headers: ctx.auth(writer),
    payload: { element_uuid: e.uuid, element_type: 'PAGE', release: '1.2.0' },
  });
  t.equal(created.statusCode, 201, created.body);
  const { hotfix, commit_sha } = created.json().data;
  const branch = `hotfix/${e.uuid}/1.2`;
  t.match(hotfix, { element_uuid: e.uuid, line: '1.2', base_version: '1.2.0', branch, state: 'open', base_commit: commit_sha, pull_request: null });
  t.equal((await git(ctx, 'rev-parse', branch)).trim(), commit_sha);
  t.equal(await git(ctx, 'show', `${branch}:apps/${e.name}/main.json`), '{"v": "1.2"}\n', 'the folder holds release 1.2.0');
  t.same(
    (await git(ctx, 'ls-tree', '-r', '--name-only', branch, `apps/${e.name}/`)).trim().split('\n'),
    [`apps/${e.name}/lib/util.js`, `apps/${e.name}/main.json`],
    'files of later releases are gone; no .release.json',
  );
  t.equal((await git(ctx, 'rev-parse', `${branch}^`)).trim(), (await git(ctx, 'rev-parse', 'main')).trim(), 'cut from the default branch');
  const row = await ctx.database.handle.db.selectFrom('hotfixes').selectAll().where('id', '=', hotfix.id).executeTakeFirstOrThrow();
  t.match(row, {
    state: 'open',
    element_type: 'PAGE',
    element_uuid: e.uuid,
    line: '1.2',
    base_version: '1.2.0',
    branch,
    author: 'test-source_control:releases_write',
  });

  const empty = await app.inject({ method: 'POST', url: `${API}/hotfixes/${hotfix.id}/release`, headers: ctx.auth(writer) });
  t.equal(empty.statusCode, 409);
  t.match(empty.headers['content-type'], PROBLEM);
  t.match(empty.json(), { code: 'hotfix_empty', hotfix_id: hotfix.id });

  // Someone fixes it with plain git.
  const work = await mkdtemp(path.join(os.tmpdir(), 'mir-hotfix-clone-'));
  t.teardown(() => rm(work, { recursive: true, force: true }));
  await run('git', ['clone', '-q', '--branch', branch, repoPath(ctx), work]);
  await writeFile(path.join(work, 'apps', e.name, 'lib', 'util.js'), 'export const bug = false;\n');
  await run('git', ['-C', work, '-c', 'user.name=Fixer', '-c', 'user.email=fixer@example.com', 'commit', '-q', '-am', 'Fix the bug on 1.2']);
  await run('git', ['-C', work, 'push', '-q', 'origin', branch]);

  const got = await app.inject({ method: 'GET', url: `${API}/hotfixes/${hotfix.id}`, headers: ctx.auth(reader) });
  t.equal(got.statusCode, 200);
  t.match(got.json().data, {
    hotfix: { id: hotfix.id, state: 'open' },
    commits: [{ message: 'Fix the bug on 1.2\n', author: 'Fixer', email: 'fixer@example.com' }],
  });
  t.equal(got.json().data.commits.length, 1);

  const dry = await app.inject({
    method: 'POST',
    url: `${API}/hotfixes/${hotfix.id}/release?dry_run=true`,
    headers: ctx.auth(writer),
    payload: { release_description: 'Fix the 1.2 bug' },
  });
  t.equal(dry.statusCode, 200);
  t.match(dry.json().data, {
    dry_run: true,
    release_version: '1.2.1',
    hotfix_id: hotfix.id,
    files: [{ path: `dist/apps/${e.uuid}/1.2.1.zip`, change: 'added' }],
  });

  const released = await app.inject({
    method: 'POST',
    url: `${API}/hotfixes/${hotfix.id}/release`,
    headers: ctx.auth(writer),
    payload: { release_description: 'Fix the 1.2 bug' },
  });
  t.equal(released.statusCode, 200, released.body);
  const pr = released.json().data;
  t.match(pr, { release_version: '1.2.1', branch_name: `mir/release/${e.uuid}/1.2.1`, hotfix_id: hotfix.id, sha256: dry.json().data.sha256 });
  t.equal((await git(ctx, 'diff', '--name-only', `main..${pr.branch_name}`)).trim(), `dist/apps/${e.uuid}/1.2.1.zip`, 'only the artifact is proposed');
  const view = await app.inject({ method: 'GET', url: `${API}/pull_requests/${pr.pull_request.number}`, headers: ctx.auth(reader) });
  t.match(view.json().data.pull_request, { kind: 'hotfix_release', artifacts: [{ version: '1.2.1' }] });
  const pending = await app.inject({ method: 'POST', url: `${API}/hotfixes/${hotfix.id}/release`, headers: ctx.auth(writer) });
  t.equal(pending.statusCode, 409);
  t.equal(pending.json().code, 'hotfix_release_pending');

  const merged = await app.inject({ method: 'POST', url: `${API}/pull_requests/${pr.pull_request.number}/merge`, headers: ctx.auth(writer) });
  t.equal(merged.statusCode, 200, merged.body);
  const after = await app.inject({ method: 'GET', url: `${API}/hotfixes/${hotfix.id}`, headers: ctx.auth(reader) });
  t.match(after.json().data, {
    hotfix: { state: 'released', release_version: '1.2.1', pull_request: { number: pr.pull_request.number }, released_at: String },
    commits: [{ author: 'Fixer' }],
  });
  await t.rejects(git(ctx, 'rev-parse', '--verify', `refs/heads/${branch}`), 'the hotfix branch is deleted');

  t.equal(await unzipFile(ctx, `main:dist/apps/${e.uuid}/1.2.1.zip`, 'lib/util.js'), 'export const bug = false;\n', '1.2.1 holds the fix');
  t.equal(await unzipFile(ctx, `main:dist/apps/${e.uuid}/1.2.1.zip`, 'main.json'), '{"v": "1.2"}\n', '1.2.1 is 1.2, not the newer source');
  t.match(JSON.parse(await unzipFile(ctx, `main:dist/apps/${e.uuid}/1.2.1.zip`, '.release.json')), {
    release_version: '1.2.1',
    release_description: 'Fix the 1.2 bug',
    source_commit: got.json().data.commits[0].sha,
  });
  t.equal((await git(ctx, 'rev-parse', `main:dist/apps/${e.uuid}/1.3.0.zip`)).trim(), zip130Before, '1.3.0 is untouched');
  t.equal((await git(ctx, 'rev-parse', `main:apps/${e.name}`)).trim(), sourceBefore, 'the source on the default branch is untouched');

  const publish = await app.inject({
    method: 'POST',
    url: `${API}/publish`,
    headers: ctx.auth(writer),
    payload: { changes: [{ manifest: prod, element_uuid: e.uuid, element_type: 'PAGE', release: '1.2.1' }] },
  });
  t.equal(publish.statusCode, 200, publish.body);
  t.match(await git(ctx, 'show', `${publish.json().data.branch_name}:manifests/${prod}.yaml`), new RegExp(`uuid: ${e.uuid}\\n    release: 1.2.1`));

  const actions = (await app.services.audit.list({ target: `hotfix:${hotfix.id}` })).map((a) => a.action);
  t.same(actions.sort(), ['hotfix.create', 'hotfix.released'].sort());
  t.match(await app.services.audit.list({ action: 'hotfix.release' }), [
    { target: `element:PAGE:${e.uuid}`, details: { hotfix_id: hotfix.id, release_version: '1.2.1' } },
  ]);

  const again = await app.inject({
    method: 'POST',
    url: `${API}/hotfixes`,
    headers: ctx.auth(writer),
    payload: { element_uuid: e.uuid, element_type: 'PAGE', release: '1.2.1' },
  });
  t.equal(again.statusCode, 201, 'a released hotfix frees its line');
  t.equal(again.json().data.hotfix.base_version, '1.2.1', 'the newest release of the line');
});

t.test('errors, dry runs, abandon, list', async (t) => {
  const ctx = await buildTestApp(t);
  const { app } = ctx;
  const e = element('PAGE', ['1.2.0', '1.2.3', '2.0.0']);
  const w = element('WORKFLOW', ['0.1.0']);
  await seed(ctx.git, { elements: [e, w] });
  const writer = await ctx.tokenFor('source_control:releases_write');
  const create = (payload: unknown, query = '') =>
    app.inject({ method: 'POST', url: `${API}/hotfixes${query}`, headers: ctx.auth(writer), payload: payload as object });

  const before = await refs(ctx);
  const bad: [unknown, string][] = [
    [{ element_uuid: e.uuid, element_type: 'PAGE', release: '1.2' }, 'body.release'],
    [{ element_uuid: 'x', element_type: 'PAGE', release: '1.2.0' }, 'body.element_uuid'],
    [{ element_uuid: e.uuid, element_type: 'APP', release: '1.2.0' }, 'body.element_type'],
    [{ element_uuid: e.uuid, element_type: 'PAGE', release: '1.2.0', extra: 1 }, 'body.extra'],
    [{ element_type: 'PAGE', release: '1.2.0' }, 'body.element_uuid'],
  ];
  for (const [payload, field] of bad) {
    const res = await create(payload);
    t.equal(res.statusCode, 400, JSON.stringify(payload));
    t.ok(
      res.json().errors.some((x: { field: string }) => x.field === field),
      `${field} in ${JSON.stringify(res.json().errors)}`,
    );
  }
  const missing = await create({ element_uuid: e.uuid, element_type: 'PAGE', release: '1.1.0' });
  t.equal(missing.statusCode, 404);
  t.match(missing.json(), { code: 'release_not_found', release: '1.1.0' });
  const notProtected = await create({ element_uuid: '0d7c1c9e-4a8e-4d0c-9a57-2f2f6f1d8a11', element_type: 'PAGE', release: '1.0.0' });
  t.equal(notProtected.statusCode, 404);
  t.equal(notProtected.json().code, 'element_not_found');

  const dry = await create({ element_uuid: e.uuid, element_type: 'PAGE', release: '1.2.0' }, '?dry_run=true');
  t.equal(dry.statusCode, 200);
  t.match(dry.json().data, { dry_run: true, branch_name: `hotfix/${e.uuid}/1.2`, line: '1.2', base_version: '1.2.3' });
  t.equal(await refs(ctx), before, 'nothing pushed');
  t.equal((await app.services.hotfixes.list({ limit: 10 })).length, 0, 'no row');

  const first = await create({ element_uuid: e.uuid, element_type: 'PAGE', release: '1.2.0' });
  t.equal(first.statusCode, 201);
  const id = first.json().data.hotfix.id;
  const second = await create({ element_uuid: e.uuid, element_type: 'PAGE', release: '1.2.3' });
  t.equal(second.statusCode, 409);
  t.match(second.json(), { code: 'hotfix_exists', hotfix_id: id, line: '1.2' });
  const otherLine = await create({ element_uuid: e.uuid, element_type: 'PAGE', release: '2.0.0' });
  t.equal(otherLine.statusCode, 201, 'another line is another hotfix');
  const workflow = await create({ element_uuid: w.uuid, element_type: 'WORKFLOW', release: '0.1.0' });
  t.equal(workflow.statusCode, 201);
  t.match(workflow.json().data.hotfix, { branch: `hotfix/${w.uuid}/0.1`, element_type: 'WORKFLOW' });

  const listed = await app.inject({ method: 'GET', url: `${API}/hotfixes?state=open&element_uuid=${e.uuid}`, headers: ctx.auth(writer) });
  t.equal(listed.statusCode, 200);
  t.same(
    listed
      .json()
      .data.hotfixes.map((h: { line: string }) => h.line)
      .sort(),
    ['1.2', '2.0'],
  );
  const badList = await app.inject({ method: 'GET', url: `${API}/hotfixes?state=done`, headers: ctx.auth(writer) });
  t.equal(badList.statusCode, 400);
  const notFound = await app.inject({ method: 'GET', url: `${API}/hotfixes/0d7c1c9e-4a8e-4d0c-9a57-2f2f6f1d8a11`, headers: ctx.auth(writer) });
  t.equal(notFound.statusCode, 404);
  t.equal(notFound.json().code, 'hotfix_not_found');

  const beforeAbandon = await refs(ctx);
  const dryAbandon = await app.inject({ method: 'POST', url: `${API}/hotfixes/${id}/abandon?dry_run=true`, headers: ctx.auth(writer) });
  t.equal(dryAbandon.statusCode, 200);
  t.same(dryAbandon.json().data, { dry_run: true, hotfix_id: id, branch_name: `hotfix/${e.uuid}/1.2`, state: 'abandoned' });
  t.equal(await refs(ctx), beforeAbandon, 'a dry run deletes nothing');
  t.equal((await app.services.hotfixes.get(id)).hotfix.state, 'open');
  const abandoned = await app.inject({ method: 'POST', url: `${API}/hotfixes/${id}/abandon`, headers: ctx.auth(writer) });
  t.equal(abandoned.statusCode, 200);
  t.match(abandoned.json().data.hotfix, { state: 'abandoned', abandoned_by: 'test-source_control:releases_write', abandoned_at: String });
  await t.rejects(git(ctx, 'rev-parse', '--verify', `refs/heads/hotfix/${e.uuid}/1.2`), 'the branch is deleted');
  const twice = await app.inject({ method: 'POST', url: `${API}/hotfixes/${id}/abandon`, headers: ctx.auth(writer) });
  t.equal(twice.statusCode, 409);
  t.match(twice.json(), { code: 'hotfix_not_open', state: 'abandoned' });
  const releaseAbandoned = await app.inject({ method: 'POST', url: `${API}/hotfixes/${id}/release`, headers: ctx.auth(writer) });
  t.equal(releaseAbandoned.json().code, 'hotfix_not_open');
  t.match(await app.services.audit.list({ target: `hotfix:${id}` }), [{ action: 'hotfix.abandon' }, { action: 'hotfix.create' }]);
  const reopened = await create({ element_uuid: e.uuid, element_type: 'PAGE', release: '1.2.0' });
  t.equal(reopened.statusCode, 201, 'after abandoning, the line can be hotfixed again');

  const reader = await ctx.tokenFor('source_control:releases_read');
  const forbidden = await app.inject({
    method: 'POST',
    url: `${API}/hotfixes`,
    headers: ctx.auth(reader),
    payload: { element_uuid: e.uuid, element_type: 'PAGE', release: '2.0.0' },
  });
  t.equal(forbidden.statusCode, 403);
});

t.test('10 concurrent requests for one line from two app instances: exactly one hotfix', async (t) => {
  const ctx = await buildTestApp(t);
  const e = element('PAGE', ['3.1.0']);
  await seed(ctx.git, { elements: [e] });
  // A second app on the same database and the same repository, as a second replica would be.
  const logger = createLogger({ level: 'silent' });
  const git2 = createGitGateway({ git: ctx.config.git, dataDir: ctx.config.dataDir, lock: createAdvisoryLock(ctx.database.handle, 'mir:repository'), logger });
  await git2.start();
  const app2 = await buildApp({ config: ctx.config, database: ctx.database.handle, git: git2, logger });
  t.teardown(async () => {
    await app2.close();
    await git2.close();
  });
  const token = await ctx.tokenFor('source_control:releases_write');
  const payload = { element_uuid: e.uuid, element_type: 'PAGE', release: '3.1.0' };
  const answers = await Promise.all(
    Array.from({ length: 10 }, (_, i) => (i % 2 ? app2 : ctx.app).inject({ method: 'POST', url: `${API}/hotfixes`, headers: ctx.auth(token), payload })),
  );
  t.same(answers.map((a) => a.statusCode).sort(), [201, ...Array(9).fill(409)], answers.map((a) => a.body).join('\n'));
  t.ok(answers.filter((a) => a.statusCode === 409).every((a) => a.json().code === 'hotfix_exists'));
  const rows = await ctx.database.handle.db.selectFrom('hotfixes').selectAll().where('element_uuid', '=', e.uuid).execute();
  t.equal(rows.length, 1, 'one row');
  t.equal((await git(ctx, 'for-each-ref', '--format=%(refname)', `refs/heads/hotfix/${e.uuid}/`)).trim(), `refs/heads/hotfix/${e.uuid}/3.1`);
});

// The two-app-instance test above runs on every database; this variant needs a database server both
// processes reach, so it exists only when the suite runs on PostgreSQL (.ci/run runs both).
if (usingPostgres)
  t.test('10 concurrent requests from two processes on one PostgreSQL database', async (t) => {
    const ctx = await buildTestApp(t);
    const e = element('PAGE', ['4.2.0']);
    await seed(ctx.git, { elements: [e] });
    const token = await ctx.tokenFor('source_control:releases_write');
    const child = path.join(path.dirname(fileURLToPath(import.meta.url)), 'concurrent-child.ts');
    const input = {
      dataDir: ctx.config.dataDir,
      databaseUrl: ctx.database.databaseUrl,
      token,
      requests: 5,
      body: { element_uuid: e.uuid, element_type: 'PAGE', release: '4.2.0' },
    };
    const runChild = () =>
      new Promise<{ status: number; code: string | null }[]>((resolve, reject) => {
        const proc = spawn(process.execPath, [...TS_NODE_ARGS, child], {
          env: { ...process.env, ...CHILD_ENV, MIR_HOTFIX_CHILD_INPUT: JSON.stringify(input) },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let out = '';
        let err = '';
        proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
        proc.stderr.on('data', (c: Buffer) => (err += c.toString()));
        proc.on('error', reject);
        proc.on('close', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').at(-1)!)) : reject(new Error(`child exited ${code}: ${err}`))));
      });
    const answers = (await Promise.all([runChild(), runChild()])).flat();
    t.same(answers.map((a) => a.status).sort(), [201, ...Array(9).fill(409)]);
    t.ok(answers.filter((a) => a.status === 409).every((a) => a.code === 'hotfix_exists'));
    const rows = await ctx.database.handle.db.selectFrom('hotfixes').selectAll().where('element_uuid', '=', e.uuid).execute();
    t.equal(rows.length, 1);
    t.equal((await git(ctx, 'for-each-ref', '--format=%(refname)', `refs/heads/hotfix/${e.uuid}/`)).trim(), `refs/heads/hotfix/${e.uuid}/4.2`);
  });

t.test('remote mode: the hotfix branch lives on the git remote, fixes pushed there are released', async (t) => {
  const root = await tempDir('mir-hotfix-remote-');
  t.teardown(root.remove);
  const origin = await createBareRepo({ root: root.path, name: 'origin', files: Object.fromEntries(INITIAL_FILES.map((f) => [f.path, f.text])) });
  const server = await startGitServer({ root: root.path });
  t.teardown(() => server.close());
  const ctx = await buildTestApp(t, { env: { MIR_GIT_URL: server.repoUrl('origin'), MIR_GIT_POLL_SECONDS: '0' } });
  const e = element('PAGE', ['2.4.0'], { 'main.json': '{"v": "2.4"}\n' });
  await seed(ctx.git, { elements: [e] });
  const remote = (...args: string[]) => runGit(args, { cwd: origin });

  const created = await ctx.app.inject({
    method: 'POST',
    url: `${API}/hotfixes`,
    headers: ctx.auth(),
    payload: { element_uuid: e.uuid, element_type: 'PAGE', release: '2.4.0' },
  });
  t.equal(created.statusCode, 201, created.body);
  const { hotfix, commit_sha } = created.json().data;
  t.equal((await remote('rev-parse', hotfix.branch)).trim(), commit_sha, 'pushed to the remote');

  const fix = await commitFiles({
    repo: origin,
    branch: hotfix.branch,
    files: { [`apps/${e.name}/main.json`]: '{"v": "2.4", "fixed": true}\n' },
    message: 'Fix 2.4 on the remote',
  });
  const got = await ctx.app.inject({ method: 'GET', url: `${API}/hotfixes/${hotfix.id}`, headers: ctx.auth() });
  t.match(got.json().data.commits, [{ sha: fix, message: 'Fix 2.4 on the remote\n' }], 'read after a fetch');

  const released = await ctx.app.inject({ method: 'POST', url: `${API}/hotfixes/${hotfix.id}/release`, headers: ctx.auth() });
  t.equal(released.statusCode, 200, released.body);
  t.equal(released.json().data.release_version, '2.4.1');
  const merged = await ctx.app.inject({ method: 'POST', url: `${API}/pull_requests/${released.json().data.pull_request.number}/merge`, headers: ctx.auth() });
  t.equal(merged.statusCode, 200, merged.body);
  await t.rejects(remote('rev-parse', '--verify', `refs/heads/${hotfix.branch}`), 'the hotfix branch is deleted on the remote');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mir-hotfix-remote-zip-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await run('sh', ['-c', `git --git-dir '${origin}' cat-file blob main:dist/apps/${e.uuid}/2.4.1.zip > '${dir}/a.zip'`]);
  t.equal((await run('unzip', ['-p', path.join(dir, 'a.zip'), 'main.json'])).stdout, '{"v": "2.4", "fixed": true}\n', 'the merged zip holds the fix');
});

t.test('a branch already named like the hotfix, and a hotfix branch deleted behind mir\u2019s back', async (t) => {
  const ctx = await buildTestApp(t);
  const e = element('PAGE', ['1.0.0', '5.0.0']);
  await seed(ctx.git, { elements: [e] });
  await git(ctx, 'branch', `hotfix/${e.uuid}/1.0`, 'main');
  const taken = await ctx.app.inject({
    method: 'POST',
    url: `${API}/hotfixes`,
    headers: ctx.auth(),
    payload: { element_uuid: e.uuid, element_type: 'PAGE', release: '1.0.0' },
  });
  t.equal(taken.statusCode, 409);
  t.match(taken.json(), { code: 'branch_exists', branch: `hotfix/${e.uuid}/1.0` });
  t.equal((await ctx.app.services.hotfixes.list({ limit: 10 })).length, 0, 'the claim on the line is given back');

  const created = await ctx.app.inject({
    method: 'POST',
    url: `${API}/hotfixes`,
    headers: ctx.auth(),
    payload: { element_uuid: e.uuid, element_type: 'PAGE', release: '5.0.0' },
  });
  t.equal(created.statusCode, 201);
  const { hotfix } = created.json().data;
  await git(ctx, 'branch', '-D', hotfix.branch);
  const release = await ctx.app.inject({ method: 'POST', url: `${API}/hotfixes/${hotfix.id}/release`, headers: ctx.auth() });
  t.equal(release.statusCode, 404);
  t.match(release.json(), { code: 'branch_not_found', branch: hotfix.branch });
  const abandoned = await ctx.app.inject({ method: 'POST', url: `${API}/hotfixes/${hotfix.id}/abandon`, headers: ctx.auth() });
  t.equal(abandoned.statusCode, 200, 'abandoning still works without the branch');
});

t.test('a failure between the steps of creating a hotfix leaves no row, no branch and no audit event', async (t) => {
  // The real audit service, except that recording the hotfix itself fails: after the push, inside
  // the transaction that turns the opening row into the hotfix. The app's database exists only once
  // the app is built; until then every record comes with the caller's transaction.
  let appDb: Kysely<Tables> | undefined;
  const failing: AuditService = {
    async record(actor, event, db) {
      if (event.action === 'hotfix.create') throw new Error('the audit trail is down');
      return createAuditService({ db: (db ?? appDb)! }).record(actor, event);
    },
    list: (filter) => createAuditService({ db: appDb! }).list(filter),
  };
  const ctx = await buildTestApp(t, { services: { audit: failing } });
  appDb = ctx.database.handle.db;
  const e = element('PAGE', ['1.0.0']);
  const seeded = await seed(ctx.git, { elements: [e] });

  const created = await ctx.app.inject({
    method: 'POST',
    url: `${API}/hotfixes`,
    headers: ctx.auth(),
    payload: { element_uuid: e.uuid, element_type: 'PAGE', release: '1.0.0' },
  });
  t.equal(created.statusCode, 500);
  t.match(created.headers['content-type'], PROBLEM);
  t.match(created.json(), { status: 500, code: 'internal_error' });
  t.notMatch(created.body, /audit trail is down/, 'the cause stays in the log');

  t.same(await ctx.database.handle.db.selectFrom('hotfixes').selectAll().execute(), [], 'no hotfix row, opening or open');
  t.same(await ctx.git.listBranches({ prefix: 'hotfix/' }), [], 'the pushed branch was taken back');
  t.same(await ctx.database.handle.db.selectFrom('audit_events').selectAll().where('action', 'like', 'hotfix.%').execute(), [], 'no audit event for it');
  t.equal(await ctx.git.headCommit(), seeded.commit, 'main did not move');
});

t.test('an opening hotfix holds its line but is nobody\u2019s hotfix yet: the API never shows it', async (t) => {
  const ctx = await buildTestApp(t);
  const e = element('PAGE', ['1.0.0']);
  const seeded = await seed(ctx.git, { elements: [e] });
  const opening = await ctx.database.handle.db
    .insertInto('hotfixes')
    .values({
      element_type: 'PAGE',
      element_uuid: e.uuid,
      line: '1.0',
      base_version: '1.0.0',
      branch: `hotfix/${e.uuid}/1.0`,
      base_commit: seeded.commit,
      state: 'opening',
      author: PEOPLE.name,
      author_email: PEOPLE.email,
    })
    .returningAll()
    .executeTakeFirstOrThrow();

  const listed = await ctx.app.inject({ method: 'GET', url: `${API}/hotfixes`, headers: ctx.auth() });
  t.equal(listed.statusCode, 200);
  t.same(listed.json().data.hotfixes, [], 'not listed');
  const got = await ctx.app.inject({ method: 'GET', url: `${API}/hotfixes/${opening.id}`, headers: ctx.auth() });
  t.equal(got.statusCode, 404);
  t.match(got.json(), { code: 'hotfix_not_found' });
  const abandoned = await ctx.app.inject({ method: 'POST', url: `${API}/hotfixes/${opening.id}/abandon`, headers: ctx.auth() });
  t.equal(abandoned.statusCode, 404, 'nor abandoned');

  const created = await ctx.app.inject({
    method: 'POST',
    url: `${API}/hotfixes`,
    headers: ctx.auth(),
    payload: { element_uuid: e.uuid, element_type: 'PAGE', release: '1.0.0' },
  });
  t.equal(created.statusCode, 409, 'its line is taken all the same');
  t.match(created.json(), { code: 'hotfix_exists', hotfix_id: opening.id, line: '1.0' });
});
