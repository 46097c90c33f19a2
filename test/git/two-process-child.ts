// One of the two processes of two-process.test.ts: a worker with the Postgres advisory lock,
// incrementing a counter on the default branch and moving a shared branch, `count` times.
import { openDatabase } from '../../src/db/client.js';
import { createAdvisoryLock } from '../../src/db/lock.js';
import { createGitWorker } from '../../src/git/git-worker.js';
import { gitConfig, author, enc, dec, createTestLogger } from './fixtures.js';

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
  for (let i = 0; i < input.count; i++) {
    await worker.withWriteLock(async () => {
      const head = await worker.headCommit();
      const n = Number(dec(await worker.readFile({ ref: head, path: 'counter' })) ?? '0');
      // Give the other process every chance to interleave, were the lock not held.
      await new Promise((r) => setTimeout(r, 2));
      const next = await worker.commit({ parent: head, changes: [{ path: 'counter', bytes: enc(String(n + 1)) }], message: `${input.id} ${i}`, author });
      await worker.fastForwardDefault({ from: head, to: next });

      const shared = await worker.resolveRef('mir/shared');
      const tip = await worker.commit({ parent: shared ?? next, changes: [{ path: `log/${input.id}-${i}`, bytes: enc('x') }], message: `${input.id} ${i}`, author });
      await worker.pushBranch({ branch: 'mir/shared', commit: tip, expectedOld: shared });
    });
  }
} finally {
  await worker.close();
  await database.close();
}
