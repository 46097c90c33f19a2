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

async function refs(ctx: TestApp): Promise<string> {
  return git(ctx, 'for-each-ref', '--format=%(refname) %(objectname)');
}

t.test('POST /publish to a manifest that does not exist yet creates it in the same pull request', async (t) => {
  const ctx = await buildTestApp(t);
  const { app } = ctx;
  const a = element('PAGE', ['1.0.0']);
  const w = element('WORKFLOW', ['0.1.0']);
  const existing = manifestName('dev');
  await seed(ctx.git, { elements: [a, w], manifests: { [existing]: manifestYaml(existing) } });
  const writer = await ctx.tokenFor('source_control:releases_write');
  const publish = (payload: unknown, query = '') =>
    app.inject({ method: 'POST', url: `${API}/publish${query}`, headers: ctx.auth(writer), payload: payload as object });
  const getManifest = (name: string) => app.inject({ method: 'GET', url: `${API}/manifests/${name}`, headers: ctx.auth(writer) });

  await t.test('a dry run says the manifest would be created, and writes nothing', async (t) => {
    const fresh = manifestName('uat');
    const before = await refs(ctx);
    const pullRequests = (await app.services.pullRequests.list({})).length;
    const audits = (await app.services.audit.list({ limit: 1000 })).length;
    const res = await publish({ changes: [{ manifest: fresh, element_uuid: a.uuid, element_type: 'PAGE', release: '1.0.0' }] }, '?dry_run=true');
    t.equal(res.statusCode, 200, res.body);
    const data = res.json().data;
    t.match(data, {
      dry_run: true,
      files: [{ path: `manifests/${fresh}.yaml`, change: 'added' }],
      manifests: [{ name: fresh, before: null, after: new RegExp(`name: ${fresh}\\n[^]*uuid: ${a.uuid}\\n    release: 1.0.0`) }],
      operations: [
        { op: 'create_manifest', manifest: fresh },
        { op: 'set_entry', manifest: fresh, element_uuid: a.uuid, from: null, to: '1.0.0' },
      ],
    });
    t.match(data.pull_request.body, new RegExp(`- create manifest ${fresh}\\n`));
    t.equal(await refs(ctx), before, 'nothing pushed');
    t.equal((await app.services.pullRequests.list({})).length, pullRequests, 'no pull request');
    t.equal((await app.services.audit.list({ limit: 1000 })).length, audits, 'no audit event');
    t.equal((await getManifest(fresh)).statusCode, 404, 'the manifest still does not exist');
  });

  await t.test('the pull request adds the file with the entries; merged, the manifest exists with them', async (t) => {
    const fresh = manifestName('prod');
    const res = await publish({
      changes: [
        { manifest: fresh, element_uuid: a.uuid, element_type: 'PAGE', release: '1.0.0' },
        { manifest: fresh, element_uuid: w.uuid, element_type: 'WORKFLOW', release: 'latest' },
        { manifest: existing, element_uuid: a.uuid, element_type: 'PAGE', release: '1.0.0' },
      ],
    });
    t.equal(res.statusCode, 200, res.body);
    const data = res.json().data;
    t.equal((await git(ctx, 'rev-list', '--count', `main..${data.branch_name}`)).trim(), '1', 'one commit');
    t.same(
      (await git(ctx, 'diff', '--name-status', `main..${data.branch_name}`)).trim().split('\n'),
      [`M\tmanifests/${existing}.yaml`, `A\tmanifests/${fresh}.yaml`],
      'the new manifest is added, the existing one modified',
    );
    const onBranch = await git(ctx, 'show', `${data.branch_name}:manifests/${fresh}.yaml`);
    t.match(onBranch, new RegExp(`^version: 1.0.0\\nname: ${fresh}\\n`));
    t.match(onBranch, new RegExp(`apps:\\n  - uuid: ${a.uuid}\\n    release: 1.0.0\\n`));
    t.match(onBranch, new RegExp(`workflows:\\n  - uuid: ${w.uuid}\\n    release: latest\\n`));

    const number = data.pull_request.number;
    const view = await app.inject({ method: 'GET', url: `${API}/pull_requests/${number}`, headers: ctx.auth(writer) });
    t.match(view.json().data.pull_request.manifests, [
      { manifest: existing, created: false, added: [{ element_uuid: a.uuid, release: '1.0.0' }] },
      {
        manifest: fresh,
        created: true,
        added: [
          { element_uuid: a.uuid, release: '1.0.0' },
          { element_uuid: w.uuid, release: 'latest' },
        ],
      },
    ]);
    t.match((await app.services.audit.list({ action: 'publish' }))[0], { details: { pull_request: number, created: [fresh] } });
    t.equal((await getManifest(fresh)).statusCode, 404, 'not on the default branch before the merge');

    const merged = await app.inject({ method: 'POST', url: `${API}/pull_requests/${number}/merge`, headers: ctx.auth(writer) });
    t.equal(merged.statusCode, 200, merged.body);
    t.equal(await git(ctx, 'show', `main:manifests/${fresh}.yaml`), onBranch, 'the default branch has the file the pull request showed');
    const manifest = await getManifest(fresh);
    t.equal(manifest.statusCode, 200);
    t.same(manifest.json().data.manifest, {
      name: fresh,
      apps: [{ uuid: a.uuid, release: '1.0.0' }],
      workflows: [{ uuid: w.uuid, release: 'latest' }],
    });
  });

  await t.test('a bad manifest name is still 400, with nothing written', async (t) => {
    const before = await refs(ctx);
    for (const bad of ['Prod', '../prod', 'prod.yaml', '-prod', '']) {
      const res = await publish({ changes: [{ manifest: bad, element_uuid: a.uuid, element_type: 'PAGE', release: '1.0.0' }] });
      t.equal(res.statusCode, 400, JSON.stringify(bad));
      t.match(res.json(), { code: 'validation_failed', errors: [{ field: /^body\.changes(\.0|\[0\])\.manifest$/ }] });
    }
    t.equal(await refs(ctx), before);
  });
});
