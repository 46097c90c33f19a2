// Pull requests: how every change reaches the default branch. Proposing one (an intent becoming a
// branch, a commit and a pull request) is proposals.ts; this service lists them, and merges or
// closes them: `merge` re-applies the intent on the current default branch, never text-merging the
// branch.
import type { Kysely } from 'kysely';
import type { Actor, AuditService } from '../audit/audit.service.js';
import type { PullRequestRow, PullRequestState, Tables } from '../db/database.js';
import { AppError, errors, hasCode } from '../errors.js';
import type { EventPublisher } from '../events/events.service.js';
import type { GitGateway } from '../git/types.js';
import type { PullRequestHost, PullRequestProvider } from '../providers/types.js';
import { runGates, verdictLines, type Gate, type Override, type Verdict } from './gates.js';
import { applyIntent, conflictError, resolveChanges, type Intent } from './intent.js';
import { proposeChange, type DryRunResult, type Proposal, type ProposeDeps, type PushedBranch } from './proposals.js';
import { toPullRequestView, type PullRequestView } from './pull-request-view.js';
import { mergeEvents, pullRequestEvent } from './pull-request-events.js';
import * as repository from './pull-requests.repository.js';
import type { Snapshots } from '../snapshots/snapshots.js';

/** Called after a pull request merged (releases become available, hotfixes close…). */
export type MergeListener = (pullRequest: PullRequestRow, actor: Actor) => Promise<void>;

export interface PullRequestService extends PullRequestHost {
  propose(proposal: Proposal): Promise<PushedBranch | DryRunResult>;
  list(filter: { state?: PullRequestState; limit?: number; before?: number }): Promise<PullRequestView[]>;
  get(number: number): Promise<PullRequestView>;
  merge(
    number: number,
    actor: Actor,
    options?: { override?: Override | undefined },
  ): Promise<{ pull_request: PullRequestView; commit_sha: string; policy: Verdict[] }>;
  /** Verdicts a merge of `number` would get now (nothing is written). */
  verdicts(number: number, actor: Actor): Promise<Verdict[]>;
  /** A check every proposal and every merge passes through, run in the order added. */
  addGate(gate: Gate): void;
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
  readonly git: GitGateway;
  readonly snapshots: Snapshots;
  readonly audit: AuditService;
  readonly events: EventPublisher;
  /** Builds the provider; it receives this service as a host, since the builtin provider merges through it. */
  readonly createProvider: (host: PullRequestHost) => PullRequestProvider;
  /** Base URL of this service, for links. */
  readonly baseUrl: string;
}

const MERGE_ATTEMPTS = 5;

export function createPullRequestService(deps: PullRequestServiceDeps): PullRequestService {
  const listeners: MergeListener[] = [];
  const gates: Gate[] = [];
  let pullRequestProvider: PullRequestProvider | undefined;
  const provider = () => (pullRequestProvider ??= deps.createProvider(service));
  const pullRequestUrl = (number: number) => `${deps.baseUrl}/api/v2/source_control/pull_requests/${number}`;

  async function load(number: number): Promise<PullRequestRow> {
    const row = await repository.findPullRequest(deps.db, number);
    if (!row) throw errors.pullRequestNotFound(number);
    return row;
  }

  const toView = (row: PullRequestRow): PullRequestView => toPullRequestView(row, pullRequestUrl);
  const proposals: ProposeDeps = { db: deps.db, git: deps.git, audit: deps.audit, events: deps.events, provider, pullRequestUrl };
  const link = (row: PullRequestRow) => row.external_url ?? pullRequestUrl(row.number);

  /** Open or conflicted → closed, with its audit event; undefined when it was in another state. */
  function markClosed(row: PullRequestRow, actor: Actor): Promise<PullRequestRow | undefined> {
    return deps.db.transaction().execute(async (trx) => {
      const closed = await repository.transitionPullRequest(trx, row.number, ['open', 'conflicted'], { state: 'closed', closed_at: new Date() });
      if (closed) {
        await deps.audit.record(actor, { action: 'pull_request.close', target: `pull_request:${row.number}`, details: { branch: row.source_branch } }, trx);
        await deps.events.publish(trx, [pullRequestEvent('pull_request.closed', closed, link(closed))]);
      }
      return closed;
    });
  }

  /** Each verdict an override let through, audited with its reason. */
  async function recordOverrides(verdicts: readonly Verdict[], actor: Actor, override: Override | undefined, number: number): Promise<void> {
    for (const v of verdicts) {
      if (v.status !== 'overridden') continue;
      await deps.audit.record(actor, {
        action: `${v.gate}.override`,
        target: `manifest:${v.manifest}`,
        details: { rule: v.rule, reason: override?.reason ?? null, blocked_because: v.reason, pull_request: number },
      });
    }
  }

  const service: PullRequestService = {
    pullRequestUrl,

    async propose(proposal) {
      const verdicts = await runGates(gates, {
        phase: 'propose',
        intent: proposal.intent,
        snapshot: proposal.snapshot,
        actor: proposal.actor,
        override: proposal.override,
        provider: provider().name,
      });
      const result = await proposeChange(proposals, { ...proposal, body: [proposal.body, ...verdictLines(verdicts)].join('\n') });
      if (!('dry_run' in result)) await recordOverrides(verdicts, proposal.actor, proposal.override, result.pull_request.number);
      return { ...result, policy: verdicts };
    },

    addGate(gate) {
      gates.push(gate);
    },

    async verdicts(number, actor) {
      const row = await load(number);
      const snapshot = await deps.snapshots.latest({ fresh: true });
      return runGates(gates, { phase: 'merge', intent: row.intent as Intent, snapshot, actor, pullRequest: row, provider: row.provider });
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

    async merge(number, actor, options = {}) {
      const row = await load(number);
      if (row.state === 'merged' || row.state === 'closed') throw notOpen(row);
      const snapshot = await deps.snapshots.latest({ fresh: true });
      const verdicts = await runGates(gates, {
        phase: 'merge',
        intent: row.intent as Intent,
        snapshot,
        actor,
        override: options.override,
        pullRequest: row,
        provider: row.provider,
      });
      const blocked = verdicts.filter((v) => v.status === 'blocked');
      if (blocked.length > 0) throw errors.policyBlocked(number, blocked);
      const merger = { name: actor.name, email: actor.email };
      let mergeCommit: string;
      try {
        ({ mergeCommit } = await provider().merge(row, merger));
      } catch (error) {
        if (hasCode(error, 'merge_conflict')) {
          const conflicts = error.details.conflicts ?? [];
          await deps.db.transaction().execute(async (trx) => {
            const conflicted = await repository.transitionPullRequest(trx, number, ['open', 'conflicted'], {
              state: 'conflicted',
              conflicts: JSON.stringify(conflicts),
            });
            await deps.audit.record(actor, { action: 'pull_request.conflict', target: `pull_request:${number}`, details: { conflicts } }, trx);
            if (conflicted && row.state !== 'conflicted')
              await deps.events.publish(trx, [pullRequestEvent('pull_request.conflicted', conflicted, link(conflicted))]);
          });
        }
        throw error;
      }
      const recorded = await service.recordMerged(number, mergeCommit, actor);
      if (!recorded.changed) throw notOpen(await load(number));
      await recordOverrides(verdicts, actor, options.override, number);
      return { pull_request: recorded.pull_request, commit_sha: recorded.pull_request.merge_commit!, policy: verdicts };
    },

    async recordMerged(number, reportedCommit, actor) {
      const row = await load(number);
      if (row.state === 'merged' || row.state === 'closed') return { pull_request: toView(row), changed: false };
      let mergeCommit = reportedCommit && /^[0-9a-f]{40}$/.test(reportedCommit) ? reportedCommit : null;
      if (row.provider !== 'builtin') {
        // The merge happened on the forge: bring the mirror up to date so what waits on it (releases,
        // instance answers) reads the merged default branch. A forge that reported no full sha
        // (Bitbucket abbreviates) gets the default branch's head after the fetch.
        const fetched = await deps.git.fetchAllBranches();
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
        if (done) {
          await deps.audit.record(
            actor,
            { action: 'pull_request.merge', target: `pull_request:${number}`, details: { merge_commit: mergeCommit, branch: row.source_branch } },
            trx,
          );
          // The merge itself happened in git (the default branch moved) before this transaction;
          // this is the transaction that records it in the database, so its events — the merge,
          // the releases and manifest entries it brought — are written here: they exist if and
          // only if the merge is recorded. A crash between the git move and this commit leaves
          // neither row nor events, and the next record of the merge (a retry, a forge poll)
          // writes both.
          await deps.events.publish(trx, mergeEvents(done, link(done)));
        }
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
          const snapshot = await deps.snapshots.latest();
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
            await deps.git.fetchAllBranches();
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
