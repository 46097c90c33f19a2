// `mir pr list|show|merge|close|approve|unapprove|verdicts`. The API has no dry run for merge and
// close: `--dry-run` reads the pull request and says what the write would do, which a write of an
// open one does.
import { Option, type Command } from 'commander';
import type { components } from '../../client/client.js';
import { overrideHeader, overrideReason, positiveInteger } from '../arguments.js';
import type { Context, Run } from '../context.js';
import { CliError, EXIT } from '../exit-codes.js';
import { fields, shortSha, table, type FieldEntry } from '../output.js';
import { pullRequestLine, verdictEntries } from './write-answers.js';

type PullRequest = components['schemas']['PullRequest'];

interface ListOptions {
  readonly state?: 'open' | 'merged' | 'closed' | 'conflicted';
  readonly limit?: number;
}

export function registerPullRequests(program: Command, run: Run): void {
  const pr = program.command('pr').description('pull requests: list, show, merge, close, approve, unapprove, verdicts');
  pr.command('list')
    .description('pull requests, newest first')
    .addOption(new Option('--state <state>', 'only those in this state').choices(['open', 'merged', 'closed', 'conflicted']))
    .option('--limit <n>', 'at most this many (default 100, at most 500)', positiveInteger)
    .action((options: ListOptions, command: Command) => run(command, (ctx) => list(ctx, options)));
  pr.command('show')
    .description('one pull request: what it does to each manifest, the releases it adds')
    .argument('<number>', 'the pull request number', positiveInteger)
    .action((number: number, _options: unknown, command: Command) => run(command, (ctx) => show(ctx, number)));
  pr.command('merge')
    .description('merge: re-applies its change to the default branch as it is now')
    .argument('<number>', 'the pull request number', positiveInteger)
    .option('--override-reason <text>', 'an admin token only: merge through holds and policy blocks, for this reason (audited)', overrideReason)
    .option('--dry-run', 'say what would be merged; merge nothing')
    .action((number: number, options: MergeOptions, command: Command) => run(command, (ctx) => merge(ctx, number, options)));
  pr.command('close')
    .description('close without merging (deletes its branch)')
    .argument('<number>', 'the pull request number', positiveInteger)
    .option('--dry-run', 'say what would be closed; close nothing')
    .action((number: number, options: { dryRun?: boolean }, command: Command) => run(command, (ctx) => close(ctx, number, options)));
  pr.command('approve')
    .description('approve a builtin pull request with this token (not its author’s)')
    .argument('<number>', 'the pull request number', positiveInteger)
    .action((number: number, _options: unknown, command: Command) => run(command, (ctx) => approvals(ctx, number, 'approve')));
  pr.command('unapprove')
    .description('withdraw this token’s approval')
    .argument('<number>', 'the pull request number', positiveInteger)
    .action((number: number, _options: unknown, command: Command) => run(command, (ctx) => approvals(ctx, number, 'withdraw')));
  pr.command('verdicts')
    .description('what holds and policy would say of merging it now')
    .argument('<number>', 'the pull request number', positiveInteger)
    .action((number: number, _options: unknown, command: Command) => run(command, (ctx) => verdicts(ctx, number)));
}

interface MergeOptions {
  readonly dryRun?: boolean;
  readonly overrideReason?: string;
}

async function list(ctx: Context, options: ListOptions): Promise<void> {
  const query = { ...(options.state ? { state: options.state } : {}), ...(options.limit ? { limit: options.limit } : {}) };
  const { pull_requests } = await ctx.send(ctx.client().GET('/api/v2/source_control/pull_requests', { params: { query } }));
  ctx.out.result({ pull_requests }, () =>
    table(
      ['number', 'state', 'kind', 'author', 'updated', 'title'],
      pull_requests.map((p) => [`#${p.number}`, p.state, p.kind, p.author, p.updated_at.slice(0, 16).replace('T', ' '), p.title]),
      'no pull requests',
    ),
  );
}

async function read(ctx: Context, number: number): Promise<PullRequest> {
  return (await ctx.send(ctx.client().GET('/api/v2/source_control/pull_requests/{number}', { params: { path: { number } } }))).pull_request;
}

async function show(ctx: Context, number: number): Promise<void> {
  const pullRequest = await read(ctx, number);
  ctx.out.result({ pull_request: pullRequest }, () => describe(pullRequest));
}

function describe(p: PullRequest): string {
  const entries: FieldEntry[] = [
    ['pull request', pullRequestLine(p)],
    ['kind', p.kind],
    ['branch', `${p.source_branch} → ${p.target_branch}`],
    ['author', p.author],
    ['created', p.created_at],
    ['merged', p.merged_at ? `${p.merged_at} by ${p.merged_by ?? '?'} as ${shortSha(p.merge_commit)}` : undefined],
    ['closed', p.closed_at ?? undefined],
  ];
  for (const m of p.manifests) {
    const verb = m.created ? 'creates' : m.deleted ? 'deletes' : 'changes';
    entries.push([`manifest`, `${verb} ${m.manifest}`]);
    for (const a of m.added) entries.push(['  add', `${a.element_uuid} at ${a.release}`]);
    for (const c of m.changed) entries.push(['  change', `${c.element_uuid} ${c.from} → ${c.to}`]);
    for (const r of m.removed) entries.push(['  remove', `${r.element_uuid} (was ${r.release})`]);
  }
  for (const a of p.artifacts) entries.push(['release', `${a.element_uuid} ${a.version} (sha256 ${a.sha256.slice(0, 12)})`]);
  for (const c of p.conflicts ?? []) entries.push(['conflict', `${c.target}: ${c.reason}`]);
  return fields(entries);
}

async function merge(ctx: Context, number: number, options: MergeOptions): Promise<void> {
  if (options.dryRun) return dryRun(ctx, number, 'merge');
  ctx.out.progress(`merging pull request #${number}`);
  const answer = await ctx.send(
    ctx.client().POST('/api/v2/source_control/pull_requests/{number}/merge', { params: { path: { number }, header: overrideHeader(options.overrideReason) } }),
  );
  ctx.out.result(answer, () =>
    fields([['merged', pullRequestLine(answer.pull_request)], ['default branch', shortSha(answer.commit_sha)], ...verdictEntries(answer.policy)]),
  );
}

async function approvals(ctx: Context, number: number, action: 'approve' | 'withdraw'): Promise<void> {
  const path = '/api/v2/source_control/pull_requests/{number}/approvals';
  const params = { params: { path: { number } } };
  const answer = await ctx.send(action === 'approve' ? ctx.client().POST(path, params) : ctx.client().DELETE(path, params));
  ctx.out.result(answer, () =>
    fields([
      ['pull request', `#${answer.pull_request}`],
      ['approvals', answer.approvals.length],
      ...answer.approvals.map((a): FieldEntry => ['  by', `${a.approver} at ${a.approved_at}`]),
    ]),
  );
}

async function verdicts(ctx: Context, number: number): Promise<void> {
  const answer = await ctx.send(ctx.client().GET('/api/v2/source_control/pull_requests/{number}/verdicts', { params: { path: { number } } }));
  ctx.out.result(answer, () =>
    table(
      ['gate', 'manifest', 'rule', 'status', 'until', 'reason'],
      answer.policy.map((v) => [v.gate, v.manifest, v.rule, v.status, v.until ?? '—', v.reason]),
      `no holds or policy apply to pull request #${number}`,
    ),
  );
}

async function close(ctx: Context, number: number, options: { dryRun?: boolean }): Promise<void> {
  if (options.dryRun) return dryRun(ctx, number, 'close');
  ctx.out.progress(`closing pull request #${number}`);
  const answer = await ctx.send(ctx.client().POST('/api/v2/source_control/pull_requests/{number}/close', { params: { path: { number } } }));
  ctx.out.result(answer, () => fields([['closed', pullRequestLine(answer.pull_request)]]));
}

/** What merge or close would do: both take an open or conflicted pull request (a merge tries again). */
async function dryRun(ctx: Context, number: number, action: 'merge' | 'close'): Promise<void> {
  const pullRequest = await read(ctx, number);
  if (pullRequest.state === 'merged' || pullRequest.state === 'closed')
    throw new CliError(`pull request #${number} is ${pullRequest.state}: it cannot ${action}`, EXIT.conflict);
  ctx.out.result({ dry_run: true, action, pull_request: pullRequest }, () => `dry run: would ${action}\n${describe(pullRequest)}`);
}
