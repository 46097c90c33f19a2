// Start-up steps that wait out transient faults: what `/readyz` reads meanwhile (ready, reason),
// and a shutdown during a back-off that does not wait the back-off out.
import t from 'tap';
import { createStartup, StartupAborted } from '../../src/runtime/startup.js';
import { createTestLogger } from '../git/fixtures.js';

t.test('a step that fails twice then succeeds returns its value; reason tells each failure meanwhile', async (t) => {
  const logger = createTestLogger();
  const startup = createStartup({ logger, maxDelayMs: 40 });
  t.equal(startup.ready, false, 'not ready before any step');

  const calls: string[] = [];
  const backingOff: string[] = [];
  const value = await startup.step('migrating the database', async () => {
    calls.push(startup.reason);
    if (calls.length <= 2) {
      // Runs once the step has seen the failure and sleeps: what /readyz shows between attempts.
      setImmediate(() => backingOff.push(startup.reason));
      throw Object.assign(new Error(`connection refused (${calls.length})`), { code: 'database_unavailable' });
    }
    return 'migrated';
  });

  t.equal(value, 'migrated', 'the value of the attempt that succeeded');
  t.same(calls, ['migrating the database', 'migrating the database (attempt 2)', 'migrating the database (attempt 3)'], 'each attempt is named');
  t.same(
    backingOff,
    [
      'migrating the database (attempt 1 failed: database_unavailable: connection refused (1))',
      'migrating the database (attempt 2 failed: database_unavailable: connection refused (2))',
    ],
    'between attempts, reason names the step and its last failure',
  );
  t.match(
    logger.lines.filter((l) => l.level === 'warn'),
    [
      { obj: { step: 'migrating the database', attempt: 1 }, msg: 'start-up: migrating the database failed; trying again' },
      { obj: { step: 'migrating the database', attempt: 2 } },
    ],
    'each failure is logged once',
  );
  t.equal(startup.ready, false, 'a finished step is not readiness');

  startup.done();
  t.equal(startup.ready, true);
  t.equal(startup.reason, 'ready');
});

t.test('abort during a back-off rejects the step at once, not when the back-off ends', async (t) => {
  const startup = createStartup({ logger: createTestLogger(), maxDelayMs: 10_000 });
  let attempts = 0;
  let failedAt = 0;
  const step = startup.step('fetching the git mirror', async () => {
    attempts++;
    failedAt = performance.now();
    // The first back-off is 0.5 s (± 25 %): abort well inside it.
    setTimeout(() => startup.abort(), 20);
    throw new Error('connection reset');
  });

  await t.rejects(step, StartupAborted);
  const waited = performance.now() - failedAt;
  t.ok(waited < 300, `rejected ${Math.round(waited)} ms after the failure, the back-off being at least 375 ms`);
  t.equal(attempts, 1, 'no attempt after the abort');
  t.equal(startup.ready, false);
  let ran = false;
  await t.rejects(
    startup.step('another step', async () => (ran = true)),
    StartupAborted,
    'a step begun after the abort rejects',
  );
  t.equal(ran, false, 'without running');
});
