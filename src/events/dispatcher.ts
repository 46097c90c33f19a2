// The webhook dispatcher: fans new outbox events out to their subscriptions, claims due deliveries,
// sends each signed, and schedules the next attempt (exponential backoff with jitter) or the dead
// letter. Any number of replicas run one each: claims are exclusive (src/events/outbox.repository.ts),
// so in the normal case each delivery is sent once; after a crash mid-send the lease runs out and
// it is sent again, which is why receivers dedupe on the event id (delivery is at least once).
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Tables } from '../db/database.js';
import type { Logger } from '../logger.js';
import type { Clock } from '../runtime/clock.js';
import { createPeriodicTask } from '../runtime/periodic.js';
import { eventBody } from './event-body.js';
import * as outbox from './outbox.repository.js';
import { DELIVERY_HEADER, EVENT_HEADER, EVENT_ID_HEADER, SIGNATURE_HEADER, sign, TIMESTAMP_HEADER } from './signature.js';

export interface DispatcherSettings {
  /** 0: `start` does nothing (tests call `runOnce`). */
  readonly pollMs: number;
  readonly timeoutMs: number;
  readonly maxAttempts: number;
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  readonly retentionMs: number;
}

export interface Dispatcher {
  /** One round: fan out, then send every due delivery (up to a batch). Returns the attempts made. */
  runOnce(): Promise<number>;
  /** Deletes what retention no longer needs. */
  purge(): Promise<{ attempts: number; events: number }>;
  start(): void;
  /** Stops polling and waits for the deliveries in flight (each bounded by the timeout). */
  stop(): Promise<void>;
}

export interface DispatcherDeps {
  readonly db: Kysely<Tables>;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly settings: DispatcherSettings;
  /** In [0, 1): the jitter. */
  readonly random?: () => number;
}

const BATCH = 50;
const EXCERPT = 1_000;
const PURGE_EVERY_MS = 3_600_000;
const PURGE_BATCH = 1_000;

/** The wait before attempt `attempt + 1`: base·2^(attempt−1), capped, with "equal jitter" (half fixed, half random). */
export function retryDelay(attempt: number, settings: Pick<DispatcherSettings, 'retryBaseMs' | 'retryMaxMs'>, random: number): number {
  const exponential = Math.min(settings.retryMaxMs, settings.retryBaseMs * 2 ** Math.min(attempt - 1, 40));
  return Math.round(exponential / 2 + (exponential / 2) * random);
}

export function createDispatcher(deps: DispatcherDeps): Dispatcher {
  const { settings } = deps;
  const random = deps.random ?? Math.random;
  // One claim id per process: a row it claimed and could not finish is given back on stop.
  const claim = randomUUID();
  let lastPurge = 0;

  async function send(delivery: outbox.ClaimedDelivery): Promise<void> {
    const body = JSON.stringify(eventBody({ id: delivery.event_id, type: delivery.type, occurred_at: delivery.occurred_at, payload: delivery.payload }));
    const timestamp = Math.floor(deps.clock().getTime() / 1000);
    const started = performance.now();
    let result: outbox.AttemptResult;
    try {
      const response = await fetch(delivery.url, {
        method: 'POST',
        redirect: 'manual',
        signal: AbortSignal.timeout(settings.timeoutMs),
        headers: {
          'content-type': 'application/json',
          'user-agent': 'mir-webhooks/1',
          [EVENT_HEADER]: delivery.type,
          [EVENT_ID_HEADER]: delivery.event_id,
          [DELIVERY_HEADER]: String(delivery.id),
          [TIMESTAMP_HEADER]: String(timestamp),
          [SIGNATURE_HEADER]: sign(delivery.secret, timestamp, body),
        },
        body,
      });
      const text = (await response.text().catch(() => '')).slice(0, EXCERPT);
      const ok = response.status >= 200 && response.status < 300;
      result = {
        outcome: ok ? 'delivered' : 'failed',
        responseCode: response.status,
        responseExcerpt: text,
        durationMs: Math.round(performance.now() - started),
        error: ok ? null : `HTTP ${response.status}`,
      };
    } catch (error) {
      const timedOut = (error as Error).name === 'TimeoutError';
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      result = {
        outcome: timedOut ? 'timeout' : 'failed',
        responseCode: null,
        responseExcerpt: null,
        durationMs: Math.round(performance.now() - started),
        error: timedOut ? `no answer within ${settings.timeoutMs} ms` : (cause?.code ?? cause?.message ?? (error as Error).message),
      };
    }
    const at = deps.clock();
    const attempt = delivery.attempts + 1;
    const retryAt = result.outcome === 'delivered' || attempt >= settings.maxAttempts ? null : new Date(at.getTime() + retryDelay(attempt, settings, random()));
    await outbox.recordAttempt(deps.db, delivery, result, at, retryAt);
    if (result.outcome !== 'delivered') {
      // Neither the URL (its query may carry a token) nor the secret is logged: the subscription id says which.
      deps.logger.info(
        { event: delivery.event_id, subscription: delivery.subscription_id, attempt, outcome: result.outcome, dead: retryAt === null },
        'webhook delivery failed',
      );
    }
  }

  async function round(): Promise<number> {
    const now = deps.clock();
    await outbox.fanOut(deps.db, now, BATCH * 4);
    const due = await outbox.claimDue(deps.db, {
      now,
      // Past the longest send, so another replica takes the row only if this one is gone.
      leaseUntil: new Date(now.getTime() + settings.timeoutMs * 2 + 5_000),
      claim,
      limit: BATCH,
    });
    await Promise.all(due.map((delivery) => send(delivery)));
    if (now.getTime() - lastPurge >= PURGE_EVERY_MS) {
      lastPurge = now.getTime();
      await purge();
    }
    return due.length;
  }

  function purge() {
    return outbox.purge(deps.db, new Date(deps.clock().getTime() - settings.retentionMs), PURGE_BATCH);
  }

  // A full batch means more is due: the next round starts at once.
  const task = createPeriodicTask({
    everyMs: settings.pollMs,
    run: round,
    again: (sent) => sent === BATCH,
    onError: (error) => deps.logger.warn({ err: error }, 'webhook dispatch failed; the next round retries'),
  });

  return {
    runOnce: () => task.runNow(),
    purge,
    start: () => task.start(),
    async stop() {
      await task.stop();
      // Whatever is still claimed by this process (nothing, unless a round failed half-way) is due at once for the others.
      await outbox.release(deps.db, claim, deps.clock()).catch(() => undefined);
    },
  };
}
