// Drift, pure: what an instance's manifest sets on the default branch against what its last
// successful deployment said it runs. Both sides are keyed by element; an element on one side
// only drifts too (deployed but no longer in the manifest, or in the manifest but not deployed).
import type { DeployedElement } from '../db/database.js';
import type { ManifestFile } from '../formats/manifest-file.js';
import type { ElementType } from '../formats/values.js';
import { elementKey, type ElementKey } from '../snapshots/snapshot.js';

export interface ElementState {
  readonly uuid: string;
  readonly type: ElementType;
  readonly desired: string | null;
  readonly deployed: string | null;
}

export function desiredOf(file: ManifestFile | undefined): Map<ElementKey, DeployedElement> {
  const desired = new Map<ElementKey, DeployedElement>();
  if (!file) return desired;
  for (const e of file.manifest.apps) desired.set(elementKey('PAGE', e.uuid), { uuid: e.uuid, type: 'PAGE', release: e.release });
  for (const e of file.manifest.workflows) desired.set(elementKey('WORKFLOW', e.uuid), { uuid: e.uuid, type: 'WORKFLOW', release: e.release });
  return desired;
}

/**
 * Every element on either side, sorted by type then uuid. `deployed` null: the deployment did not
 * say what it runs, so nothing can be said to drift (each element's `deployed` is then null).
 */
export function compareElements(desired: ReadonlyMap<ElementKey, DeployedElement>, deployed: readonly DeployedElement[] | null): ElementState[] {
  const states = new Map<ElementKey, ElementState>();
  for (const [key, e] of desired) states.set(key, { uuid: e.uuid, type: e.type, desired: e.release, deployed: null });
  for (const e of deployed ?? []) {
    const key = elementKey(e.type, e.uuid);
    states.set(key, { uuid: e.uuid, type: e.type, desired: states.get(key)?.desired ?? null, deployed: e.release });
  }
  return [...states.values()].sort((a, b) => (a.type === b.type ? (a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0) : a.type === 'PAGE' ? -1 : 1));
}

export function isDrifted(state: ElementState, deployedKnown: boolean): boolean {
  return deployedKnown && state.desired !== state.deployed;
}
