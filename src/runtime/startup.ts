// Start-up as a sequence of steps that wait out transient faults: a database that is restarting,
// a git remote that refuses or resets. The process listens from the start, so `/readyz` can say
// which step it is on and why it waits; the API answers 503 `not_ready` until every step is done.
// Only configuration errors end the process (src/server.ts).
import type { Logger } from './logger.js';

/** What the app asks while starting (src/app.ts): whether to serve, and if not, why. */
export interface StartupState {
  readonly ready: boolean;
  /** The step under way and its last failure, e.g. `migrating the database (attempt 3: database_unavailable)`. */
  readonly reason: string;
}

export interface Startup extends StartupState {
  /** Runs `fn` until it succeeds, waiting 0.5 s, 1 s, 2 s … (at most `maxDelayMs`, with jitter) between tries. */
  step<T>(name: string, fn: () => Promise<T>): Promise<T>;
  /** Every step is done: serve. */
  done(): void;
  /** Stops waiting (shutdown during start-up): a step in its back-off rejects. */
  abort(): void;
}

export class StartupAborted extends Error {
  override readonly name = 'StartupAborted';
}

function describe(error: unknown): string {
  const e = error as { code?: unknown; message?: unknown } | null;
  const message = typeof e?.message === 'string' ? e.message : String(error);
  return typeof e?.code === 'string' && !message.includes(e.code) ? `${e.code}: ${message}` : message;
}

export function createStartup(options: { logger: Logger; maxDelayMs?: number }): Startup {
  const maxDelayMs = options.maxDelayMs ?? 10_000;
  let ready = false;
  let reason = 'starting';
  let aborted = false;
  const sleepers = new Set<() => void>();

  const sleep = (ms: number) =>
    new Promise<void>((resolve, reject) => {
      const wake = () => {
        clearTimeout(timer);
        sleepers.delete(wake);
        reject(new StartupAborted('start-up was aborted'));
      };
      const timer = setTimeout(() => {
        sleepers.delete(wake);
        resolve();
      }, ms);
      sleepers.add(wake);
    });

  return {
    get ready() {
      return ready;
    },
    get reason() {
      return reason;
    },
    async step(name, fn) {
      for (let attempt = 1; ; attempt++) {
        if (aborted) throw new StartupAborted('start-up was aborted');
        reason = attempt === 1 ? name : `${name} (attempt ${attempt})`;
        try {
          return await fn();
        } catch (error) {
          if (aborted) throw error;
          const delay = Math.min(maxDelayMs, 500 * 2 ** (attempt - 1)) * (0.75 + Math.random() * 0.5);
          reason = `${name} (attempt ${attempt} failed: ${describe(error)})`;
          options.logger.warn({ err: error, step: name, attempt, retry_in_ms: Math.round(delay) }, `start-up: ${name} failed; trying again`);
          await sleep(delay);
        }
      }
    },
    done() {
      ready = true;
      reason = 'ready';
    },
    abort() {
      aborted = true;
      for (const wake of [...sleepers]) wake();
    },
  };
}
