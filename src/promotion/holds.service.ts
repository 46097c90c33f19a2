// Holds: a version of an element that must not come back after a rollback. A hold is a row, not a
// file in the repository, because it is an operational decision with an author and a reason that
// takes effect at once, without a pull request of its own. The gate added to the pull-request
// service refuses every change that sets a held version (publish, promote, manifest writes, merges):
// 409 release_held naming the hold, unless an admin overrides it with a reason (audited). A hold
// is lifted explicitly (audited) or by a greater release of that element reaching the default
// branch: the fix the rollback was waiting for.
import type { Kysely } from 'kysely';
import type { Actor, AuditService } from '../audit/audit.service.js';
import type { ReleaseHoldRow, Tables } from '../db/database.js';
import { errors } from '../errors.js';
import type { EventPublisher } from '../events/events.service.js';
import { LATEST, type ElementType } from '../formats/values.js';
import { compareVersions } from '../formats/version.js';
import type { Gate, Verdict } from '../pull-requests/gates.js';
import type { Intent } from '../pull-requests/intent.js';
import type { PullRequestService } from '../pull-requests/pull-requests.service.js';
import { elementKey, type ElementKey } from '../snapshots/snapshot.js';
import * as repository from './holds.repository.js';

export interface HoldView {
  id: string;
  element_type: ElementType;
  element_uuid: string;
  version: string;
  manifest: string;
  reason: string;
  pull_request: number | null;
  created_by: string;
  created_at: string;
  active: boolean;
  lifted_at: string | null;
  lifted_by: string | null;
  lift_reason: string | null;
}

export interface PlaceHold {
  /** Chosen by the caller, so the audit event of the change that places it can name it. */
  readonly id: string;
  readonly element_type: ElementType;
  readonly element_uuid: string;
  readonly version: string;
  readonly manifest: string;
  readonly reason: string;
  readonly pull_request: number | null;
}

export interface HoldService {
  list(filter: { active?: boolean | undefined; element?: { type: ElementType; uuid: string }; limit?: number }): Promise<HoldView[]>;
  /** Active holds by element, for the release matrix and release lists. */
  activeByElement(): Promise<Map<ElementKey, HoldView[]>>;
  /**
   * Places a hold (or returns the active one on that version). Not audited here: the rollback that
   * places it records one event naming it.
   */
  place(hold: PlaceHold, actor: Actor): Promise<HoldView>;
  lift(id: string, reason: string, actor: Actor): Promise<HoldView>;
}

export function toHoldView(row: ReleaseHoldRow): HoldView {
  return {
    id: row.id,
    element_type: row.element_type,
    element_uuid: row.element_uuid,
    version: row.version,
    manifest: row.manifest,
    reason: row.reason,
    pull_request: row.pull_request,
    created_by: row.created_by,
    created_at: row.created_at.toISOString(),
    active: row.lifted_at === null,
    lifted_at: row.lifted_at?.toISOString() ?? null,
    lifted_by: row.lifted_by,
    lift_reason: row.lift_reason,
  };
}

export function createHoldService(deps: { db: Kysely<Tables>; audit: AuditService; events: EventPublisher; pullRequests: PullRequestService }): HoldService {
  const { db, audit, events } = deps;

  const gate: Gate = {
    name: 'hold',
    async check({ intent, override }) {
      const sets = intent.operations.flatMap((op) => (op.op === 'set_entry' && op.to !== LATEST ? [op] : []));
      if (sets.length === 0) return [];
      const holds = await repository.activeHolds(db);
      if (holds.length === 0) return [];
      const byVersion = new Map(holds.map((h) => [`${elementKey(h.element_type, h.element_uuid)}@${h.version}`, h]));
      const met = sets.flatMap((op) => {
        const hold = byVersion.get(`${elementKey(op.element_type, op.element_uuid)}@${op.to}`);
        return hold ? [{ op, hold }] : [];
      });
      if (met.length === 0) return [];
      if (!override) throw errors.releaseHeld(met.map(({ hold }) => ({ ...toHoldView(hold) })));
      return met.map(({ op, hold }): Verdict => ({
        gate: 'hold',
        manifest: op.manifest,
        rule: 'hold',
        status: 'overridden',
        reason: `${op.element_type} ${op.element_uuid} ${op.to} is held (hold ${hold.id}: ${hold.reason})`,
        until: null,
      }));
    },
  };
  deps.pullRequests.addGate(gate);

  // A greater release of a held element reaching the default branch lifts its holds.
  deps.pullRequests.onMerged(async (pullRequest, actor) => {
    const added = (pullRequest.intent as Intent).operations.flatMap((op) => (op.op === 'add_artifact' ? [op] : []));
    if (added.length === 0) return;
    const holds = await repository.activeHolds(db);
    for (const release of added) {
      for (const hold of holds) {
        if (hold.element_type !== release.element_type || hold.element_uuid !== release.element_uuid) continue;
        if (compareVersions(release.version, hold.version) <= 0) continue;
        await db.transaction().execute(async (trx) => {
          const lifted = await repository.liftHold(trx, hold.id, { by: actor.name, reason: `superseded by release ${release.version}` });
          if (lifted) {
            await audit.record(
              actor,
              {
                action: 'hold.lift',
                target: `hold:${hold.id}`,
                details: { superseded_by: release.version, pull_request: pullRequest.number, version: hold.version },
              },
              trx,
            );
            await events.publish(trx, [{ type: 'hold.lifted', data: { hold: toHoldView(lifted) } }]);
          }
        });
      }
    }
  });

  return {
    async list(filter) {
      const rows = await repository.listHolds(db, {
        ...(filter.active !== undefined ? { active: filter.active } : {}),
        ...(filter.element ? { element: filter.element } : {}),
        limit: filter.limit ?? 500,
      });
      return rows.map(toHoldView);
    },

    async activeByElement() {
      const byElement = new Map<ElementKey, HoldView[]>();
      for (const row of await repository.activeHolds(db)) {
        const key = elementKey(row.element_type, row.element_uuid);
        byElement.set(key, [...(byElement.get(key) ?? []), toHoldView(row)]);
      }
      return byElement;
    },

    async place(hold, actor) {
      return db.transaction().execute(async (trx) => {
        const placed = await repository.insertHold(trx, { ...hold, created_by: actor.name });
        if (placed.created) await events.publish(trx, [{ type: 'hold.created', data: { hold: toHoldView(placed.hold) } }]);
        return toHoldView(placed.hold);
      });
    },

    async lift(id, reason, actor) {
      return db.transaction().execute(async (trx) => {
        const lifted = await repository.liftHold(trx, id, { by: actor.name, reason });
        if (!lifted) throw errors.holdNotFound(id);
        await audit.record(
          actor,
          { action: 'hold.lift', target: `hold:${id}`, details: { reason, version: lifted.version, element_uuid: lifted.element_uuid } },
          trx,
        );
        await events.publish(trx, [{ type: 'hold.lifted', data: { hold: toHoldView(lifted) } }]);
        return toHoldView(lifted);
      });
    },
  };
}
