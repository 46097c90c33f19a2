// The background-round runner every loop in src/ uses: no overlap, joins, stop waits for the round,
// errors reach onError and the next round still comes, `again` starts the next round at once.
import t from 'tap';
import { createPeriodicTask } from '../../src/runtime/periodic.js';

/** A promise and its resolve, for rounds the test finishes by hand. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

/** Waits (bounded) until `check` holds. */
async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (check()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`never: ${what}`);
}

t.test('rounds never overlap: a round asked for while one runs joins it', async (t) => {
  const release = gate();
  let started = 0;
  let active = 0;
  let most = 0;
  const task = createPeriodicTask({
    everyMs: 0,
    run: async () => {
      started++;
      active++;
      most = Math.max(most, active);
      await release.opened;
      active--;
      return started;
    },
    onError: () => t.fail('no round fails'),
  });
  const first = task.runNow();
  const second = task.runNow();
  t.equal(first, second, 'the same promise');
  release.open();
  t.same(await Promise.all([first, second]), [1, 1]);
  t.equal(most, 1);
  t.equal(await task.runNow(), 2, 'a later call starts a new round');
});

t.test('start runs rounds on the timer; a failed round is reported and the next one still comes', async (t) => {
  const errors: unknown[] = [];
  let rounds = 0;
  const task = createPeriodicTask({
    everyMs: 5,
    run: async () => {
      rounds++;
      if (rounds === 2) throw new Error('round two fails');
      return rounds;
    },
    onError: (error) => errors.push(error),
  });
  task.start();
  task.start();
  await until(() => rounds >= 4, 'four rounds');
  await task.stop();
  t.equal(errors.length, 1, 'only the failing round');
  t.match(errors[0], { message: 'round two fails' });
  const after = rounds;
  await new Promise((resolve) => setTimeout(resolve, 30));
  t.equal(rounds, after, 'no round after stop');
});

t.test('stop waits for the running round and ends the timer; start after stop does nothing', async (t) => {
  const release = gate();
  let entered = false;
  let finished = false;
  const task = createPeriodicTask({
    everyMs: 5,
    run: async () => {
      entered = true;
      await release.opened;
      finished = true;
    },
    onError: () => undefined,
  });
  task.start();
  await until(() => entered, 'the round began');
  let stopped = false;
  const stopping = task.stop().then(() => (stopped = true));
  t.ok(task.stopped);
  await new Promise((resolve) => setTimeout(resolve, 20));
  t.notOk(stopped, 'stop has not returned while the round runs');
  release.open();
  await stopping;
  t.ok(finished, 'the round ended before stop returned');
  task.start();
  t.ok(task.stopped);
});

t.test('a failure after stop is not reported (the process is closing)', async (t) => {
  const release = gate();
  let entered = false;
  const errors: unknown[] = [];
  const task = createPeriodicTask({
    everyMs: 1,
    run: async () => {
      entered = true;
      await release.opened;
      throw new Error('the database closed under it');
    },
    onError: (error) => errors.push(error),
  });
  task.start();
  await until(() => entered, 'the round began');
  const stopping = task.stop();
  release.open();
  await stopping;
  t.same(errors, []);
});

t.test('`again` starts the next round at once; runAtStart: false waits an interval first', async (t) => {
  let rounds = 0;
  const batches = [10, 10, 3];
  const task = createPeriodicTask({
    everyMs: 60_000,
    run: async () => batches[rounds++] ?? 0,
    again: (sent) => sent === 10,
    onError: () => t.fail('no round fails'),
  });
  task.start();
  await until(() => rounds === 3, 'three rounds back to back');
  await task.stop();
  t.equal(rounds, 3, 'a partial batch waits for the interval');

  let lateRounds = 0;
  const late = createPeriodicTask({ everyMs: 60_000, runAtStart: false, run: async () => lateRounds++, onError: () => undefined });
  late.start();
  await new Promise((resolve) => setTimeout(resolve, 30));
  t.equal(lateRounds, 0, 'nothing before the first interval');
  await late.stop();

  let never = 0;
  const manual = createPeriodicTask({ everyMs: 0, run: async () => never++, onError: () => undefined });
  manual.start();
  await new Promise((resolve) => setTimeout(resolve, 20));
  t.equal(never, 0, 'everyMs 0: rounds only by runNow');
  await manual.runNow();
  t.equal(never, 1);
});
