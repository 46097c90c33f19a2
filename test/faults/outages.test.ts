// Dependencies that go away and come back: PostgreSQL restarted under load, the git remote stopped
// for ten seconds. No process exits, requests during the outage answer 503 with Retry-After (never
// 500), /readyz says what is missing, nothing is half-written, and everything works afterwards.
import t from 'tap';
import type { Replica } from '../helpers/replica.js';
import { merge, publish, remoteBranches, startFaultCluster, type FaultCluster } from './cluster.js';

const RELEASES = ['1.0.0', '1.1.0', '1.2.0', '1.3.0'];

/** Sends writes and reads to both replicas until `stop` resolves; every answer's status and code. */
async function load(cluster: FaultCluster, stop: Promise<void>): Promise<{ status: number; code?: string; retryAfter: string | null }[]> {
  const answers: { status: number; code?: string; retryAfter: string | null }[] = [];
  let stopped = false;
  void stop.then(() => (stopped = true));
  let i = 0;
  const gateway = async (replica: Replica) => {
    while (!stopped && i < 2_000) {
      const app = cluster.apps[i % cluster.apps.length]!;
      const release = RELEASES[i++ % RELEASES.length]!;
      for (const call of [
        () => replica.call('GET', `/api/v2/source_control/manifests/prod`, { token: cluster.token }),
        () =>
          replica.call('POST', '/api/v2/source_control/publish', {
            token: cluster.token,
            body: { changes: [{ manifest: 'prod', element_uuid: app.uuid, element_type: 'PAGE', release }] },
          }),
      ]) {
        try {
          const answer = await call();
          answers.push({ status: answer.status, code: answer.body?.code, retryAfter: answer.headers.get('retry-after') });
        } catch (error) {
          answers.push({ status: 0, code: (error as Error).message, retryAfter: null });
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  await Promise.all(cluster.replicas.map(gateway));
  return answers;
}

async function readiness(replica: Replica): Promise<{ status: number; body: any }> {
  const response = await fetch(`${replica.base}/readyz`);
  return { status: response.status, body: await response.json() };
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (await check()) return Date.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what}: not within ${timeoutMs} ms`);
}

function summary(answers: readonly { status: number; code?: string }[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const a of answers) out[`${a.status}${a.status >= 400 ? ` ${a.code}` : ''}`] = (out[`${a.status}${a.status >= 400 ? ` ${a.code}` : ''}`] ?? 0) + 1;
  return out;
}

t.test('outages of the database and of the git remote', async (t) => {
  const cluster = await startFaultCluster(t, { apps: 8, releases: RELEASES, env: { MIR_ORPHAN_GRACE_SECONDS: '3', MIR_SWEEP_SECONDS: '1' } });
  const [a, b] = cluster.replicas;

  await t.test('PostgreSQL restarted under load: no exit, 503 during the outage, all well after', async (t) => {
    let restarted!: () => void;
    const stop = new Promise<void>((resolve) => (restarted = resolve));
    const loading = load(cluster, stop);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await cluster.postgres.stop();
    const down = Date.now();
    const during = await readiness(a);
    t.equal(during.status, 503, '/readyz is 503 while the database is down');
    t.match(during.body.checks, { database: /./ }, `/readyz names the database: ${JSON.stringify(during.body.checks)}`);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await cluster.postgres.start();
    const recovered = await until('both replicas ready again', async () => (await readiness(a)).status === 200 && (await readiness(b)).status === 200);
    t.comment(`database down ${Date.now() - down - recovered} ms; both replicas ready ${recovered} ms after it was back`);
    await new Promise((resolve) => setTimeout(resolve, 500));
    restarted();
    const answers = await loading;
    t.comment(`answers under load: ${JSON.stringify(summary(answers))}`);
    t.same(
      answers.filter((x) => x.status >= 500 && x.status !== 503),
      [],
      'no 5xx but 503',
    );
    t.same(
      answers.filter((x) => x.status === 0),
      [],
      'no connection refused or reset',
    );
    const unavailable = answers.filter((x) => x.status === 503);
    t.ok(unavailable.length > 0, 'some requests met the outage');
    t.ok(
      unavailable.every((x) => x.code === 'database_unavailable' && x.retryAfter !== null),
      'each was 503 database_unavailable with Retry-After',
    );

    const after = await publish(cluster, b, cluster.apps[0]!, '1.3.0');
    t.equal(after.status === 200 || after.body.code === 'no_change' ? 200 : after.status, 200, 'a write succeeds after the restart');
    if (after.number !== undefined) t.equal((await merge(cluster, a, after.number)).status, 200, 'and merges');
    // A publish whose database went away between recording its proposal (`opening`) and finishing it
    // could not remove the row either: the sweeper does, once the grace period (3 s here) has passed.
    const swept = await until(
      'the sweeper removed what the outage left opening',
      async () => (await cluster.query(`select number from pull_requests where state = 'opening'`)).length === 0,
    );
    t.comment(`proposals the outage left opening were swept ${swept} ms after the write that followed it`);
    t.same([a.unexpectedExits, b.unexpectedExits], [[], []], 'no replica exited');
  });

  await t.test('the git remote stopped for 10 s: 503 git_unavailable, /readyz 503, nothing half-written, full recovery', async (t) => {
    const before = await remoteBranches(cluster);
    const last = (await cluster.query<{ last: number }>(`select coalesce(max(number), 0)::int as last from pull_requests`))[0]!.last;
    await cluster.stopRemote();
    const stoppedAt = Date.now();
    const noticed = await until('/readyz notices the remote is gone', async () => (await readiness(a)).status === 503);
    t.comment(`/readyz said 503 ${noticed} ms after the remote stopped`);
    await until('/readyz of the other replica notices too', async () => (await readiness(b)).status === 503);
    t.match((await readiness(b)).body, { code: 'not_ready', checks: { git: /unreachable/ } }, '/readyz names git');

    const write = await publish(cluster, a, cluster.apps[1]!, '1.1.0');
    t.equal(write.status, 503, 'a write answers 503');
    t.equal(write.body.code, 'git_unavailable');
    const open = await cluster.query<{ number: number }>(`select number from pull_requests where state = 'open' order by number desc limit 1`);
    if (open[0]) {
      const merging = await merge(cluster, b, open[0].number);
      t.equal(merging.status, 503, 'a merge answers 503');
      t.equal(merging.body.code, 'git_unavailable');
    }
    const read = await a.call('GET', '/api/v2/source_control/manifests/prod', { token: cluster.token });
    t.equal(read.status, 200, 'reads are served from the mirror meanwhile');

    await new Promise((resolve) => setTimeout(resolve, Math.max(0, 10_000 - (Date.now() - stoppedAt))));
    await cluster.startRemote();
    const back = await until('both ready again', async () => (await readiness(a)).status === 200 && (await readiness(b)).status === 200);
    t.comment(`both replicas ready ${back} ms after the remote came back`);

    const opening = await cluster.query(`select number from pull_requests where state = 'opening' and number > $1`, [last]);
    t.same(opening, [], 'no refused write left its proposal opening');
    t.same(
      [...(await remoteBranches(cluster)).keys()].filter((name) => !before.has(name)),
      [],
      'the refused writes pushed no branch',
    );
    const retry = await publish(cluster, a, cluster.apps[1]!, '1.1.0');
    t.equal(retry.status, 200, `the write succeeds now: ${JSON.stringify(retry.body)}`);
    t.equal((await merge(cluster, b, retry.number!)).status, 200, 'and merges through the other replica');
    t.same([a.unexpectedExits, b.unexpectedExits], [[], []], 'no replica exited');
  });
});
