// The audit trail: every write records who did what to what, through which request. Services
// call `record` after the change it describes took effect (a dry run records nothing).
import type { Kysely } from 'kysely';
import type { AuditEventRow, Tables } from '../db/database.js';
import { insertAuditEvent, listAuditEvents } from './audit.repository.js';

/** Who acts, and through which request: what every service write receives from its route. */
export interface Actor {
  /** The token's name: the author of commits and the actor of audit events. */
  readonly name: string;
  readonly email: string;
  readonly tokenId: string | null;
  readonly requestId: string | null;
}

export interface AuditEvent {
  /** A dotted verb, e.g. `token.create`, `manifest.entry.set`, `pull_request.merge`. */
  readonly action: string;
  /** What it acted on, e.g. `token:<id>`, `manifest:prod`, `pull_request:12`. */
  readonly target: string;
  readonly details?: Record<string, unknown>;
}

export interface AuditService {
  record(actor: Actor, event: AuditEvent, db?: Kysely<Tables>): Promise<void>;
  list(filter: { target?: string; action?: string; limit?: number }): Promise<AuditEventRow[]>;
}

export function createAuditService(deps: { db: Kysely<Tables> }): AuditService {
  return {
    /** Pass `db` to record inside the caller's transaction. */
    record: (actor, event, db = deps.db) =>
      insertAuditEvent(db, {
        actor: actor.name,
        action: event.action,
        target: event.target,
        details: { ...event.details, ...(actor.tokenId ? { token_id: actor.tokenId } : {}) },
        requestId: actor.requestId,
      }),
    list: (filter) => listAuditEvents(deps.db, { ...filter, limit: filter.limit ?? 100 }),
  };
}
