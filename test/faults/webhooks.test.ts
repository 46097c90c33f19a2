// Outbound webhooks across real processes: two replicas on one PostgreSQL deliver each event once
// in the normal case; with the receiver gone and both replicas killed (SIGKILL) while events are
// pending, every event is delivered after the receiver and the replicas come back — none is lost.
import t from 'tap';
import { freePort } from '../helpers/replica.js';
import { accepted, startReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';
import { startFaultCluster, type FaultCluster } from './cluster.js';

const SECRET = 'fault-suite-webhook-secret';
const WAIT_ROUNDS = 300;
const ROUND_MS = 200;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Bounded: waits until `done` holds, at most WAIT_ROUNDS × ROUND_MS. */
async function waitFor(what: string, done: () => Promise<boolean> | boolean): Promise<void> {
  for (let round = 0; round < WAIT_ROUNDS; round++) {
    if (await done()) return;
    await sleep(ROUND_MS);
  }
  throw new Error(`gave up waiting: ${what}`);
}

async function eventIds(cluster: FaultCluster): Promise<string[]> {
  return (await cluster.query<{ id: string }>('select id from outbox_events order by seq')).map((row) => row.id);
}

const deliveredIds = (receiver: WebhookReceiver) => accepted(receiver).map((r) => JSON.parse(r.body).id as string);

t.test('two replicas deliver each event once; kill -9 with events pending loses none', async (t) => {
  const port = await freePort();
  let receiver = await startReceiver(() => 204, port);
  t.teardown(() => receiver.close());
  const cluster = await startFaultCluster(t, {
    apps: 1,
    releases: ['1.0.0'],
    env: {
      MIR_WEBHOOK_POLL_MS: '100',
      MIR_WEBHOOK_TIMEOUT_MS: '1000',
      MIR_WEBHOOK_RETRY_BASE_MS: '200',
      MIR_WEBHOOK_RETRY_MAX_MS: '1000',
      MIR_WEBHOOK_MAX_ATTEMPTS: '100',
      MIR_DRIFT_CHECK_SECONDS: '0',
    },
  });
  const [a, b] = cluster.replicas;
  const subscribed = await a.call('POST', '/api/v2/webhooks/subscriptions', {
    body: { url: receiver.url, secret: SECRET, event_types: ['instance.bound', 'deployment.reported'] },
  });
  t.equal(subscribed.status, 201, JSON.stringify(subscribed.body));
  t.equal((await a.call('POST', '/api/v2/source_control/instances', { body: { name: 'eu', manifest: 'prod' } })).status, 201);
  const commit = (await cluster.git('rev-parse', 'main')).trim();
  const report = (replica: typeof a) =>
    replica.call('POST', '/api/v2/source_control/instances/eu/deployments', { token: cluster.token, body: { commit_sha: commit } });

  for (let i = 0; i < 10; i++) t.equal((await report(i % 2 === 0 ? a : b)).status, 201);
  const normal = await eventIds(cluster);
  t.equal(normal.length, 11);
  await waitFor('the first events delivered', () => deliveredIds(receiver).length >= normal.length);
  await sleep(1_000);
  t.same([...deliveredIds(receiver)].sort(), [...normal].sort(), 'each event once, from whichever replica claimed it');

  // The receiver goes away; events are written and their attempts fail; both replicas die.
  await receiver.close();
  for (let i = 0; i < 6; i++) t.equal((await report(i % 2 === 0 ? a : b)).status, 201);
  const pending = (await eventIds(cluster)).slice(normal.length);
  await waitFor('failed attempts on the pending events', async () => {
    const rows = await cluster.query<{ n: string }>(
      `select count(*) as n from webhook_deliveries where state = 'pending' and attempts > 0 and event_id = any($1::uuid[])`,
      [pending],
    );
    return Number(rows[0]!.n) === pending.length;
  });
  await Promise.all([a.kill(), b.kill()]);

  receiver = await startReceiver(() => 204, port);
  await Promise.all([a.start(), b.start()]);
  await Promise.all([a.waitReady(), b.waitReady()]);
  await waitFor('every pending event delivered after the restart', () => pending.every((id) => deliveredIds(receiver).includes(id)));
  t.same(
    [...new Set(deliveredIds(receiver))].sort(),
    [...pending].sort(),
    'every event written while the receiver was away is delivered (at least once), and no other is sent again',
  );
  // The receiver records a request before the replica has its answer and records the attempt, so the rows
  // settle a moment after the last request arrives: wait for them (bounded), then say what is left.
  const unsettled = async () => Number((await cluster.query<{ n: string }>(`select count(*) as n from webhook_deliveries where state <> 'delivered'`))[0]!.n);
  await waitFor('every delivery recorded as delivered', async () => (await unsettled()) === 0).catch(() => {});
  t.equal(await unsettled(), 0, 'no delivery left pending or dead');
  t.same(a.unexpectedExits, []);
  t.same(b.unexpectedExits, []);
});
