// The SQL of delivering events: fanning an outbox row out to the subscriptions it matches, claiming
// due deliveries (FOR UPDATE SKIP LOCKED, so replicas never claim the same row; PGlite accepts the
// same statements and, being one session, simply runs them one after the other), recording each
// attempt, replaying dead letters, and deleting what retention no longer needs — in batches.
import { sql, type Kysely } from 'kysely';
import type { AttemptOutcome, DeliveryState, Tables, WebhookAttemptRow } from '../db/database.js';
import { packedColumn, unpackEach } from '../db/packed-json.js';

/** Events written since the last fan-out, locked; each gets a delivery per matching active subscription. */
export async function fanOut(db: Kysely<Tables>, now: Date, limit: number): Promise<number> {
  return db.transaction().execute(async (trx) => {
    const events = await sql<{ id: string; type: string }>`
      select id, type from outbox_events where fanned_out_at is null order by seq limit ${limit} for update skip locked`.execute(trx);
    if (events.rows.length === 0) return 0;
    const subscriptions = await trx.selectFrom('webhook_subscriptions').select(['id', 'event_types']).where('active', '=', true).execute();
    const rows = events.rows.flatMap((event) =>
      subscriptions
        .filter((s) => s.event_types.includes(event.type))
        .map((s) => ({ event_id: event.id, subscription_id: s.id, next_attempt_at: now, created_at: now })),
    );
    // 4 parameters a row: far below the statement limit per batch.
    for (let i = 0; i < rows.length; i += 5_000) {
      await trx
        .insertInto('webhook_deliveries')
        .values(rows.slice(i, i + 5_000))
        .onConflict((oc) => oc.columns(['event_id', 'subscription_id']).doNothing())
        .execute();
    }
    await trx
      .updateTable('outbox_events')
      .set({ fanned_out_at: now })
      .where(
        'id',
        'in',
        events.rows.map((e) => e.id),
      )
      .execute();
    return events.rows.length;
  });
}

export interface ClaimedDelivery {
  id: string;
  claim: string;
  attempts: number;
  event_id: string;
  type: string;
  payload: Record<string, unknown>;
  occurred_at: Date;
  subscription_id: string;
  url: string;
  secret: string;
}

/**
 * Claims due deliveries of active subscriptions: each row's `next_attempt_at` moves to `leaseUntil`
 * in the claiming transaction, so no other replica takes it while this one sends, and a replica
 * that dies leaves it due again once the lease passes.
 */
export async function claimDue(db: Kysely<Tables>, input: { now: Date; leaseUntil: Date; claim: string; limit: number }): Promise<ClaimedDelivery[]> {
  return db.transaction().execute(async (trx) => {
    const due = await sql<{ id: string }>`
      select d.id from webhook_deliveries d
      join webhook_subscriptions s on s.id = d.subscription_id and s.active
      where d.state = 'pending' and d.next_attempt_at <= ${input.now}
      order by d.next_attempt_at, d.id
      limit ${input.limit}
      for update of d skip locked`.execute(trx);
    if (due.rows.length === 0) return [];
    const claimed = await sql<Omit<ClaimedDelivery, 'payload'> & { payload: string }>`
      update webhook_deliveries d set claim = ${input.claim}, next_attempt_at = ${input.leaseUntil}
      from outbox_events e, webhook_subscriptions s
      where d.id in (${sql.join(due.rows.map((r) => r.id))}) and e.id = d.event_id and s.id = d.subscription_id
      returning d.id, d.claim, d.attempts, e.id as event_id, e.type, ${packedColumn('e.payload')} as payload, e.occurred_at,
        s.id as subscription_id, s.url, s.secret`.execute(trx);
    return (await unpackEach(claimed.rows, 'payload')) as ClaimedDelivery[];
  });
}

export interface AttemptResult {
  outcome: AttemptOutcome;
  responseCode: number | null;
  responseExcerpt: string | null;
  durationMs: number;
  error: string | null;
}

/**
 * Records one attempt and where the delivery now stands: delivered, due again at `retryAt`, or dead
 * (`retryAt` null). The state moves only if the claim is still this one (a lease that ran out may
 * have passed the row to another replica, whose word is then the last).
 */
export async function recordAttempt(db: Kysely<Tables>, delivery: ClaimedDelivery, result: AttemptResult, at: Date, retryAt: Date | null): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const attempt = delivery.attempts + 1;
    await trx
      .insertInto('webhook_attempts')
      .values({
        delivery_id: delivery.id,
        subscription_id: delivery.subscription_id,
        event_id: delivery.event_id,
        attempt,
        outcome: result.outcome,
        response_code: result.responseCode,
        response_excerpt: result.responseExcerpt,
        duration_ms: result.durationMs,
        attempted_at: at,
      })
      .execute();
    const state: DeliveryState = result.outcome === 'delivered' ? 'delivered' : retryAt ? 'pending' : 'dead';
    await trx
      .updateTable('webhook_deliveries')
      .set({
        state,
        attempts: attempt,
        claim: null,
        last_error: result.error,
        ...(state === 'delivered' ? { delivered_at: at } : {}),
        ...(state === 'dead' ? { dead_at: at } : {}),
        ...(state === 'pending' ? { next_attempt_at: retryAt! } : {}),
      })
      .where('id', '=', delivery.id as never)
      .where('claim', '=', delivery.claim)
      .execute();
  });
}

/** Gives claimed rows back at once (a graceful stop that could not send them). */
export async function release(db: Kysely<Tables>, claim: string, now: Date): Promise<void> {
  await db.updateTable('webhook_deliveries').set({ claim: null, next_attempt_at: now }).where('claim', '=', claim).where('state', '=', 'pending').execute();
}

/** Dead letters of a subscription (one event, or all) made due again with a fresh attempt count. */
export async function replayDead(db: Kysely<Tables>, subscription: string, now: Date, event?: string): Promise<number> {
  let query = db
    .updateTable('webhook_deliveries')
    .set({ state: 'pending', attempts: 0, next_attempt_at: now, dead_at: null, claim: null })
    .where('subscription_id', '=', subscription)
    .where('state', '=', 'dead');
  if (event) query = query.where('event_id', '=', event);
  const result = await query.executeTakeFirst();
  return Number(result.numUpdatedRows);
}

export function findDelivery(db: Kysely<Tables>, subscription: string, event: string) {
  return db.selectFrom('webhook_deliveries').selectAll().where('subscription_id', '=', subscription).where('event_id', '=', event).executeTakeFirst();
}

export interface AttemptLogRow extends WebhookAttemptRow {
  type: string;
  state: DeliveryState;
}

/** The delivery log of a subscription, newest attempt first; `before`: the id of the last row of the page before. */
export function listAttempts(
  db: Kysely<Tables>,
  filter: { subscription: string; state?: DeliveryState | undefined; event?: string | undefined; before?: string | undefined; limit: number },
): Promise<AttemptLogRow[]> {
  let query = db
    .selectFrom('webhook_attempts as a')
    .innerJoin('webhook_deliveries as d', 'd.id', 'a.delivery_id')
    .innerJoin('outbox_events as e', 'e.id', 'a.event_id')
    .selectAll('a')
    .select(['e.type', 'd.state'])
    .where('a.subscription_id', '=', filter.subscription)
    .orderBy('a.id', 'desc')
    .limit(filter.limit);
  if (filter.state) query = query.where('d.state', '=', filter.state);
  if (filter.event) query = query.where('a.event_id', '=', filter.event);
  if (filter.before) query = query.where('a.id', '<', filter.before as never);
  return query.execute();
}

/**
 * Deletes, in batches of `batch`, delivery logs older than `before`, and events older than it whose
 * every delivery was made (their delivery rows go with them). Dead letters stay until replayed.
 */
export async function purge(db: Kysely<Tables>, before: Date, batch: number): Promise<{ attempts: number; events: number }> {
  let attempts = 0;
  let events = 0;
  for (;;) {
    const deleted = await sql`
      delete from webhook_attempts where id in (select id from webhook_attempts where attempted_at < ${before} order by id limit ${batch})`.execute(db);
    const n = Number(deleted.numAffectedRows ?? 0);
    attempts += n;
    if (n < batch) break;
  }
  for (;;) {
    const deleted = await sql`
      delete from outbox_events where id in (
        select e.id from outbox_events e
        where e.occurred_at < ${before} and e.fanned_out_at is not null
          and not exists (select 1 from webhook_deliveries d where d.event_id = e.id and d.state <> 'delivered')
        order by e.seq limit ${batch})`.execute(db);
    const n = Number(deleted.numAffectedRows ?? 0);
    events += n;
    if (n < batch) break;
  }
  return { attempts, events };
}

/** An outbox row as the event stream reads it; `seq` is its place in commit order (src/events/event-stream.ts). */
export interface SequencedEvent {
  seq: number;
  id: string;
  type: string;
  payload: Record<string, unknown>;
  occurred_at: Date;
}

/** Up to `limit` events after `after`, in seq order (a range scan of seq's unique index); `upTo`: none greater. */
export async function eventsAfter(db: Kysely<Tables>, after: number, limit: number, upTo?: number): Promise<SequencedEvent[]> {
  let query = db
    .selectFrom('outbox_events')
    .select(['seq', 'id', 'type', packedColumn('payload').as('payload'), 'occurred_at'])
    .where('seq', '>', String(after) as never)
    .orderBy('seq')
    .limit(limit);
  if (upTo !== undefined) query = query.where('seq', '<=', String(upTo) as never);
  return (await unpackEach(await query.execute(), 'payload')).map((row) => ({ ...row, seq: Number(row.seq), payload: row.payload as Record<string, unknown> }));
}

/** Whether the event of this seq is still retained. */
export async function eventSeqExists(db: Kysely<Tables>, seq: number): Promise<boolean> {
  const row = await db
    .selectFrom('outbox_events')
    .select('seq')
    .where('seq', '=', String(seq) as never)
    .executeTakeFirst();
  return row !== undefined;
}

/** The greatest seq visible now; 0 on an empty outbox. */
export async function lastEventSeq(db: Kysely<Tables>): Promise<number> {
  const row = await db
    .selectFrom('outbox_events')
    .select((eb) => eb.fn.max('seq').as('seq'))
    .executeTakeFirst();
  return row?.seq ? Number(row.seq) : 0;
}
