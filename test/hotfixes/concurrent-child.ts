// One of the two processes of hotfixes.test.ts: a whole app on the shared database and repository,
// sending its share of concurrent hotfix requests for one line, printing the statuses and codes.
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { openDatabase } from '../../src/db/client.js';
import { createAdvisoryLock } from '../../src/db/lock.js';
import { createGitGateway } from '../../src/git/gateway.js';
import { createLogger } from '../../src/logger.js';

interface ChildInput {
  dataDir: string;
  databaseUrl: string;
  token: string;
  requests: number;
  body: object;
}

if (!process.env.MIR_HOTFIX_CHILD_INPUT) {
  // Run directly (e.g. `tap test/hotfixes/`): nothing to do but say so in TAP.
  process.stdout.write('1..0 # SKIP spawned by hotfixes.test.ts\n');
  process.exit(0);
}
const input = JSON.parse(process.env.MIR_HOTFIX_CHILD_INPUT) as ChildInput;
const config = loadConfig({ MIR_DATA_DIR: input.dataDir, DATABASE_URL: input.databaseUrl, LOG_LEVEL: 'silent' });
const database = await openDatabase({ databaseUrl: input.databaseUrl, dataDir: input.dataDir });
const logger = createLogger({ level: 'silent' });
const git = createGitGateway({ git: config.git, dataDir: input.dataDir, lock: createAdvisoryLock(database, 'mir:repository'), logger });
await git.start();
const app = await buildApp({ config, database, git, logger });
try {
  const answers = await Promise.all(
    Array.from({ length: input.requests }, () =>
      app.inject({ method: 'POST', url: '/api/v2/source_control/hotfixes', headers: { authorization: `Bearer ${input.token}` }, payload: input.body }),
    ),
  );
  process.stdout.write(`${JSON.stringify(answers.map((a) => ({ status: a.statusCode, code: a.statusCode === 201 ? null : a.json().code })))}\n`);
} finally {
  await app.close();
  await git.close();
  await database.close();
}
