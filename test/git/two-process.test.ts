// Two writers, one repository, one database: the advisory lock (src/db/lock.ts) serializes their
// writes so that no update of a branch is lost. On PostgreSQL the writers are two processes; PGlite
// belongs to one process, so there they are two gateways in this process, each with its own lock
// object on the shared database handle.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { INITIAL_FILES } from '../../src/git/gateway.js';
import { CHILD_ENV, TS_NODE_ARGS } from '../helpers/child.js';
import { createTestDatabase, usingPostgres, type TestDatabase } from '../helpers/database.js';
import { createBareRepo, runGit, startGitServer, tempDir } from '../helpers/git-server.js';
import { makeGateway, runWriterWorker, type WriterInput } from './fixtures.js';

const child = path.join(path.dirname(fileURLToPath(import.meta.url)), 'two-process-child.ts');
const COUNT = 8;

function runChild(input: object): Promise<void> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [...TS_NODE_ARGS, child], {
      env: { ...process.env, ...CHILD_ENV, MIR_TWO_PROCESS_INPUT: JSON.stringify(input) },
      stdio: ['ignore', 'inherit', 'pipe'],
    });
    let stderr = '';
    proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    proc.on('error', reject);
    proc.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`child exited ${code}: ${stderr}`))));
  });
}

/** A writer: a child process on PostgreSQL, a second gateway in this process on PGlite. */
async function runWriter(database: TestDatabase, input: WriterInput): Promise<void> {
  if (usingPostgres) return runChild({ ...input, databaseUrl: database.databaseUrl });
  return runWriterWorker(database.handle, input);
}

async function check(t: Test, repo: string) {
  const git = (...args: string[]) => runGit(args, { cwd: repo });
  t.equal(await git('show', 'main:counter'), String(2 * COUNT), 'every increment of main landed');
  const logged = (await git('ls-tree', '--name-only', 'mir/shared', 'log/')).trim().split('\n');
  t.equal(logged.length, 2 * COUNT, 'every update of the shared branch landed');
  await git('fsck', '--strict');
}

t.test('embedded: two writers on one repo.git', async (t) => {
  const db = await createTestDatabase({ migrated: false });
  t.teardown(db.dispose);
  const data = await tempDir();
  t.teardown(data.remove);
  // Created first, so the children race on writes, not on creating the repository.
  const first = makeGateway({ dataDir: data.path });
  await first.start();
  await first.close();
  const input = { dataDir: data.path, count: COUNT, lockName: 'git:embedded-test' };
  await Promise.all([runWriter(db, { ...input, id: 'a' }), runWriter(db, { ...input, id: 'b' })]);
  await check(t, path.join(data.path, 'repo.git'));
});

t.test('remote: two writers, two mirrors, one http remote', async (t) => {
  const db = await createTestDatabase({ migrated: false });
  t.teardown(db.dispose);
  const root = await tempDir();
  t.teardown(root.remove);
  const origin = await createBareRepo({ root: root.path, name: 'origin', files: Object.fromEntries(INITIAL_FILES.map((f) => [f.path, f.text])) });
  const server = await startGitServer({ root: root.path });
  t.teardown(() => server.close());
  const input = { url: server.repoUrl('origin'), count: COUNT, lockName: 'git:remote-test' };
  await Promise.all([
    runWriter(db, { ...input, id: 'a', dataDir: path.join(root.path, 'a') }),
    runWriter(db, { ...input, id: 'b', dataDir: path.join(root.path, 'b') }),
  ]);
  await check(t, origin);
});
