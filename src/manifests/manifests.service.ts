// Manifests: reading them from the default branch, and proposing changes to them as pull requests
// (Retool's Source Control API). Every write is an intent of entry operations, so that
// merging later re-applies exactly what was asked and nothing else.
import type { Override } from '../pull-requests/gates.js';
import type { Actor } from '../audit/audit.service.js';
import type { Config } from '../config.js';
import { errors, invalidField } from '../errors.js';
import type { GitGateway } from '../git/types.js';
import type { SnapshotManifest, Snapshot } from '../snapshots/snapshot.js';
import { elementKey } from '../snapshots/snapshot.js';
import { manifestBranch, manifestPath } from '../formats/layout.js';
import { diffManifests, manifestToJson, parseManifestEntries, type RetoolManifest } from '../formats/manifest-entries.js';
import { parseManifest } from '../formats/manifest-file.js';
import { LATEST, type ElementType } from '../formats/values.js';
import { YIELD_EVERY, yieldToEventLoop } from '../runtime/event-loop.js';
import type { Operation } from '../pull-requests/intent.js';
import { newBranchId, type DryRunResult, type PushedBranch } from '../pull-requests/proposals.js';
import type { PullRequestService } from '../pull-requests/pull-requests.service.js';
import type { ArtifactCatalog } from '../releases/artifact-catalog.js';
import type { Snapshots } from '../snapshots/snapshots.js';

export interface ManifestListItem extends Partial<RetoolManifest> {
  name: string;
  error?: { path: string; line?: number; reason: string };
}

export interface WriteOptions {
  readonly actor: Actor;
  readonly dryRun: boolean;
  /** The commit the caller read (body `base_sha` or `If-Match`). */
  readonly baseSha?: string | undefined;
  readonly commitMessage?: string | undefined;
  /** An admin's override of holds and policy blocks, with its reason. */
  readonly override?: Override | undefined;
}

export type WriteResult = PushedBranch | DryRunResult;

export interface ManifestService {
  list(): Promise<{ manifests: ManifestListItem[]; commit_sha: string }>;
  get(name: string): Promise<{ manifest: RetoolManifest; commit_sha: string }>;
  replace(name: string, manifest: unknown, options: WriteOptions): Promise<WriteResult>;
  delete(name: string, options: WriteOptions): Promise<WriteResult>;
  setEntry(name: string, type: ElementType, uuid: string, release: string, options: WriteOptions): Promise<WriteResult>;
  removeEntry(name: string, type: ElementType, uuid: string, options: WriteOptions): Promise<WriteResult>;
}

export interface ManifestServiceDeps {
  readonly git: GitGateway;
  readonly snapshots: Snapshots;
  readonly pullRequests: PullRequestService;
  readonly artifacts: ArtifactCatalog;
  readonly config: Pick<Config, 'git'>;
}

/** Operations a pull request's body spells out, one line each. */
const BODY_OPERATIONS = 200;

type EntryOperation = Extract<Operation, { op: 'set_entry' | 'remove_entry' }>;

export function createManifestService(deps: ManifestServiceDeps): ManifestService {
  const prefix = deps.config.git.branchPrefix;

  /** The manifest on the default branch, parsed: 404 when absent, 422 when it does not parse. */
  function readable(snapshot: Snapshot, name: string) {
    const entry = snapshot.manifests.get(name);
    if (!entry) throw errors.manifestNotFound(name);
    if (entry.error || !entry.file) throw manifestInvalid(entry);
    return entry.file;
  }

  /**
   * Releases a write may name: `latest`, or an artifact on the default branch whose zip passed its
   * checks (422 `artifact_invalid` otherwise: once a manifest names it, instances unpack it).
   */
  async function checkReleases(snapshot: Snapshot, operations: readonly Operation[]) {
    const artifacts: { blobId: string; commit: string; path: string }[] = [];
    for (let i = 0; i < operations.length; i++) {
      if (i % YIELD_EVERY === 0) await yieldToEventLoop();
      const op = operations[i]!;
      if (op.op !== 'set_entry' || op.to === LATEST) continue;
      const artifact = snapshot.releases.get(elementKey(op.element_type, op.element_uuid))?.get(op.to);
      if (!artifact) throw errors.releaseNotFound(op.element_type, op.element_uuid, op.to);
      artifacts.push({ blobId: artifact.blobId, commit: snapshot.commit, path: artifact.path });
    }
    await deps.artifacts.requireValid(artifacts);
  }

  /**
   * Optimistic concurrency: 409 stale_base when an entry this write changes is not what it was at
   * `baseSha` (the commit the caller read). Entries the write does not touch may have moved.
   */
  async function checkBase(snapshot: Snapshot, name: string, baseSha: string | undefined, operations: readonly EntryOperation[], wholeFile = false) {
    if (!baseSha || baseSha === snapshot.commit) return;
    if (!(await deps.git.resolveRef(baseSha))) {
      await deps.git.fetchAllBranches();
      if (!(await deps.git.resolveRef(baseSha))) throw invalidField('base_sha', `is not a commit of this repository (${baseSha})`);
    }
    const path = manifestPath(name);
    const bytes = await deps.git.readFile({ ref: baseSha, path });
    if (wholeFile) {
      const current = snapshot.manifests.get(name);
      const before = bytes ? new TextDecoder().decode(bytes) : null;
      const now = current?.file?.toString() ?? null;
      if (before !== now && !(before && now && safeParse(before, path)?.toString() === now)) throw errors.staleBase(baseSha, [`manifest:${name}`]);
      return;
    }
    const base = bytes ? safeParse(new TextDecoder().decode(bytes), path) : null;
    const moved = operations
      .filter((op) => (base?.getEntry(op.element_type, op.element_uuid)?.release ?? null) !== op.from)
      .map((op) => `manifest:${name}/${op.element_type}:${op.element_uuid}`);
    if (moved.length > 0) throw errors.staleBase(baseSha, moved);
  }

  async function propose(
    name: string,
    snapshot: Snapshot,
    operations: Operation[],
    options: WriteOptions,
    describe: { title: string; action: string; details: Record<string, unknown> },
  ): Promise<WriteResult> {
    await checkReleases(snapshot, operations);
    // A whole-manifest write may be tens of thousands of operations: the body names the first ones
    // (forges cap a description at 32–64 KiB), the pull request's `manifests` diff lists them all.
    const listed = operations.slice(0, BODY_OPERATIONS).map(describeOperation);
    if (operations.length > BODY_OPERATIONS) listed.push(`…and ${operations.length - BODY_OPERATIONS} more changes.`);
    const body = [`Proposed by ${options.actor.name} through mir.`, '', ...listed].join('\n');
    return deps.pullRequests.propose({
      kind: 'manifest',
      title: describe.title,
      body,
      commitMessage: options.commitMessage,
      branch: manifestBranch(prefix, name, newBranchId()),
      intent: { version: 1, operations },
      snapshot,
      actor: options.actor,
      dryRun: options.dryRun,
      override: options.override,
      action: describe.action,
      target: `manifest:${name}`,
      details: describe.details,
    });
  }

  return {
    async list() {
      const snapshot = await deps.snapshots.latest();
      const manifests = [...snapshot.manifests.entries()]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([name, entry]): ManifestListItem => (entry.file ? manifestToJson(entry.file) : { name, error: { ...entry.error!, path: entry.path } }));
      return { manifests, commit_sha: snapshot.commit };
    },

    async get(name) {
      const snapshot = await deps.snapshots.latest();
      return { manifest: manifestToJson(readable(snapshot, name)), commit_sha: snapshot.commit };
    },

    async replace(name, manifest, options) {
      // Retool's schema leaves `manifest` optional; read as "no entries", `{}` would propose
      // removing every entry. Emptying a manifest must be said in so many words.
      if (manifest === undefined) {
        throw errors.validation([{ field: 'body.manifest', message: 'is required (to empty the manifest, send {"manifest": {"apps": [], "workflows": []}})' }]);
      }
      const wanted = parseManifestEntries(manifest, 'body.manifest');
      const snapshot = await deps.snapshots.latest({ fresh: true });
      const existing = snapshot.manifests.get(name);
      if (existing && !existing.file) throw manifestInvalid(existing);
      const current = existing?.file ? existing.file.manifest : { apps: [], workflows: [] };
      const operations: Operation[] = existing ? [] : [{ op: 'create_manifest', manifest: name }];
      for (const change of diffManifests(current, wanted)) {
        operations.push(
          change.after === null
            ? { op: 'remove_entry', manifest: name, element_type: change.type, element_uuid: change.uuid, from: change.before }
            : { op: 'set_entry', manifest: name, element_type: change.type, element_uuid: change.uuid, from: change.before, to: change.after },
        );
      }
      await checkBase(snapshot, name, options.baseSha, [], true);
      return propose(name, snapshot, operations, options, {
        title: existing ? `Replace manifest ${name}` : `Create manifest ${name}`,
        action: 'manifest.replace',
        details: { manifest: name, dry_run: options.dryRun },
      });
    },

    async delete(name, options) {
      const snapshot = await deps.snapshots.latest({ fresh: true });
      const existing = snapshot.manifests.get(name);
      if (!existing) throw errors.manifestNotFound(name);
      await checkBase(snapshot, name, options.baseSha, [], true);
      return propose(name, snapshot, [{ op: 'delete_manifest', manifest: name, from_blob: existing.blobId }], options, {
        title: `Delete manifest ${name}`,
        action: 'manifest.delete',
        details: { manifest: name },
      });
    },

    async setEntry(name, type, uuid, release, options) {
      const snapshot = await deps.snapshots.latest({ fresh: true });
      const existing = snapshot.manifests.get(name);
      if (existing && !existing.file) throw manifestInvalid(existing);
      const from = existing?.file?.getEntry(type, uuid)?.release ?? null;
      const operation: EntryOperation = { op: 'set_entry', manifest: name, element_type: type, element_uuid: uuid, from, to: release };
      await checkBase(snapshot, name, options.baseSha, [operation]);
      return propose(name, snapshot, [operation], options, {
        title: `Set ${await elementLabel(snapshot, type, uuid)} to ${release} in ${name}`,
        action: 'manifest.entry.set',
        details: { manifest: name, element_type: type, element_uuid: uuid, from, to: release },
      });
    },

    async removeEntry(name, type, uuid, options) {
      const snapshot = await deps.snapshots.latest({ fresh: true });
      const file = readable(snapshot, name);
      const from = file.getEntry(type, uuid)?.release ?? null;
      if (from === null) {
        throw errors.entryNotFound(name, type, uuid);
      }
      const operation: EntryOperation = { op: 'remove_entry', manifest: name, element_type: type, element_uuid: uuid, from };
      await checkBase(snapshot, name, options.baseSha, [operation]);
      return propose(name, snapshot, [operation], options, {
        title: `Remove ${await elementLabel(snapshot, type, uuid)} from ${name}`,
        action: 'manifest.entry.remove',
        details: { manifest: name, element_type: type, element_uuid: uuid, from },
      });
    },
  };
}

function manifestInvalid(entry: SnapshotManifest) {
  const error = entry.error ?? { path: entry.path, reason: 'does not parse' };
  return errors.manifestInvalid(error.path, error.line ?? null, error.reason);
}

function safeParse(text: string, path: string) {
  try {
    return parseManifest(text, path);
  } catch {
    return null;
  }
}

/** The element's name for a title; the protected list read in slices (it may hold tens of thousands). */
async function elementLabel(snapshot: Snapshot, type: ElementType, uuid: string): Promise<string> {
  const element = (await snapshot.loadElements()).find((e) => e.type === type && e.uuid === uuid);
  return element ? `${element.name} (${uuid.slice(0, 8)})` : `${type === 'PAGE' ? 'app' : 'workflow'} ${uuid}`;
}

function describeOperation(op: Operation): string {
  switch (op.op) {
    case 'set_entry':
      return `- ${op.manifest}: ${op.element_type} ${op.element_uuid} ${op.from ?? '(none)'} → ${op.to}`;
    case 'remove_entry':
      return `- ${op.manifest}: remove ${op.element_type} ${op.element_uuid} (was ${op.from})`;
    case 'create_manifest':
      return `- create manifest ${op.manifest}`;
    case 'delete_manifest':
      return `- delete manifest ${op.manifest}`;
    case 'add_artifact':
      return `- add ${op.element_type} ${op.element_uuid} release ${op.version} (sha256 ${op.sha256})`;
  }
}
