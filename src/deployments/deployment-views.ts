// Rows → API views: a deployment in Retool's shape (plus `instance`, `elements`, `message`), and an
// instance's drift as GET …/instances/{name}/drift answers it.
import type { DeployedElement, DeploymentDriftRow, DeploymentRow, DeploymentStatus, InstanceRow } from '../db/database.js';
import type { ElementType } from '../formats/values.js';
import { elementKey, type Snapshot } from '../snapshots/snapshot.js';
import { compareElements, desiredOf, isDrifted } from './drift.js';

export interface DeploymentView {
  id: string;
  status: DeploymentStatus;
  commit_sha: string;
  triggered_by: string;
  created_at: string;
  completed_at: string | null;
  instance: string;
  elements: DeployedElement[] | null;
  message: string | null;
  updated_at: string;
}

export interface DriftElementView {
  uuid: string;
  type: ElementType;
  name: string | null;
  desired: string | null;
  deployed: string | null;
  drifted: boolean;
  /** Since when mir has seen this element differ; null when it does not. */
  since: string | null;
}

export interface DriftView {
  instance: string;
  manifest: string | null;
  commit_sha: string;
  /** Some element differs. */
  drifted: boolean;
  drifted_count: number;
  /** Drifted, or a flag is up: the instance needs someone's attention. */
  flagged: boolean;
  flags: { never_deployed: boolean; elements_unreported: boolean; last_deployment_failed: boolean; not_seen: boolean };
  last_seen_at: string | null;
  last_seen_commit: string | null;
  last_deployment: DeploymentView | null;
  last_successful_deployment: DeploymentView | null;
  elements: DriftElementView[];
}

export function toDeploymentView(row: DeploymentRow): DeploymentView {
  return {
    id: row.id,
    status: row.status,
    commit_sha: row.commit_sha,
    triggered_by: row.triggered_by,
    created_at: row.created_at.toISOString(),
    completed_at: row.completed_at?.toISOString() ?? null,
    instance: row.instance,
    elements: row.elements,
    message: row.message,
    updated_at: row.updated_at.toISOString(),
  };
}

export function driftView(input: {
  instance: InstanceRow;
  snapshot: Snapshot;
  last: DeploymentRow | undefined;
  lastSuccess: DeploymentRow | undefined;
  stored: readonly DeploymentDriftRow[];
  now: Date;
  staleAfterMs: number;
}): DriftView {
  const { instance, snapshot, last, lastSuccess } = input;
  const deployed = lastSuccess?.elements ?? null;
  const desired = desiredOf(instance.manifest ? snapshot.manifests.get(instance.manifest)?.file : undefined);
  const since = new Map(input.stored.map((row) => [elementKey(row.element_type, row.element_uuid), row.since]));
  const names = new Map(snapshot.elements.map((e) => [elementKey(e.type, e.uuid), e.name]));
  const elements = compareElements(desired, deployed).map((state): DriftElementView => {
    const key = elementKey(state.type, state.uuid);
    const drifted = isDrifted(state, deployed !== null);
    // Drift computed now that the stored evaluation has not seen yet counts from now.
    const from = drifted ? (since.get(key) ?? input.now) : null;
    return { ...state, name: names.get(key) ?? null, drifted, since: from?.toISOString() ?? null };
  });
  const driftedCount = elements.filter((e) => e.drifted).length;
  const seen = instance.last_seen_at;
  const flags = {
    never_deployed: lastSuccess === undefined,
    elements_unreported: lastSuccess !== undefined && deployed === null,
    last_deployment_failed: last?.status === 'ERROR',
    not_seen: !seen || input.now.getTime() - seen.getTime() > input.staleAfterMs,
  };
  return {
    instance: instance.name,
    manifest: instance.manifest,
    commit_sha: snapshot.commit,
    drifted: driftedCount > 0,
    drifted_count: driftedCount,
    flagged: driftedCount > 0 || flags.last_deployment_failed || flags.not_seen,
    flags,
    last_seen_at: seen?.toISOString() ?? null,
    last_seen_commit: instance.last_seen_commit,
    last_deployment: last ? toDeploymentView(last) : null,
    last_successful_deployment: lastSuccess ? toDeploymentView(lastSuccess) : null,
    elements,
  };
}
