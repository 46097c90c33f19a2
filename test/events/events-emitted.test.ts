// What each change writes to the outbox, in the transaction that records it: a subscriber hears
// of every pull request opened, conflicted, closed or merged, of each release and manifest change a
// merge brings, of bindings and hotfixes.
import t from 'tap';
import type { TestApp } from '../helpers/app.js';
import { buildTestApp } from '../helpers/app.js';
import { outboxEvents } from '../helpers/outbox.js';
import { element, manifestName, manifestYaml, seed } from '../helpers/repo-fixture.js';

const API = '/api/v2/source_control';

function outbox(ctx: TestApp) {
  return outboxEvents(ctx.database.handle.db);
}

t.test('pull requests, releases, manifests, bindings, hotfixes: each change writes its events', async (t) => {
  const ctx = await buildTestApp(t);
  const { app } = ctx;
  const a = element('PAGE', ['1.0.0', '1.1.0']);
  const [prod, uat] = [manifestName('prod'), manifestName('uat')];
  await seed(ctx.git, { elements: [a], manifests: { [prod]: manifestYaml(prod, { apps: [[a.uuid, '1.0.0']] }), [uat]: manifestYaml(uat) } });
  const post = (url: string, payload?: object) => app.inject({ method: 'POST', url: `${API}${url}`, headers: ctx.auth(), ...(payload ? { payload } : {}) });

  const release = await post(`/releases/${a.uuid}?elementType=PAGE`, { bump: 'minor' });
  t.equal(release.statusCode, 200, release.body);
  const releasePr = release.json().data.pull_request.number;
  const publish = await post('/publish', { changes: [{ manifest: prod, element_uuid: a.uuid, element_type: 'PAGE', release: '1.1.0' }] });
  const publishPr = publish.json().data.pull_request.number;
  t.same(
    (await outbox(ctx)).map((e) => e.type),
    ['pull_request.opened', 'pull_request.opened'],
  );

  t.equal((await post(`/pull_requests/${releasePr}/merge`)).statusCode, 200);
  t.equal((await post(`/pull_requests/${publishPr}/merge`)).statusCode, 200);
  const merged = (await outbox(ctx)).slice(2);
  t.same(
    merged.map((e) => e.type),
    ['pull_request.merged', 'release.created', 'pull_request.merged', 'manifest.changed'],
  );
  t.match(merged[1]!.payload, { element_uuid: a.uuid, release_version: '1.2.0', pull_request: { number: releasePr } });
  t.match(merged[3]!.payload, { manifest: prod, entries: [{ element_uuid: a.uuid, from: '1.0.0', to: '1.1.0' }], pull_request: { number: publishPr } });

  // Two publishes of the same entry: merging the second after the first conflicts; closing it is heard too.
  const first = await post('/publish', { changes: [{ manifest: uat, element_uuid: a.uuid, element_type: 'PAGE', release: '1.0.0' }] });
  const second = await post('/publish', { changes: [{ manifest: uat, element_uuid: a.uuid, element_type: 'PAGE', release: '1.1.0' }] });
  t.equal((await post(`/pull_requests/${first.json().data.pull_request.number}/merge`)).statusCode, 200);
  const conflicting = second.json().data.pull_request.number;
  t.equal((await post(`/pull_requests/${conflicting}/merge`)).json().code, 'merge_conflict');
  t.equal((await post(`/pull_requests/${conflicting}/close`)).statusCode, 200);
  const later = (await outbox(ctx)).slice(6).map((e) => e.type);
  t.same(later, ['pull_request.opened', 'pull_request.opened', 'pull_request.merged', 'manifest.changed', 'pull_request.conflicted', 'pull_request.closed']);

  const name = manifestName('eu');
  await app.inject({ method: 'POST', url: `${API}/instances`, headers: ctx.auth(), payload: { name } });
  await app.inject({ method: 'PUT', url: `${API}/instances/${name}/manifest`, headers: ctx.auth(), payload: { manifest: prod } });
  await app.inject({ method: 'PUT', url: `${API}/instances/${name}/manifest`, headers: ctx.auth(), payload: { manifest: prod } });
  const bound = (await outbox(ctx)).filter((e) => e.type === 'instance.bound');
  t.equal(bound.length, 1, 'created unbound: no event; bound once: one; bound again to the same: none');
  t.match(bound[0]!.payload, { instance: name, from: null, to: prod });

  const hotfix = await post('/hotfixes', { element_uuid: a.uuid, element_type: 'PAGE', release: '1.1.0' });
  t.equal(hotfix.statusCode, 201, hotfix.body);
  t.equal((await post(`/hotfixes/${hotfix.json().data.hotfix.id}/abandon`)).statusCode, 200);
  const hotfixEvents = (await outbox(ctx)).filter((e) => e.type.startsWith('hotfix.'));
  t.same(
    hotfixEvents.map((e) => e.type),
    ['hotfix.opened', 'hotfix.abandoned'],
  );
  t.match(hotfixEvents[1]!.payload, { hotfix: { id: hotfix.json().data.hotfix.id, state: 'abandoned' } });
});

t.test('a rollback places a hold (hold.created); lifting it is heard too (hold.lifted)', async (t) => {
  const ctx = await buildTestApp(t);
  const a = element('PAGE', ['1.0.0', '1.1.0']);
  const prod = manifestName('prod');
  await seed(ctx.git, { elements: [a], manifests: { [prod]: manifestYaml(prod, { apps: [[a.uuid, '1.1.0']] }) } });
  const rolled = await ctx.app.inject({
    method: 'POST',
    url: `${API}/rollback`,
    headers: ctx.auth(),
    payload: { manifest: prod, element_uuid: a.uuid, element_type: 'PAGE', reason: 'breaks checkout' },
  });
  t.equal(rolled.statusCode, 200, rolled.body);
  const hold = rolled.json().data.hold;
  const lifted = await ctx.app.inject({ method: 'POST', url: `${API}/holds/${hold.id}/lift`, headers: ctx.auth(), payload: { reason: 'fixed in 1.2.0' } });
  t.equal(lifted.statusCode, 200, lifted.body);
  const events = (await outbox(ctx)).filter((e) => e.type.startsWith('hold.'));
  t.same(
    events.map((e) => e.type),
    ['hold.created', 'hold.lifted'],
  );
  t.match(events[0]!.payload, { hold: { id: hold.id, version: '1.1.0', reason: 'breaks checkout', active: true } });
  t.match(events[1]!.payload, { hold: { id: hold.id, active: false, lift_reason: 'fixed in 1.2.0' } });
});
