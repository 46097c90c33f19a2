import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { element, manifestName, manifestYaml, seed } from '../helpers/repo-fixture.js';

const run = promisify(execFile);
const API = '/api/v2/source_control';
const PROBLEM = /^application\/problem\+json/;

async function git(ctx: TestApp, ...args: string[]): Promise<string> {
  return (await run('git', ['--git-dir', path.join(ctx.config.dataDir, 'repo.git'), ...args])).stdout;
}

async function refs(ctx: TestApp): Promise<string> {
  return git(ctx, 'for-each-ref', '--format=%(refname) %(objectname)');
}

t.test('POST /publish: many changes, one branch, one commit, one pull request; rollback; errors', async (t) => {
  const ctx = await buildTestApp(t);
  const { app } = ctx;
  const a = element('PAGE', ['1.0.0', '1.1.0']);
  const b = element('PAGE', ['2.0.0']);
  const w = element('WORKFLOW', ['0.1.0']);
  const [dev, prod] = [manifestName('dev'), manifestName('prod')];
  const seeded = await seed(ctx.git, {
    elements: [a, b, w],
    manifests: { [dev]: manifestYaml(dev, { apps: [[a.uuid, '1.0.0']] }), [prod]: `# prod\n${manifestYaml(prod, { apps: [[a.uuid, '1.0.0']] })}` },
  });
  const writer = await ctx.tokenFor('source_control:releases_write');
  const publish = (payload: unknown, query = '', headers: Record<string, string> = {}) =>
    app.inject({ method: 'POST', url: `${API}/publish${query}`, headers: { ...ctx.auth(writer), ...headers }, payload: payload as object });

  const changes = [
    { manifest: dev, element_uuid: a.uuid, element_type: 'PAGE', release: '1.1.0' },
    { manifest: dev, element_uuid: b.uuid, element_type: 'PAGE', release: '2.0.0' },
    { manifest: prod, element_uuid: a.uuid, element_type: 'PAGE', release: '1.1.0' },
    { manifest: prod, element_uuid: w.uuid, element_type: 'WORKFLOW', release: 'latest' },
  ];
  const res = await publish({ changes, commit_message: 'Ship the October train', base_sha: seeded.commit });
  t.equal(res.statusCode, 200, res.body);
  const data = res.json().data;
  t.match(data, {
    branch_name: /^mir\/publish\/[a-z0-9]{8}$/,
    pull_request: { state: 'open', title: `Publish 4 changes to ${[dev, prod].sort().join(', ')}` },
  });
  t.equal((await git(ctx, 'rev-list', '--count', `main..${data.branch_name}`)).trim(), '1', 'one commit');
  t.equal((await git(ctx, 'rev-parse', `${data.branch_name}^`)).trim(), seeded.commit, 'on top of the default branch');
  t.same((await git(ctx, 'diff', '--name-only', `main..${data.branch_name}`)).trim().split('\n'), [`manifests/${dev}.yaml`, `manifests/${prod}.yaml`]);
  t.match(await git(ctx, 'log', '-1', '--format=%B', data.commit_sha), /^Ship the October train/);
  const prodText = await git(ctx, 'show', `${data.branch_name}:manifests/${prod}.yaml`);
  t.match(prodText, /^# prod\n/, 'comments survive');
  t.match(prodText, new RegExp(`uuid: ${a.uuid}\\n    release: 1.1.0`));
  t.match(prodText, new RegExp(`workflows:\\n  - uuid: ${w.uuid}\\n    release: latest`));
  t.match(await git(ctx, 'show', `${data.branch_name}:manifests/${dev}.yaml`), new RegExp(`uuid: ${b.uuid}\\n    release: 2.0.0`));
  t.equal((await app.services.pullRequests.list({})).length, 1, 'one pull request');
  const audit = await app.services.audit.list({ action: 'publish' });
  t.match(audit[0], {
    target: `manifests:${[dev, prod].sort().join(',')}`,
    details: { pull_request: data.pull_request.number, manifests: [dev, prod].sort() },
  });

  const merged = await app.inject({ method: 'POST', url: `${API}/pull_requests/${data.pull_request.number}/merge`, headers: ctx.auth(writer) });
  t.equal(merged.statusCode, 200);
  t.match(await git(ctx, 'show', `main:manifests/${prod}.yaml`), new RegExp(`uuid: ${a.uuid}\\n    release: 1.1.0`));

  await t.test('rolling back is publishing the older version', async (t) => {
    const rollback = await publish({ changes: [{ manifest: prod, element_uuid: a.uuid, element_type: 'PAGE', release: '1.0.0' }] });
    t.equal(rollback.statusCode, 200);
    t.equal(rollback.json().data.pull_request.title, `Publish ${a.name} 1.0.0 to ${prod}`);
    const pr = await app.inject({ method: 'GET', url: `${API}/pull_requests/${rollback.json().data.pull_request.number}`, headers: ctx.auth(writer) });
    t.match(pr.json().data.pull_request, { kind: 'publish', manifests: [{ manifest: prod, changed: [{ element_uuid: a.uuid, from: '1.1.0', to: '1.0.0' }] }] });
  });

  await t.test('duplicates and contradictions are 400 naming the change; nothing is written', async (t) => {
    const before = await refs(ctx);
    const one = { manifest: dev, element_uuid: a.uuid, element_type: 'PAGE', release: '1.0.0' };
    const duplicate = await publish({ changes: [one, { ...one }] });
    t.equal(duplicate.statusCode, 400);
    t.match(duplicate.headers['content-type'], PROBLEM);
    t.match(duplicate.json(), { code: 'validation_failed', errors: [{ field: 'body.changes[1]', message: /repeats body.changes\[0\]/ }] });
    const contradiction = await publish({ changes: [one, { ...one, release: '1.1.0' }] });
    t.match(contradiction.json(), { code: 'validation_failed', errors: [{ field: 'body.changes[1]', message: /contradicts/ }] });
    const cases: [unknown, string][] = [
      [{ changes: [] }, 'body.changes'],
      [{ changes: [{ ...one, release: 'v1' }] }, 'body.changes.0.release'],
      [{ changes: [{ ...one, manifest: 'Bad Name' }] }, 'body.changes.0.manifest'],
      [{ changes: [{ ...one, element_uuid: 'x' }] }, 'body.changes.0.element_uuid'],
      [{ changes: [{ ...one, extra: true }] }, 'body.changes.0.extra'],
      [{ changes: [one], base_sha: 'abc' }, 'body.base_sha'],
    ];
    for (const [payload, field] of cases) {
      const res = await publish(payload);
      t.equal(res.statusCode, 400, JSON.stringify(payload));
      const fields = res.json().errors.map((e: { field: string }) => e.field.replace(/\[(\d+)\]/g, '.$1'));
      t.ok(fields.includes(field), `${field} in ${JSON.stringify(fields)}`);
    }
    t.equal(await refs(ctx), before);
  });

  await t.test('missing releases and elements; stale base; dry run', async (t) => {
    const before = await refs(ctx);
    const noRelease = await publish({ changes: [{ manifest: dev, element_uuid: b.uuid, element_type: 'PAGE', release: '9.9.9' }] });
    t.equal(noRelease.statusCode, 404);
    t.match(noRelease.json(), { code: 'release_not_found', release: '9.9.9', manifest: dev });
    const noElement = await publish({
      changes: [{ manifest: dev, element_uuid: '0d7c1c9e-4a8e-4d0c-9a57-2f2f6f1d8a11', element_type: 'PAGE', release: 'latest' }],
    });
    t.equal(noElement.statusCode, 404);
    t.equal(noElement.json().code, 'element_not_found');
    const stale = await publish({ changes: [{ manifest: prod, element_uuid: a.uuid, element_type: 'PAGE', release: '1.0.0' }] }, '', {
      'if-match': `"${seeded.commit}"`,
    });
    t.equal(stale.statusCode, 409);
    t.match(stale.json(), { code: 'stale_base', entries: [`manifest:${prod}/PAGE:${a.uuid}`] });
    const unmoved = await publish(
      { changes: [{ manifest: prod, element_uuid: b.uuid, element_type: 'PAGE', release: '2.0.0' }], base_sha: seeded.commit },
      '?dry_run=true',
    );
    t.equal(unmoved.statusCode, 200, 'an entry that did not move is not stale');
    t.match(unmoved.json().data, {
      dry_run: true,
      branch_name: /^mir\/publish\//,
      files: [{ path: `manifests/${prod}.yaml`, change: 'modified' }],
      operations: [{ op: 'set_entry', from: null, to: '2.0.0' }],
    });
    t.equal(await refs(ctx), before, 'nothing pushed');
    const pullRequests = (await app.services.pullRequests.list({})).length;
    const audits = (await app.services.audit.list({ limit: 1000 })).length;
    await publish({ changes: [{ manifest: dev, element_uuid: b.uuid, element_type: 'PAGE', release: '2.0.0' }] }, '?dry_run=true');
    t.equal((await app.services.pullRequests.list({})).length, pullRequests, 'a dry run opens no pull request');
    t.equal((await app.services.audit.list({ limit: 1000 })).length, audits, 'and records no audit event');
  });
});
