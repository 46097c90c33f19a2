// Batch publish: set elements' releases in one or more manifests with one branch, one
// commit and one pull request, whatever the number of changes. Rolling back is publishing an
// older version. Every change is a set_entry operation, so merging re-applies exactly these; a
// manifest that does not exist yet is created in the same pull request.
import type { Actor } from '../audit/audit.service.js';
import type { Config } from '../config.js';
import { errors, invalidField, type FieldError } from '../errors.js';
import type { GitGateway } from '../git/types.js';
import type { Snapshot } from '../snapshots/snapshot.js';
import { elementKey } from '../snapshots/snapshot.js';
import type { Override } from '../pull-requests/gates.js';
import type { Operation } from '../pull-requests/intent.js';
import { newBranchId, type DryRunResult, type PushedBranch } from '../pull-requests/proposals.js';
import type { PullRequestService } from '../pull-requests/pull-requests.service.js';
import type { ArtifactCatalog } from '../releases/artifact-catalog.js';
import { manifestPath, publishBranch } from '../formats/layout.js';
import { parseManifest } from '../formats/manifest-file.js';
import { findElement } from '../formats/protected.js';
import { LATEST, type ElementType } from '../formats/values.js';
import type { Snapshots } from '../snapshots/snapshots.js';

export interface PublishChange {
  readonly manifest: string;
  readonly element_uuid: string;
  readonly element_type: ElementType;
  readonly release: string;
}

export interface PublishOptions {
  readonly actor: Actor;
  readonly dryRun: boolean;
  readonly baseSha?: string | undefined;
  readonly commitMessage?: string | undefined;
  readonly override?: Override | undefined;
}

export interface PublishService {
  publish(changes: readonly PublishChange[], options: PublishOptions): Promise<PushedBranch | DryRunResult>;
}

type SetEntry = Extract<Operation, { op: 'set_entry' }>;
type CreateManifest = Extract<Operation, { op: 'create_manifest' }>;

export function createPublishService(deps: {
  git: GitGateway;
  snapshots: Snapshots;
  pullRequests: PullRequestService;
  artifacts: ArtifactCatalog;
  config: Pick<Config, 'git'>;
}): PublishService {
  /** Duplicates and contradictions in one batch: 400 naming each repeated change. */
  function checkBatch(changes: readonly PublishChange[]): void {
    const seen = new Map<string, number>();
    const problems: FieldError[] = [];
    changes.forEach((change, i) => {
      const key = `${change.manifest}\0${change.element_type}\0${change.element_uuid}`;
      const first = seen.get(key);
      if (first === undefined) return void seen.set(key, i);
      const other = changes[first]!;
      problems.push({
        field: `body.changes[${i}]`,
        message:
          other.release === change.release
            ? `repeats body.changes[${first}] (${change.manifest} ${change.element_uuid})`
            : `contradicts body.changes[${first}]: ${change.manifest} ${change.element_uuid} cannot be both ${other.release} and ${change.release}`,
      });
    });
    if (problems.length > 0) throw errors.validation(problems);
  }

  function operationsOf(snapshot: Snapshot, changes: readonly PublishChange[]): SetEntry[] {
    return changes.map((change) => {
      const entry = snapshot.manifests.get(change.manifest);
      if (entry && !entry.file) {
        const e = entry.error!;
        throw errors.manifestInvalid(e.path, e.line ?? null, e.reason);
      }
      if (change.release === LATEST) {
        if (!findElement(snapshot.elements, change.element_type, change.element_uuid)) throw errors.elementNotFound(change.element_uuid, change.element_type);
      } else if (!snapshot.releases.get(elementKey(change.element_type, change.element_uuid))?.has(change.release)) {
        throw errors.releaseNotFound(change.element_type, change.element_uuid, change.release, { manifest: change.manifest });
      }
      const from = entry?.file?.getEntry(change.element_type, change.element_uuid)?.release ?? null;
      return { op: 'set_entry', manifest: change.manifest, element_type: change.element_type, element_uuid: change.element_uuid, from, to: change.release };
    });
  }

  /** 409 stale_base when an entry this publish changes is not what it was at `baseSha`. */
  async function checkBase(snapshot: Snapshot, baseSha: string | undefined, operations: readonly SetEntry[]): Promise<void> {
    if (!baseSha || baseSha === snapshot.commit) return;
    if (!(await deps.git.resolveRef(baseSha))) {
      await deps.git.fetchAllBranches();
      if (!(await deps.git.resolveRef(baseSha))) throw invalidField('base_sha', `is not a commit of this repository (${baseSha})`);
    }
    const moved: string[] = [];
    const bases = new Map<string, ReturnType<typeof parseManifest> | null>();
    for (const op of operations) {
      if (!bases.has(op.manifest)) {
        const bytes = await deps.git.readFile({ ref: baseSha, path: manifestPath(op.manifest) });
        let parsed = null;
        try {
          parsed = bytes ? parseManifest(bytes, manifestPath(op.manifest)) : null;
        } catch {
          // A manifest that did not parse then counts as having no entries.
        }
        bases.set(op.manifest, parsed);
      }
      const before = bases.get(op.manifest)?.getEntry(op.element_type, op.element_uuid)?.release ?? null;
      if (before !== op.from) moved.push(`manifest:${op.manifest}/${op.element_type}:${op.element_uuid}`);
    }
    if (moved.length > 0) throw errors.staleBase(baseSha, moved);
  }

  return {
    async publish(changes, options) {
      checkBatch(changes);
      const snapshot = await deps.snapshots.latest({ fresh: true, elements: true });
      const operations = operationsOf(snapshot, changes);
      await checkBase(snapshot, options.baseSha, operations);
      // 422 for a zip an instance could not unpack safely: once a manifest names it, it ships.
      await deps.artifacts.requireValid(
        operations.flatMap((op) => {
          const artifact = op.to === LATEST ? undefined : snapshot.releases.get(elementKey(op.element_type, op.element_uuid))?.get(op.to);
          return artifact ? [{ blobId: artifact.blobId, commit: snapshot.commit, path: artifact.path }] : [];
        }),
      );
      const manifests = [...new Set(changes.map((c) => c.manifest))].sort();
      // A manifest not on the default branch yet is created by the same pull request, as a manifest
      // write creates it (the intent's create_manifest, so the pull request and a dry run say so).
      const created: CreateManifest[] = manifests.filter((name) => !snapshot.manifests.has(name)).map((name) => ({ op: 'create_manifest', manifest: name }));
      const label = (op: SetEntry) => findElement(snapshot.elements, op.element_type, op.element_uuid)?.name ?? op.element_uuid;
      const title =
        operations.length === 1
          ? `Publish ${label(operations[0]!)} ${operations[0]!.to} to ${operations[0]!.manifest}`
          : `Publish ${operations.length} changes to ${manifests.join(', ')}`;
      return deps.pullRequests.propose({
        kind: 'publish',
        title,
        body: [
          `Proposed by ${options.actor.name} through mir.`,
          '',
          ...created.map((op) => `- create manifest ${op.manifest}`),
          ...operations.map((op) => `- ${op.manifest}: ${label(op)} (${op.element_type} ${op.element_uuid}) ${op.from ?? '(none)'} → ${op.to}`),
        ].join('\n'),
        commitMessage: options.commitMessage,
        branch: publishBranch(deps.config.git.branchPrefix, newBranchId()),
        intent: { version: 1, operations: [...created, ...operations] },
        snapshot,
        actor: options.actor,
        dryRun: options.dryRun,
        override: options.override,
        action: 'publish',
        target: manifests.length === 1 ? `manifest:${manifests[0]}` : `manifests:${manifests.join(',')}`,
        details: {
          manifests,
          ...(created.length > 0 ? { created: created.map((op) => op.manifest) } : {}),
          changes: operations.map(({ op: _op, ...change }) => change),
        },
      });
    },
  };
}
