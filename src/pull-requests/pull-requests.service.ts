// Pull requests: how every change reaches the default branch. `propose` turns an intent into a
// branch, a commit and a pull request (or, for a dry run, into a description of them); `merge`
// re-applies the intent on the current default branch, never text-merging the branch.
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Actor, AuditService } from '../audit/audit.service.js';
import type { PullRequestKind, PullRequestRecord, PullRequestRow, PullRequestState, Tables } from '../db/database.js';
import { AppError, errors, hasCode } from '../errors.js';
import type { FileChange, GitWorker, Snapshot } from '../git/types.js';
import type { PullRequestHost, PullRequestProvider } from '../providers/types.js';
import { applyIntent, diffIntent, type AppliedChange, type Application, type Conflict, type Intent, type ManifestDiff } from './intent.js';
import * as repository from './pull-requests.repository.js';

export interface PushedBranch {
  commit_sha: string;
  branch_name: string;
  url: string;
  pull_request: { number: number; url: string; state: PullRequestState; title: string; provider: string; external_number: number | null };
}

export interface DryRunResult {
  dry_run: true;
  base_sha: string;
  branch_name: string;
  pull_request: { title: string; body: string };
  files: Application['files'];
  manifests: Application['manifests'];
  operations: Intent['operations'];
}

export interface Proposal {
  readonly kind: PullRequestKind;
  readonly title: string;
  readonly body: string;
  readonly commitMessage?: string | undefined;
  readonly branch: string;
  readonly intent: Intent;
  /** The default branch as the change was computed against. */
  readonly snapshot: Snapshot;
  /** Bytes of the blobs the intent adds (artifacts), by blob id. */
  readonly blobs?: ReadonlyMap<string, Uint8Array>;
  readonly actor: Actor;
  readonly dryRun: boolean;
  /** Audit action, e.g. `manifest.entry.set`. */
  readonly action: string;
  readonly target: string;
  readonly details?: Record<string, unknown>;
}

export interface PullRequestView {
  number: number;
  url: string;
  provider: string;
  /** The forge's number (null for builtin). */
  external_number: number | null;
  kind: PullRequestKind;
  title: string;
  body: string;
  state: PullRequestState;
  source_branch: string;
  target_branch: string;
  base_commit: string;
  head_commit: string;
  merge_commit: string | null;
  author: string;
  merged_by: string | null;
  created_at: string;
  updated_at: string;
  merged_at: string | null;
  closed_at: string | null;
  conflicts: Conflict[] | null;
  manifests: ManifestDiff[];
  artifacts: { element_type: string; element_uuid: string; version: string; sha256: string; size: number }[];
  operations: Intent['operations'];
}

/** Called after a pull request merged (releases become available, hotfixes close…). */
export type MergeListener = (pullRequest: PullRequestRow, actor: Actor) => Promise<void>;

export interface PullRequestService extends PullRequestHost {
  propose(proposal: Proposal): Promise<PushedBranch | DryRunResult>;
  list(filter: { state?: PullRequestState; limit?: number; before?: number }): Promise<PullRequestView[]>;
  get(number: number): Promise<PullRequestView>;
  merge(number: number, actor: Actor): Promise<{ pull_request: PullRequestView; commit_sha: string }>;
  close(number: number, actor: Actor): Promise<PullRequestView>;
  /**
   * Records a merge that already happened on the provider (a forge webhook or poll, or our own
   * merge): marks it merged, deletes its branch, audits, runs the onMerged listeners. A pull
   * request already merged or closed is left alone: `changed` false (repeated deliveries).
   */
  recordMerged(number: number, mergeCommit: string | null, actor: Actor): Promise<{ pull_request: PullRequestView; changed: boolean }>;
  /** Records a close that already happened on the provider; `changed` false when it was not open. */
  recordClosed(number: number, actor: Actor): Promise<{ pull_request: PullRequestView; changed: boolean }>;
  /** Open (and conflicted) pull requests, for services computing pending state. */
  listOpen(): Promise<PullRequestRow[]>;
  onMerged(listener: MergeListener): void;
}

export interface PullRequestServiceDeps {
  readonly db: Kysely<Tables>;
  readonly git: GitWorker;
  readonly audit: AuditService;
  /** Builds the provider; it receives this service as a host, since the builtin provider merges through it. */
  readonly createProvider: (host: PullRequestHost) => PullRequestProvider;
  /** Base URL of this service, for links. */
  readonly baseUrl: string;
}

const MERGE_ATTEMPTS = 5;

/** A short unique id for branch names: 8 characters of [a-z0-9]. */
export function newBranchId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return [...randomBytes(8)].map((byte) => alphabet[byte % alphabet.length]).join('');
}

export function createPullRequestService(deps: PullRequestServiceDeps): PullRequestService {
  const listeners: MergeListener[] = [];
  let pullRequestProvider: PullRequestProvider | undefined;
  const provider = () => (pullRequestProvider ??= deps.createProvider(service));
  const pullRequestUrl = (number: number) => `${deps.baseUrl}/api/v2/source_control/pull_requests/${number}`;

  async function load(number: number): Promise<PullRequestRow> {
    const row = await repository.findPullRequest(deps.db, number);
    if (!row) throw errors.pullRequestNotFound(number);
    return row;
  }

  function toView(row: PullRequestRow): PullRequestView {
    const intent = row.intent as Intent;
    return {
      number: row.number,
      url: row.external_url ?? pullRequestUrl(row.number),
      provider: row.provider,
      external_number: row.external_number,
      kind: row.kind,
      title: row.title,
      body: row.body,
      state: row.state,
      source_branch: row.source_branch,
      target_branch: row.target_branch,
      base_commit: row.base_commit,
      head_commit: row.head_commit,
      merge_commit: row.merge_commit,
      author: row.author,
      merged_by: row.merged_by,
      created_at: row.created_at.toISOString(),
      updated_at: row.updated_at.toISOString(),
      merged_at: row.merged_at?.toISOString() ?? null,
      closed_at: row.closed_at?.toISOString() ?? null,
      conflicts: (row.conflicts as Conflict[] | null) ?? null,
      manifests: diffIntent(intent),
      artifacts: intent.operations.flatMap((op) =>
        op.op === 'add_artifact'
          ? [{ element_type: op.element_type, element_uuid: op.element_uuid, version: op.version, sha256: op.sha256, size: op.size }]
          : [],
      ),
      operations: intent.operations,
    };
  }

  async function resolveChanges(changes: readonly AppliedChange[], readBlob: (path: string, blob: string) => Promise<Uint8Array>): Promise<FileChange[]> {
    return Promise.all(changes.map(async (change) => ('blob' in change ? { path: change.path, bytes: await readBlob(change.path, change.blob) } : change)));
  }

  /** Open or conflicted → closed, with its audit event; undefined when it was in another state. */
  function markClosed(row: PullRequestRow, actor: Actor): Promise<PullRequestRow | undefined> {
    return deps.db.transaction().execute(async (trx) => {
      const closed = await repository.transitionPullRequest(trx, row.number, ['open', 'conflicted'], { state: 'closed', closed_at: new Date() });
      if (closed)
        await deps.audit.record(actor, { action: 'pull_request.close', target: `pull_request:${row.number}`, details: { branch: row.source_branch } }, trx);
      return closed;
    });
  }

  const service: PullRequestService = {
    pullRequestUrl,

    async propose(proposal) {
      const application = await applyIntent(proposal.snapshot, proposal.intent);
      if (application.conflicts.length > 0)
        throw conflictError(errors.changeConflict, 'The change does not apply to the default branch', application.conflicts);
      if (application.changes.length === 0) {
        throw errors.noChange();
      }
      if (proposal.dryRun) {
        return {
          dry_run: true,
          base_sha: proposal.snapshot.commit,
          branch_name: proposal.branch,
          pull_request: { title: proposal.title, body: proposal.body },
          files: application.files,
          manifests: application.manifests,
          operations: proposal.intent.operations,
        };
      }
      const changes = await resolveChanges(application.changes, async (path, blob) => {
        const bytes = proposal.blobs?.get(blob);
        if (!bytes) throw errors.internal(`no bytes for ${path} (${blob})`);
        return bytes;
      });
      const author = { name: proposal.actor.name, email: proposal.actor.email };
      const commit = await deps.git.commit({
        parent: proposal.snapshot.commit,
        changes,
        message: commitMessage(proposal.commitMessage ?? proposal.title, proposal.body),
        author,
      });
      // Recorded first (`opening`), so that whatever happens from here on leaves a row naming the
      // branch; the sweeper removes what a crash leaves (src/pull-requests/orphans.ts).
      let opening: PullRequestRecord;
      try {
        opening = await repository.insertOpening(deps.db, {
          kind: proposal.kind,
          provider: provider().name,
          title: proposal.title,
          body: proposal.body,
          source_branch: proposal.branch,
          target_branch: deps.git.defaultBranch,
          base_commit: proposal.snapshot.commit,
          head_commit: commit,
          intent: JSON.stringify(proposal.intent),
          author: author.name,
          author_email: author.email,
        });
      } catch (error) {
        if (repository.isBranchTaken(error)) throw errors.branchExists(proposal.branch);
        throw error;
      }
      let pushed = false;
      let row: PullRequestRow | undefined;
      try {
        await deps.git.pushBranch({ branch: proposal.branch, commit, expectedOld: null });
        pushed = true;
        const opened = await provider().open({ pullRequest: { ...opening, state: 'open' } });
        // The pull request and its audit event, together.
        row = await deps.db.transaction().execute(async (trx) => {
          const open = await repository.markOpened(trx, opening, {
            external_id: opened.externalId,
            external_number: opened.externalId !== null ? opened.number : null,
            external_url: opened.externalId !== null ? opened.url : null,
          });
          if (!open) throw errors.internal(`pull request #${opening.number} was no longer opening`);
          await deps.audit.record(
            proposal.actor,
            { action: proposal.action, target: proposal.target, details: { ...proposal.details, pull_request: open.number, branch: proposal.branch, commit } },
            trx,
          );
          return open;
        });
      } catch (error) {
        // The one compensated step: the pushed branch. Without its pull request it would be an
        // orphan nobody sees; if this cleanup fails too, the sweeper finishes it.
        if (pushed) await deps.git.deleteBranch({ branch: proposal.branch }).catch(() => {});
        await repository.deleteOpening(deps.db, opening.number).catch(() => {});
        throw error;
      }
      const view = toView(row);
      return {
        commit_sha: commit,
        branch_name: proposal.branch,
        url: view.url,
        pull_request: { number: row.number, url: view.url, state: row.state, title: row.title, provider: row.provider, external_number: row.external_number },
      };
    },

    async list(filter) {
      const rows = await repository.listPullRequests(deps.db, {
        ...(filter.state ? { states: [filter.state] } : {}),
        limit: filter.limit ?? 100,
        ...(filter.before !== undefined ? { before: filter.before } : {}),
      });
      return rows.map(toView);
    },

    async get(number) {
      return toView(await load(number));
    },

    listOpen: () => repository.listPullRequests(deps.db, { states: ['open', 'conflicted'], limit: 10_000 }),

    onMerged(listener) {
      listeners.push(listener);
    },

    async merge(number, actor) {
      const row = await load(number);
      if (row.state === 'merged' || row.state === 'closed') throw notOpen(row);
      const merger = { name: actor.name, email: actor.email };
      let mergeCommit: string;
      try {
        ({ mergeCommit } = await provider().merge(row, merger));
      } catch (error) {
        if (hasCode(error, 'merge_conflict')) {
          const conflicts = error.details.conflicts ?? [];
          await deps.db.transaction().execute(async (trx) => {
            await repository.transitionPullRequest(trx, number, ['open', 'conflicted'], {
              state: 'conflicted',
              conflicts: JSON.stringify(conflicts),
            });
            await deps.audit.record(actor, { action: 'pull_request.conflict', target: `pull_request:${number}`, details: { conflicts } }, trx);
          });
        }
        throw error;
      }
      const recorded = await service.recordMerged(number, mergeCommit, actor);
      if (!recorded.changed) throw notOpen(await load(number));
      return { pull_request: recorded.pull_request, commit_sha: recorded.pull_request.merge_commit! };
    },

    async recordMerged(number, reportedCommit, actor) {
      const row = await load(number);
      if (row.state === 'merged' || row.state === 'closed') return { pull_request: toView(row), changed: false };
      let mergeCommit = reportedCommit && /^[0-9a-f]{40}$/.test(reportedCommit) ? reportedCommit : null;
      if (row.provider !== 'builtin') {
        // The merge happened on the forge: bring the mirror up to date so what waits on it (releases,
        // instance answers) reads the merged default branch. A forge that reported no full sha
        // (Bitbucket abbreviates) gets the default branch's head after the fetch.
        const fetched = await deps.git.fetch();
        mergeCommit ??= fetched.head;
      }
      mergeCommit ??= await deps.git.headCommit();
      const merged = await deps.db.transaction().execute(async (trx) => {
        const done = await repository.transitionPullRequest(trx, number, ['open', 'conflicted'], {
          state: 'merged',
          merge_commit: mergeCommit,
          merged_by: actor.name,
          merged_at: new Date(),
          conflicts: null,
        });
        if (done)
          await deps.audit.record(
            actor,
            { action: 'pull_request.merge', target: `pull_request:${number}`, details: { merge_commit: mergeCommit, branch: row.source_branch } },
            trx,
          );
        return done;
      });
      if (!merged) return { pull_request: toView(await load(number)), changed: false };
      // After the commit: a crash before it leaves a branch without a live pull request, which the sweeper removes.
      await deps.git.deleteBranch({ branch: row.source_branch }).catch(() => {});
      for (const listener of listeners) await listener(merged, actor);
      return { pull_request: toView(merged), changed: true };
    },

    async recordClosed(number, actor) {
      const row = await load(number);
      const closed = await markClosed(row, actor);
      if (!closed) return { pull_request: toView(row), changed: false };
      await deps.git.deleteBranch({ branch: row.source_branch }).catch(() => {});
      return { pull_request: toView(closed), changed: true };
    },

    async close(number, actor) {
      const row = await load(number);
      if (row.state === 'merged' || row.state === 'closed') throw notOpen(row);
      // On a forge, the forge's close comes first: it is where the pull request really lives. The
      // builtin close deletes the branch, which must come after the row says closed: a crash in
      // between then leaves a closed row and a branch the sweeper removes, never an open pull
      // request without its branch.
      if (row.provider !== 'builtin') await provider().close(row);
      const closed = await markClosed(row, actor);
      if (!closed) throw notOpen(await load(number));
      if (row.provider === 'builtin')
        await provider()
          .close(row)
          .catch(() => {});
      return toView(closed);
    },

    async applyToDefaultBranch(row, merger) {
      const intent = row.intent as Intent;
      return deps.git.withWriteLock(async () => {
        // Inside the lock nothing of ours moves the default branch; an outside push can, and then
        // the fast-forward is refused: fetch, re-apply, retry.
        for (let attempt = 1; ; attempt++) {
          const snapshot = await deps.git.snapshot();
          const application = await applyIntent(snapshot, intent);
          if (application.conflicts.length > 0) {
            throw conflictError(errors.mergeConflict, `Pull request #${row.number} conflicts with the default branch`, application.conflicts);
          }
          if (application.changes.length === 0) return { mergeCommit: snapshot.commit };
          const changes = await resolveChanges(application.changes, async (path) => {
            const bytes = await deps.git.readFile({ ref: row.head_commit, path });
            if (!bytes) throw errors.internal(`${path} is missing from ${row.head_commit}`);
            return bytes;
          });
          const commit = await deps.git.commit({
            parent: snapshot.commit,
            changes,
            message: `Merge pull request #${row.number} from ${row.source_branch}\n\n${row.title}\n`,
            author: merger,
          });
          try {
            await deps.git.fastForwardDefault({ from: snapshot.commit, to: commit });
            return { mergeCommit: commit };
          } catch (error) {
            if (!hasCode(error, 'not_fast_forward', 'push_rejected') || attempt >= MERGE_ATTEMPTS) throw error;
            await deps.git.fetch();
          }
        }
      });
    },
  };
  return service;
}

function notOpen(row: PullRequestRow): AppError {
  return errors.pullRequestNotOpen(row.number, row.state);
}

function conflictError(factory: typeof errors.changeConflict, message: string, conflicts: readonly Conflict[]): AppError {
  return factory(
    `${message}: ${conflicts.map((c) => `${c.target} (${c.reason}: expected ${c.expected ?? 'nothing'}, found ${c.found ?? 'nothing'})`).join('; ')}`,
    conflicts,
  );
}

function commitMessage(subject: string, body: string): string {
  const first = subject.trim().split('\n')[0]!.slice(0, 200);
  const rest = subject.trim().split('\n').slice(1).join('\n').trim();
  return [first, rest, body.trim()].filter(Boolean).join('\n\n') + '\n';
}
