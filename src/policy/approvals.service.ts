// Approvals of builtin pull requests: a token other than the author's approves, or withdraws its
// approval; the policy's `approvals.required` counts them at merge. On a forge, the forge's own
// reviews are what count, so approving here is refused.
import type { Kysely } from 'kysely';
import type { Actor, AuditService } from '../audit/audit.service.js';
import type { Tables } from '../db/database.js';
import { errors } from '../errors.js';
import type { PullRequestService } from '../pull-requests/pull-requests.service.js';
import * as repository from './approvals.repository.js';

export interface ApprovalsView {
  pull_request: number;
  approvals: { approver: string; approved_at: string }[];
}

export interface ApprovalService {
  list(number: number): Promise<ApprovalsView>;
  approve(number: number, actor: Actor): Promise<ApprovalsView>;
  withdraw(number: number, actor: Actor): Promise<ApprovalsView>;
}

export function createApprovalService(deps: { db: Kysely<Tables>; audit: AuditService; pullRequests: PullRequestService }): ApprovalService {
  const { db } = deps;

  async function view(number: number): Promise<ApprovalsView> {
    const rows = await repository.listApprovals(db, number);
    return { pull_request: number, approvals: rows.map((r) => ({ approver: r.approver, approved_at: r.approved_at.toISOString() })) };
  }

  async function openPullRequest(number: number) {
    const pr = await deps.pullRequests.get(number);
    if (pr.state === 'merged' || pr.state === 'closed') throw errors.pullRequestNotOpen(number, pr.state);
    return pr;
  }

  return {
    async list(number) {
      await deps.pullRequests.get(number);
      return view(number);
    },

    async approve(number, actor) {
      const pr = await openPullRequest(number);
      if (pr.provider !== 'builtin') throw errors.approvalRefused(number, `it lives on ${pr.provider}: approve it there`);
      if (pr.author === actor.name) throw errors.approvalRefused(number, 'its author cannot approve it');
      await db.transaction().execute(async (trx) => {
        if (await repository.insertApproval(trx, { pull_request: number, approver: actor.name, token_id: actor.tokenId }))
          await deps.audit.record(actor, { action: 'pull_request.approve', target: `pull_request:${number}` }, trx);
      });
      return view(number);
    },

    async withdraw(number, actor) {
      await openPullRequest(number);
      await db.transaction().execute(async (trx) => {
        if (await repository.deleteApproval(trx, number, actor.name))
          await deps.audit.record(actor, { action: 'pull_request.approval.withdraw', target: `pull_request:${number}` }, trx);
      });
      return view(number);
    },
  };
}
