// `mir deployments list|show|report|update` and `mir drift <instance>`: what each instance says it
// deployed, and how that differs from what its manifest sets now.
import type { Command } from 'commander';
import type { components } from '../../client/client.js';
import type { Context, Run } from '../context.js';
import { usageError } from '../exit-codes.js';
import { fields, shortSha, table, type FieldEntry } from '../output.js';

type Deployment = components['schemas']['Deployment'];
type Status = Deployment['status'];

const STATUSES: readonly Status[] = ['PENDING_START', 'RUNNING', 'SUCCESS', 'ERROR'];
const API = '/api/v2/source_control';

function status(value: string | undefined): Status | undefined {
  if (value === undefined) return undefined;
  const upper = value.toUpperCase() as Status;
  if (!STATUSES.includes(upper)) throw usageError(`--status must be one of ${STATUSES.join(', ')}`);
  return upper;
}

export function registerDeployments(program: Command, run: Run): void {
  const deployments = program.command('deployments').description('deployments reported by instances: list, show, report, update');
  deployments
    .command('list')
    .description('deployments, newest first')
    .option('--instance <name>', 'of this instance only')
    .option('--status <status>', `only in this status (${STATUSES.join(', ')})`)
    .option('--limit <n>', 'at most this many', '20')
    .action((options: { instance?: string; status?: string; limit: string }, command: Command) => run(command, (ctx) => list(ctx, options)));
  deployments
    .command('show')
    .description('one deployment')
    .argument('<id>', 'the deployment id')
    .action((id: string, _options: unknown, command: Command) => run(command, (ctx) => show(ctx, id)));
  deployments
    .command('report')
    .description("record a deployment of an instance (what an instance's agent calls)")
    .argument('<instance>', 'the instance')
    .argument('<commit>', 'the commit it deploys (40 hex digits)')
    .option('--status <status>', `its status (${STATUSES.join(', ')})`, 'PENDING_START')
    .option('--releases', 'say it runs what GET …/instances/{name}/releases answers now')
    .option('--message <text>', 'a note (an error, a log link)')
    .action((instance: string, commit: string, options: { status: string; releases?: boolean; message?: string }, command: Command) =>
      run(command, (ctx) => report(ctx, instance, commit, options)),
    );
  deployments
    .command('update')
    .description('move a deployment forward: RUNNING, SUCCESS or ERROR')
    .argument('<instance>', 'the instance')
    .argument('<id>', 'the deployment id')
    .argument('<status>', `the new status (${STATUSES.join(', ')})`)
    .option('--message <text>', 'a note (an error, a log link)')
    .action((instance: string, id: string, to: string, options: { message?: string }, command: Command) =>
      run(command, (ctx) => update(ctx, instance, id, to, options)),
    );
  program
    .command('drift')
    .description('what an instance runs against what its manifest sets now')
    .argument('<instance>', 'the instance')
    .action((instance: string, _options: unknown, command: Command) => run(command, (ctx) => drift(ctx, instance)));
}

function entries(d: Deployment): FieldEntry[] {
  return [
    ['deployment', d.id],
    ['instance', d.instance],
    ['status', d.status],
    ['commit', d.commit_sha],
    ['triggered by', d.triggered_by],
    ['created', d.created_at],
    ['completed', d.completed_at ?? undefined],
    ['elements', d.elements ? String(d.elements.length) : '(not reported)'],
    ['message', d.message ?? undefined],
  ];
}

async function list(ctx: Context, options: { instance?: string; status?: string; limit: string }): Promise<void> {
  const limit = Number(options.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw usageError('--limit must be an integer from 1 to 500');
  const wanted = status(options.status);
  const query = { limit, ...(options.instance ? { instance: options.instance } : {}), ...(wanted ? { status: wanted } : {}) };
  const page = await ctx.send(ctx.client().GET(`${API}/deployments`, { params: { query } }));
  ctx.out.result({ deployments: page }, () =>
    table(
      ['id', 'instance', 'status', 'commit', 'created', 'completed'],
      page.map((d) => [d.id, d.instance, d.status, shortSha(d.commit_sha), d.created_at, d.completed_at ?? '—']),
      'no deployments',
    ),
  );
}

async function show(ctx: Context, id: string): Promise<void> {
  const deployment = await ctx.send(ctx.client().GET(`${API}/deployment/{id}`, { params: { path: { id } } }));
  ctx.out.result({ deployment }, () => fields(entries(deployment)));
}

async function report(ctx: Context, instance: string, commit: string, options: { status: string; releases?: boolean; message?: string }): Promise<void> {
  let elements: { uuid: string; type: 'PAGE' | 'WORKFLOW'; release: string }[] | undefined;
  if (options.releases) {
    const answer = await ctx.send(ctx.client().GET(`${API}/instances/{name}/releases`, { params: { path: { name: instance } } }));
    elements = answer.elements.map((e) => ({ uuid: e.uuid, type: e.type, release: e.release }));
  }
  const body = {
    commit_sha: commit,
    status: status(options.status)!,
    ...(elements ? { elements } : {}),
    ...(options.message !== undefined ? { message: options.message } : {}),
  };
  const deployment = await ctx.send(ctx.client().POST(`${API}/instances/{name}/deployments`, { params: { path: { name: instance } }, body }));
  ctx.out.result({ deployment }, () => fields(entries(deployment)));
}

async function update(ctx: Context, instance: string, id: string, to: string, options: { message?: string }): Promise<void> {
  const body = { status: status(to)!, ...(options.message !== undefined ? { message: options.message } : {}) };
  const deployment = await ctx.send(ctx.client().PATCH(`${API}/instances/{name}/deployments/{id}`, { params: { path: { name: instance, id } }, body }));
  ctx.out.result({ deployment }, () => fields(entries(deployment)));
}

async function drift(ctx: Context, instance: string): Promise<void> {
  const answer = await ctx.send(ctx.client().GET(`${API}/instances/{name}/drift`, { params: { path: { name: instance } } }));
  ctx.out.result(answer, () => {
    const flags = Object.entries(answer.flags)
      .filter(([, up]) => up)
      .map(([flag]) => flag.replaceAll('_', ' '));
    const head = fields([
      ['instance', answer.instance],
      ['manifest', answer.manifest ?? '(none)'],
      ['at', shortSha(answer.commit_sha)],
      ['drifted', `${answer.drifted_count} element(s)`],
      ['flags', flags.length > 0 ? flags.join(', ') : 'none'],
      ['last seen', answer.last_seen_at ?? 'never'],
      ['last success', answer.last_successful_deployment?.completed_at ?? 'never'],
    ]);
    const rows = answer.elements.map((e) => [
      e.name ?? e.uuid,
      e.type === 'PAGE' ? 'app' : 'workflow',
      e.desired ?? '—',
      e.deployed ?? '—',
      e.drifted ? `since ${e.since}` : '',
    ]);
    return `${head}\n${table(['element', 'type', 'desired', 'deployed', 'drift'], rows, 'no elements')}`;
  });
}
