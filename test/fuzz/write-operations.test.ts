// Property-based fuzzing of every write operation (POST, PUT, PATCH, DELETE) in the committed
// openapi/openapi.json: only requests the oracle refuses are sent (request-arbitraries.ts), so
// every answer must be a 4xx problem from the catalog and no ref or row may change
// (fuzz-runner.ts says why checking state around windows of requests is then sound).
//
// CI runs a fixed seed. To run longer, with another seed:
//   MIR_FUZZ_RUNS=20000 MIR_FUZZ_SEED=$RANDOM npx tap --disable-coverage --timeout=0 test/fuzz/*.test.ts
// (MIR_FUZZ_RUNS is requests per operation; a failure prints the seed and the shrunk request.)
import fc from 'fast-check';
import t from 'tap';
import { createStats, FUZZ_RUNS, FUZZ_SEED, fuzzOperation, reportStats } from './fuzz-runner.js';
import { buildWorld } from './fuzz-world.js';
import { loadOperations } from './openapi-operations.js';

fc.configureGlobal({ seed: FUZZ_SEED, numRuns: FUZZ_RUNS });

t.test('every documented write: refused with a catalogued problem, nothing written', async (t) => {
  const startedAt = Date.now();
  const operations = (await loadOperations()).filter((o) => o.method !== 'GET');
  t.ok(operations.length >= 20, `${operations.length} write operations in the document`);
  const world = await buildWorld(t);
  const stats = createStats();
  for (const operation of operations) await fuzzOperation(t, world, operation, stats, { refusedOnly: true });
  reportStats(t, 'writes', stats, startedAt);
});
