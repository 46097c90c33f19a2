// A background task that runs in rounds: the artifact warmer, the git remote's polling, the forge's
// polling, the orphan sweeper, the drift evaluator and the webhook dispatcher are each one. What
// they share is here once: rounds never overlap (a round asked for while one runs joins it), the
// next round is timed from the end of the last (a slow round delays the next instead of queueing
// more behind it), the timer never keeps the process alive, and stop() returns only once the
// running round has ended, so a close never races a round still writing.
export interface PeriodicOptions<T> {
  /** Milliseconds from the end of one round to the start of the next; 0 or less: rounds only by runNow(). */
  readonly everyMs: number;
  readonly run: () => Promise<T>;
  /** A round the timer started failed (the next round is its retry). Rounds asked for by runNow() reject to their caller. */
  readonly onError: (error: unknown) => void;
  /** Whether start() runs a round at once (default) or waits `everyMs` first. */
  readonly runAtStart?: boolean;
  /** Whether the next round starts at once, e.g. after a full batch. */
  readonly again?: (result: T) => boolean;
}

export interface PeriodicTask<T> {
  /** A round now, or the one running: the same promise. */
  runNow(): Promise<T>;
  /** Rounds from now on; a second call does nothing, and neither does one after stop(). */
  start(): void;
  /** No more rounds; resolves once the running one has ended (whether it succeeded or not). */
  stop(): Promise<void>;
  readonly stopped: boolean;
}

export function createPeriodicTask<T>(options: PeriodicOptions<T>): PeriodicTask<T> {
  let running: Promise<T> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let started = false;
  let stopped = false;

  function runNow(): Promise<T> {
    running ??= options.run().finally(() => {
      running = undefined;
    });
    return running;
  }

  function schedule(delayMs: number): void {
    if (stopped) return;
    timer = setTimeout(() => {
      timer = undefined;
      runNow().then(
        (result) => schedule(options.again?.(result) ? 0 : options.everyMs),
        (error: unknown) => {
          if (stopped) return;
          options.onError(error);
          schedule(options.everyMs);
        },
      );
    }, delayMs);
    timer.unref();
  }

  return {
    runNow,
    start() {
      if (started || stopped || options.everyMs <= 0) return;
      started = true;
      schedule(options.runAtStart === false ? options.everyMs : 0);
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      await running?.catch(() => undefined);
    },
    get stopped() {
      return stopped;
    },
  };
}
