import t, { type Test } from 'tap';
import { createDispatcher, retryDelay } from '../../src/events/dispatcher.js';
import { verify } from '../../src/events/signature.js';
import { buildTestApp } from '../helpers/app.js';
import { manualClock } from '../helpers/manual-clock.js';
import { manifestName } from '../helpers/repo-fixture.js';
import { accepted, startReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';

const SECRET = 'test-secret-0123456789';
const SUBSCRIPTIONS = '/api/v2/webhooks/subscriptions';
const ENV = { MIR_WEBHOOK_RETRY_BASE_MS: '1000', MIR_WEBHOOK_RETRY_MAX_MS: '8000', MIR_WEBHOOK_MAX_ATTEMPTS: '4', MIR_WEBHOOK_TIMEOUT_MS: '2000' };

async function world(t: Test, answer?: (call: number) => number) {
  const clock = manualClock();
  const ctx = await buildTestApp(t, { clock, env: ENV, captureLogs: true });
  const receiver = await startReceiver(answer);
  t.teardown(() => receiver.close());
  const created = await ctx.app.inject({
    method: 'POST',
    url: SUBSCRIPTIONS,
    headers: ctx.auth(),
    payload: { url: receiver.url, secret: SECRET, event_types: ['instance.bound'] },
  });
  t.equal(created.statusCode, 201);
  const subscription = created.json().data.subscription;
  /** One event, written as a bind writes it (test/deployments/ and the fault test cause them through the API). */
  const cause = async () => {
    await ctx.app.services.events.publish(ctx.database.handle.db, [{ type: 'instance.bound', data: { instance: manifestName('i'), from: null, to: 'prod' } }]);
  };
  return { ctx, clock, receiver, subscription, cause, dispatcher: ctx.app.services.dispatcher };
}

function checkSigned(t: Test, receiver: WebhookReceiver, now: Date) {
  for (const r of receiver.received) {
    t.ok(
      verify(SECRET, { timestamp: String(r.headers['x-mir-timestamp']), signature: String(r.headers['x-mir-signature-256']) }, r.body, now),
      'the signature verifies over timestamp + raw body',
    );
    t.equal(r.headers['x-mir-event-id'], JSON.parse(r.body).id);
  }
}

t.test('a receiver that fails three times then accepts gets the event exactly once, signed; retries wait their backoff', async (t) => {
  const { ctx, clock, receiver, subscription, cause, dispatcher } = await world(t, (call) => (call <= 3 ? 503 : 204));
  await cause();
  t.equal(await dispatcher.runOnce(), 1);
  t.equal(receiver.received.length, 1);
  t.equal(await dispatcher.runOnce(), 0, 'not due again before its backoff');
  for (let attempt = 2; attempt <= 4; attempt++) {
    clock.advance(8_000);
    t.equal(await dispatcher.runOnce(), 1, `attempt ${attempt}`);
  }
  clock.advance(60_000);
  t.equal(await dispatcher.runOnce(), 0, 'delivered: never sent again');
  t.equal(receiver.received.length, 4);
  t.equal(accepted(receiver).length, 1);
  t.equal(new Set(receiver.received.map((r) => JSON.parse(r.body).id)).size, 1, 'the same event id on every attempt');
  t.match(JSON.parse(accepted(receiver)[0]!.body), { type: 'instance.bound', data: { to: 'prod' } });
  checkSigned(t, receiver, clock());

  const log = await ctx.app.inject({ method: 'GET', url: `${SUBSCRIPTIONS}/${subscription.id}/deliveries`, headers: ctx.auth() });
  t.same(
    log
      .json()
      .data.deliveries.map((d: { attempt: number; status: string; response_code: number; delivery_state: string }) => [
        d.attempt,
        d.status,
        d.response_code,
        d.delivery_state,
      ]),
    [
      [4, 'delivered', 204, 'delivered'],
      [3, 'failed', 503, 'delivered'],
      [2, 'failed', 503, 'delivered'],
      [1, 'failed', 503, 'delivered'],
    ],
  );
  t.equal(log.json().data.deliveries[1].response_excerpt, 'refused with 503');
  t.notOk(JSON.stringify(ctx.logs).includes(SECRET), 'the secret is never logged');
});

t.test('the backoff doubles up to its cap, with jitter between half and all of it', async (t) => {
  const settings = { retryBaseMs: 1000, retryMaxMs: 8000 };
  t.same(
    [1, 2, 3, 4, 5, 30].map((n) => retryDelay(n, settings, 0.999999)),
    [1000, 2000, 4000, 8000, 8000, 8000],
  );
  t.same(
    [1, 2, 3, 4].map((n) => retryDelay(n, settings, 0)),
    [500, 1000, 2000, 4000],
  );
});

t.test('a receiver that never accepts: the dead letter after N attempts; replay delivers it', async (t) => {
  let accept = false;
  const { ctx, clock, receiver, subscription, cause, dispatcher } = await world(t, () => (accept ? 200 : 500));
  await cause();
  for (let attempt = 1; attempt <= 4; attempt++) {
    t.equal(await dispatcher.runOnce(), 1);
    clock.advance(8_000);
  }
  t.equal(await dispatcher.runOnce(), 0, 'dead: no fifth attempt');
  const dead = (await ctx.app.inject({ method: 'GET', url: `${SUBSCRIPTIONS}/${subscription.id}/deliveries?state=dead`, headers: ctx.auth() })).json().data
    .deliveries;
  t.equal(dead.length, 4);
  const eventId = dead[0].event_id;
  const replay = (payload: object) => ctx.app.inject({ method: 'POST', url: `${SUBSCRIPTIONS}/${subscription.id}/replay`, headers: ctx.auth(), payload });
  const unknown = await replay({ event_id: subscription.id });
  t.equal(unknown.statusCode, 404);
  t.equal(unknown.json().code, 'event_not_found');

  accept = true;
  const replayed = await replay({ event_id: eventId });
  t.equal(replayed.statusCode, 200);
  t.same(replayed.json().data, { replayed: 1 });
  t.equal(await dispatcher.runOnce(), 1);
  t.equal(accepted(receiver).length, 1);
  t.equal(JSON.parse(accepted(receiver)[0]!.body).id, eventId, 'the same event id');
  const again = await replay({ event_id: eventId });
  t.equal(again.statusCode, 409);
  t.equal(again.json().code, 'event_not_dead');
  t.same((await replay({})).json().data, { replayed: 0 });
});

t.test('two dispatchers on one database send each event once', async (t) => {
  const { ctx, receiver, cause, dispatcher } = await world(t);
  for (let i = 0; i < 10; i++) await cause();
  const other = createDispatcher({ db: ctx.database.handle.db, clock: manualClock(), logger: ctx.app.log as never, settings: ctx.config.webhooks });
  // Bounded: 10 events need at most a few rounds of two.
  for (let round = 0; round < 5; round++) await Promise.all([dispatcher.runOnce(), other.runOnce()]);
  const ids = receiver.received.map((r) => JSON.parse(r.body).id as string);
  t.equal(ids.length, 10);
  t.equal(new Set(ids).size, 10, 'no event sent twice');
});

t.test('an inactive subscription gets nothing until it is active again; a claim of a dispatcher that died is due again when its lease runs out', async (t) => {
  const { ctx, clock, receiver, subscription, cause, dispatcher } = await world(t);
  const patch = (active: boolean) => ctx.app.inject({ method: 'PATCH', url: `${SUBSCRIPTIONS}/${subscription.id}`, headers: ctx.auth(), payload: { active } });
  t.equal((await patch(false)).statusCode, 200);
  await cause();
  t.equal(await dispatcher.runOnce(), 0, 'no new delivery for an inactive subscription');
  t.equal((await patch(true)).statusCode, 200);
  await cause();
  t.equal(await dispatcher.runOnce(), 1, 'active again: what is written from now on is delivered');
  t.equal(receiver.received.length, 1);

  // Claims of a dispatcher that died mid-send: no one else takes them within the lease, anyone after.
  await cause();
  const db = ctx.database.handle.db;
  await dispatcher.runOnce();
  await db
    .updateTable('webhook_deliveries')
    .set({ state: 'pending', claim: '00000000-0000-4000-8000-000000000000', next_attempt_at: new Date(clock().getTime() + 60_000) })
    .execute();
  const other = createDispatcher({ db, clock, logger: ctx.app.log as never, settings: ctx.config.webhooks });
  t.equal(await other.runOnce(), 0, 'claimed by someone else, within its lease: not taken');
  clock.advance(60_000);
  t.equal(await other.runOnce(), 2, 'the lease ran out: due again, for any dispatcher');
});

t.test('retention deletes delivered events and old logs, keeps dead letters', async (t) => {
  const { ctx, clock, cause, dispatcher, receiver } = await world(t);
  await cause();
  await dispatcher.runOnce();
  receiver.answer = () => 500;
  await cause();
  for (let attempt = 1; attempt <= 4; attempt++) {
    await dispatcher.runOnce();
    clock.advance(8_000);
  }
  const db = ctx.database.handle.db;
  const count = async (table: 'outbox_events' | 'webhook_attempts' | 'webhook_deliveries') =>
    Number(
      (
        await db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  t.equal(await count('outbox_events'), 2);
  t.same(await dispatcher.purge(), { attempts: 0, events: 0 }, 'nothing is old yet');
  clock.advance(ctx.config.webhooks.retentionMs + 1);
  t.same(await dispatcher.purge(), { attempts: 5, events: 1 });
  t.equal(await count('outbox_events'), 1, 'the dead letter stays');
  t.equal(await count('webhook_deliveries'), 1);
});

t.test('subscriptions: admin only, the secret write-only, bad input 400, unknown 404', async (t) => {
  const { ctx, subscription } = await world(t);
  const call = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object, token = ctx.adminToken) =>
    ctx.app.inject({ method, url: `${SUBSCRIPTIONS}${url}`, headers: ctx.auth(token), ...(payload ? { payload } : {}) });
  t.notOk('secret' in subscription);
  const listed = await call('GET', '');
  t.notOk(listed.body.includes(SECRET));
  t.equal(listed.json().data.subscriptions.length, 1);
  const writer = await ctx.tokenFor('source_control:write');
  t.equal((await call('GET', '', undefined, writer)).json().code, 'forbidden');
  for (const payload of [
    { url: 'ftp://example.com', secret: SECRET, event_types: ['release.created'] },
    { url: 'https://user:pw@example.com', secret: SECRET, event_types: ['release.created'] },
    { url: 'https://example.com', secret: 'short', event_types: ['release.created'] },
    { url: 'https://example.com', secret: SECRET, event_types: ['release.deleted'] },
    { url: 'https://example.com', secret: SECRET, event_types: [] },
  ]) {
    const response = await call('POST', '', payload);
    t.equal(response.statusCode, 400, JSON.stringify(payload));
    t.equal(response.json().code, 'validation_failed');
  }
  t.equal((await call('GET', '')).json().data.subscriptions.length, 1, 'nothing written');
  const patched = await call('PATCH', `/${subscription.id}`, { active: false, secret: 'another-secret-0123456789' });
  t.match(patched.json().data.subscription, { active: false });
  t.notOk(patched.body.includes('another-secret'));
  const audit = await ctx.app.services.audit.list({ target: `webhook:${subscription.id}` });
  t.notOk(JSON.stringify(audit).includes('another-secret'), 'nor audited');
  t.equal((await call('DELETE', `/${subscription.id}`)).statusCode, 200);
  const gone = await call('GET', `/${subscription.id}`);
  t.equal(gone.statusCode, 404);
  t.equal(gone.json().code, 'subscription_not_found');
});
