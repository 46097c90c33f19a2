// Compare, promote, roll back with a hold: through the real app, on a real repository and database.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { commitFiles, element, manifestName, manifestYaml, seed } from '../helpers/repo-fixture.js';

const run = promisify(execFile);
const API = '/api/v2/source_control';

async function git(ctx: TestApp, ...args: string[]): Promise<string> {
  return (await run('git', ['--git-dir', path.join(ctx.config.dataDir, 'repo.git'), ...args])).stdout;
}

function client(ctx: TestApp, token: string) {
  return {
    get: (url: string) => ctx.app.inject({ method: 'GET', url: `${API}${url}`, headers: ctx.auth(token) }),
    post: (url: string, payload?: unknown, headers: Record<string, string> = {}) =>
      ctx.app.inject({
        method: 'POST',
        url: `${API}${url}`,
        headers: { ...ctx.auth(token), ...headers },
        ...(payload === undefined ? {} : { payload: payload as object }),
      }),
  };
}

t.test('compare two manifests of 5,000 entries each: one walk, every kind of difference', async (t) => {
  const ctx = await buildTestApp(t);
  const uuids = Array.from({ length: 5_000 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
  const [uat, prod] = [manifestName('uat'), manifestName('prod')];
  // Entries 0-9 differ, 10 and 11 sit on one side only, the rest are the same.
  const uatApps = uuids.filter((_, i) => i !== 11).map((u, i): [string, string] => [u, i < 10 ? '1.2.0' : '1.0.0']);
  const prodApps = uuids.filter((_, i) => i !== 10).map((u): [string, string] => [u, '1.0.0']);
  await commitFiles(ctx.git, {
    [`manifests/${uat}.yaml`]: manifestYaml(uat, { apps: uatApps }),
    [`manifests/${prod}.yaml`]: manifestYaml(prod, { apps: prodApps }),
  });
  const reader = await ctx.tokenFor('source_control:releases_read');
  const res = await client(ctx, reader).get(`/compare?from=${uat}&to=${prod}`);
  t.equal(res.statusCode, 200, res.body);
  const data = res.json().data;
  t.equal(data.differences.length, 10);
  t.match(data.differences[0], { element_uuid: uuids[0], from_release: '1.2.0', to_release: '1.0.0' });
  t.same(
    data.only_in_from.map((e: { element_uuid: string }) => e.element_uuid),
    [uuids[10]],
  );
  t.same(
    data.only_in_to.map((e: { element_uuid: string }) => e.element_uuid),
    [uuids[11]],
  );
  t.equal(data.from.commit_sha, data.to.commit_sha);
  t.equal(data.from.commit_sha, (await git(ctx, 'rev-parse', 'main')).trim());

  const unknown = await client(ctx, reader).get(`/compare?from=${uat}&to=nope-${prod}`);
  t.equal(unknown.statusCode, 404);
  t.equal(unknown.json().code, 'manifest_not_found');
  const bad = await client(ctx, reader).get(`/compare?from=${uat}&to=Not%20A%20Name`);
  t.equal(bad.statusCode, 400);
});

t.test('promote: all differences or some, one pull request, latest resolved, merge re-applies, a concurrent change conflicts alone', async (t) => {
  const ctx = await buildTestApp(t);
  const a = element('PAGE', ['1.0.0', '1.1.0', '1.2.0']);
  const b = element('PAGE', ['2.0.0', '2.1.0']);
  const w = element('WORKFLOW', ['0.1.0', '0.2.0']);
  const [uat, prod] = [manifestName('uat'), manifestName('prod')];
  await seed(ctx.git, {
    elements: [a, b, w],
    manifests: {
      [uat]: manifestYaml(uat, {
        apps: [
          [a.uuid, '1.2.0'],
          [b.uuid, '2.1.0'],
        ],
        workflows: [[w.uuid, 'latest']],
      }),
      [prod]: manifestYaml(prod, {
        apps: [
          [a.uuid, '1.0.0'],
          [b.uuid, '2.0.0'],
        ],
      }),
    },
  });
  const writer = await ctx.tokenFor('source_control:releases_write');
  const api = client(ctx, writer);

  const compared = await api.get(`/compare?from=${uat}&to=${prod}`);
  t.equal(compared.statusCode, 200);
  const diffA = compared.json().data.differences.find((d: { element_uuid: string }) => d.element_uuid === a.uuid);
  t.match(diffA, { behind: 2, between: ['1.1.0', '1.2.0'], releases: [{ release_version: '1.1.0', release_description: `release 1.1.0 of ${a.name}` }, {}] });
  t.match(compared.json().data.only_in_from, [{ element_uuid: w.uuid, release: 'latest', version: '0.2.0' }]);

  const dry = await api.post('/promote?dry_run=true', { from: uat, to: prod });
  t.equal(dry.statusCode, 200, dry.body);
  t.match(dry.json().data, { dry_run: true, pull_request: { title: `Promote 3 changes from ${uat} to ${prod}` } });
  t.same(
    dry
      .json()
      .data.operations.map((op: { to: string }) => op.to)
      .sort(),
    ['0.2.0', '1.2.0', '2.1.0'],
    'latest is promoted as the version it resolves to',
  );
  t.equal((await ctx.app.services.pullRequests.list({})).length, 0, 'a dry run opens nothing');

  const subset = await api.post('/promote?dry_run=true', { from: uat, to: prod, elements: [{ element_uuid: b.uuid, element_type: 'PAGE' }] });
  t.equal(subset.statusCode, 200);
  t.match(subset.json().data.operations, [{ element_uuid: b.uuid, from: '2.0.0', to: '2.1.0' }]);
  t.equal(subset.json().data.operations.length, 1);

  const all = await api.post('/promote', { from: uat, to: prod, commit_message: 'Promote the train' });
  t.equal(all.statusCode, 200, all.body);
  const number = all.json().data.pull_request.number;
  t.equal((await ctx.app.services.pullRequests.list({})).length, 1, 'one pull request');
  t.equal((await git(ctx, 'rev-list', '--count', `main..${all.json().data.branch_name}`)).trim(), '1', 'one commit');
  const pr = await api.get(`/pull_requests/${number}`);
  t.match(pr.json().data.pull_request, { kind: 'promotion' });
  t.match((await ctx.app.services.audit.list({ action: 'promote' }))[0], {
    target: `manifest:${prod}`,
    details: { from: uat, to: prod, pull_request: number },
  });

  // Someone sets b in prod meanwhile: only b conflicts; a and w would still apply.
  await commitFiles(ctx.git, {
    [`manifests/${prod}.yaml`]: manifestYaml(prod, {
      apps: [
        [a.uuid, '1.0.0'],
        [b.uuid, '2.1.0'],
      ],
    }),
  });
  const conflicted = await api.post(`/pull_requests/${number}/merge`);
  t.equal(conflicted.statusCode, 200, 'an entry already holding what the promotion wants is no conflict');
  t.match(await git(ctx, 'show', `main:manifests/${prod}.yaml`), new RegExp(`uuid: ${a.uuid}\\n    release: 1.2.0`));
  t.match(await git(ctx, 'show', `main:manifests/${prod}.yaml`), new RegExp(`uuid: ${w.uuid}\\n    release: 0.2.0`));

  await t.test('a concurrent change to one entry makes that one conflict', async (t) => {
    await commitFiles(ctx.git, {
      [`manifests/${uat}.yaml`]: manifestYaml(uat, {
        apps: [
          [a.uuid, '1.1.0'],
          [b.uuid, '2.0.0'],
        ],
        workflows: [[w.uuid, '0.1.0']],
      }),
    });
    const again = await api.post('/promote', { from: uat, to: prod });
    t.equal(again.statusCode, 200, again.body);
    await commitFiles(ctx.git, {
      [`manifests/${prod}.yaml`]: manifestYaml(prod, {
        apps: [
          [a.uuid, '1.0.0'],
          [b.uuid, '2.1.0'],
        ],
        workflows: [[w.uuid, '0.2.0']],
      }),
    });
    const merge = await api.post(`/pull_requests/${again.json().data.pull_request.number}/merge`);
    t.equal(merge.statusCode, 409);
    t.equal(merge.json().code, 'merge_conflict');
    t.same(
      merge.json().conflicts.map((c: { target: string }) => c.target),
      [`manifest:${prod}/PAGE:${a.uuid}`],
    );
  });

  await t.test('nothing to promote, the same manifest, an element not in from: refused', async (t) => {
    const same = await api.post('/promote', { from: prod, to: prod });
    t.equal(same.statusCode, 400);
    const stranger = await api.post('/promote', { from: uat, to: prod, elements: [{ element_uuid: element('PAGE').uuid, element_type: 'PAGE' }] });
    t.equal(stranger.statusCode, 400);
    t.match(stranger.json().errors, [{ field: 'body.elements[0]' }]);
    const reader = await ctx.tokenFor('source_control:releases_read');
    t.equal((await client(ctx, reader).post('/promote', { from: uat, to: prod })).statusCode, 403);
  });
});

t.test('rollback → hold → publishing the held version is 409 → an admin override with a reason passes and is audited → lift', async (t) => {
  const ctx = await buildTestApp(t);
  const a = element('PAGE', ['1.0.0', '1.1.0', '1.2.0']);
  const prod = manifestName('prod');
  const dev = manifestName('dev');
  await seed(ctx.git, { elements: [a], manifests: { [prod]: manifestYaml(prod, { apps: [[a.uuid, '1.2.0']] }), [dev]: manifestYaml(dev) } });
  const writer = await ctx.tokenFor('source_control:releases_write');
  const api = client(ctx, writer);
  const admin = client(ctx, ctx.adminToken);
  const body = { manifest: prod, element_uuid: a.uuid, element_type: 'PAGE', reason: 'double-charges cards' };

  const higher = await api.post('/rollback', { ...body, to: '1.2.0' });
  t.equal(higher.statusCode, 400, 'to must be lower than the current release');
  t.match(higher.json().errors, [{ field: 'body.to' }]);
  const dry = await api.post('/rollback?dry_run=true', body);
  t.equal(dry.statusCode, 200, dry.body);
  t.match(dry.json().data, { dry_run: true, hold: null, held_version: '1.2.0', operations: [{ from: '1.2.0', to: '1.1.0' }] });
  t.equal((await admin.get('/holds')).json().data.holds.length, 0, 'a dry run holds nothing');

  const rolled = await api.post('/rollback', { ...body, to: '1.0.0' });
  t.equal(rolled.statusCode, 200, rolled.body);
  const hold = rolled.json().data.hold;
  t.match(hold, { version: '1.2.0', reason: 'double-charges cards', active: true, pull_request: rolled.json().data.pull_request.number });
  t.match((await ctx.app.services.audit.list({ action: 'rollback' }))[0], {
    target: `manifest:${prod}`,
    details: { hold: hold.id, held: '1.2.0', to: '1.0.0' },
  });
  t.equal((await api.post(`/pull_requests/${rolled.json().data.pull_request.number}/merge`)).statusCode, 200);
  t.match(await git(ctx, 'show', `main:manifests/${prod}.yaml`), /release: 1\.0\.0/);

  const listed = await api.get('/holds');
  t.same(
    listed.json().data.holds.map((h: { id: string }) => h.id),
    [hold.id],
  );
  const releases = await api.get(`/releases/${a.uuid}?elementType=PAGE`);
  t.match(
    releases.json().data.find((r: { release_version: string }) => r.release_version === '1.2.0'),
    { hold: { id: hold.id, reason: 'double-charges cards' } },
  );
  const matrix = await api.get(`/elements?name=${a.name}`);
  t.match(matrix.json().data.elements[0].holds, [{ id: hold.id, version: '1.2.0' }]);

  const change = { changes: [{ manifest: dev, element_uuid: a.uuid, element_type: 'PAGE', release: '1.2.0' }] };
  const refused = await api.post('/publish', change);
  t.equal(refused.statusCode, 409);
  t.match(refused.json(), { code: 'release_held', holds: [{ id: hold.id, reason: 'double-charges cards' }] });
  t.match(refused.json().message, /double-charges cards/);
  const entry = await ctx.app.inject({
    method: 'PUT',
    url: `${API}/manifests/${dev}/${a.uuid}?elementType=PAGE`,
    headers: ctx.auth(writer),
    payload: { release: '1.2.0' },
  });
  t.equal(entry.statusCode, 409, 'a manifest write is refused too');
  t.equal(entry.json().code, 'release_held');
  t.equal((await api.post('/publish', change, { 'mir-override-reason': 'I know' })).statusCode, 403, 'only an admin overrides');
  t.equal((await admin.post('/promote', { from: prod, to: dev })).statusCode, 200, 'promoting what prod runs (1.0.0) is not held');

  const overridden = await admin.post('/publish', change, { 'mir-override-reason': 'reproduce the bug on dev' });
  t.equal(overridden.statusCode, 200, overridden.body);
  t.match(overridden.json().data.policy, [{ gate: 'hold', status: 'overridden' }]);
  const audited = await ctx.app.services.audit.list({ action: 'hold.override' });
  t.match(audited[0], { target: `manifest:${dev}`, details: { reason: 'reproduce the bug on dev', pull_request: overridden.json().data.pull_request.number } });

  // Merging it is gated again: refused without the override, merged with it.
  const number = overridden.json().data.pull_request.number;
  t.equal((await api.post(`/pull_requests/${number}/merge`)).json().code, 'release_held');
  t.equal((await admin.post(`/pull_requests/${number}/merge`, undefined, { 'mir-override-reason': 'still reproducing' })).statusCode, 200);

  t.equal((await api.post(`/holds/${hold.id}/lift`, { reason: 'fixed' })).statusCode, 403, 'lifting is for admins');
  const lifted = await admin.post(`/holds/${hold.id}/lift`, { reason: 'fixed upstream' });
  t.equal(lifted.statusCode, 200);
  t.match(lifted.json().data.hold, { active: false, lift_reason: 'fixed upstream' });
  t.equal((await admin.post(`/holds/${hold.id}/lift`, { reason: 'again' })).json().code, 'hold_not_found');
  t.match((await ctx.app.services.audit.list({ action: 'hold.lift' }))[0], { target: `hold:${hold.id}`, details: { reason: 'fixed upstream' } });
  const after = await api.post('/publish?dry_run=true', { changes: [{ manifest: prod, element_uuid: a.uuid, element_type: 'PAGE', release: '1.2.0' }] });
  t.equal(after.statusCode, 200, 'a lifted hold refuses nothing');
});

t.test('a greater release of the held element reaching the default branch lifts its hold', async (t) => {
  const ctx = await buildTestApp(t);
  const a = element('PAGE', ['1.0.0', '1.1.0']);
  const prod = manifestName('prod');
  await seed(ctx.git, { elements: [a], manifests: { [prod]: manifestYaml(prod, { apps: [[a.uuid, '1.1.0']] }) } });
  const api = client(ctx, ctx.adminToken);
  const rolled = await api.post('/rollback', { manifest: prod, element_uuid: a.uuid, element_type: 'PAGE', reason: 'slow' });
  t.equal(rolled.statusCode, 200, rolled.body);
  const release = await api.post(`/releases/${a.uuid}?elementType=PAGE`, { release_version: '1.2.0' });
  t.equal(release.statusCode, 200, release.body);
  t.equal((await api.post(`/pull_requests/${release.json().data.pull_request.number}/merge`)).statusCode, 200);
  const holds = (await api.get('/holds?all=true')).json().data.holds;
  t.match(holds, [{ id: rolled.json().data.hold.id, active: false, lift_reason: 'superseded by release 1.2.0' }]);
});
