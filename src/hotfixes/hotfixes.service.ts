// Hotfix lines: patch a `major.minor` line without the default branch's newer source.
// Creating one claims the line in Postgres with an `opening` row (a partial unique index: one
// opening or open hotfix per element and line, whatever the number of processes), pushes
// `hotfix/<uuid>/<X.Y>`, then turns the row open in one transaction with its audit event. The
// branch is the default branch with the element's folder replaced by the newest artifact of the
// line. People commit the fix there with any git client; its patch release is built from that
// folder and proposes only the artifact to the default branch. Merging that pull request closes
// the hotfix.
import type { Kysely } from 'kysely';
import type { Actor, AuditService } from '../audit/audit.service.js';
import type { HotfixRow, HotfixState, PullRequestRow, Tables } from '../db/database.js';
import { errors, hasCode } from '../errors.js';
import type { EventPublisher } from '../events/events.service.js';
import type { CommitInfo, FileChange, GitGateway } from '../git/types.js';
import { elementKey } from '../snapshots/snapshot.js';
import type { Intent } from '../pull-requests/intent.js';
import type { PullRequestService } from '../pull-requests/pull-requests.service.js';
import { readArtifact } from '../formats/artifact-reader.js';
import { DEFAULT_ARTIFACT_LIMITS } from '../formats/artifact.js';
import { hotfixBranch } from '../formats/layout.js';
import type { ElementType } from '../formats/values.js';
import { highestInLine, lineOf, nextPatchInLine } from '../formats/version.js';
import type { ReleaseResult, ReleaseService } from '../releases/releases.service.js';
import * as repository from './hotfixes.repository.js';
import type { Snapshots } from '../snapshots/snapshots.js';

export interface HotfixView {
  id: string;
  element_uuid: string;
  element_type: ElementType;
  line: string;
  base_version: string;
  branch: string;
  base_commit: string;
  state: HotfixState;
  release_version: string | null;
  pull_request: { number: number; url: string } | null;
  author: string;
  created_at: string;
  updated_at: string;
  released_at: string | null;
  abandoned_at: string | null;
  abandoned_by: string | null;
}

export interface HotfixCommit {
  sha: string;
  message: string;
  author: string;
  email: string;
  committed_at: string;
}

export interface HotfixDryRun {
  dry_run: true;
  base_sha: string;
  branch_name: string;
  line: string;
  base_version: string;
  files: { path: string; change: 'added' | 'modified' | 'deleted' }[];
}

export interface HotfixAbandonDryRun {
  dry_run: true;
  hotfix_id: string;
  /** The branch that would be deleted. */
  branch_name: string;
  state: 'abandoned';
}

export interface HotfixWriteOptions {
  readonly actor: Actor;
  readonly dryRun: boolean;
  readonly commitMessage?: string | undefined;
}

export interface HotfixService {
  create(
    request: { element_uuid: string; element_type: ElementType; release: string },
    options: HotfixWriteOptions,
  ): Promise<{ hotfix: HotfixView; commit_sha: string } | HotfixDryRun>;
  list(filter: { state?: HotfixState | undefined; element_uuid?: string | undefined; limit: number }): Promise<HotfixView[]>;
  get(id: string): Promise<{ hotfix: HotfixView; commits: HotfixCommit[] }>;
  release(id: string, request: { release_description?: string | undefined }, options: HotfixWriteOptions): Promise<ReleaseResult & { hotfix_id: string }>;
  abandon(id: string, options: HotfixWriteOptions): Promise<HotfixView | HotfixAbandonDryRun>;
}

export interface HotfixServiceDeps {
  readonly db: Kysely<Tables>;
  readonly git: GitGateway;
  readonly snapshots: Snapshots;
  readonly audit: AuditService;
  readonly events: EventPublisher;
  readonly pullRequests: PullRequestService;
  readonly releases: ReleaseService;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function createHotfixService(deps: HotfixServiceDeps): HotfixService {
  const toView = (row: HotfixRow): HotfixView => ({
    id: row.id,
    element_uuid: row.element_uuid,
    element_type: row.element_type,
    line: row.line,
    base_version: row.base_version,
    branch: row.branch,
    base_commit: row.base_commit,
    state: row.state,
    release_version: row.release_version,
    pull_request: row.pull_request === null ? null : { number: row.pull_request, url: deps.pullRequests.pullRequestUrl(row.pull_request) },
    author: row.author,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
    released_at: row.released_at?.toISOString() ?? null,
    abandoned_at: row.abandoned_at?.toISOString() ?? null,
    abandoned_by: row.abandoned_by,
  });

  async function load(id: string): Promise<HotfixRow> {
    const row = UUID.test(id) ? await repository.findHotfix(deps.db, id.toLowerCase()) : undefined;
    if (!row) throw errors.hotfixNotFound(id);
    return row;
  }

  /**
   * Undoes a create that failed after its claim: the one compensated step is the pushed branch.
   * When deleting it fails, the opening row stays for the sweeper, which removes both: a branch no
   * row names would block the line for good (the next create's push finds it).
   */
  async function giveBack(id: string, pushedBranch: string | undefined): Promise<void> {
    if (pushedBranch !== undefined) {
      const deleted = await deps.git.deleteBranch({ branch: pushedBranch }).then(
        () => true,
        (error: unknown) => hasCode(error, 'branch_not_found'),
      );
      if (!deleted) return;
    }
    // A row this fails to delete is the sweeper's too; the caller's error is the one to report.
    await repository.deleteOpening(deps.db, id).catch(() => {});
  }

  const toCommit = (c: CommitInfo): HotfixCommit => ({
    sha: c.sha,
    message: c.message,
    author: c.author.name,
    email: c.author.email,
    committed_at: new Date(c.author.timestamp * 1000).toISOString(),
  });

  /** A merged hotfix release closes its hotfix, and its branch goes. */
  deps.pullRequests.onMerged(async (pullRequest: PullRequestRow, actor: Actor) => {
    if (pullRequest.kind !== 'hotfix_release') return;
    for (const op of (pullRequest.intent as Intent).operations) {
      if (op.op !== 'add_artifact') continue;
      // Found by element and line rather than by pull request number: the merge may beat the
      // release request's own update of the row.
      const open = await repository.findOpenHotfix(deps.db, { type: op.element_type, uuid: op.element_uuid, line: lineOf(op.version) });
      if (!open) continue;
      const released = await deps.db.transaction().execute(async (trx) => {
        const done = await repository.updateOpenHotfix(trx, open.id, {
          state: 'released',
          released_at: new Date(),
          release_version: op.version,
          pull_request: pullRequest.number,
        });
        if (done) {
          await deps.audit.record(
            actor,
            {
              action: 'hotfix.released',
              target: `hotfix:${open.id}`,
              details: { release_version: op.version, pull_request: pullRequest.number, branch: open.branch },
            },
            trx,
          );
          await deps.events.publish(trx, [{ type: 'hotfix.released', data: { hotfix: toView(done) } }]);
        }
        return done;
      });
      if (!released) continue;
      await deps.git.deleteBranch({ branch: open.branch }).catch((error: unknown) => {
        if (!hasCode(error, 'branch_not_found')) throw error;
      });
    }
  });

  return {
    async create(request, options) {
      const snapshot = await deps.snapshots.latest({ fresh: true });
      const element = deps.releases.element(snapshot, request.element_type, request.element_uuid);
      const artifacts = snapshot.releases.get(elementKey(element.type, element.uuid));
      if (!artifacts?.has(request.release)) throw errors.releaseNotFound(element.type, element.uuid, request.release);
      const line = lineOf(request.release);
      const baseVersion = highestInLine([...artifacts.keys()], line)!;
      const artifact = artifacts.get(baseVersion)!;
      const zip = await deps.git.readFile({ ref: snapshot.commit, path: artifact.path });
      if (!zip) throw errors.internal(`${artifact.path} vanished from ${snapshot.commit}`);
      const { entries } = await readArtifact(zip, { path: artifact.path });

      // The folder becomes exactly the artifact's files: what is not in the zip goes.
      const current = (await deps.git.readFolder({ ref: snapshot.commit, path: element.sourceFolder })) ?? [];
      const wanted = new Map(entries.map((e) => [e.path, e.bytes]));
      const changes: FileChange[] = [];
      const files: HotfixDryRun['files'] = [];
      for (const file of current) {
        if (!wanted.has(file.path)) {
          changes.push({ path: `${element.sourceFolder}/${file.path}`, delete: true });
          files.push({ path: `${element.sourceFolder}/${file.path}`, change: 'deleted' });
        }
      }
      const existing = new Map(current.map((f) => [f.path, f.bytes]));
      for (const [path, bytes] of wanted) {
        const before = existing.get(path);
        if (before && Buffer.from(before).equals(bytes)) continue;
        changes.push({ path: `${element.sourceFolder}/${path}`, bytes });
        files.push({ path: `${element.sourceFolder}/${path}`, change: before ? 'modified' : 'added' });
      }
      files.sort((a, b) => (a.path < b.path ? -1 : 1));
      const branch = hotfixBranch(element.uuid, line);
      if (options.dryRun) return { dry_run: true, base_sha: snapshot.commit, branch_name: branch, line, base_version: baseVersion, files };

      const commit = await deps.git.commit({
        parent: snapshot.commit,
        changes,
        message:
          options.commitMessage ??
          `Start hotfix ${line} of ${element.name} from ${baseVersion}\n\n${element.sourceFolder} holds release ${baseVersion}; commit the fix here.`,
        author: { name: options.actor.name, email: options.actor.email },
      });
      // Recorded first (`opening`): the row is the claim on the line, and whatever happens from here
      // on leaves a row naming the branch; the sweeper removes what a crash leaves
      // (src/pull-requests/orphans.ts).
      const opening = await repository.insertOpening(deps.db, {
        element_type: element.type,
        element_uuid: element.uuid,
        line,
        base_version: baseVersion,
        branch,
        base_commit: commit,
        author: options.actor.name,
        author_email: options.actor.email,
      });
      if (!opening) {
        const holder = await repository.findLineHolder(deps.db, { type: element.type, uuid: element.uuid, line });
        throw errors.hotfixExists(element.uuid, line, holder?.id ?? 'unknown');
      }
      let pushed = false;
      try {
        await deps.git.pushBranch({ branch, commit, expectedOld: null });
        pushed = true;
        // The hotfix and its audit event, together.
        const row = await deps.db.transaction().execute(async (trx) => {
          const open = await repository.markOpened(trx, opening.id);
          if (!open) throw errors.internal(`hotfix ${opening.id} was no longer opening`);
          await deps.audit.record(
            options.actor,
            {
              action: 'hotfix.create',
              target: `hotfix:${open.id}`,
              details: { element_type: element.type, element_uuid: element.uuid, line, base_version: baseVersion, branch, commit },
            },
            trx,
          );
          await deps.events.publish(trx, [{ type: 'hotfix.opened', data: { hotfix: toView(open) } }]);
          return open;
        });
        return { hotfix: toView(row), commit_sha: commit };
      } catch (error) {
        await giveBack(opening.id, pushed ? branch : undefined);
        throw error;
      }
    },

    async list(filter) {
      const rows = await repository.listHotfixes(deps.db, { state: filter.state, elementUuid: filter.element_uuid?.toLowerCase(), limit: filter.limit });
      return rows.map(toView);
    },

    async get(id) {
      const row = await load(id);
      // People push to the hotfix branch: look at the remote's current state.
      if (row.state === 'open') await deps.git.fetchAllBranches();
      const tip = row.state === 'open' ? await deps.git.resolveRef(row.branch) : row.release_commit;
      const commits = tip ? await deps.git.log({ ref: tip, since: row.base_commit, limit: 200 }) : [];
      return { hotfix: toView(row), commits: commits.map(toCommit) };
    },

    async release(id, request, options) {
      const row = await load(id);
      if (row.state !== 'open') throw errors.hotfixNotOpen(row.id, row.state);
      if (row.pull_request !== null) {
        const pending = (await deps.pullRequests.listOpen()).find((pr) => pr.number === row.pull_request);
        if (pending) {
          throw errors.hotfixReleasePending(row.id, pending.number);
        }
      }
      await deps.git.fetchAllBranches();
      const tip = await deps.git.resolveRef(row.branch);
      if (!tip) throw errors.branchNotFound(row.branch);
      if ((await deps.git.log({ ref: tip, since: row.base_commit, limit: 1 })).length === 0) throw errors.hotfixEmpty(row.id, row.branch);

      const snapshot = await deps.snapshots.latest();
      const element = deps.releases.element(snapshot, row.element_type, row.element_uuid);
      const known = await deps.releases.knownVersions(snapshot, element.type, element.uuid);
      const version = nextPatchInLine([...known.available, ...known.pending.map((p) => p.version)], row.line);
      const files = await deps.git.readFolder({ ref: tip, path: element.sourceFolder, maxBytes: DEFAULT_ARTIFACT_LIMITS.maxTotalBytes });
      if (!files?.length) throw errors.sourceFolderEmpty(element.uuid, `${element.sourceFolder} (on ${row.branch})`);
      const result = await deps.releases.proposeRelease({
        kind: 'hotfix_release',
        snapshot,
        element,
        version,
        files,
        sourceCommit: tip,
        description: request.release_description ?? '',
        options,
        title: `Hotfix ${element.name} ${version}`,
        details: { hotfix_id: row.id, line: row.line, branch: row.branch },
      });
      if (!('dry_run' in result)) {
        await repository.updateOpenHotfix(deps.db, row.id, { release_version: version, pull_request: result.pull_request.number, release_commit: tip });
      }
      return { ...result, hotfix_id: row.id };
    },

    async abandon(id, { actor, dryRun }) {
      const row = await load(id);
      if (row.state !== 'open') throw errors.hotfixNotOpen(row.id, row.state);
      if (dryRun) return { dry_run: true, hotfix_id: row.id, branch_name: row.branch, state: 'abandoned' };
      // The branch first: a hotfix marked abandoned with its branch left behind would block the
      // next hotfix of the line (its push finds the branch). Abandoning again after a failure in
      // between is fine: a missing branch counts as deleted.
      await deps.git.deleteBranch({ branch: row.branch }).catch((error: unknown) => {
        if (!hasCode(error, 'branch_not_found')) throw error;
      });
      const abandoned = await deps.db.transaction().execute(async (trx) => {
        const done = await repository.updateOpenHotfix(trx, row.id, { state: 'abandoned', abandoned_at: new Date(), abandoned_by: actor.name });
        if (!done) throw errors.hotfixNotOpen(row.id, (await repository.findHotfix(trx, id))?.state ?? 'gone');
        await deps.audit.record(
          actor,
          { action: 'hotfix.abandon', target: `hotfix:${row.id}`, details: { branch: row.branch, line: row.line, element_uuid: row.element_uuid } },
          trx,
        );
        await deps.events.publish(trx, [{ type: 'hotfix.abandoned', data: { hotfix: toView(done) } }]);
        return done;
      });
      return toView(abandoned);
    },
  };
}
