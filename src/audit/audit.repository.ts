import type { Kysely } from 'kysely';
import type { AuditEventRow, Tables } from '../db/database.js';

export interface NewAuditEvent {
  readonly actor: string;
  readonly action: string;
  readonly target: string;
  readonly details: Record<string, unknown>;
  readonly requestId: string | null;
}

export async function insertAuditEvent(db: Kysely<Tables>, event: NewAuditEvent): Promise<void> {
  await db
    .insertInto('audit_events')
    .values({
      actor: event.actor,
      action: event.action,
      target: event.target,
      details: JSON.stringify(event.details),
      request_id: event.requestId,
    })
    .execute();
}

export function listAuditEvents(db: Kysely<Tables>, filter: { target?: string; action?: string; limit: number }): Promise<AuditEventRow[]> {
  let query = db.selectFrom('audit_events').selectAll().orderBy('id', 'desc').limit(filter.limit);
  if (filter.target) query = query.where('target', '=', filter.target);
  if (filter.action) query = query.where('action', '=', filter.action);
  return query.execute();
}
