// Policy gates, read from `.mir/policy.yaml` on the default branch (src/policy/policy-file.ts):
// order and soak, freeze and allow windows, approvals. Verdicts are given when a pull request is
// opened (reported in the answer and its body) and again at merge, where a blocked one refuses
// it (409 policy_blocked) unless an admin breaks glass with a reason (audited by the pull-request
// service). Time comes from the injected clock, never from Date.now().
//
// Soak is measured from the merge that put the version in the earlier manifest as this service
// recorded it (the merged pull request's `merged_at`, the audit trail's time), not from git
// history: a commit's date is whatever its author's machine said and can be set to anything,
// while mir's merge time is its own clock; and one indexed query answers for every element of a
// promotion, where git history would be walked per manifest. A version put in place by a push
// that bypassed mir has no such record, and is refused until it has been merged through mir.
import type { Kysely } from 'kysely';
import type { Tables } from '../db/database.js';
import type { GitGateway } from '../git/types.js';
import { resolveRelease } from '../promotion/compare.js';
import { LATEST, type ElementType } from '../formats/values.js';
import type { Gate, GateContext, Verdict } from '../pull-requests/gates.js';
import type { Intent, Operation } from '../pull-requests/intent.js';
import { listMergedSettingEntries } from '../pull-requests/pull-requests.repository.js';
import type { PullRequestService } from '../pull-requests/pull-requests.service.js';
import { elementKey, type Snapshot } from '../snapshots/snapshot.js';
import { countApprovals } from './approvals.repository.js';
import { EMPTY_POLICY, parsePolicy, POLICY_PATH, windowAt, type ManifestPolicy, type Policy } from './policy-file.js';

type SetEntry = Extract<Operation, { op: 'set_entry' }>;

export interface PolicyService {
  /** The policy on the default branch at `snapshot` (422 policy_invalid when it does not validate). */
  read(snapshot: Snapshot): Promise<Policy>;
}

export function createPolicyService(deps: { db: Kysely<Tables>; git: GitGateway; pullRequests: PullRequestService; clock: () => Date }): PolicyService {
  let cached: { blob: string | null; commit: string; policy: Policy } | undefined;

  async function read(snapshot: Snapshot): Promise<Policy> {
    if (cached?.commit === snapshot.commit) return cached.policy;
    const bytes = await deps.git.readFile({ ref: snapshot.commit, path: POLICY_PATH });
    const policy = bytes ? parsePolicy(bytes) : EMPTY_POLICY;
    cached = { blob: null, commit: snapshot.commit, policy };
    return policy;
  }

  /** When each (manifest, element, release) was last merged through mir: one query for them all. */
  async function mergedAt(manifests: readonly string[]): Promise<Map<string, Date>> {
    const times = new Map<string, Date>();
    if (manifests.length === 0) return times;
    const rows = await listMergedSettingEntries(deps.db, manifests, 5_000);
    for (const row of rows) {
      if (!row.merged_at) continue;
      for (const op of (row.intent as Intent).operations) {
        if (op.op !== 'set_entry' || !manifests.includes(op.manifest)) continue;
        const key = `${op.manifest}\0${elementKey(op.element_type, op.element_uuid)}\0${op.to}`;
        if (!times.has(key)) times.set(key, row.merged_at);
      }
    }
    return times;
  }

  function orderVerdicts(
    snapshot: Snapshot,
    manifest: string,
    order: NonNullable<ManifestPolicy['order']>,
    ops: readonly SetEntry[],
    merged: Map<string, Date>,
    now: Date,
  ): Verdict[] {
    const verdict = (rule: 'order' | 'soak', status: Verdict['status'], reason: string, until: Date | null = null): Verdict => ({
      gate: 'policy',
      manifest,
      rule,
      status,
      reason,
      until: until?.toISOString() ?? null,
    });
    const earlier = snapshot.manifests.get(order.after)?.file;
    const out: Verdict[] = [];
    for (const op of ops) {
      const what = `${op.element_type} ${op.element_uuid} ${op.to}`;
      if (op.to === LATEST) {
        out.push(verdict('order', 'blocked', `${what}: latest is not a release, so it cannot come from ${order.after}`));
        continue;
      }
      const there = earlier?.getEntry(op.element_type, op.element_uuid)?.release;
      const versions = [...(snapshot.releases.get(elementKey(op.element_type as ElementType, op.element_uuid))?.keys() ?? [])];
      if (there === undefined || resolveRelease(there, versions) !== op.to) {
        out.push(
          verdict('order', 'blocked', `${what} is not in ${order.after} (it runs ${there ?? 'nothing'}); ${manifest} takes releases from ${order.after}`),
        );
        continue;
      }
      out.push(verdict('order', 'pass', `${what} is in ${order.after}`));
      if (order.soakMs === 0) continue;
      const since = merged.get(`${order.after}\0${elementKey(op.element_type, op.element_uuid)}\0${there}`);
      if (!since) {
        out.push(verdict('soak', 'blocked', `${what}: no merge through mir put it in ${order.after}, so its soak cannot be measured`));
        continue;
      }
      const ready = new Date(since.getTime() + order.soakMs);
      if (ready.getTime() > now.getTime())
        out.push(verdict('soak', 'blocked', `${what} has been in ${order.after} since ${since.toISOString()}, less than ${order.soak}`, ready));
      else out.push(verdict('soak', 'pass', `${what} has been in ${order.after} since ${since.toISOString()} (${order.soak} or more)`));
    }
    return out;
  }

  function windowVerdicts(manifest: string, policy: ManifestPolicy, now: Date): Verdict[] {
    const base = { gate: 'policy', manifest, rule: 'freeze' } as const;
    if (policy.freeze.length === 0 && policy.allow.length === 0) return [];
    // Deny wins over allow: a freeze blocks even inside an allow window.
    const frozen = windowAt(policy.freeze, now);
    if (frozen)
      return [
        {
          ...base,
          status: 'blocked',
          reason: `frozen by "${frozen.window.name}" (${frozen.window.timezone})${frozen.until ? ` until ${frozen.until.toISOString()}` : ''}`,
          until: frozen.until?.toISOString() ?? null,
        },
      ];
    if (policy.allow.length > 0 && !windowAt(policy.allow, now)) {
      const next = policy.allow
        .map((w) => w.start.nextRun(now))
        .filter((d): d is Date => d !== null)
        .sort((a, b) => a.getTime() - b.getTime())[0];
      return [
        {
          ...base,
          status: 'blocked',
          reason: `outside every allow window (${policy.allow.map((w) => w.name).join(', ')})`,
          until: next?.toISOString() ?? null,
        },
      ];
    }
    return [{ ...base, status: 'pass', reason: 'no freeze window now', until: null }];
  }

  async function approvalVerdict(manifest: string, required: number, context: GateContext): Promise<Verdict> {
    const base = { gate: 'policy', manifest, rule: 'approvals', until: null } as const;
    if (context.provider !== 'builtin') return { ...base, status: 'pass', reason: `${context.provider}'s own review state decides` };
    const count = context.pullRequest ? await countApprovals(deps.db, context.pullRequest.number, context.pullRequest.author) : 0;
    return count >= required
      ? { ...base, status: 'pass', reason: `${count} of ${required} approvals` }
      : { ...base, status: 'blocked', reason: `${count} of ${required} approvals by someone other than the author` };
  }

  const gate: Gate = {
    name: 'policy',
    async check(context) {
      const sets = context.intent.operations.filter((op): op is SetEntry => op.op === 'set_entry');
      if (sets.length === 0) return [];
      const policy = await read(context.snapshot);
      const governed = [...new Set(sets.map((op) => op.manifest))].filter((m) => policy.manifests.has(m)).sort();
      if (governed.length === 0) return [];
      const now = deps.clock();
      const earlier = [...new Set(governed.flatMap((m) => policy.manifests.get(m)!.order?.after ?? []))];
      const merged = await mergedAt(earlier);
      const verdicts: Verdict[] = [];
      for (const manifest of governed) {
        const rules = policy.manifests.get(manifest)!;
        const ops = sets.filter((op) => op.manifest === manifest);
        if (rules.order) verdicts.push(...orderVerdicts(context.snapshot, manifest, rules.order, ops, merged, now));
        verdicts.push(...windowVerdicts(manifest, rules, now));
        if (rules.approvals) verdicts.push(await approvalVerdict(manifest, rules.approvals.required, context));
      }
      // Break glass: an admin's override lets every block through, each one audited.
      return context.override ? verdicts.map((v) => (v.status === 'blocked' ? { ...v, status: 'overridden' } : v)) : verdicts;
    },
  };
  deps.pullRequests.addGate(gate);

  return { read };
}
