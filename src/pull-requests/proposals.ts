// Proposing a change: an intent becomes a branch, a commit and a pull request, or, for a dry run,
// a description of them. Merging it later is the pull-request service's (pull-requests.service.ts).
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Actor, AuditService } from '../audit/audit.service.js';
import type { PullRequestKind, PullRequestRecord, PullRequestRow, PullRequestState, Tables } from '../db/database.js';
import { errors } from '../errors.js';
import type { GitGateway } from '../git/types.js';
import type { EventPublisher } from '../events/events.service.js';
import type { Snapshot } from '../snapshots/snapshot.js';
import type { PullRequestProvider } from '../providers/types.js';
import type { Override, Verdict } from './gates.js';
import { applyIntent, conflictError, resolveChanges, type Application, type Intent } from './intent.js';
import { pullRequestEvent } from './pull-request-events.js';
import { pullRequestLink } from './pull-request-view.js';
import * as repository from './pull-requests.repository.js';

export interface PushedBranch {
  commit_sha: string;
  branch_name: string;
  url: string;
  pull_request: { number: number; url: string; state: PullRequestState; title: string; provider: string; external_number: number | null };
  /** What the gates (holds, policy) said when it was opened. */
  policy?: Verdict[];
}

export interface DryRunResult {
  dry_run: true;
  base_sha: string;
  branch_name: string;
  pull_request: { title: string; body: string };
  files: Application['files'];
  manifests: Application['manifests'];
  operations: Intent['operations'];
  policy?: Verdict[];
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
  /** An admin's override of holds and policy blocks, with its reason. */
  readonly override?: Override | undefined;
}

/** A short unique id for branch names: 8 characters of [a-z0-9]. */
export function newBranchId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return [...randomBytes(8)].map((byte) => alphabet[byte % alphabet.length]).join('');
}

export interface ProposeDeps {
  readonly db: Kysely<Tables>;
  readonly git: GitGateway;
  readonly audit: AuditService;
  readonly events: EventPublisher;
  /** The pull-request provider, built on first use (a dry run needs none). */
  readonly provider: () => PullRequestProvider;
  /** Our own link to pull request `number`. */
  readonly pullRequestUrl: (number: number) => string;
}

/** Pushes the proposal's branch and opens its pull request; for a dry run, describes them. */
export async function proposeChange(deps: ProposeDeps, proposal: Proposal): Promise<PushedBranch | DryRunResult> {
  const application = await applyIntent(proposal.snapshot, proposal.intent);
  if (application.conflicts.length > 0) throw conflictError(errors.changeConflict, 'The change does not apply to the default branch', application.conflicts);
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
      provider: deps.provider().name,
      title: proposal.title,
      body: proposal.body,
      source_branch: proposal.branch,
      target_branch: deps.git.defaultBranch,
      base_commit: proposal.snapshot.commit,
      head_commit: commit,
      intent: proposal.intent,
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
    const opened = await deps.provider().open({ pullRequest: { ...opening, state: 'open' } });
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
      await deps.events.publish(trx, [pullRequestEvent('pull_request.opened', open, pullRequestLink(open, deps.pullRequestUrl))]);
      return open;
    });
  } catch (error) {
    // The one compensated step: the pushed branch. Without its pull request it would be an
    // orphan nobody sees; if this cleanup fails too, the sweeper finishes it.
    if (pushed) await deps.git.deleteBranch({ branch: proposal.branch }).catch(() => {});
    await repository.deleteOpening(deps.db, opening.number).catch(() => {});
    throw error;
  }
  const url = pullRequestLink(row, deps.pullRequestUrl);
  return {
    commit_sha: commit,
    branch_name: proposal.branch,
    url,
    pull_request: { number: row.number, url, state: row.state, title: row.title, provider: row.provider, external_number: row.external_number },
  };
}

function commitMessage(subject: string, body: string): string {
  const first = subject.trim().split('\n')[0]!.slice(0, 200);
  const rest = subject.trim().split('\n').slice(1).join('\n').trim();
  return [first, rest, body.trim()].filter(Boolean).join('\n\n') + '\n';
}
