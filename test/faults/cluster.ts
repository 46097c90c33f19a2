// What every fault test runs on, as operators deploy mir: a PostgreSQL server of its own (so it can
// be restarted), one git remote (`git http-backend` on 127.0.0.1 with basic auth) seeded with
// protected apps and their releases, and two replicas — real processes — sharing both, each with
// its own data dir. Everything is removed in teardown.
import type { Test } from 'tap';
import pg from 'pg';
import { INITIAL_FILES } from '../../src/git/gateway.js';
import { Mutex } from '../../src/runtime/mutex.js';
import { makeGateway, createTestLogger } from '../git/fixtures.js';
import { createBareRepo, runGit, startGitServer, tempDir, type GitServer } from '../helpers/git-server.js';
import { startPostgresCluster, type PostgresCluster } from '../helpers/postgres-cluster.js';
import { createReplica, type Replica } from '../helpers/replica.js';
import { element, manifestYaml, seed, type FixtureElement } from '../helpers/repo-fixture.js';

export const AUTH = { username: 'mir', password: 'fault-suite-secret' };

export interface FaultCluster {
  readonly postgres: PostgresCluster;
  readonly replicas: readonly [Replica, Replica];
  readonly apps: readonly FixtureElement[];
  /** The remote's bare repository, for native git. */
  readonly origin: string;
  /** The git remote's server; `stopRemote`/`startRemote` take it away and bring it back on the same port. */
  server(): GitServer;
  stopRemote(): Promise<void>;
  startRemote(): Promise<void>;
  /** An admin token (bootstrapped by the first replica) valid on both. */
  readonly token: string;
  /** Native git in the remote's repository. */
  git(...args: string[]): Promise<string>;
  /** One SQL query on the shared database. */
  query<R extends pg.QueryResultRow = Record<string, unknown>>(text: string, values?: unknown[]): Promise<R[]>;
}

export async function startFaultCluster(t: Test, options: { apps: number; releases: readonly string[]; env?: Record<string, string> }): Promise<FaultCluster> {
  const postgres = await startPostgresCluster();
  t.teardown(() => postgres.remove());
  const root = await tempDir('mir-fault-remote-');
  t.teardown(root.remove);
  const origin = await createBareRepo({ root: root.path, name: 'origin', files: Object.fromEntries(INITIAL_FILES.map((f) => [f.path, f.text])) });
  let server = await startGitServer({ root: root.path, auth: AUTH });
  const port = Number(new URL(server.baseUrl).port);
  t.teardown(() => server.close());
  const url = server.repoUrl('origin');

  // Seeded through a gateway of the test's own, as a person pushing with git would.
  const seeding = await tempDir('mir-fault-seed-');
  t.teardown(seeding.remove);
  const gateway = makeGateway({
    dataDir: seeding.path,
    logger: createTestLogger(),
    lock: new Mutex(),
    git: { url, username: AUTH.username, token: AUTH.password },
  });
  await gateway.start();
  const apps = Array.from({ length: options.apps }, () => element('PAGE', options.releases));
  await seed(gateway, { elements: apps, manifests: { prod: manifestYaml('prod') } });
  await gateway.close();

  const env = {
    DATABASE_URL: postgres.url,
    MIR_GIT_URL: url,
    MIR_GIT_USERNAME: AUTH.username,
    MIR_GIT_TOKEN: AUTH.password,
    // Reads may lag by this much; writes never do (they check the remote first).
    MIR_GIT_POLL_SECONDS: '3600',
    ...options.env,
  };
  const replicas: Replica[] = [];
  for (const name of ['A', 'B']) {
    const data = await tempDir(`mir-fault-${name}-`);
    t.teardown(data.remove);
    const replica = await createReplica({ name, dataDir: data.path, env });
    t.teardown(() => replica.stop());
    replicas.push(replica);
  }
  // A first, alone: it migrates and creates the admin token; then B.
  await replicas[0]!.start();
  await replicas[0]!.waitReady();
  await replicas[1]!.start();
  await replicas[1]!.waitReady();
  const token = await replicas[0]!.adminToken();

  const client = new pg.Pool({ connectionString: postgres.url, max: 2 });
  client.on('error', () => undefined);
  t.teardown(() => client.end());

  return {
    postgres,
    replicas: replicas as [Replica, Replica],
    apps,
    origin,
    token,
    server: () => server,
    stopRemote: () => server.close(),
    startRemote: async () => {
      server = await startGitServer({ root: root.path, auth: AUTH, port });
    },
    git: (...args) => runGit(args, { cwd: origin }),
    query: async (text, values) => (await client.query(text, values)).rows,
  };
}

/** The remote's manifest `name` on main, read with native git: `uuid → release`. */
export async function remoteManifest(cluster: FaultCluster, name: string): Promise<Map<string, string>> {
  const text = await cluster.git('show', `main:manifests/${name}.yaml`);
  const entries = new Map<string, string>();
  for (const match of text.matchAll(/- uuid: (\S+)\n\s+release: (\S+)/g)) entries.set(match[1]!, match[2]!);
  return entries;
}

/** Branches on the remote under `prefix`, with their commits. */
export async function remoteBranches(cluster: FaultCluster, prefix = 'mir/'): Promise<Map<string, string>> {
  const out = await cluster.git('for-each-ref', '--format=%(refname:lstrip=2) %(objectname)', `refs/heads/${prefix}`);
  return new Map(
    out
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split(' ') as [string, string]),
  );
}

/** Publishes `app` at `release` to prod through `replica`: the pull request's number. */
export async function publish(
  cluster: FaultCluster,
  replica: Replica,
  app: FixtureElement,
  release: string,
): Promise<{ status: number; number?: number; body: any }> {
  const answer = await replica.call('POST', '/api/v2/source_control/publish', {
    token: cluster.token,
    body: { changes: [{ manifest: 'prod', element_uuid: app.uuid, element_type: 'PAGE', release }] },
  });
  return { status: answer.status, body: answer.body, ...(answer.status === 200 ? { number: answer.body.data.pull_request.number as number } : {}) };
}

export async function merge(cluster: FaultCluster, replica: Replica, number: number): Promise<{ status: number; body: any }> {
  const answer = await replica.call('POST', `/api/v2/source_control/pull_requests/${number}/merge`, { token: cluster.token });
  return { status: answer.status, body: answer.body };
}
