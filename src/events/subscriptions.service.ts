// Webhook subscriptions: where events go, signed with whose secret, which types, active or not.
// The secret is write-only: stored to sign, never returned after creation, never logged. Also the
// delivery log of a subscription and the replay of its dead letters.
import type { Kysely } from 'kysely';
import type { Actor, AuditService } from '../audit/audit.service.js';
import type { DeliveryState, Tables, WebhookSubscriptionRow } from '../db/database.js';
import { errors, invalidField } from '../errors.js';
import type { Clock } from '../runtime/clock.js';
import type { EventType } from './event-types.js';
import * as outbox from './outbox.repository.js';

export interface SubscriptionView {
  id: string;
  url: string;
  event_types: EventType[];
  active: boolean;
  description: string;
  created_by: string;
  created_at: string;
  updated_at: string;
}

export interface AttemptView {
  event_id: string;
  event_type: string;
  attempt: number;
  status: 'delivered' | 'failed' | 'timeout';
  response_code: number | null;
  response_excerpt: string | null;
  duration_ms: number;
  attempted_at: string;
  delivery_state: DeliveryState;
}

export interface SubscriptionInput {
  readonly url: string;
  readonly secret: string;
  readonly event_types: readonly EventType[];
  readonly active?: boolean | undefined;
  readonly description?: string | undefined;
}

export interface SubscriptionService {
  create(input: SubscriptionInput, actor: Actor): Promise<SubscriptionView>;
  list(): Promise<SubscriptionView[]>;
  get(id: string): Promise<SubscriptionView>;
  update(id: string, patch: Partial<SubscriptionInput>, actor: Actor): Promise<SubscriptionView>;
  delete(id: string, actor: Actor): Promise<SubscriptionView>;
  deliveries(
    id: string,
    query: { state?: DeliveryState | undefined; event_id?: string | undefined; cursor?: string | undefined; limit: number },
  ): Promise<{ deliveries: AttemptView[]; next_cursor: string | null }>;
  /** Replays one dead-lettered event, or every dead letter of the subscription. */
  replay(id: string, event: string | undefined, actor: Actor): Promise<{ replayed: number }>;
}

export function createSubscriptionService(deps: { db: Kysely<Tables>; audit: AuditService; clock: Clock }): SubscriptionService {
  async function row(id: string, db: Kysely<Tables> = deps.db): Promise<WebhookSubscriptionRow> {
    const found = await db.selectFrom('webhook_subscriptions').selectAll().where('id', '=', id).executeTakeFirst();
    if (!found) throw errors.subscriptionNotFound(id);
    return found;
  }

  return {
    async create(input, actor) {
      checkUrl(input.url);
      return deps.db.transaction().execute(async (trx) => {
        const created = await trx
          .insertInto('webhook_subscriptions')
          .values({
            url: input.url,
            secret: input.secret,
            event_types: [...new Set(input.event_types)],
            active: input.active ?? true,
            description: input.description ?? '',
            created_by: actor.name,
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        await deps.audit.record(
          actor,
          { action: 'webhook.create', target: `webhook:${created.id}`, details: { url: created.url, event_types: created.event_types } },
          trx,
        );
        return toView(created);
      });
    },

    async list() {
      return (await deps.db.selectFrom('webhook_subscriptions').selectAll().orderBy('created_at').orderBy('id').execute()).map(toView);
    },

    async get(id) {
      return toView(await row(id));
    },

    async update(id, patch, actor) {
      if (patch.url !== undefined) checkUrl(patch.url);
      return deps.db.transaction().execute(async (trx) => {
        await row(id, trx);
        const updated = await trx
          .updateTable('webhook_subscriptions')
          .set({
            ...(patch.url !== undefined ? { url: patch.url } : {}),
            ...(patch.secret !== undefined ? { secret: patch.secret } : {}),
            ...(patch.event_types !== undefined ? { event_types: [...new Set(patch.event_types)] } : {}),
            ...(patch.active !== undefined ? { active: patch.active } : {}),
            ...(patch.description !== undefined ? { description: patch.description } : {}),
            updated_at: deps.clock(),
          })
          .where('id', '=', id)
          .returningAll()
          .executeTakeFirstOrThrow();
        // What changed, never the secret itself.
        const { secret, ...shown } = patch;
        await deps.audit.record(
          actor,
          { action: 'webhook.update', target: `webhook:${id}`, details: { ...shown, ...(secret !== undefined ? { secret: 'changed' } : {}) } },
          trx,
        );
        return toView(updated);
      });
    },

    async delete(id, actor) {
      return deps.db.transaction().execute(async (trx) => {
        const deleted = await trx.deleteFrom('webhook_subscriptions').where('id', '=', id).returningAll().executeTakeFirst();
        if (!deleted) throw errors.subscriptionNotFound(id);
        await deps.audit.record(actor, { action: 'webhook.delete', target: `webhook:${id}`, details: { url: deleted.url } }, trx);
        return toView(deleted);
      });
    },

    async deliveries(id, query) {
      await row(id);
      const before = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
      const rows = await outbox.listAttempts(deps.db, { subscription: id, state: query.state, event: query.event_id, before, limit: query.limit + 1 });
      const page = rows.slice(0, query.limit);
      const last = page.at(-1);
      return {
        deliveries: page.map((r) => ({
          event_id: r.event_id,
          event_type: r.type,
          attempt: r.attempt,
          status: r.outcome,
          response_code: r.response_code,
          response_excerpt: r.response_excerpt,
          duration_ms: r.duration_ms,
          attempted_at: r.attempted_at.toISOString(),
          delivery_state: r.state,
        })),
        next_cursor: rows.length > query.limit && last ? Buffer.from(String(last.id)).toString('base64url') : null,
      };
    },

    async replay(id, event, actor) {
      await row(id);
      if (event) {
        const delivery = await outbox.findDelivery(deps.db, id, event);
        if (!delivery) throw errors.eventNotFound(id, event);
        if (delivery.state !== 'dead') throw errors.eventNotDead(id, event, delivery.state);
      }
      return deps.db.transaction().execute(async (trx) => {
        const replayed = await outbox.replayDead(trx, id, deps.clock(), event);
        await deps.audit.record(actor, { action: 'webhook.replay', target: `webhook:${id}`, details: { event: event ?? null, replayed } }, trx);
        return { replayed };
      });
    },
  };
}

function checkUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalidField('body.url', 'is not a URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw invalidField('body.url', 'must be http or https');
  if (parsed.username || parsed.password) throw invalidField('body.url', 'must not carry credentials: the secret signs every delivery');
}

function decodeCursor(cursor: string): string {
  const value = Buffer.from(cursor, 'base64url').toString('utf8');
  if (/^[1-9]\d{0,18}$/.test(value)) return value;
  throw invalidField('query.cursor', 'is not a cursor this service returned (use next_cursor as is)');
}

function toView(row: WebhookSubscriptionRow): SubscriptionView {
  return {
    id: row.id,
    url: row.url,
    event_types: row.event_types as EventType[],
    active: row.active,
    description: row.description,
    created_by: row.created_by,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}
