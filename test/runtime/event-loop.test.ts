// yieldToEventLoop: loops that run at once share one slice. Counted in steps between two turns of
// the event loop, not in milliseconds: each step holds the thread for a fixed share of a slice.
import t from 'tap';
import { SLICE_MS, yieldToEventLoop } from '../../src/runtime/event-loop.js';

/** Holds the thread for `ms`, as a step of real work does. */
function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

t.test('loops running at once let the event loop turn after one slice between them, not one slice each', async (t) => {
  const loops = 8;
  const stepsPerLoop = 12;
  let steps = 0;
  let mostStepsInOneTurn = 0;
  let turns = 0;
  let running = true;
  // A chain of immediates: it runs once per turn of the event loop, whatever the load, beside the
  // loop that turn resumes.
  let stepsAtLastTurn = 0;
  const watch = () => {
    if (!running) return;
    turns++;
    mostStepsInOneTurn = Math.max(mostStepsInOneTurn, steps - stepsAtLastTurn);
    stepsAtLastTurn = steps;
    setImmediate(watch);
  };
  setImmediate(watch);
  await new Promise((resolve) => setTimeout(resolve, 5));

  const loop = async () => {
    for (let i = 0; i < stepsPerLoop; i++) {
      busy(SLICE_MS / 4);
      steps++;
      await yieldToEventLoop();
    }
  };
  await Promise.all(Array.from({ length: loops }, loop));
  running = false;

  t.equal(steps, loops * stepsPerLoop, 'every step ran');
  // A slice is four steps, and one loop runs a turn; the most is at the start, where each loop runs
  // its first step as it is called (8).
  // With a turn per loop, each of the eight ran a slice of its own in every turn (32 steps); with
  // all eight resumed at once, each ran a step before any looked at the clock again (19).
  t.ok(mostStepsInOneTurn <= 4 + loops, `at most a slice and one step a loop between two turns (${mostStepsInOneTurn})`);
  t.ok(turns >= (loops * stepsPerLoop) / (4 + loops), `the event loop kept turning (${turns} turns)`);
});

t.test('a loop whose slice is not over goes on without waiting for a turn', async (t) => {
  // Right after a turn the slice has just begun: quick steps take a turn only once a slice is over,
  // which a loaded machine may make happen once or twice (so the bound follows the clock).
  await yieldToEventLoop();
  let turns = 0;
  let counting = true;
  const tick = () => {
    if (!counting) return;
    turns++;
    setImmediate(tick);
  };
  setImmediate(tick);
  const from = performance.now();
  for (let i = 0; i < 10; i++) await yieldToEventLoop();
  const elapsed = performance.now() - from;
  counting = false;
  // A yield that always waited would take ten turns in well under a slice.
  t.ok(turns <= Math.floor(elapsed / SLICE_MS) + 1, `${turns} turns in ${elapsed.toFixed(1)} ms of quick steps`);
});
