// One of the two processes of two-process.test.ts: a gateway with the Postgres advisory lock,
// incrementing a counter on the default branch and moving a shared branch, `count` times.
import { openDatabase } from '../../src/db/client.js';
import { runWriterWorker, type WriterInput } from './fixtures.js';

const input = JSON.parse(process.env.MIR_TWO_PROCESS_INPUT ?? '{}') as WriterInput & { databaseUrl: string };
const database = await openDatabase({ databaseUrl: input.databaseUrl, dataDir: input.dataDir });
try {
  await runWriterWorker(database, input);
} finally {
  await database.close();
}
