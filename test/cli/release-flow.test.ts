// `mir status`, `release`, `pr` and `publish` run as real processes against a real mir on
// 127.0.0.1: the table people read, the JSON scripts parse, dry runs that change nothing, and a
// token that never shows in anything printed.
import t from 'tap';
import { cliFixture } from '../helpers/mir-cli.js';

t.test('mir status, release, pr, publish: a release from build to manifest', async (t) => {
  const { app, flow, prod, uat, mir, ok, json, tokenNeverPrinted } = await cliFixture(t);

  await t.test('status: the release × manifest matrix', async (t) => {
    const table = await ok(t, ['status']);
    const [header, ...rows] = table.split('\n');
    t.match(header, new RegExp(`^NAME\\s+TYPE\\s+LATEST\\s+${prod.toUpperCase()}\\s+${uat.toUpperCase()}$`));
    t.match(
      rows.find((r) => r.startsWith(app.name)),
      new RegExp(`^${app.name}\\s+app\\s+1\\.0\\.0\\s+1\\.0\\.0\\s+—$`),
    );
    t.match(
      rows.find((r) => r.startsWith(flow.name)),
      new RegExp(`^${flow.name}\\s+workflow\\s+0\\.1\\.0\\s+—\\s+—$`),
    );
    const matrix = await json(t, ['status', '--type', 'app']);
    t.same(matrix.manifests, [prod, uat].sort());
    t.match(matrix.elements, [{ uuid: app.uuid, latest_release: '1.0.0', manifests: { [prod]: '1.0.0', [uat]: null } }]);
    t.equal(matrix.elements.length, 1, '--type app leaves the workflow out');
  });

  let releasePr = 0;
  await t.test('release: a dry run pushes nothing; then the release and its pull request', async (t) => {
    const dry = await mir(['--json', 'release', app.name, '--bump', 'minor', '--dry-run']);
    t.equal(dry.code, 0, dry.stderr);
    t.match(JSON.parse(dry.stdout), { dry_run: true, release_version: '1.1.0', branch_name: `mir/release/${app.uuid}/1.1.0` });
    t.match(dry.stderr, /^mir: computing the release of app .+ \(minor bump\)…$/m, 'a progress line on stderr');
    t.same((await json(t, ['pr', 'list'])).pull_requests, [], 'nothing was proposed');

    const table = await mir(['release', app.name, '--bump', 'minor', '--description', 'Checkout fix']);
    t.equal(table.code, 0, table.stderr);
    t.match(table.stderr, /building and pushing the release/);
    t.match(table.stdout, new RegExp(`^release\\s+app ${app.name} 1\\.1\\.0$`, 'm'));
    const pr = /^pull request\s+#(\d+) open/m.exec(table.stdout);
    t.ok(pr, table.stdout);
    releasePr = Number(pr?.[1]);

    const byUuid = await json(t, ['release', app.uuid, '2.0.0', '--dry-run']);
    t.match(byUuid, { dry_run: true, release_version: '2.0.0' }, 'by uuid and explicit version');
    const dryTable = await ok(t, ['release', app.name, '--bump', 'major', '--dry-run']);
    t.match(dryTable, /^dry run\s+nothing was pushed or recorded$/m);
    t.match(dryTable, new RegExp(`^  added\\s+dist/apps/${app.uuid}/2\\.0\\.0\\.zip$`, 'm'), 'the files it would add');
  });

  await t.test('pr list, show, merge (dry run first)', async (t) => {
    t.match((await ok(t, ['pr', 'list', '--state', 'open'])).split('\n'), [/^NUMBER\s+STATE\s+KIND/, new RegExp(`^#${releasePr}\\s+open\\s+release\\s`)]);
    t.match((await json(t, ['pr', 'show', String(releasePr)])).pull_request, {
      number: releasePr,
      kind: 'release',
      artifacts: [{ element_uuid: app.uuid, version: '1.1.0' }],
    });
    t.match(await ok(t, ['pr', 'show', String(releasePr)]), new RegExp(`^release\\s+${app.uuid} 1\\.1\\.0`, 'm'));
    t.match(await ok(t, ['pr', 'merge', String(releasePr), '--dry-run']), /^dry run: would merge\n/);
    t.equal((await json(t, ['pr', 'show', String(releasePr)])).pull_request.state, 'open', 'the dry run merged nothing');
    const merged = await mir(['pr', 'merge', String(releasePr)]);
    t.equal(merged.code, 0, merged.stderr);
    t.match(merged.stderr, new RegExp(`mir: merging pull request #${releasePr}…`));
    t.match(merged.stdout, new RegExp(`^merged\\s+#${releasePr} merged`, 'm'));
    const again = await mir(['--json', 'pr', 'merge', String(releasePr)]);
    t.equal(again.code, 3, 'merging a merged pull request is a conflict');
    t.match(again.stderr, /pull_request_not_open, HTTP 409/);
    t.match(JSON.parse(again.stdout), { code: 'pull_request_not_open', status: 409 }, '--json prints the problem document');
  });

  await t.test('publish: by name or uuid, dry run, merge; pr close', async (t) => {
    const dry = await json(t, ['publish', prod, `${app.name}@1.1.0`, '--dry-run']);
    t.match(dry, { dry_run: true, files: [{ path: `manifests/${prod}.yaml`, change: 'modified' }] });
    const table = await ok(t, ['publish', prod, `${app.uuid}@1.1.0`, `${flow.name}@latest`, '--message', 'Ship 1.1.0']);
    t.match(table, new RegExp(`^  set\\s+${app.uuid} to 1\\.1\\.0$`, 'm'));
    const number = Number(/^pull request\s+#(\d+) open/m.exec(table)?.[1]);
    t.ok(number > releasePr);
    t.equal((await json(t, ['pr', 'merge', String(number)])).pull_request.state, 'merged');

    const other = await json(t, ['publish', uat, `${flow.name}@0.1.0`]);
    t.match(await ok(t, ['pr', 'close', String(other.pull_request.number), '--dry-run']), /would close/);
    t.equal((await json(t, ['pr', 'close', String(other.pull_request.number)])).pull_request.state, 'closed');
    t.match(await ok(t, ['pr', 'list', '--state', 'closed']), new RegExp(`^#${other.pull_request.number}\\s+closed\\s+publish`, 'm'));
    t.match((await json(t, ['status'])).elements, [
      { uuid: app.uuid, manifests: { [prod]: '1.1.0', [uat]: null } },
      { uuid: flow.uuid, manifests: { [prod]: 'latest' } },
    ]);
  });

  tokenNeverPrinted(t);
});
