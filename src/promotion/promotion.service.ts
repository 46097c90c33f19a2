// Promotion: what differs between two manifests (compare), making one run what the other runs
// with one branch, one commit and one pull request (promote), and rolling an element back in one
// manifest while holding the bad version (rollback). Every change is a set_entry operation, like a
// publish, so merging re-applies exactly these and holds and policy gate them on the way.
import { randomUUID } from 'node:crypto';
import type { Actor } from '../audit/audit.service.js';
import type { Config } from '../config.js';
import { errors, invalidField } from '../errors.js';
import type { GitGateway } from '../git/types.js';
import { manifestPath, publishBranch } from '../formats/layout.js';
import type { Manifest } from '../formats/manifest-canonical.js';
import { parseManifest } from '../formats/manifest-file.js';
import { findElement } from '../formats/protected.js';
import type { ElementType } from '../formats/values.js';
import { compareVersions } from '../formats/version.js';
import type { Override } from '../pull-requests/gates.js';
import type { Operation } from '../pull-requests/intent.js';
import { newBranchId, type DryRunResult, type PushedBranch } from '../pull-requests/proposals.js';
import type { PullRequestService } from '../pull-requests/pull-requests.service.js';
import type { ArtifactCatalog } from '../releases/artifact-catalog.js';
import { elementKey, type Snapshot } from '../snapshots/snapshot.js';
import type { Snapshots } from '../snapshots/snapshots.js';
import { compareManifests, resolveRelease, type Difference, type OneSided } from './compare.js';
import type { HoldService, HoldView } from './holds.service.js';

type SetEntry = Extract<Operation, { op: 'set_entry' }>;

export interface Side {
  /** As asked: a manifest or an instance name. */
  name: string;
  manifest: string;
  commit_sha: string;
}

export interface ComparisonView {
  from: Side;
  to: Side;
  differences: (Difference & { name: string | null; releases: { release_version: string; release_description: string }[] })[];
  only_in_from: (OneSided & { name: string | null })[];
  only_in_to: (OneSided & { name: string | null })[];
}

export interface WriteOptions {
  readonly actor: Actor;
  readonly dryRun: boolean;
  readonly baseSha?: string | undefined;
  readonly commitMessage?: string | undefined;
  readonly override?: Override | undefined;
}

export interface PromoteRequest {
  readonly from: string;
  readonly to: string;
  readonly elements?: readonly { element_uuid: string; element_type: ElementType }[] | undefined;
}

export interface RollbackRequest {
  readonly manifest: string;
  readonly element_uuid: string;
  readonly element_type: ElementType;
  readonly to?: string | undefined;
  readonly reason: string;
}

export type RollbackResult = (PushedBranch | DryRunResult) & { hold: HoldView | null; held_version: string };

export interface PromotionService {
  compare(from: string, to: string): Promise<ComparisonView>;
  promote(request: PromoteRequest, options: WriteOptions): Promise<PushedBranch | DryRunResult>;
  rollback(request: RollbackRequest, options: WriteOptions): Promise<RollbackResult>;
}

export interface PromotionDeps {
  readonly git: GitGateway;
  readonly snapshots: Snapshots;
  readonly pullRequests: PullRequestService;
  readonly artifacts: ArtifactCatalog;
  readonly holds: HoldService;
  /** The manifest an instance follows (404 instance_not_found; null when unbound). */
  readonly instanceManifest: (name: string) => Promise<string | null>;
  readonly config: Pick<Config, 'git'>;
}

export function createPromotionService(deps: PromotionDeps): PromotionService {
  const versionsOf = (snapshot: Snapshot) => (type: ElementType, uuid: string) => [...(snapshot.releases.get(elementKey(type, uuid))?.keys() ?? [])];

  /** A manifest by its name, or the one an instance of that name follows. */
  async function side(snapshot: Snapshot, name: string, field: string): Promise<{ side: Side; manifest: Manifest }> {
    let manifest = snapshot.manifests.has(name) ? name : null;
    if (manifest === null) {
      try {
        manifest = await deps.instanceManifest(name);
      } catch {
        throw errors.manifestNotFound(name);
      }
      if (manifest === null) throw invalidField(field, `instance ${name} follows no manifest`);
    }
    const entry = snapshot.manifests.get(manifest);
    if (!entry) throw errors.manifestNotFound(manifest);
    if (!entry.file) throw errors.manifestInvalid(entry.error!.path, entry.error!.line ?? null, entry.error!.reason);
    return { side: { name, manifest, commit_sha: snapshot.commit }, manifest: entry.file.manifest };
  }

  async function comparison(snapshot: Snapshot, from: string, to: string): Promise<ComparisonView> {
    const a = await side(snapshot, from, 'from');
    const b = await side(snapshot, to, 'to');
    const result = compareManifests(a.manifest, b.manifest, versionsOf(snapshot));
    const name = (type: ElementType, uuid: string) => findElement(snapshot.elements, type, uuid)?.name ?? null;
    // Descriptions of every release in between, described in one batch (the catalog remembers them).
    const located = result.differences.flatMap((d) =>
      d.between.flatMap((version) => {
        const artifact = snapshot.releases.get(elementKey(d.element_type, d.element_uuid))?.get(version);
        return artifact ? [{ blobId: artifact.blobId, commit: snapshot.commit, path: artifact.path }] : [];
      }),
    );
    const described = located.length > 0 ? await deps.artifacts.describe(located) : new Map();
    const description = (d: Difference, version: string) => {
      const artifact = snapshot.releases.get(elementKey(d.element_type, d.element_uuid))?.get(version);
      return (artifact && described.get(artifact.blobId)?.metadata?.release_description) ?? '';
    };
    return {
      from: a.side,
      to: b.side,
      differences: result.differences.map((d) => ({
        ...d,
        name: name(d.element_type, d.element_uuid),
        releases: d.between.map((version) => ({ release_version: version, release_description: description(d, version) })),
      })),
      only_in_from: result.only_in_from.map((e) => ({ ...e, name: name(e.element_type, e.element_uuid) })),
      only_in_to: result.only_in_to.map((e) => ({ ...e, name: name(e.element_type, e.element_uuid) })),
    };
  }

  /** 409 stale_base when an entry an operation changes is not what it was at `baseSha`. */
  async function checkBase(snapshot: Snapshot, baseSha: string | undefined, manifest: string, operations: readonly SetEntry[]): Promise<void> {
    if (!baseSha || baseSha === snapshot.commit) return;
    if (!(await deps.git.resolveRef(baseSha))) throw invalidField('body.base_sha', `is not a commit of this repository (${baseSha})`);
    const bytes = await deps.git.readFile({ ref: baseSha, path: manifestPath(manifest) });
    let before: ReturnType<typeof parseManifest> | null = null;
    try {
      before = bytes ? parseManifest(bytes, manifestPath(manifest)) : null;
    } catch {
      // A manifest that did not parse then counts as having no entries.
    }
    const moved = operations
      .filter((op) => (before?.getEntry(op.element_type, op.element_uuid)?.release ?? null) !== op.from)
      .map((op) => `manifest:${manifest}/${op.element_type}:${op.element_uuid}`);
    if (moved.length > 0) throw errors.staleBase(baseSha, moved);
  }

  async function requireValidArtifacts(snapshot: Snapshot, operations: readonly SetEntry[]): Promise<void> {
    await deps.artifacts.requireValid(
      operations.flatMap((op) => {
        const artifact = snapshot.releases.get(elementKey(op.element_type, op.element_uuid))?.get(op.to);
        return artifact ? [{ blobId: artifact.blobId, commit: snapshot.commit, path: artifact.path }] : [];
      }),
    );
  }

  return {
    async compare(from, to) {
      return comparison(await deps.snapshots.latest({ elements: true }), from, to);
    },

    async promote(request, options) {
      const snapshot = await deps.snapshots.latest({ fresh: true, elements: true });
      const view = await comparison(snapshot, request.from, request.to);
      const target = view.to.manifest;
      if (view.from.manifest === target) throw invalidField('body.to', 'is the same manifest as body.from');
      const candidates = new Map<string, { type: ElementType; uuid: string; from: string | null; version: string | null; label: string }>();
      for (const d of view.differences)
        candidates.set(elementKey(d.element_type, d.element_uuid), {
          type: d.element_type,
          uuid: d.element_uuid,
          from: d.to_release,
          version: d.from_version,
          label: d.name ?? d.element_uuid,
        });
      for (const e of view.only_in_from)
        candidates.set(elementKey(e.element_type, e.element_uuid), {
          type: e.element_type,
          uuid: e.element_uuid,
          from: null,
          version: e.version,
          label: e.name ?? e.element_uuid,
        });
      let chosen = [...candidates.values()];
      const skipped: string[] = [];
      if (request.elements) {
        const fromFile = snapshot.manifests.get(view.from.manifest)!.file!;
        chosen = [];
        request.elements.forEach((element, i) => {
          const found = candidates.get(elementKey(element.element_type, element.element_uuid));
          if (found) return void chosen.push(found);
          if (!fromFile.getEntry(element.element_type, element.element_uuid))
            throw invalidField(`body.elements[${i}]`, `${element.element_type} ${element.element_uuid} is not in manifest ${view.from.manifest}`);
          skipped.push(`${element.element_type} ${element.element_uuid}: already the same in ${target}`);
        });
      }
      const operations: SetEntry[] = [];
      for (const c of chosen) {
        // `latest` is promoted as the version it resolves to: what was tested is what ships.
        if (c.version === null) {
          if (request.elements) throw invalidField('body.elements', `${c.type} ${c.uuid} runs latest in ${view.from.manifest} and has no release to promote`);
          skipped.push(`${c.type} ${c.uuid}: runs latest with no release to promote`);
          continue;
        }
        if (c.from === c.version) continue;
        operations.push({ op: 'set_entry', manifest: target, element_type: c.type, element_uuid: c.uuid, from: c.from, to: c.version });
      }
      if (operations.length === 0) throw errors.noChange();
      await checkBase(snapshot, options.baseSha, target, operations);
      await requireValidArtifacts(snapshot, operations);
      const label = (op: SetEntry) => candidates.get(elementKey(op.element_type, op.element_uuid))!.label;
      const title =
        operations.length === 1
          ? `Promote ${label(operations[0]!)} ${operations[0]!.to} from ${view.from.manifest} to ${target}`
          : `Promote ${operations.length} changes from ${view.from.manifest} to ${target}`;
      return deps.pullRequests.propose({
        kind: 'promotion',
        title,
        body: [
          `Proposed by ${options.actor.name} through mir: make ${target} run what ${view.from.manifest} runs (read at ${snapshot.commit}).`,
          '',
          ...operations.map((op) => `- ${target}: ${label(op)} (${op.element_type} ${op.element_uuid}) ${op.from ?? '(none)'} → ${op.to}`),
          ...(skipped.length > 0 ? ['', 'Not promoted:', ...skipped.map((s) => `- ${s}`)] : []),
        ].join('\n'),
        commitMessage: options.commitMessage,
        branch: publishBranch(deps.config.git.branchPrefix, newBranchId()),
        intent: { version: 1, operations },
        snapshot,
        actor: options.actor,
        dryRun: options.dryRun,
        override: options.override,
        action: 'promote',
        target: `manifest:${target}`,
        details: { from: view.from.manifest, to: target, changes: operations.map(({ op: _op, ...change }) => change) },
      });
    },

    async rollback(request, options) {
      const snapshot = await deps.snapshots.latest({ fresh: true, elements: true });
      const entry = snapshot.manifests.get(request.manifest);
      if (!entry) throw errors.manifestNotFound(request.manifest);
      if (!entry.file) throw errors.manifestInvalid(entry.error!.path, entry.error!.line ?? null, entry.error!.reason);
      const current = entry.file.getEntry(request.element_type, request.element_uuid)?.release;
      if (current === undefined) throw errors.entryNotFound(request.manifest, request.element_type, request.element_uuid);
      const versions = versionsOf(snapshot)(request.element_type, request.element_uuid);
      const bad = resolveRelease(current, versions);
      if (bad === null) throw invalidField('body.element_uuid', `runs latest in ${request.manifest} and has no release to roll back from`);
      let target: string;
      if (request.to !== undefined) {
        if (compareVersions(request.to, bad) >= 0)
          throw invalidField('body.to', `must be lower than ${bad}, the release ${request.manifest} runs: that is not a rollback`);
        if (!versions.includes(request.to))
          throw errors.releaseNotFound(request.element_type, request.element_uuid, request.to, { manifest: request.manifest });
        target = request.to;
      } else {
        const earlier = versions.filter((v) => compareVersions(v, bad) < 0).sort(compareVersions);
        if (earlier.length === 0) throw invalidField('body.element_uuid', `has no release before ${bad} to roll back to`);
        target = earlier[earlier.length - 1]!;
      }
      const operation: SetEntry = {
        op: 'set_entry',
        manifest: request.manifest,
        element_type: request.element_type,
        element_uuid: request.element_uuid,
        from: current,
        to: target,
      };
      await checkBase(snapshot, options.baseSha, request.manifest, [operation]);
      await requireValidArtifacts(snapshot, [operation]);
      const label = findElement(snapshot.elements, request.element_type, request.element_uuid)?.name ?? request.element_uuid;
      const element = { type: request.element_type, uuid: request.element_uuid };
      const existing = (await deps.holds.list({ active: true, element })).find((h) => h.version === bad);
      const holdId = existing?.id ?? randomUUID();
      const result = await deps.pullRequests.propose({
        kind: 'rollback',
        title: `Roll back ${label} from ${bad} to ${target} in ${request.manifest}`,
        body: [
          `Proposed by ${options.actor.name} through mir.`,
          '',
          `- ${request.manifest}: ${label} (${request.element_type} ${request.element_uuid}) ${current} → ${target}`,
          '',
          `${bad} is held: ${request.reason}`,
        ].join('\n'),
        commitMessage: options.commitMessage,
        branch: publishBranch(deps.config.git.branchPrefix, newBranchId()),
        intent: { version: 1, operations: [operation] },
        snapshot,
        actor: options.actor,
        dryRun: options.dryRun,
        override: options.override,
        action: 'rollback',
        target: `manifest:${request.manifest}`,
        details: {
          element_type: request.element_type,
          element_uuid: request.element_uuid,
          from: current,
          to: target,
          held: bad,
          hold: holdId,
          reason: request.reason,
        },
      });
      if ('dry_run' in result) return { ...result, hold: null, held_version: bad };
      const hold = await deps.holds.place(
        {
          id: holdId,
          element_type: request.element_type,
          element_uuid: request.element_uuid,
          version: bad,
          manifest: request.manifest,
          reason: request.reason,
          pull_request: result.pull_request.number,
        },
        options.actor,
      );
      return { ...result, hold, held_version: bad };
    },
  };
}
