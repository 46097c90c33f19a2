// Gates: checks other domains (holds, policy) run on every change before it is proposed and again
// before a pull request merges. The pull-request service only calls the gates it was given, in the
// order they were added, so it never imports the domains that make them (no import cycle), and
// each gate owns its rule. A gate refuses outright by throwing (a held release: 409
// release_held), or answers verdicts: at opening they are reported (answer and pull request body);
// at merge a blocked one refuses the merge (409 policy_blocked).
import type { Actor } from '../audit/audit.service.js';
import type { PullRequestRow } from '../db/database.js';
import type { Snapshot } from '../snapshots/snapshot.js';
import type { Intent } from './intent.js';

/** An explicit override (break-glass) an `admin` token sent, with its reason. */
export interface Override {
  readonly reason: string;
}

export interface GateContext {
  readonly phase: 'propose' | 'merge';
  readonly intent: Intent;
  /** The default branch the change is checked against. */
  readonly snapshot: Snapshot;
  readonly actor: Actor;
  readonly override?: Override | undefined;
  /** At merge: the pull request. */
  readonly pullRequest?: PullRequestRow;
  readonly provider: string;
}

export interface Verdict {
  /** Which gate: `hold`, `policy`. */
  readonly gate: string;
  readonly manifest: string;
  /** The rule: `hold`, `order`, `soak`, `freeze`, `approvals`. */
  readonly rule: string;
  readonly status: 'pass' | 'blocked' | 'overridden';
  readonly reason: string;
  /** When a time-bound block ends (soak, freeze); null otherwise. */
  readonly until: string | null;
}

export interface Gate {
  readonly name: string;
  check(context: GateContext): Promise<readonly Verdict[]>;
}

/** Every gate's verdicts, in order. */
export async function runGates(gates: readonly Gate[], context: GateContext): Promise<Verdict[]> {
  const verdicts: Verdict[] = [];
  for (const gate of gates) verdicts.push(...(await gate.check(context)));
  return verdicts;
}

/** The verdicts as lines of a pull request body. */
export function verdictLines(verdicts: readonly Verdict[]): string[] {
  if (verdicts.length === 0) return [];
  return [
    '',
    'Policy verdicts at opening:',
    ...verdicts.map((v) => `- ${v.manifest} ${v.rule}: ${v.status}${v.status === 'pass' ? '' : ` — ${v.reason}`}${v.until ? ` (until ${v.until})` : ''}`),
  ];
}
