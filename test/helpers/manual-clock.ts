// A clock a test moves by hand: time passes only when the test says so.
import type { Clock } from '../../src/runtime/clock.js';

export interface ManualClock extends Clock {
  advance(ms: number): void;
}

export function manualClock(start = new Date('2026-12-01T09:00:00.000Z')): ManualClock {
  let now = start.getTime();
  return Object.assign(() => new Date(now), {
    advance: (ms: number) => {
      now += ms;
    },
  });
}
