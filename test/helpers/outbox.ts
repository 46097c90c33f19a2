// The outbox as the tests read it: every event in seq order, its packed payload unpacked
// (src/db/packed-json.ts) by the same SQL and codec as the service, not through its repository.
import type { Kysely } from 'kysely';
import type { Tables } from '../../src/db/database.js';
import { packedColumn, unpackEach } from '../../src/db/packed-json.js';

export interface OutboxEvent {
  /** As text: pg gives a bigint as a string, PGlite as a bigint. */
  readonly seq: string;
  readonly id: string;
  readonly type: string;
  readonly occurred_at: Date;
  readonly payload: Record<string, unknown>;
}

export async function outboxEvents(db: Kysely<Tables>): Promise<OutboxEvent[]> {
  const rows = await db
    .selectFrom('outbox_events')
    .select(['seq', 'id', 'type', 'occurred_at', packedColumn('payload').as('payload')])
    .orderBy('seq')
    .execute();
  return (await unpackEach(rows, 'payload')).map((row) => ({ ...row, seq: String(row.seq), payload: row.payload as Record<string, unknown> }));
}
