// Publishing an event: one row in the outbox, written with the caller's transaction so the event
// exists if and only if the change that causes it committed. The dispatcher
// (src/events/dispatcher.ts) delivers it later, at least once; nothing here waits on a network.
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Tables } from '../db/database.js';
import { packedValue, packJson } from '../db/packed-json.js';
import type { Clock } from '../runtime/clock.js';
import type { EventType } from './event-types.js';

export interface NewEvent {
  readonly type: EventType;
  /** The event's `data`: what a subscriber needs without calling back. */
  readonly data: Record<string, unknown>;
}

export interface EventPublisher {
  /** Writes the events in `db` (pass the change's transaction). Returns their ids. */
  publish(db: Kysely<Tables>, events: readonly NewEvent[]): Promise<string[]>;
}

export function createEventPublisher(deps: { clock: Clock }): EventPublisher {
  return {
    async publish(db, events) {
      if (events.length === 0) return [];
      const at = deps.clock();
      const rows = [];
      // Packed (off the event loop): a whole manifest's manifest.changed lists every entry.
      for (const event of events) rows.push({ id: randomUUID(), type: event.type, payload: packedValue(await packJson(event.data)), occurred_at: at });
      // One statement, in the caller's transaction: the cost of an event on a write path.
      await db.insertInto('outbox_events').values(rows).execute();
      return rows.map((row) => row.id);
    },
  };
}
