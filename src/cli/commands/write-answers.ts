// How the answers of writes read for people: the pushed branch and its pull request, or what a dry
// run would have pushed.
import type { components } from '../../client/client.js';
import { shortSha, type FieldEntry } from '../output.js';

type PushedBranch = components['schemas']['PushedBranch'];
type DryRun = Pick<components['schemas']['DryRun'], 'base_sha' | 'branch_name' | 'files'> & {
  pull_request?: { title: string; body: string };
};

export function pushedEntries(answer: Pick<PushedBranch, 'branch_name' | 'commit_sha' | 'pull_request'>): FieldEntry[] {
  return [
    ['branch', `${answer.branch_name} at ${shortSha(answer.commit_sha)}`],
    ['pull request', pullRequestLine(answer.pull_request)],
  ];
}

export function pullRequestLine(pr: { number: number; state?: string; title?: string; url: string }): string {
  return [`#${pr.number}`, pr.state, pr.title ? `"${pr.title}"` : undefined, pr.url].filter(Boolean).join(' ');
}

export function dryRunEntries(answer: DryRun): FieldEntry[] {
  return [
    ['dry run', 'nothing was pushed or recorded'],
    ['based on', shortSha(answer.base_sha)],
    ['would push', answer.branch_name],
    ['would open', answer.pull_request ? `"${answer.pull_request.title}"` : undefined],
    ...answer.files.map((f): FieldEntry => [`  ${f.change}`, f.path]),
  ];
}

type Verdict = components['schemas']['Verdict'];

/** What holds and policy said of a change, one line each: `prod approvals  blocked: 0 of 2 … (until …)`. */
export function verdictEntries(policy: readonly Verdict[] | undefined): FieldEntry[] {
  return (policy ?? []).map((v): FieldEntry => [`${v.gate} ${v.manifest} ${v.rule}`, `${v.status}: ${v.reason}${v.until ? ` (until ${v.until})` : ''}`]);
}

/** A dry run's exact changes: each operation of the intent it would record. */
export function operationEntries(operations: readonly Record<string, unknown>[]): FieldEntry[] {
  return operations.map((op): FieldEntry => {
    const text = (key: string) => (typeof op[key] === 'string' ? (op[key] as string) : '—');
    if (op.op === 'set_entry') return ['  set', `${text('manifest')} ${text('element_type')} ${text('element_uuid')}: ${text('from')} → ${text('to')}`];
    return [`  ${text('op')}`, `${text('manifest')} ${text('element_uuid')}`];
  });
}
