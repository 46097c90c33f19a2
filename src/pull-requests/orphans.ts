// The sweeper: what a crash can leave between the database and the repository, put right.
// A proposal is recorded (`opening`) before its branch is pushed, and a merge or close commits its
// row before the branch is deleted, so a process killed mid-way leaves one of:
// - an `opening` row, its branch pushed or not: both are removed (the client got no answer, and a
//   re-sent request proposes again);
// - a branch under the prefix that no opening or live pull request names (merged or closed, or
//   pushed by a process that died before recording it): removed;
// - an open pull request whose branch is gone: pushed again from its head commit when the object
//   is still here;
// - an `opening` hotfix (recorded the same way before its branch is pushed): removed with the
//   branch when the branch is still at the commit it pushed.
// Each removal is audited. Only things older than the grace period are touched, so a write in
// flight on another replica is never mistaken for debris. Several replicas may sweep at once: every
// step is idempotent (a branch deletion compares its value; a row deletion counts its rows).
import type { Kysely } from 'kysely';
import type { Actor, AuditService } from '../audit/audit.service.js';
import type { Tables } from '../db/database.js';
import { hasCode } from '../errors.js';
import type { GitGateway, Logger } from '../git/types.js';
import * as hotfixes from '../hotfixes/hotfixes.repository.js';
import { createPeriodicTask } from '../runtime/periodic.js';
import * as repository from './pull-requests.repository.js';

export interface SweepReport {
  /** Opening rows removed (with their branch when it was pushed). */
  readonly abandoned: readonly number[];
  /** Branches removed that no pull request needed. */
  readonly orphanBranches: readonly string[];
  /** Branches of open pull requests pushed again. */
  readonly restoredBranches: readonly string[];
  /** Ids of opening hotfix rows removed (with their branch when it was pushed). */
  readonly abandonedHotfixes: readonly string[];
}

export interface OrphanSweeper {
  sweep(): Promise<SweepReport>;
  /** Sweeps now and then every `intervalMs` (0: never on a timer). */
  start(): void;
  /** Stops the timer and waits for a sweep in flight. */
  stop(): Promise<void>;
}

export interface OrphanSweeperDeps {
  readonly db: Kysely<Tables>;
  readonly git: GitGateway;
  readonly audit: AuditService;
  /** The prefix of every branch this service pushes (`mir/`). */
  readonly branchPrefix: string;
  readonly graceMs: number;
  readonly intervalMs: number;
  readonly logger: Logger;
  readonly now?: () => number;
}

const SYSTEM: Actor = { name: 'mir', email: 'mir@localhost', tokenId: null, requestId: null };
const BATCH = 500;

export function createOrphanSweeper(deps: OrphanSweeperDeps): OrphanSweeper {
  const now = deps.now ?? Date.now;

  const ignoreMissing = (error: unknown) => {
    if (!hasCode(error, 'branch_not_found')) throw error;
  };

  /** A branch's age: its head commit's author time (ours are the time of the write). */
  async function olderThanGrace(branch: string, sha: string): Promise<boolean> {
    const [head] = await deps.git.log({ ref: sha, limit: 1 }).catch(() => []);
    if (!head) return false;
    return now() - head.author.timestamp * 1000 >= deps.graceMs;
  }

  /** Opening hotfixes past the grace period: their process died between the claim and the audit event. */
  async function abandonOpeningHotfixes(): Promise<string[]> {
    const abandoned: string[] = [];
    for (const row of await hotfixes.listStaleOpening(deps.db, new Date(now() - deps.graceMs), BATCH)) {
      // Only the branch this hotfix pushed: someone may have pushed their own under the name.
      if ((await deps.git.resolveRef(row.branch)) === row.base_commit) await deps.git.deleteBranch({ branch: row.branch }).catch(ignoreMissing);
      const removed = await deps.db.transaction().execute(async (trx) => {
        if (!(await hotfixes.deleteOpening(trx, row.id))) return false;
        await deps.audit.record(
          SYSTEM,
          {
            action: 'hotfix.abandoned',
            target: `hotfix:${row.id}`,
            details: { branch: row.branch, base_commit: row.base_commit, reason: 'its process stopped while opening it' },
          },
          trx,
        );
        return true;
      });
      if (removed) abandoned.push(row.id);
    }
    return abandoned;
  }

  async function sweepOnce(): Promise<SweepReport> {
    // The mirror as the remote has it now: a branch is judged on its current value.
    await deps.git.fetchAllBranches();
    const abandoned: number[] = [];
    const orphanBranches: string[] = [];
    const restoredBranches: string[] = [];

    for (const row of await repository.listStaleOpening(deps.db, new Date(now() - deps.graceMs), BATCH)) {
      const tip = await deps.git.resolveRef(row.source_branch);
      // Only the branch this proposal pushed: a later proposal may have taken the name meanwhile.
      if (tip === row.head_commit) await deps.git.deleteBranch({ branch: row.source_branch }).catch(ignoreMissing);
      const removed = await deps.db.transaction().execute(async (trx) => {
        if (!(await repository.deleteOpening(trx, row.number))) return false;
        await deps.audit.record(
          SYSTEM,
          {
            action: 'pull_request.abandoned',
            target: `pull_request:${row.number}`,
            details: { branch: row.source_branch, head_commit: row.head_commit, reason: 'its process stopped while opening it' },
          },
          trx,
        );
        return true;
      });
      if (removed) abandoned.push(row.number);
    }

    // With no prefix every branch would count, the default branch and people's own among them.
    const ours = deps.branchPrefix === '' ? [] : await deps.git.listBranches({ prefix: deps.branchPrefix });
    const inUse = await repository.branchesInUse(deps.db);
    for (const branch of ours) {
      if (inUse.has(branch.name) || !(await olderThanGrace(branch.name, branch.sha))) continue;
      // Looked up again: a proposal may have recorded it since the list was read.
      if ((await repository.branchesInUse(deps.db)).has(branch.name)) continue;
      try {
        await deps.git.deleteBranch({ branch: branch.name });
      } catch (error) {
        ignoreMissing(error);
        continue;
      }
      await deps.audit.record(SYSTEM, { action: 'branch.orphan_removed', target: `branch:${branch.name}`, details: { sha: branch.sha } });
      orphanBranches.push(branch.name);
    }

    for (const row of await repository.listPullRequests(deps.db, { states: ['open', 'conflicted'], limit: 10_000 })) {
      if (row.provider !== 'builtin' || (await deps.git.resolveRef(row.source_branch)) !== null) continue;
      if ((await deps.git.resolveRef(row.head_commit)) === null) {
        deps.logger.warn(
          { pull_request: row.number, branch: row.source_branch },
          'an open pull request has lost its branch and its commit; the refresh route rebuilds it from its intent',
        );
        continue;
      }
      try {
        await deps.git.pushBranch({ branch: row.source_branch, commit: row.head_commit, expectedOld: null });
      } catch (error) {
        if (hasCode(error, 'branch_exists')) continue;
        throw error;
      }
      await deps.audit.record(SYSTEM, {
        action: 'branch.restored',
        target: `pull_request:${row.number}`,
        details: { branch: row.source_branch, sha: row.head_commit },
      });
      restoredBranches.push(row.source_branch);
    }

    const abandonedHotfixes = await abandonOpeningHotfixes();

    const report = { abandoned, orphanBranches, restoredBranches, abandonedHotfixes };
    if (abandoned.length + orphanBranches.length + restoredBranches.length + abandonedHotfixes.length > 0)
      deps.logger.warn(report, 'swept what an interrupted process left behind');
    return report;
  }

  const task = createPeriodicTask({
    everyMs: deps.intervalMs,
    run: sweepOnce,
    onError: (error) => deps.logger.warn({ err: error }, 'sweeping for orphans failed; trying again later'),
  });
  return {
    sweep: () => task.runNow(),
    start() {
      // A start sweeps once even without an interval: what a crash left is removed at start-up.
      if (deps.intervalMs > 0) task.start();
      else void task.runNow().catch((error: unknown) => deps.logger.warn({ err: error }, 'sweeping for orphans failed'));
    },
    stop: () => task.stop(),
  };
}
