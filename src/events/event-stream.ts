// The event stream's engine (GET /api/v2/source_control/events, src/events/event-stream.routes.ts):
// live events for every open stream of this process, and the replay a resuming stream needs.
//
// Why it reads the outbox table and not an in-process bus: with several replicas, an event is
// written by whichever replica served the change, and a stream must show it whatever replica it is
// connected to. The table is the one place every replica's events meet, in commit order (`seq`).
//
// One poller per process, started with the first open stream and stopped with the last, reads
// `seq > cursor order by seq limit N` every MIR_EVENTS_POLL_MS and hands the rows to every stream:
// one query per tick whatever the number of clients.
//
// Identity values are taken when a row is inserted, not when its transaction commits, so on
// PostgreSQL seq 11 can be visible before 10 is. Moving the cursor past 11 would lose 10 for good;
// so on a gap the cursor stays before it and the next ticks read again, for up to
// MIR_EVENTS_GAP_SECONDS, after which the missing value counts as rolled back (a rolled-back insert
// leaves a hole forever) and the cursor moves on (`advanceCursor`, pure, tested on its own).
//
// A stream opened with `after` (Last-Event-ID) first replays, in batches, the retained events in
// (after, live start], from the table, then goes live; live events that arrive meanwhile wait in
// memory and are sent after the replay, never twice (each stream remembers the last seq it sent).
// When the event `after` names was deleted by retention, the events between are unknown: the
// stream says so once (`onReset`) and goes live from now.
import type { Kysely } from 'kysely';
import type { Tables } from '../db/database.js';
import { errors } from '../errors.js';
import type { Logger } from '../logger.js';
import type { EventType } from './event-types.js';
import * as outbox from './outbox.repository.js';
import { createPeriodicTask, type PeriodicTask } from '../runtime/periodic.js';

export type StreamEvent = outbox.SequencedEvent;

/** Where the poller stands: everything up to `at` was handed out (or given up as rolled back). */
export interface Cursor {
  readonly at: number;
  /** The first missing seq after `at`, and since when (ms) the poller has seen a greater one. */
  readonly gap: { readonly seq: number; readonly since: number } | null;
}

/**
 * One tick of the cursor over `rows` (seq > cursor.at, ascending): hands out rows while they follow
 * on without a hole; at a hole, stops and remembers since when, unless it has been open `gapMs`
 * already, in which case the missing values count as rolled back and the rows after it follow.
 */
export function advanceCursor<T extends { seq: number }>(cursor: Cursor, rows: readonly T[], now: number, gapMs: number): { cursor: Cursor; deliver: T[] } {
  let { at, gap } = cursor;
  const deliver: T[] = [];
  for (const row of rows) {
    if (row.seq <= at) continue;
    if (row.seq !== at + 1) {
      if (!gap || gap.seq !== at + 1) gap = { seq: at + 1, since: now };
      if (now - gap.since < gapMs) break;
    }
    deliver.push(row);
    at = row.seq;
    gap = null;
  }
  return { cursor: { at, gap }, deliver };
}

export interface StreamSettings {
  readonly pollMs: number;
  readonly heartbeatMs: number;
  readonly gapMs: number;
  readonly maxStreams: number;
}

export interface StreamOptions {
  /** Last-Event-ID: replay what came after this seq first. Null: live from now. */
  readonly after: number | null;
  /** Only these types (all when null). */
  readonly types: ReadonlySet<EventType> | null;
  /**
   * Called once the stream's place in the outbox is taken, before any replay: the response starts
   * here, so that every event committed after the client has its 200 is one the stream sends.
   */
  readonly onLive: () => void;
  readonly onEvent: (event: StreamEvent) => void;
  readonly onReset: (reason: string) => void;
}

/** A place among the open streams, held from before the response starts (so a full hub is a 503). */
export interface StreamSlot {
  /** Replays (when asked) and goes live; rejects when the replay cannot be read. */
  start(options: StreamOptions): Promise<void>;
  /** Gives the place back; idempotent. */
  close(): void;
}

export interface EventStreamHub {
  /** How often each stream sends a keep-alive and checks its token again (the routes do both). */
  readonly heartbeatMs: number;
  /**
   * Throws event_streams_full when this process holds MIR_EVENT_STREAMS_MAX streams. `onEnd`: the
   * hub ends the stream (the app closes), started or not.
   */
  reserve(onEnd: () => void): StreamSlot;
  /** Open streams (for the `mir_event_streams` gauge). */
  size(): number;
  /** Ends every stream (before the server closes: it would wait for them otherwise). */
  endAll(): void;
}

export interface EventStreamDeps {
  readonly db: Kysely<Tables>;
  readonly logger: Logger;
  readonly settings: StreamSettings;
  /** Milliseconds, for the gap timeout; unset: Date.now. */
  readonly now?: () => number;
}

const BATCH = 500;

interface Live {
  deliver(events: readonly StreamEvent[]): void;
}

export function createEventStreamHub(deps: EventStreamDeps): EventStreamHub {
  const { settings } = deps;
  const now = deps.now ?? Date.now;
  const slots = new Map<StreamSlot, () => void>();
  const live = new Set<Live>();
  let cursor: Cursor | null = null;
  let starting: Promise<Cursor> | null = null;
  let poller: PeriodicTask<boolean> | undefined;
  // A new poller generation whenever it stops, so a tick in flight from the last one is dropped.
  let generation = 0;

  function ensurePolling(): Promise<Cursor> {
    if (cursor) return Promise.resolve(cursor);
    if (!starting) {
      const mine = generation;
      const promise: Promise<Cursor> = outbox
        .lastEventSeq(deps.db)
        .then((at) => {
          if (starting === promise) starting = null;
          // Stopped meanwhile (its last stream closed): start afresh if wanted again, else not at all.
          if (mine !== generation) {
            if (slots.size > 0) return ensurePolling();
            throw new Error('the event stream stopped while it started');
          }
          cursor = { at, gap: null };
          // A full batch is read again at once; tick() reports its own failures.
          poller = createPeriodicTask({ everyMs: settings.pollMs, runAtStart: false, run: () => tick(mine), again: (more) => more, onError: () => undefined });
          poller.start();
          return cursor;
        })
        .catch((error: unknown) => {
          if (starting === promise) starting = null;
          throw error;
        });
      starting = promise;
    }
    return starting;
  }

  /** Returns whether a full batch was handed out (read again at once). */
  async function tick(mine: number): Promise<boolean> {
    try {
      const from = cursor!;
      const rows = await outbox.eventsAfter(deps.db, from.at, BATCH);
      if (mine !== generation) return false;
      const next = advanceCursor(from, rows, now(), settings.gapMs);
      cursor = next.cursor;
      if (next.deliver.length > 0) for (const stream of live) stream.deliver(next.deliver);
      return next.deliver.length === BATCH;
    } catch (error) {
      deps.logger.warn({ err: error }, 'reading the outbox for the event stream failed; the next tick retries');
      return false;
    }
  }

  function stopIfIdle() {
    if (slots.size > 0) return;
    generation += 1;
    // Not awaited: a tick in flight finds its generation gone and drops what it read.
    void poller?.stop();
    poller = undefined;
    cursor = null;
  }

  return {
    heartbeatMs: settings.heartbeatMs,
    size: () => slots.size,

    endAll() {
      for (const end of [...slots.values()]) end();
    },

    reserve(onEnd) {
      if (slots.size >= settings.maxStreams) throw errors.eventStreamsFull(settings.maxStreams);
      let closed = false;
      let stream: Live | null = null;
      const slot: StreamSlot = {
        async start(options) {
          const started = await ensurePolling().catch((error: unknown) => {
            if (closed) return null;
            throw error;
          });
          if (closed || !started) return;
          const liveFrom = started.at;
          let lastSent = liveFrom;
          let replaying = options.after !== null;
          const waiting: StreamEvent[] = [];
          const send = (event: StreamEvent) => {
            if (closed || event.seq <= lastSent) return;
            lastSent = event.seq;
            if (!options.types || options.types.has(event.type as EventType)) options.onEvent(event);
          };
          stream = {
            deliver(events) {
              if (replaying) waiting.push(...events);
              else for (const event of events) send(event);
            },
          };
          live.add(stream);
          options.onLive();
          if (options.after === null) return;
          try {
            if (await outbox.eventSeqExists(deps.db, options.after)) {
              lastSent = options.after;
              for (;;) {
                const batch = await outbox.eventsAfter(deps.db, lastSent, BATCH, liveFrom);
                for (const event of batch) send(event);
                if (closed || batch.length < BATCH) break;
              }
            } else {
              options.onReset(`event ${options.after} is no longer retained (or never existed): reload your state; the stream goes on from now`);
            }
            // A Last-Event-ID ahead of this process's poller (another replica read further) stays: what it saw is not sent again.
            lastSent = Math.max(lastSent, liveFrom);
          } finally {
            replaying = false;
          }
          for (const event of waiting.splice(0)) send(event);
        },
        close() {
          if (closed) return;
          closed = true;
          if (stream) live.delete(stream);
          slots.delete(slot);
          stopIfIdle();
        },
      };
      slots.set(slot, onEnd);
      return slot;
    },
  };
}
