// Two replicas on one PostgreSQL and one git remote must behave as one service: no conflict that
// one replica invents because it has not fetched what the other merged, no write refused for a
// release the other just merged, no release built from source older than the last push.
import t from 'tap';
import { commitFiles } from '../helpers/git-server.js';
import { merge, publish, remoteBranches, remoteManifest, startFaultCluster } from './cluster.js';

const APPS = 40;

t.test('two replicas, one remote: nothing lost, no invented conflict', async (t) => {
  const cluster = await startFaultCluster(t, { apps: APPS, releases: ['0.1.0', '0.2.0', '0.3.0', '1.0.0', '2.0.0'] });
  const [a, b] = cluster.replicas;
  const { apps } = cluster;

  await t.test('40 publishes across both replicas, then 40 concurrent merges: all merged', async (t) => {
    // Every app at 1.0.0 first, through A alone: B has fetched none of it (it polls hourly).
    const first = await a.call('POST', '/api/v2/source_control/publish', {
      token: cluster.token,
      body: { changes: apps.map((app) => ({ manifest: 'prod', element_uuid: app.uuid, element_type: 'PAGE', release: '1.0.0' })) },
    });
    t.equal(first.status, 200, JSON.stringify(first.body));
    t.equal((await merge(cluster, a, first.body.data.pull_request.number)).status, 200);

    const opened = await Promise.all(apps.map((app, i) => publish(cluster, i % 2 === 0 ? a : b, app, '2.0.0')));
    t.same(
      opened.map((o) => o.status),
      apps.map(() => 200),
      'every publish opened a pull request',
    );
    const merged = await Promise.all(opened.map((o, i) => merge(cluster, i % 2 === 0 ? b : a, o.number!)));
    const statuses = merged.map((m) => m.status);
    t.same(
      statuses,
      apps.map(() => 200),
      `merges: ${JSON.stringify(merged.filter((m) => m.status !== 200).map((m) => m.body?.code))}`,
    );
    const prod = await remoteManifest(cluster, 'prod');
    t.equal(prod.size, APPS, 'the remote manifest has every app');
    t.ok(
      apps.every((app) => prod.get(app.uuid) === '2.0.0'),
      'every app is at 2.0.0 on the remote (read with native git)',
    );
    t.same([...(await remoteBranches(cluster)).keys()], [], 'every merged branch was deleted');
  });

  await t.test('5 pull requests for one entry merged at once across both: exactly one merges', async (t) => {
    const app = apps[0]!;
    // Five different targets: publishing what is already there is no change, not a conflict.
    const targets = ['0.1.0', '0.2.0', '0.3.0', '1.0.0', 'latest'];
    const opened = await Promise.all(targets.map((release, i) => publish(cluster, i % 2 === 0 ? a : b, app, release)));
    t.same(
      opened.map((o) => o.status),
      targets.map(() => 200),
    );
    const merged = await Promise.all(opened.map((o, i) => merge(cluster, i % 2 === 0 ? b : a, o.number!)));
    const ok = merged.filter((m) => m.status === 200);
    const conflicts = merged.filter((m) => m.status === 409 && m.body.code === 'merge_conflict');
    t.equal(ok.length, 1, 'one merged');
    t.equal(conflicts.length, 4, 'the four others are merge_conflict');
    const winner = targets[merged.findIndex((m) => m.status === 200)]!;
    t.equal((await remoteManifest(cluster, 'prod')).get(app.uuid), winner, 'the remote holds what the merged one set');
  });

  await t.test('a write names a release merged through the other replica a moment before', async (t) => {
    const app = apps[1]!;
    const created = await a.call('POST', `/api/v2/source_control/releases/${app.uuid}?elementType=PAGE`, {
      token: cluster.token,
      body: { release_version: '3.0.0' },
    });
    t.equal(created.status, 200, JSON.stringify(created.body));
    t.equal((await merge(cluster, a, created.body.data.pull_request.number)).status, 200);
    const set = await b.call('PUT', `/api/v2/source_control/manifests/prod/${app.uuid}?elementType=PAGE`, { token: cluster.token, body: { release: '3.0.0' } });
    t.equal(set.status, 200, JSON.stringify(set.body));
    t.equal((await merge(cluster, b, set.body.data.pull_request.number)).status, 200);
    t.equal((await remoteManifest(cluster, 'prod')).get(app.uuid), '3.0.0');
  });

  await t.test('a release is built from the source pushed a moment before, and a newly protected app is found at once', async (t) => {
    const app = apps[2]!;
    const pushed = await commitFiles({
      repo: cluster.origin,
      branch: 'main',
      files: { [`apps/${app.name}/main.json`]: '{"new": "code"}\n' },
      message: 'New code',
    });
    const release = await b.call('POST', `/api/v2/source_control/releases/${app.uuid}?elementType=PAGE`, { token: cluster.token, body: { bump: 'minor' } });
    t.equal(release.status, 200, JSON.stringify(release.body));
    const pr = await b.call('GET', `/api/v2/source_control/pull_requests/${release.body.data.pull_request.number}`, { token: cluster.token });
    t.match(pr.body.data.pull_request.body, `at ${pushed}`, 'built from the commit just pushed, not the last poll');

    const uuid = '7d0e2f7e-2b6a-4c3e-9a1d-0c7b9e5f4a21';
    const list = await cluster.git('show', 'main:.retool/protected-apps.yaml');
    await commitFiles({
      repo: cluster.origin,
      branch: 'main',
      files: { '.retool/protected-apps.yaml': `${list}  - uuid: ${uuid}\n    name: brand-new\n`, 'apps/brand-new/main.json': '{}\n' },
      message: 'Protect a new app',
    });
    const fresh = await a.call('POST', `/api/v2/source_control/releases/${uuid}?elementType=PAGE`, { token: cluster.token, body: { bump: 'major' } });
    t.equal(fresh.status, 200, JSON.stringify(fresh.body));
    t.equal(fresh.body.data.release_version, '1.0.0');
  });

  t.same(a.unexpectedExits, [], 'A never exited');
  t.same(b.unexpectedExits, [], 'B never exited');
});
