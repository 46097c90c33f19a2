import { sql, type Kysely } from 'kysely';
import type { DeployedElement, DeploymentDriftRow, DeploymentRow, DeploymentStatus, InstanceRow, Tables } from '../db/database.js';

export function insertDeployment(
  db: Kysely<Tables>,
  row: {
    instance: string;
    commit_sha: string;
    status: DeploymentStatus;
    triggered_by: string;
    elements: DeployedElement[] | null;
    message: string | null;
    at: Date;
  },
): Promise<DeploymentRow> {
  const { at, elements, ...rest } = row;
  return db
    .insertInto('deployments')
    .values({
      ...rest,
      elements: elements === null ? null : JSON.stringify(elements),
      created_at: at,
      updated_at: at,
      completed_at: isFinal(row.status) ? at : null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export function isFinal(status: DeploymentStatus): boolean {
  return status === 'SUCCESS' || status === 'ERROR';
}

/** The deployment row, locked for the transaction's change. */
export function lockDeployment(db: Kysely<Tables>, instance: string, id: string): Promise<DeploymentRow | undefined> {
  return db.selectFrom('deployments').selectAll().where('id', '=', id).where('instance', '=', instance).forUpdate().executeTakeFirst();
}

export function findDeployment(db: Kysely<Tables>, id: string): Promise<DeploymentRow | undefined> {
  return db.selectFrom('deployments').selectAll().where('id', '=', id).executeTakeFirst();
}

export function updateDeployment(
  db: Kysely<Tables>,
  id: string,
  set: { status: DeploymentStatus; elements?: DeployedElement[] | null; message?: string | null; at: Date },
): Promise<DeploymentRow> {
  const { at, elements, ...rest } = set;
  return db
    .updateTable('deployments')
    .set({
      ...rest,
      ...(elements !== undefined ? { elements: elements === null ? null : JSON.stringify(elements) } : {}),
      updated_at: at,
      ...(isFinal(set.status) ? { completed_at: at } : {}),
    })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Newest first; `before`: the seq of the last row of the page before. */
export function listDeployments(
  db: Kysely<Tables>,
  filter: { instance?: string | undefined; status?: DeploymentStatus | undefined; before?: string | undefined; limit: number },
): Promise<DeploymentRow[]> {
  let query = db.selectFrom('deployments').selectAll().orderBy('seq', 'desc').limit(filter.limit);
  if (filter.instance) query = query.where('instance', '=', filter.instance);
  if (filter.status) query = query.where('status', '=', filter.status);
  if (filter.before) query = query.where('seq', '<', filter.before as never);
  return query.execute();
}

export function lastDeployment(db: Kysely<Tables>, instance: string, status?: DeploymentStatus): Promise<DeploymentRow | undefined> {
  let query = db.selectFrom('deployments').selectAll().where('instance', '=', instance).orderBy('seq', 'desc').limit(1);
  if (status) query = query.where('status', '=', status);
  return query.executeTakeFirst();
}

/** Per instance: its last successful deployment (one indexed lookup per instance). */
export async function lastSuccessPerInstance(db: Kysely<Tables>): Promise<Map<string, DeploymentRow>> {
  const rows = await sql<DeploymentRow>`
    select d.* from instances i
    cross join lateral (
      select * from deployments where instance = i.name and status = 'SUCCESS' order by seq desc limit 1
    ) d`.execute(db);
  return new Map(rows.rows.map((row) => [row.instance, row]));
}

export function listDrift(db: Kysely<Tables>, instance?: string): Promise<DeploymentDriftRow[]> {
  let query = db.selectFrom('deployment_drift').selectAll().orderBy('instance').orderBy('element_type').orderBy('element_uuid');
  if (instance) query = query.where('instance', '=', instance);
  return query.execute();
}

/** The instance's drift rows, locked: one evaluation at a time per instance. */
export async function lockInstance(db: Kysely<Tables>, name: string): Promise<InstanceRow | undefined> {
  return db.selectFrom('instances').selectAll().where('name', '=', name).forUpdate().executeTakeFirst();
}

export async function replaceDrift(db: Kysely<Tables>, instance: string, rows: readonly Omit<DeploymentDriftRow, 'instance'>[]): Promise<void> {
  await db.deleteFrom('deployment_drift').where('instance', '=', instance).execute();
  // Batched under the 65,535 bind parameters of one statement (6 a row).
  for (let i = 0; i < rows.length; i += 5_000) {
    await db
      .insertInto('deployment_drift')
      .values(rows.slice(i, i + 5_000).map((row) => ({ ...row, instance })))
      .execute();
  }
}
