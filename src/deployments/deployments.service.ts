// Deployments reported by instances, and the drift they leave: each report is one transaction
// (the row, its audit event, its events, the instance's drift re-evaluated), so a subscriber hears
// of a deployment if and only if it was recorded. Drift is also re-evaluated when the default
// branch moves (a merged publish changes what an instance should run without any report).
import type { Kysely } from 'kysely';
import type { Actor, AuditService } from '../audit/audit.service.js';
import type { DeployedElement, DeploymentRow, DeploymentStatus, InstanceRow, Tables } from '../db/database.js';
import { errors, invalidField } from '../errors.js';
import type { NewEvent, EventPublisher } from '../events/events.service.js';
import type { Logger } from '../logger.js';
import type { Clock } from '../runtime/clock.js';
import { createPeriodicTask } from '../runtime/periodic.js';
import type { Snapshot } from '../snapshots/snapshot.js';
import type { Snapshots } from '../snapshots/snapshots.js';
import * as repository from './deployments.repository.js';
import { compareElements, desiredOf, isDrifted } from './drift.js';
import { driftView, toDeploymentView, type DeploymentView, type DriftView } from './deployment-views.js';

export interface ReportInput {
  readonly commit_sha: string;
  readonly status?: DeploymentStatus | undefined;
  readonly elements?: readonly DeployedElement[] | undefined;
  readonly message?: string | undefined;
}

export interface DeploymentPatch {
  readonly status: DeploymentStatus;
  readonly elements?: readonly DeployedElement[] | undefined;
  readonly message?: string | undefined;
}

export interface DeploymentPage {
  readonly deployments: DeploymentView[];
  readonly next_cursor: string | null;
}

/** What the matrix and the gauges need of one instance. */
export interface InstanceDeployedState {
  readonly instance: string;
  readonly manifest: string | null;
  /** From its last successful deployment; null: none, or it did not say. */
  readonly deployed: ReadonlyMap<string, string> | null;
  readonly lastSuccessAt: Date | null;
  readonly drifted: number;
}

export interface DeploymentService {
  report(instance: string, input: ReportInput, actor: Actor): Promise<DeploymentView>;
  update(instance: string, id: string, patch: DeploymentPatch, actor: Actor): Promise<DeploymentView>;
  list(query: { instance?: string | undefined; status?: DeploymentStatus | undefined; cursor?: string | undefined; limit: number }): Promise<DeploymentPage>;
  get(id: string): Promise<DeploymentView>;
  drift(instance: string): Promise<DriftView>;
  /** Every instance's deployed state (one query each for deployments and drift). */
  states(): Promise<InstanceDeployedState[]>;
  /** Re-evaluates the drift of every instance at the default branch's head; returns how many changed. */
  evaluateAll(): Promise<number>;
  start(): void;
  stop(): Promise<void>;
}

export interface DeploymentServiceDeps {
  readonly db: Kysely<Tables>;
  readonly snapshots: Snapshots;
  readonly audit: AuditService;
  readonly events: EventPublisher;
  readonly clock: Clock;
  /** An instance not seen for longer is flagged. */
  readonly staleAfterMs: number;
  /** How often drift is re-evaluated when the default branch moved; 0: never (tests call evaluateAll). */
  readonly evaluateEveryMs: number;
  readonly logger: Logger;
}

const ORDER: Record<DeploymentStatus, number> = { PENDING_START: 0, RUNNING: 1, SUCCESS: 2, ERROR: 2 };

export function createDeploymentService(deps: DeploymentServiceDeps): DeploymentService {
  let evaluatedCommit = '';

  async function instanceRow(name: string): Promise<InstanceRow> {
    const row = await deps.db.selectFrom('instances').selectAll().where('name', '=', name).executeTakeFirst();
    if (!row) throw errors.instanceNotFound(name);
    return row;
  }

  /** Re-evaluates one instance's drift in `trx` (its row locked); returns the events it causes. */
  async function evaluate(trx: Kysely<Tables>, snapshot: Snapshot, name: string): Promise<NewEvent[]> {
    const instance = await repository.lockInstance(trx, name);
    if (!instance) return [];
    const lastSuccess = await repository.lastDeployment(trx, name, 'SUCCESS');
    const deployed = lastSuccess?.elements ?? null;
    const desired = desiredOf(instance.manifest ? snapshot.manifests.get(instance.manifest)?.file : undefined);
    const drifted = compareElements(desired, deployed).filter((state) => isDrifted(state, deployed !== null));
    const previous = new Map((await repository.listDrift(trx, name)).map((row) => [`${row.element_type}:${row.element_uuid}`, row]));
    const now = deps.clock();
    const rows = drifted.map((state) => {
      const before = previous.get(`${state.type}:${state.uuid}`);
      return { element_type: state.type, element_uuid: state.uuid, desired: state.desired, deployed: state.deployed, since: before?.since ?? now };
    });
    const unchanged =
      rows.length === previous.size &&
      rows.every((row) => {
        const before = previous.get(`${row.element_type}:${row.element_uuid}`);
        return before && before.desired === row.desired && before.deployed === row.deployed;
      });
    if (unchanged) return [];
    await repository.replaceDrift(trx, name, rows);
    const now_drifted = new Set(rows.map((row) => `${row.element_type}:${row.element_uuid}`));
    const element = (row: { element_type: string; element_uuid: string; desired: string | null; deployed: string | null }) => ({
      uuid: row.element_uuid,
      type: row.element_type,
      desired: row.desired,
      deployed: row.deployed,
    });
    const detected = rows.filter((row) => !previous.has(`${row.element_type}:${row.element_uuid}`)).map(element);
    const resolved = [...previous.entries()].filter(([key]) => !now_drifted.has(key)).map(([, row]) => element(row));
    const base = { instance: name, manifest: instance.manifest, commit_sha: snapshot.commit, drifted: rows.length };
    return [
      ...(detected.length > 0 ? [{ type: 'drift.detected' as const, data: { ...base, elements: detected } }] : []),
      ...(resolved.length > 0 ? [{ type: 'drift.resolved' as const, data: { ...base, elements: resolved } }] : []),
    ];
  }

  function deploymentEvents(row: DeploymentRow, previous: DeploymentStatus | null): NewEvent[] {
    const data = { deployment: toDeploymentView(row) };
    const events: NewEvent[] = previous === null ? [{ type: 'deployment.reported', data }] : [];
    if (row.status !== previous && row.status === 'SUCCESS') events.push({ type: 'deployment.succeeded', data });
    if (row.status !== previous && row.status === 'ERROR') events.push({ type: 'deployment.failed', data });
    return events;
  }

  async function evaluateAll(): Promise<number> {
    const snapshot = await deps.snapshots.latest({ fresh: true });
    const names = (await deps.db.selectFrom('instances').select('name').orderBy('name').execute()).map((row) => row.name);
    let changed = 0;
    for (const name of names) {
      const events = await deps.db.transaction().execute(async (trx) => {
        const caused = await evaluate(trx, snapshot, name);
        await deps.events.publish(trx, caused);
        return caused;
      });
      if (events.length > 0) changed++;
    }
    evaluatedCommit = snapshot.commit;
    return changed;
  }

  // Between deployments, drift changes only when the default branch moves: each round looks.
  const evaluator = createPeriodicTask({
    everyMs: deps.evaluateEveryMs,
    runAtStart: false,
    run: async () => {
      const head = await deps.snapshots.latest({ fresh: true });
      if (head.commit !== evaluatedCommit) await evaluateAll();
    },
    onError: (error) => deps.logger.warn({ err: error }, 'drift evaluation failed; next tick retries'),
  });

  return {
    async report(instance, input, actor) {
      await instanceRow(instance);
      const snapshot = await deps.snapshots.latest();
      const status = input.status ?? 'PENDING_START';
      return deps.db.transaction().execute(async (trx) => {
        const row = await repository.insertDeployment(trx, {
          instance,
          commit_sha: input.commit_sha,
          status,
          triggered_by: actor.name,
          elements: input.elements ? [...input.elements] : null,
          message: input.message ?? null,
          at: deps.clock(),
        });
        await deps.audit.record(actor, { action: 'deployment.report', target: `instance:${instance}`, details: { deployment: row.id, status } }, trx);
        const events = deploymentEvents(row, null);
        if (status === 'SUCCESS') events.push(...(await evaluate(trx, snapshot, instance)));
        await deps.events.publish(trx, events);
        return toDeploymentView(row);
      });
    },

    async update(instance, id, patch, actor) {
      await instanceRow(instance);
      const snapshot = await deps.snapshots.latest();
      return deps.db.transaction().execute(async (trx) => {
        const before = await repository.lockDeployment(trx, instance, id);
        if (!before) throw errors.deploymentNotFound(id);
        if (ORDER[patch.status] <= ORDER[before.status] && !(patch.status === before.status && !repository.isFinal(before.status))) {
          throw errors.deploymentStatusInvalid(id, before.status, patch.status);
        }
        const row = await repository.updateDeployment(trx, id, {
          status: patch.status,
          ...(patch.elements ? { elements: [...patch.elements] } : {}),
          ...(patch.message !== undefined ? { message: patch.message } : {}),
          at: deps.clock(),
        });
        await deps.audit.record(
          actor,
          { action: 'deployment.update', target: `instance:${instance}`, details: { deployment: id, from: before.status, to: row.status } },
          trx,
        );
        const events = deploymentEvents(row, before.status);
        if (row.status === 'SUCCESS') events.push(...(await evaluate(trx, snapshot, instance)));
        await deps.events.publish(trx, events);
        return toDeploymentView(row);
      });
    },

    async list(query) {
      const before = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
      const rows = await repository.listDeployments(deps.db, { instance: query.instance, status: query.status, before, limit: query.limit + 1 });
      const page = rows.slice(0, query.limit);
      const last = page.at(-1);
      return { deployments: page.map(toDeploymentView), next_cursor: rows.length > query.limit && last ? encodeCursor(String(last.seq)) : null };
    },

    async get(id) {
      const row = await repository.findDeployment(deps.db, id);
      if (!row) throw errors.deploymentNotFound(id);
      return toDeploymentView(row);
    },

    async drift(name) {
      const instance = await instanceRow(name);
      const snapshot = await deps.snapshots.latest({ elements: true });
      const [last, lastSuccess, stored] = await Promise.all([
        repository.lastDeployment(deps.db, name),
        repository.lastDeployment(deps.db, name, 'SUCCESS'),
        repository.listDrift(deps.db, name),
      ]);
      return driftView({ instance, snapshot, last, lastSuccess, stored, now: deps.clock(), staleAfterMs: deps.staleAfterMs });
    },

    async states() {
      const [instances, latest, drift] = await Promise.all([
        deps.db.selectFrom('instances').select(['name', 'manifest']).orderBy('name').execute(),
        repository.lastSuccessPerInstance(deps.db),
        repository.listDrift(deps.db),
      ]);
      const drifted = new Map<string, number>();
      for (const row of drift) drifted.set(row.instance, (drifted.get(row.instance) ?? 0) + 1);
      return instances.map((row) => {
        const success = latest.get(row.name);
        return {
          instance: row.name,
          manifest: row.manifest,
          deployed: success?.elements ? new Map(success.elements.map((e) => [`${e.type}:${e.uuid}`, e.release])) : null,
          lastSuccessAt: success?.completed_at ?? null,
          drifted: drifted.get(row.name) ?? 0,
        };
      });
    },

    evaluateAll,

    start: () => evaluator.start(),
    stop: () => evaluator.stop(),
  };
}

function encodeCursor(seq: string): string {
  return Buffer.from(JSON.stringify({ before: seq })).toString('base64url');
}

function decodeCursor(cursor: string): string {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { before?: unknown };
    if (typeof value.before === 'string' && /^[1-9]\d{0,18}$/.test(value.before)) return value.before;
  } catch {
    // reported below
  }
  throw invalidField('query.cursor', 'is not a cursor this service returned (use next_cursor as is)');
}
