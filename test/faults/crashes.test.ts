// kill -9 of a replica at random points of a write and merge loop. After each kill the replica
// starts again and is ready; after all of them the remote is sound (git fsck), every branch the
// service pushed belongs to a pull request and every open pull request has its branch, and every
// request sent again succeeds or answers a clean 4xx.
import t from 'tap';
import { merge, publish, remoteBranches, startFaultCluster } from './cluster.js';

const KILLS = 10;
const GRACE_SECONDS = 4;

// A deterministic sequence of kill delays: the same run every time, spread over a write's phases.
function* delays(): Generator<number> {
  let x = 7;
  for (;;) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    yield 30 + (x % 600);
  }
}

t.test('kill -9 at random points of writes and merges loses nothing and leaves nothing', async (t) => {
  const cluster = await startFaultCluster(t, {
    apps: 12,
    releases: ['1.0.0', '1.1.0', '1.2.0', '1.3.0', '1.4.0', '1.5.0'],
    env: { MIR_ORPHAN_GRACE_SECONDS: String(GRACE_SECONDS), MIR_SWEEP_SECONDS: '1' },
  });
  const [a, b] = cluster.replicas;
  const statuses: number[] = [];
  const restartsMs: number[] = [];
  const resent: number[] = [];
  const delay = delays();
  const versions = ['1.0.0', '1.1.0', '1.2.0', '1.3.0', '1.4.0', '1.5.0'];

  for (let round = 0; round < KILLS; round++) {
    const victim = round % 2 === 0 ? a : b;
    const other = victim === a ? b : a;
    // Work on both replicas at once: publishes, merges of what they opened, a release.
    const work = cluster.apps.slice(0, 6).map(async (app, i) => {
      const replica = i % 2 === 0 ? victim : other;
      const release = versions[(round + i) % versions.length]!;
      try {
        const opened = await publish(cluster, replica, app, release);
        statuses.push(opened.status);
        if (opened.number !== undefined) statuses.push((await merge(cluster, i % 3 === 0 ? victim : other, opened.number)).status);
      } catch {
        // The victim died with the request in flight: the client sends it again, to the survivor.
        const again = await publish(cluster, other, app, release);
        resent.push(again.status);
        if (again.number !== undefined) resent.push((await merge(cluster, other, again.number)).status);
      }
    });
    const release = victim
      .call('POST', `/api/v2/source_control/releases/${cluster.apps[6 + (round % 6)]!.uuid}?elementType=PAGE`, {
        token: cluster.token,
        body: { bump: 'patch' },
      })
      .then((r) => statuses.push(r.status))
      .catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, delay.next().value));
    await victim.kill();
    await Promise.all([...work, release]);
    const started = Date.now();
    await victim.start();
    await victim.waitReady();
    restartsMs.push(Date.now() - started);
  }

  t.ok(
    [...statuses, ...resent].every((s) => s < 500),
    `no 5xx (answers: ${JSON.stringify(count([...statuses, ...resent]))})`,
  );
  t.ok(
    resent.every((s) => s === 200 || s === 409),
    `every re-sent request succeeded or was a clean conflict (${JSON.stringify(count(resent))})`,
  );
  t.equal(restartsMs.length, KILLS, `${KILLS} restarts, each ready (ms: ${restartsMs.join(', ')})`);

  // What a kill left is swept once older than the grace period (both replicas sweep every second).
  let stragglers: string[] = [];
  for (let i = 0; i < 60; i++) {
    stragglers = await problems(cluster);
    if (stragglers.length === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  t.same(stragglers, [], 'every mir/ branch belongs to a pull request, every open pull request has its branch, nothing is left opening');

  // No pull request is stuck: each open one merges or conflicts cleanly.
  const open = await cluster.query<{ number: number }>(`select number from pull_requests where state in ('open', 'conflicted') order by number`);
  for (const { number } of open) {
    const answer = await merge(cluster, a, number);
    t.ok(
      answer.status === 200 || (answer.status === 409 && answer.body.code === 'merge_conflict'),
      `#${number} merges or conflicts: ${answer.status} ${answer.body?.code ?? ''}`,
    );
  }

  const fsck = await cluster.git('fsck', '--strict', '--no-dangling');
  t.equal(fsck.trim(), '', 'git fsck on the remote is clean');
  t.same(a.unexpectedExits, [], 'A never exited by itself');
  t.same(b.unexpectedExits, [], 'B never exited by itself');
  const logs = a.output() + b.output();
  t.match(logs, /took over the data dir of a process that is gone/, 'a restart took over the lock a kill left');
  const times = (pattern: RegExp) => (logs.match(pattern) ?? []).length;
  t.comment(
    `kills ${KILLS}; sweeps that removed something ${times(/swept what an interrupted process left behind/g)}; ` +
      `start-ups that repaired the mirror ${times(/removed what an interrupted process left in the repository/g)}; answers ${JSON.stringify(count(statuses))}; re-sent ${JSON.stringify(count(resent))}`,
  );
});

/** What would be wrong: orphan branches, open pull requests without a branch, rows still opening. */
async function problems(cluster: Awaited<ReturnType<typeof startFaultCluster>>): Promise<string[]> {
  const branches = await remoteBranches(cluster);
  const rows = await cluster.query<{ number: number; state: string; source_branch: string }>(`select number, state, source_branch from pull_requests`);
  const live = new Map(rows.filter((r) => r.state === 'open' || r.state === 'conflicted').map((r) => [r.source_branch, r.number]));
  const out: string[] = [];
  for (const branch of branches.keys()) if (!live.has(branch)) out.push(`orphan branch ${branch}`);
  for (const [branch, number] of live) if (!branches.has(branch)) out.push(`#${number} has no branch ${branch}`);
  for (const row of rows) if (row.state === 'opening') out.push(`#${row.number} still opening`);
  return out;
}

function count(values: readonly number[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}
