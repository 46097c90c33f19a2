// One of the two processes of two-process.test.ts: a worker with the Postgres advisory lock,
// incrementing a counter on the default branch and moving a shared branch, `count` times.
import { openDatabase } from '../../src/db/client.js';
import { createAdvisoryLock } from '../../src/db/lock.js';
import { createGitWorker } from '../../src/git/git-worker.js';
import { gitConfig, createTestLogger, writeConcurrently } from './fixtures.js';

interface ChildInput {
  id: string;
  dataDir: string;
  url?: string;
  databaseUrl: string;
  count: number;
  lockName: string;
}

const input = JSON.parse(process.env.MIR_TWO_PROCESS_INPUT ?? '{}') as ChildInput;
const database = await openDatabase({ databaseUrl: input.databaseUrl, dataDir: input.dataDir });
const worker = createGitWorker({
  dataDir: input.dataDir,
  git: gitConfig({ url: input.url }),
  lock: createAdvisoryLock(database, input.lockName),
  logger: createTestLogger(),
});
try {
  await worker.start();
  await writeConcurrently(worker, input.id, input.count);
} finally {
  await worker.close();
  await database.close();
}
