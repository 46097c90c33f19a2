// Long work on the event loop, in slices. A loop over thousands of items whose steps resolve at
// once (objects already in memory, PGlite's synchronous queries) runs as one chain of microtasks:
// timers and sockets wait until it ends, so `/healthz` and every other request stall behind one
// large write. Such loops call `yieldToEventLoop()` between items; once the current slice has run
// for SLICE_MS it waits one turn of the event loop (`setImmediate`), which lets I/O and timers run,
// and costs nothing measurable otherwise.
import { setImmediate as nextTurn } from 'node:timers/promises';

/** Long enough that yielding costs little, short enough to stay far under a 100 ms stall. */
export const SLICE_MS = 10;

/**
 * How many cheap steps (a map lookup, a small object) a loop takes between two calls: an `await`
 * per step of a 50,000-entry loop cost more than the steps themselves.
 */
export const YIELD_EVERY = 512;

let sliceStarted = performance.now();

export async function yieldToEventLoop(): Promise<void> {
  if (performance.now() - sliceStarted < SLICE_MS) return;
  await nextTurn();
  sliceStarted = performance.now();
}
