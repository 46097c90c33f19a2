// Releases: listing an element's artifacts, merged and pending; creating one from the
// element's source on the default branch as a pull request that adds only the zip; serving a zip.
// Hotfixes create their patch releases through `proposeRelease` too, from another source commit.
import type { Actor } from '../audit/audit.service.js';
import type { Config } from '../config.js';
import type { PullRequestKind } from '../db/database.js';
import { errors, hasCode } from '../errors.js';
import type { FolderFile, GitGateway } from '../git/types.js';
import type { Snapshot } from '../snapshots/snapshot.js';
import { elementKey } from '../snapshots/snapshot.js';
import type { Operation } from '../pull-requests/intent.js';
import type { DryRunResult, PushedBranch } from '../pull-requests/proposals.js';
import type { PullRequestService } from '../pull-requests/pull-requests.service.js';
import { buildArtifact } from '../formats/artifact-writer.js';
import { DEFAULT_ARTIFACT_LIMITS, sha256Hex } from '../formats/artifact.js';
import { blobId, treeId } from '../git/object-id.js';
import { artifactPath, PROTECTED_APPS_PATH, PROTECTED_WORKFLOWS_PATH, releaseBranch } from '../formats/layout.js';
import type { ProtectedElement } from '../formats/protected.js';
import { findElement } from '../formats/protected.js';
import type { ElementType } from '../formats/values.js';
import { bumpVersion, compareVersions, highestVersion, type BumpKind } from '../formats/version.js';
import type { ArtifactCatalog } from './artifact-catalog.js';
import { createArtifactOrigins } from './artifact-origins.js';
import type { ActiveHold, ActiveHolds } from './release-matrix.js';
import { pendingArtifacts, type PendingArtifact } from './pending.js';
import type { Snapshots } from '../snapshots/snapshots.js';

export interface ReleaseView {
  release_version: string;
  release_description: string;
  created_at: string;
  created_by: string | null;
  sha256: string;
  size: number;
  status: 'available' | 'pending';
  pull_request?: { number: number; url: string; state: string };
  /** Set when this version is held after a rollback. */
  hold?: ActiveHold;
}

export interface CreateRelease {
  readonly release_version?: string | undefined;
  readonly bump?: BumpKind | undefined;
  readonly release_description?: string | undefined;
}

export interface ReleaseWriteOptions {
  readonly actor: Actor;
  readonly dryRun: boolean;
  readonly commitMessage?: string | undefined;
}

export type ReleaseResult = (PushedBranch | DryRunResult) & { release_version: string; sha256: string; size: number };

export interface ArtifactDownload {
  readonly sha256: string;
  readonly size: number;
  readonly fileName: string;
  bytes(): Promise<Uint8Array>;
}

/** Every version an element has or is about to have. */
export interface KnownVersions {
  readonly available: readonly string[];
  readonly pending: readonly PendingArtifact[];
}

export interface ReleaseService {
  list(type: ElementType, uuid: string): Promise<ReleaseView[]>;
  create(type: ElementType, uuid: string, request: CreateRelease, options: ReleaseWriteOptions): Promise<ReleaseResult>;
  artifact(type: ElementType, uuid: string, version: string): Promise<ArtifactDownload>;
  /** The protected element, 404 element_not_found (422 when its protected list does not parse). */
  element(snapshot: Snapshot, type: ElementType, uuid: string): ProtectedElement;
  knownVersions(snapshot: Snapshot, type: ElementType, uuid: string): Promise<KnownVersions>;
  /** Builds the artifact of `files` (read at `sourceCommit`) and proposes it to the default branch. */
  proposeRelease(release: {
    kind: PullRequestKind;
    snapshot: Snapshot;
    element: ProtectedElement;
    version: string;
    files: readonly FolderFile[];
    sourceCommit: string;
    description: string;
    options: ReleaseWriteOptions;
    title: string;
    details?: Record<string, unknown>;
  }): Promise<ReleaseResult>;
}

export interface ReleaseServiceDeps {
  readonly git: GitGateway;
  readonly snapshots: Snapshots;
  readonly pullRequests: PullRequestService;
  readonly catalog: ArtifactCatalog;
  readonly config: Pick<Config, 'git'>;
  readonly holds: ActiveHolds;
}

export function createReleaseService(deps: ReleaseServiceDeps): ReleaseService {
  const origins = createArtifactOrigins(deps.git);

  function element(snapshot: Snapshot, type: ElementType, uuid: string): ProtectedElement {
    const found = findElement(snapshot.elements, type, uuid);
    if (found) return found;
    const listPath = type === 'PAGE' ? PROTECTED_APPS_PATH : PROTECTED_WORKFLOWS_PATH;
    const broken = snapshot.elementErrors.find((e) => e.path === listPath);
    // The element may be listed in the part of the file that did not parse: say so, not "not found".
    if (broken) {
      throw errors.repositoryFileInvalid(broken.path, broken.line ?? null, broken.reason);
    }
    throw errors.elementNotFound(uuid, type);
  }

  async function knownVersions(snapshot: Snapshot, type: ElementType, uuid: string): Promise<KnownVersions> {
    const available = [...(snapshot.releases.get(elementKey(type, uuid))?.keys() ?? [])];
    const pending = pendingArtifacts(await deps.pullRequests.listOpen()).filter((p) => p.type === type && p.uuid === uuid && !available.includes(p.version));
    return { available, pending };
  }

  function chooseVersion(uuid: string, request: CreateRelease, known: KnownVersions): string {
    const highest = highestVersion([...known.available, ...known.pending.map((p) => p.version)]);
    if (request.bump) return bumpVersion(highest, request.bump);
    const version = request.release_version!;
    if (known.available.includes(version)) throw errors.versionExists(uuid, version, null);
    const pending = known.pending.find((p) => p.version === version);
    if (pending) throw errors.versionExists(uuid, version, pending.pullRequest.number);
    if (highest !== null && compareVersions(version, highest) <= 0) throw errors.versionNotGreater(uuid, version, highest);
    return version;
  }

  const service: ReleaseService = {
    element,
    knownVersions,

    async list(type, uuid) {
      const snapshot = await deps.snapshots.latest({ elements: true });
      const artifacts = snapshot.releases.get(elementKey(type, uuid));
      if (!artifacts?.size) element(snapshot, type, uuid);
      const available = [...(artifacts?.values() ?? [])];
      const pending = (await knownVersions(snapshot, type, uuid)).pending;
      const described = await deps.catalog.describe([
        ...available.map((a) => ({ blobId: a.blobId, commit: snapshot.commit, path: a.path })),
        ...pending.map((p) => ({ blobId: p.blob, commit: p.pullRequest.head_commit, path: artifactPath(type, uuid, p.version) })),
      ]);
      // Zips made by other tools carry no .release.json: their commit says who added them, when.
      const undated = available.filter((a) => !described.get(a.blobId)?.metadata);
      const found = await Promise.all(undated.map((a) => origins.of(snapshot.commit, a.path, a.blobId)));
      const originOf = new Map(undated.map((a, i) => [a.blobId, found[i]]));
      const views: ReleaseView[] = [];
      const held = new Map(((await deps.holds()).get(elementKey(type, uuid)) ?? []).map((h) => [h.version, h]));
      for (const [version, artifact] of artifacts ?? []) {
        const hold = held.get(version);
        const info = described.get(artifact.blobId);
        const metadata = info?.metadata ?? null;
        const origin = originOf.get(artifact.blobId);
        views.push({
          release_version: version,
          release_description: metadata?.release_description ?? '',
          created_at: metadata?.created_at ?? origin?.createdAt ?? new Date(0).toISOString(),
          created_by: metadata?.created_by ?? origin?.createdBy ?? null,
          sha256: info?.sha256 ?? '',
          size: info?.size ?? artifact.size,
          status: 'available',
          ...(hold
            ? {
                hold: {
                  id: hold.id,
                  version: hold.version,
                  reason: hold.reason,
                  manifest: hold.manifest,
                  created_by: hold.created_by,
                  created_at: hold.created_at,
                },
              }
            : {}),
        });
      }
      for (const p of pending) {
        const metadata = described.get(p.blob)?.metadata ?? null;
        views.push({
          release_version: p.version,
          release_description: metadata?.release_description ?? '',
          created_at: metadata?.created_at ?? p.pullRequest.created_at.toISOString(),
          created_by: metadata?.created_by ?? p.pullRequest.author,
          sha256: p.sha256,
          size: p.size,
          status: 'pending',
          pull_request: {
            number: p.pullRequest.number,
            url: p.pullRequest.external_url ?? deps.pullRequests.pullRequestUrl(p.pullRequest.number),
            state: p.pullRequest.state,
          },
        });
      }
      return views.sort((a, b) => compareVersions(b.release_version, a.release_version));
    },

    async create(type, uuid, request, options) {
      if ((request.release_version === undefined) === (request.bump === undefined)) {
        throw errors.validation([{ field: 'body.release_version', message: 'or body.bump is required, and only one of them' }]);
      }
      const snapshot = await deps.snapshots.latest({ fresh: true, elements: true });
      const target = element(snapshot, type, uuid);
      const version = chooseVersion(uuid, request, await knownVersions(snapshot, type, uuid));
      // The artifact's limit, checked before any file is read: a folder over it never costs its size in memory.
      const files = await deps.git.readFolder({ ref: snapshot.commit, path: target.sourceFolder, maxBytes: DEFAULT_ARTIFACT_LIMITS.maxTotalBytes });
      if (!files?.length) throw errors.sourceFolderEmpty(uuid, target.sourceFolder);
      return service.proposeRelease({
        kind: 'release',
        snapshot,
        element: target,
        version,
        files,
        sourceCommit: snapshot.commit,
        description: request.release_description ?? '',
        options,
        title: `Release ${target.name} ${version}`,
        details: request.bump ? { bump: request.bump } : {},
      });
    },

    async artifact(type, uuid, version) {
      const snapshot = await deps.snapshots.latest({ elements: true });
      const artifact = snapshot.releases.get(elementKey(type, uuid))?.get(version);
      if (!artifact) throw errors.releaseNotFound(type, uuid, version);
      const info = (await deps.catalog.describe([{ blobId: artifact.blobId, commit: snapshot.commit, path: artifact.path }])).get(artifact.blobId);
      if (!info) throw errors.internal(`${artifact.path} vanished from ${snapshot.commit}`);
      const name = findElement(snapshot.elements, type, uuid)?.name ?? uuid;
      return {
        sha256: info.sha256,
        size: info.size,
        fileName: `${name}-${version}.zip`,
        bytes: async () => {
          const bytes = await deps.git.readFile({ ref: snapshot.commit, path: artifact.path });
          if (!bytes) throw errors.internal(`${artifact.path} vanished from ${snapshot.commit}`);
          return bytes;
        },
      };
    },

    async proposeRelease(release) {
      const { element: target, version, options } = release;
      // The source commit's date, not the clock: the same commit, version, description and
      // author rebuild a byte-identical zip (as SOURCE_DATE_EPOCH does for reproducible builds).
      const [source] = await deps.git.log({ ref: release.sourceCommit, limit: 1 });
      if (!source) throw errors.internal(`no commit ${release.sourceCommit}`);
      const zip = await buildArtifact(
        release.files.map((f) => ({ path: f.path, bytes: f.bytes })),
        {
          format: 1,
          element_uuid: target.uuid,
          element_type: target.type,
          name: target.name,
          release_version: version,
          release_description: release.description,
          created_at: new Date(source.author.timestamp * 1000).toISOString(),
          created_by: options.actor.name,
          source_commit: release.sourceCommit,
          source_tree: treeId(release.files),
        },
      );
      const blob = blobId(zip);
      const sha256 = sha256Hex(zip);
      const operation: Operation = { op: 'add_artifact', element_type: target.type, element_uuid: target.uuid, version, blob, sha256, size: zip.length };
      const branch = releaseBranch(deps.config.git.branchPrefix, target.uuid, version);
      try {
        const result = await deps.pullRequests.propose({
          kind: release.kind,
          title: release.title,
          body: [
            `Proposed by ${options.actor.name} through mir.`,
            '',
            `- add ${artifactPath(target.type, target.uuid, version)} (sha256 ${sha256}, ${zip.length} bytes)`,
            `- built from ${target.sourceFolder} at ${release.sourceCommit}`,
            ...(release.description ? ['', release.description] : []),
          ].join('\n'),
          commitMessage: options.commitMessage,
          branch,
          intent: { version: 1, operations: [operation] },
          snapshot: release.snapshot,
          blobs: new Map([[blob, zip]]),
          actor: options.actor,
          dryRun: options.dryRun,
          action: release.kind === 'hotfix_release' ? 'hotfix.release' : 'release.create',
          target: `element:${target.type}:${target.uuid}`,
          details: {
            element_type: target.type,
            element_uuid: target.uuid,
            release_version: version,
            sha256,
            source_commit: release.sourceCommit,
            ...release.details,
          },
        });
        return { ...result, release_version: version, sha256, size: zip.length };
      } catch (error) {
        // Another request proposed this version between our check and our push.
        if (hasCode(error, 'branch_exists')) throw errors.versionExists(target.uuid, version, null);
        throw error;
      }
    },
  };
  return service;
}
