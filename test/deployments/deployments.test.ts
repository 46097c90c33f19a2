import t, { type Test } from 'tap';
import { buildTestApp } from '../helpers/app.js';
import { manualClock } from '../helpers/manual-clock.js';
import { outboxEvents } from '../helpers/outbox.js';
import { element, manifestName, manifestYaml, seed } from '../helpers/repo-fixture.js';

const API = '/api/v2/source_control';
const SYSTEM = { name: 'test', email: 'test@mir.invalid', tokenId: null, requestId: null };
const COMMIT = 'a'.repeat(40);

async function world(t: Test) {
  const clock = manualClock();
  const ctx = await buildTestApp(t, { clock });
  const a = element('PAGE', ['1.0.0', '1.1.0']);
  const w = element('WORKFLOW', ['2.0.0']);
  const prod = manifestName('prod');
  const fixture = await seed(ctx.git, {
    elements: [a, w],
    manifests: { [prod]: manifestYaml(prod, { apps: [[a.uuid, '1.1.0']], workflows: [[w.uuid, '2.0.0']] }) },
  });
  const eu = manifestName('eu');
  const us = manifestName('us');
  for (const name of [eu, us]) await ctx.app.services.instances.create({ name, manifest: prod }, SYSTEM);
  const bound = async (instance: string) =>
    (await ctx.app.services.tokens.create({ name: `${instance}-agent`, scopes: ['source_control:read'], instance }, SYSTEM)).token;
  return { ctx, clock, a, w, prod, eu, us, fixture, euToken: await bound(eu) };
}

t.test('an instance reports a deployment: drift, the matrix and the gauges follow; events are written with it', async (t) => {
  const { ctx, clock, a, w, eu, us, fixture, euToken } = await world(t);
  const { app } = ctx;
  const call = (method: 'GET' | 'POST' | 'PATCH', url: string, token: string, payload?: object) =>
    app.inject({ method, url: `${API}${url}`, headers: ctx.auth(token), ...(payload ? { payload } : {}) });

  // Polling records the last contact.
  const polled = await call('GET', `/instances/${eu}/releases`, euToken);
  t.equal(polled.statusCode, 200);
  const instance = (await call('GET', `/instances/${eu}`, euToken)).json().data.instance;
  t.equal(instance.last_seen_at, clock().toISOString());
  t.equal(instance.last_seen_commit, fixture.commit);

  const before = (await call('GET', `/instances/${eu}/drift`, euToken)).json().data;
  t.match(before, { drifted: false, flagged: false, flags: { never_deployed: true, not_seen: false }, last_deployment: null });

  // A token bound to one instance reports only for it, and reads only it.
  const theirs = await call('POST', `/instances/${us}/deployments`, euToken, { commit_sha: fixture.commit });
  t.equal(theirs.statusCode, 403);
  t.equal(theirs.json().code, 'instance_forbidden');
  t.equal((await call('GET', `/instances/${us}/releases`, euToken)).json().code, 'instance_forbidden');
  t.equal((await call('GET', `/deployments`, euToken)).json().code, 'instance_forbidden');
  const reader = await ctx.tokenFor('source_control:read');
  t.equal((await call('POST', `/instances/${eu}/deployments`, reader, { commit_sha: fixture.commit })).json().code, 'forbidden');

  const reported = await call('POST', `/instances/${eu}/deployments`, euToken, {
    commit_sha: fixture.commit,
    status: 'RUNNING',
    elements: [
      { uuid: a.uuid, type: 'PAGE', release: '1.0.0' },
      { uuid: w.uuid, type: 'WORKFLOW', release: '2.0.0' },
    ],
  });
  t.equal(reported.statusCode, 201);
  const deployment = reported.json().data;
  t.match(deployment, { status: 'RUNNING', commit_sha: fixture.commit, triggered_by: `${eu}-agent`, instance: eu, completed_at: null });

  clock.advance(60_000);
  const done = await call('PATCH', `/instances/${eu}/deployments/${deployment.id}`, euToken, { status: 'SUCCESS' });
  t.equal(done.statusCode, 200);
  t.equal(done.json().data.completed_at, clock().toISOString());
  const back = await call('PATCH', `/instances/${eu}/deployments/${deployment.id}`, euToken, { status: 'RUNNING' });
  t.equal(back.statusCode, 409);
  t.equal(back.json().code, 'deployment_status_invalid');

  const drift = (await call('GET', `/instances/${eu}/drift`, euToken)).json().data;
  t.match(drift, { drifted: true, drifted_count: 1, flagged: true, flags: { never_deployed: false, last_deployment_failed: false } });
  t.same(
    drift.elements.map((e: { uuid: string; desired: string; deployed: string; drifted: boolean; since: string | null }) => [
      e.uuid,
      e.desired,
      e.deployed,
      e.drifted,
      e.since,
    ]),
    [
      [a.uuid, '1.1.0', '1.0.0', true, clock().toISOString()],
      [w.uuid, '2.0.0', '2.0.0', false, null],
    ],
  );

  const matrix = (await call('GET', `/elements?name=${a.name}`, ctx.adminToken)).json().data;
  t.same(matrix.elements[0].instances[eu], { desired: '1.1.0', deployed: '1.0.0' });
  t.same(matrix.elements[0].instances[us], { desired: '1.1.0', deployed: null });

  clock.advance(30_000);
  const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  t.match(metrics, new RegExp(`mir_instance_elements_drifted\\{instance="${eu}"\\} 1\\n`));
  t.match(metrics, new RegExp(`mir_instance_seconds_since_successful_deployment\\{instance="${eu}"\\} 30\\n`));
  t.notMatch(metrics, new RegExp(`mir_instance_seconds_since_successful_deployment\\{instance="${us}"\\}`), 'never deployed: no made-up number');

  // Deploying what the manifest says resolves the drift.
  const second = await call('POST', `/instances/${eu}/deployments`, euToken, {
    commit_sha: fixture.commit,
    status: 'SUCCESS',
    elements: [
      { uuid: a.uuid, type: 'PAGE', release: '1.1.0' },
      { uuid: w.uuid, type: 'WORKFLOW', release: '2.0.0' },
    ],
  });
  t.equal(second.statusCode, 201);
  t.match((await call('GET', `/instances/${eu}/drift`, euToken)).json().data, { drifted: false, drifted_count: 0 });
  t.match((await app.inject({ method: 'GET', url: '/metrics' })).body, new RegExp(`mir_instance_elements_drifted\\{instance="${eu}"\\} 0\\n`));

  const events = await outboxEvents(ctx.database.handle.db);
  t.same(
    events.map((e) => e.type),
    [
      'instance.bound',
      'instance.bound',
      'deployment.reported',
      'deployment.succeeded',
      'drift.detected',
      'deployment.reported',
      'deployment.succeeded',
      'drift.resolved',
    ],
  );
  t.match(events[4]!.payload, { instance: eu, elements: [{ uuid: a.uuid, desired: '1.1.0', deployed: '1.0.0' }] });

  // A failed deployment, and an instance gone quiet, are flagged.
  const failed = await call('POST', `/instances/${eu}/deployments`, euToken, { commit_sha: COMMIT, status: 'ERROR', message: 'migration failed' });
  t.equal(failed.statusCode, 201);
  clock.advance(ctx.config.deployments.staleAfterMs + 1);
  t.match((await call('GET', `/instances/${eu}/drift`, euToken)).json().data, {
    drifted: false,
    flagged: true,
    flags: { last_deployment_failed: true, not_seen: true },
    last_successful_deployment: { id: second.json().data.id },
  });
});

t.test('deployments are listed newest first, filtered and paged; one is read by id', async (t) => {
  const { ctx, eu, us, fixture } = await world(t);
  const writer = await ctx.tokenFor('source_control:write');
  const call = (method: 'GET' | 'POST', url: string, payload?: object) =>
    ctx.app.inject({ method, url: `${API}${url}`, headers: ctx.auth(writer), ...(payload ? { payload } : {}) });
  const ids: string[] = [];
  for (const [instance, status] of [
    [eu, 'SUCCESS'],
    [us, 'RUNNING'],
    [eu, 'ERROR'],
  ] as const) {
    const reported = await call('POST', `/instances/${instance}/deployments`, { commit_sha: fixture.commit, status });
    t.equal(reported.statusCode, 201);
    ids.push(reported.json().data.id);
  }
  const all = (await call('GET', '/deployments')).json();
  t.same(
    all.data.map((d: { id: string }) => d.id),
    [...ids].reverse(),
  );
  t.equal(all.next_cursor, null);
  t.same(
    (await call('GET', `/deployments?instance=${eu}`)).json().data.map((d: { id: string }) => d.id),
    [ids[2], ids[0]],
  );
  t.same(
    (await call('GET', `/deployments?status=RUNNING`)).json().data.map((d: { id: string }) => d.id),
    [ids[1]],
  );
  const first = (await call('GET', '/deployments?limit=2')).json();
  t.equal(first.data.length, 2);
  const rest = (await call('GET', `/deployments?limit=2&cursor=${first.next_cursor}`)).json();
  t.same(
    rest.data.map((d: { id: string }) => d.id),
    [ids[0]],
  );
  t.equal(rest.next_cursor, null);
  t.equal((await call('GET', '/deployments?cursor=nonsense')).statusCode, 400);

  const one = await call('GET', `/deployment/${ids[1]}`);
  t.match(one.json().data, { id: ids[1], instance: us, status: 'RUNNING', elements: null });
  const missing = await call('GET', `/deployment/${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}`);
  t.equal(missing.statusCode, 404);
  t.equal(missing.json().code, 'deployment_not_found');
  t.equal((await call('POST', `/instances/nobody/deployments`, { commit_sha: fixture.commit })).json().code, 'instance_not_found');
});

t.test('bad reports are 400 and write nothing', async (t) => {
  const { ctx, eu, euToken } = await world(t);
  const count = async () =>
    Number(
      (
        await ctx.database.handle.db
          .selectFrom('deployments')
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  for (const payload of [
    { commit_sha: 'main' },
    { commit_sha: COMMIT, status: 'DONE' },
    { commit_sha: COMMIT, elements: [{ uuid: 'x', type: 'PAGE', release: '1.0.0' }] },
    { commit_sha: COMMIT, elements: [{ uuid: '0d7c1c9e-4a8e-4d0c-9a57-2f2f6f1d8a11', type: 'PAGE', release: 'v1' }] },
    { commit_sha: COMMIT, extra: true },
  ]) {
    const response = await ctx.app.inject({ method: 'POST', url: `${API}/instances/${eu}/deployments`, headers: ctx.auth(euToken), payload });
    t.equal(response.statusCode, 400, JSON.stringify(payload));
    t.equal(response.json().code, 'validation_failed');
  }
  t.equal(await count(), 0);
  const bad = await ctx.app.inject({
    method: 'POST',
    url: '/api/v2/tokens',
    headers: ctx.auth(),
    payload: { name: 'eu-writer', scopes: ['source_control:write'], instance: eu },
  });
  t.equal(bad.statusCode, 400, 'an instance token holds source_control:read at most');
});

t.test('a merge that changes what an instance should run makes it drift, once the default branch is evaluated', async (t) => {
  const { ctx, clock, a, w, prod, eu, fixture, euToken } = await world(t);
  const { app } = ctx;
  const reported = await app.inject({
    method: 'POST',
    url: `${API}/instances/${eu}/deployments`,
    headers: ctx.auth(euToken),
    payload: {
      commit_sha: fixture.commit,
      status: 'SUCCESS',
      elements: [
        { uuid: a.uuid, type: 'PAGE', release: '1.1.0' },
        { uuid: w.uuid, type: 'WORKFLOW', release: '2.0.0' },
      ],
    },
  });
  t.equal(reported.statusCode, 201);
  t.equal(await app.services.deployments.evaluateAll(), 0, 'nothing moved: nothing to say');
  const published = await app.inject({
    method: 'POST',
    url: `${API}/publish`,
    headers: ctx.auth(),
    payload: { changes: [{ manifest: prod, element_uuid: a.uuid, element_type: 'PAGE', release: '1.0.0' }] },
  });
  const merged = await app.inject({ method: 'POST', url: `${API}/pull_requests/${published.json().data.pull_request.number}/merge`, headers: ctx.auth() });
  t.equal(merged.statusCode, 200);
  clock.advance(5_000);
  t.equal(await app.services.deployments.evaluateAll(), 1, 'the instance now drifts (the other has no successful deployment to compare)');
  const drift = (await app.inject({ method: 'GET', url: `${API}/instances/${eu}/drift`, headers: ctx.auth(euToken) })).json().data;
  t.match(drift, { drifted: true, drifted_count: 1, commit_sha: merged.json().data.commit_sha });
  t.match(drift.elements[0], { uuid: a.uuid, desired: '1.0.0', deployed: '1.1.0', since: clock().toISOString() });
  const detected = (await outboxEvents(ctx.database.handle.db)).filter((e) => e.type === 'drift.detected');
  t.equal(detected.length, 1);
  t.match(detected[0]!.payload, { instance: eu, elements: [{ uuid: a.uuid, desired: '1.0.0', deployed: '1.1.0' }] });
  t.equal(await app.services.deployments.evaluateAll(), 0, 'evaluated again: no new event');
});
