// Long work on the event loop, in slices. A loop over thousands of items whose steps resolve at
// once (objects already in memory, PGlite's synchronous queries) runs as one chain of microtasks:
// timers and sockets wait until it ends, so `/healthz` and every other request stall behind one
// large write. Such loops call `yieldToEventLoop()` between items; once the current slice has run
// for SLICE_MS it waits for a turn of the event loop (`setImmediate`), which lets I/O and timers
// run, and costs nothing measurable otherwise. Loops that wait at once take turns, one a turn.

/** Long enough that yielding costs little, short enough to stay far under a 100 ms stall. */
export const SLICE_MS = 10;

/**
 * How many cheap steps (a map lookup, a small object) a loop takes between two calls: an `await`
 * per step of a 50,000-entry loop cost more than the steps themselves.
 */
export const YIELD_EVERY = 512;

let sliceStarted = performance.now();
/** Loops that found the slice over, in the order they did: each turn of the event loop resumes one. */
const waiting: (() => void)[] = [];
let turnScheduled = false;

function nextTurnResumesOne(): void {
  if (turnScheduled) return;
  turnScheduled = true;
  setImmediate(() => {
    turnScheduled = false;
    sliceStarted = performance.now();
    waiting.shift()?.();
    if (waiting.length > 0) nextTurnResumesOne();
  });
}

export async function yieldToEventLoop(): Promise<void> {
  if (performance.now() - sliceStarted < SLICE_MS) return;
  await waitForTurn();
}

/**
 * Waits for a turn of the event loop whatever the clock says, in the same line as the loops that
 * yield: for a step so long (an inflate of megabytes) that it should start a turn of its own.
 */
export async function waitForTurn(): Promise<void> {
  // One loop a turn, the others waiting their turn: loops running at once (a Promise.all of reads)
  // share the slice. Resumed all at once, each ran a step before any looked at the clock again;
  // with a turn each, a turn ran a slice of every one: ten manifest reads held the 50,000-app
  // start 270 ms.
  await new Promise<void>((resolve) => {
    waiting.push(resolve);
    nextTurnResumesOne();
  });
}
