// Keeping our pull requests true to the forge and mergeable:
// - inbound webhooks and a polling fallback bring forge-side merges and closes into our table,
//   through the same path as our own merges (PullRequestService.recordMerged / recordClosed);
// - the reconciler rebuilds, from its stored intent, every open pull request whose branch no longer
//   applies cleanly to the default branch and force-pushes it, so a forge never shows a conflict
//   caused by an unrelated change; one whose intent truly conflicts is marked `conflicted` and the
//   forge is told. It runs when the default branch moves and on demand (POST …/refresh).
import type { Kysely } from 'kysely';
import type { Actor, AuditService } from '../audit/audit.service.js';
import type { PullRequestRow, Tables } from '../db/database.js';
import { errors } from '../errors.js';
import type { EventPublisher } from '../events/events.service.js';
import type { GitGateway, Logger } from '../git/types.js';
import type { ForgeProvider, WebhookHeaders } from '../providers/types.js';
import { artifactPath, manifestPath } from '../formats/layout.js';
import { applyIntent, type Conflict, type Intent } from './intent.js';
import { pullRequestEvent } from './pull-request-events.js';
import type { PullRequestView } from './pull-request-view.js';
import type { PullRequestService } from './pull-requests.service.js';
import * as repository from './pull-requests.repository.js';
import { createPeriodicTask } from '../runtime/periodic.js';
import type { Snapshots } from '../snapshots/snapshots.js';

export type RefreshAction = 'rebuilt' | 'up_to_date' | 'conflicted' | 'merged' | 'closed' | 'unchanged';

export interface RefreshResult {
  action: RefreshAction;
  pull_request: PullRequestView;
}

export interface WebhookResult {
  /** `ignored`: not a pull request event, or not one of ours; `unchanged`: already known (a repeated delivery). */
  action: 'merged' | 'closed' | 'unchanged' | 'ignored';
  pull_request: number | null;
}

export interface PullRequestSync {
  /** Brings one pull request up to date: its state on the forge, then its branch (rebuilt if stale). */
  refresh(number: number, actor: Actor): Promise<RefreshResult>;
  /** Reconciles every open pull request now (one run at a time; a call during a run queues one more). */
  reconcileAll(): Promise<void>;
  /** Verifies and applies one webhook delivery. 401 when not authentic, 404 for another provider. */
  handleWebhook(provider: string, headers: WebhookHeaders, rawBody: string, requestId: string | null): Promise<WebhookResult>;
  /** One polling round: forge states of our open pull requests, then reconciliation if the default branch moved. */
  poll(): Promise<void>;
  /** Starts polling (forges with a poll interval only). */
  start(): Promise<void>;
  /** Stops polling and waits for a round or reconciliation in flight. */
  stop(): Promise<void>;
}

export interface PullRequestSyncDeps {
  readonly db: Kysely<Tables>;
  readonly git: GitGateway;
  readonly snapshots: Snapshots;
  readonly audit: AuditService;
  readonly events: EventPublisher;
  readonly pullRequests: PullRequestService;
  /** The configured forge; null with the builtin provider. */
  readonly forge: ForgeProvider | null;
  readonly webhookSecret: string | undefined;
  /** 0: never poll. */
  readonly pollSeconds: number;
  readonly logger: Logger;
}

const SYSTEM: Actor = { name: 'mir', email: 'mir@localhost', tokenId: null, requestId: null };

export function createPullRequestSync(deps: PullRequestSyncDeps): PullRequestSync {
  const { db, git, forge, snapshots } = deps;
  let reconciling: Promise<void> | null = null;
  let reconcileAgain = false;
  let stopped = false;
  let lastHead: string | null = null;

  async function load(number: number): Promise<PullRequestRow> {
    const row = await repository.findPullRequest(db, number);
    if (!row) throw errors.pullRequestNotFound(number);
    return row;
  }

  const live = (row: PullRequestRow) => row.state === 'open' || row.state === 'conflicted';
  /** The forge a row lives on, or null (builtin rows, rows the forge never numbered). */
  const forgeOf = (row: PullRequestRow): ForgeProvider | null => (forge !== null && row.provider === forge.name && row.external_id !== null ? forge : null);

  /** Applies the forge's state of a pull request to our row. */
  async function applyForgeState(row: PullRequestRow, state: 'open' | 'merged' | 'closed', mergeCommit: string | null, actor: Actor) {
    if (state === 'merged') {
      const recorded = await deps.pullRequests.recordMerged(row.number, mergeCommit, actor);
      return { action: recorded.changed ? ('merged' as const) : ('unchanged' as const), view: recorded.pull_request };
    }
    if (state === 'closed') {
      const recorded = await deps.pullRequests.recordClosed(row.number, actor);
      return { action: recorded.changed ? ('closed' as const) : ('unchanged' as const), view: recorded.pull_request };
    }
    return { action: 'unchanged' as const, view: await deps.pullRequests.get(row.number) };
  }

  /** Whether a file the intent writes differs between the branch's base and `head`: only then can the forge see a conflict. */
  async function touchedFilesMoved(row: PullRequestRow, head: string): Promise<boolean> {
    const paths = new Set<string>();
    for (const op of (row.intent as Intent).operations) {
      paths.add(op.op === 'add_artifact' ? artifactPath(op.element_type, op.element_uuid, op.version) : manifestPath(op.manifest));
    }
    for (const path of paths) {
      const [before, after] = await Promise.all([git.readFile({ ref: row.base_commit, path }), git.readFile({ ref: head, path })]);
      if ((before === null) !== (after === null)) return true;
      if (before && after && !Buffer.from(before).equals(Buffer.from(after))) return true;
    }
    return false;
  }

  /** Rebuilds the branch of one live pull request if it went stale; marks it conflicted if its intent no longer applies. */
  async function reconcile(number: number, actor: Actor): Promise<{ action: RefreshAction; conflicts?: readonly Conflict[] }> {
    const outcome = await git.withWriteLock(async () => {
      const row = await load(number);
      if (!live(row)) return { action: 'unchanged' as const };
      const snapshot = await snapshots.latest();
      const intent = row.intent as Intent;
      const application = await applyIntent(snapshot, intent);
      if (application.conflicts.length > 0) {
        await db.transaction().execute(async (trx) => {
          const conflicted = await repository.transitionPullRequest(trx, number, ['open', 'conflicted'], {
            state: 'conflicted',
            conflicts: JSON.stringify(application.conflicts),
          });
          // Audited and published when it becomes conflicted, not each time it is found still so.
          if (row.state !== 'conflicted') {
            if (conflicted) {
              await deps.events.publish(trx, [pullRequestEvent('pull_request.conflicted', conflicted, deps.pullRequests.pullRequestUrl(number))]);
            }
            await deps.audit.record(
              actor,
              { action: 'pull_request.conflict', target: `pull_request:${number}`, details: { conflicts: application.conflicts } },
              trx,
            );
          }
        });
        if (row.state === 'conflicted') return { action: 'conflicted' as const };
        return { action: 'conflicted' as const, conflicts: application.conflicts, row };
      }
      // The default branch already holds everything it does: nothing to rebuild (merging records it).
      if (application.changes.length === 0) return { action: 'up_to_date' as const };
      const branchHead = await git.resolveRef(row.source_branch);
      const stale =
        row.state === 'conflicted' ||
        branchHead !== row.head_commit ||
        (row.base_commit !== snapshot.commit && (await touchedFilesMoved(row, snapshot.commit)));
      if (!stale) return { action: 'up_to_date' as const };
      const changes = await Promise.all(
        application.changes.map(async (change) => {
          if (!('blob' in change)) return change;
          const bytes = await git.readFile({ ref: row.head_commit, path: change.path });
          if (!bytes) throw errors.internal(`${change.path} is missing from ${row.head_commit}`);
          return { path: change.path, bytes };
        }),
      );
      const commit = await git.commit({
        parent: snapshot.commit,
        changes,
        message: `${row.title}\n\n${row.body.trim()}\n\nRebuilt by mir on ${snapshot.commit} (the default branch moved since ${row.base_commit}).\n`,
        author: { name: row.author, email: row.author_email },
      });
      await git.pushBranch({ branch: row.source_branch, commit, expectedOld: branchHead, force: true });
      await db.transaction().execute(async (trx) => {
        await repository.rebasePullRequest(trx, number, { base_commit: snapshot.commit, head_commit: commit });
        await deps.audit.record(
          actor,
          {
            action: 'pull_request.rebuild',
            target: `pull_request:${number}`,
            details: { branch: row.source_branch, base_commit: snapshot.commit, head_commit: commit, previous_head: row.head_commit },
          },
          trx,
        );
      });
      return { action: 'rebuilt' as const };
    });
    const annotating = 'row' in outcome && outcome.row ? forgeOf(outcome.row) : null;
    if (annotating?.annotate && 'row' in outcome && outcome.row) {
      // Outside the write lock: the forge call can be slow, and the state is already recorded.
      const note = `**mir: this pull request conflicts with the default branch** and cannot be merged as is:\n\n${outcome
        .conflicts!.map((c) => `- \`${c.target}\`: ${c.reason} (expected ${c.expected ?? 'nothing'}, found ${c.found ?? 'nothing'})`)
        .join('\n')}\n\nPropose the change again, or close this pull request.`;
      await annotating
        .annotate(outcome.row, note)
        .catch((error: unknown) => deps.logger.warn({ err: error, pull_request: number }, 'could not tell the forge about a conflict'));
    }
    return { action: outcome.action };
  }

  async function reconcileOpen(): Promise<void> {
    for (const row of await deps.pullRequests.listOpen()) {
      if (stopped) return;
      try {
        const { action } = await reconcile(row.number, SYSTEM);
        if (action !== 'up_to_date' && action !== 'unchanged')
          deps.logger.info({ pull_request: row.number, action }, 'reconciled a pull request with the default branch');
      } catch (error) {
        deps.logger.warn({ err: error, pull_request: row.number }, 'could not reconcile a pull request');
      }
    }
  }

  function reconcileAll(): Promise<void> {
    if (reconciling) {
      reconcileAgain = true;
      return reconciling;
    }
    reconciling = (async () => {
      do {
        reconcileAgain = false;
        await reconcileOpen();
      } while (reconcileAgain && !stopped);
    })().finally(() => {
      reconciling = null;
    });
    return reconciling;
  }

  async function pollOnce(): Promise<void> {
    if (forge) {
      const actor: Actor = { ...SYSTEM, name: `${forge.name}:poll` };
      // One listing of the forge's open pull requests; only ours missing from it are read one by
      // one (they were merged or closed), which keeps a round to a few requests of the rate limit.
      const openOnForge = new Set((await forge.list({ state: 'open' })).map((pr) => pr.externalId));
      for (const row of await deps.pullRequests.listOpen()) {
        if (stopped) return;
        const rowForge = forgeOf(row);
        if (!rowForge || openOnForge.has(row.external_id)) continue;
        try {
          const remote = await rowForge.get(row);
          if (remote.state === 'merged' || remote.state === 'closed') await applyForgeState(row, remote.state, remote.mergeCommit, actor);
        } catch (error) {
          deps.logger.warn({ err: error, pull_request: row.number }, `could not read the pull request from ${forge.name}`);
        }
      }
    }
    const { head } = await git.fetchAllBranches();
    if (head !== lastHead) {
      lastHead = head;
      await reconcileAll();
    }
  }

  const poller = createPeriodicTask({
    everyMs: forge ? deps.pollSeconds * 1000 : 0,
    runAtStart: false,
    run: pollOnce,
    onError: (error) => deps.logger.warn({ err: error }, `polling ${forge?.name ?? 'the forge'} failed`),
  });

  const sync: PullRequestSync = {
    async refresh(number, actor) {
      const row = await load(number);
      const rowForge = forgeOf(row);
      if (live(row) && rowForge) {
        const remote = await rowForge.get(row);
        if (remote.state === 'merged' || remote.state === 'closed') {
          const applied = await applyForgeState(row, remote.state, remote.mergeCommit, actor);
          return { action: applied.action, pull_request: applied.view };
        }
      }
      if (!live(row)) return { action: 'unchanged', pull_request: await deps.pullRequests.get(number) };
      // reconcile() takes the write lock, which fetches first: it sees the remote's default branch.
      const { action } = await reconcile(number, actor);
      return { action, pull_request: await deps.pullRequests.get(number) };
    },

    reconcileAll,

    async handleWebhook(provider, headers, rawBody, requestId) {
      if (!forge || forge.name !== provider) throw errors.webhookNotConfigured(provider, forge?.name ?? 'builtin');
      if (!deps.webhookSecret) throw errors.webhookUnauthorized(provider, 'no webhook secret is configured here (MIR_WEBHOOK_SECRET)');
      forge.verifyWebhook(headers, rawBody, deps.webhookSecret);
      let payload: unknown;
      try {
        payload = JSON.parse(rawBody) as unknown;
      } catch {
        throw errors.invalidWebhookPayload('The webhook body is not JSON');
      }
      const event = forge.parseWebhook(headers, payload);
      if (!event) return { action: 'ignored', pull_request: null };
      const row =
        (await repository.findByExternalId(db, forge.name, event.externalId)) ??
        (event.sourceBranch ? await repository.findLiveByBranch(db, forge.name, event.sourceBranch) : undefined);
      if (!row) return { action: 'ignored', pull_request: null };
      const actor: Actor = {
        name: event.actor ? `${forge.name}:${event.actor}` : forge.name,
        email: `${forge.name}@webhook.invalid`,
        tokenId: null,
        requestId,
      };
      const applied = await applyForgeState(row, event.state, event.mergeCommit, actor);
      return { action: applied.action, pull_request: row.number };
    },

    poll: () => poller.runNow(),

    async start() {
      // The first polling round reconciles once (lastHead unknown): a start catches up on moves made while down.
      stopped = false;
      if (forge) {
        // A merge moves the default branch: reconcile the others (in the background; stop() waits).
        deps.pullRequests.onMerged(async () => {
          if (!stopped) void reconcileAll();
        });
      }
      poller.start();
    },

    async stop() {
      stopped = true;
      await Promise.allSettled([poller.stop(), reconciling]);
    },
  };
  return sync;
}
