// `mir hotfix create|list|show|release|abandon`: a hotfix line is a branch from the newest release
// of X.Y; commit the fix there with git, then `release` proposes X.Y.(patch + 1).
import { Option, type Command } from 'commander';
import type { components } from '../../client/client.js';
import { positiveInteger, VERSION } from '../arguments.js';
import type { Context, Run } from '../context.js';
import { describeElement, elementType, resolveElement, typeOption } from '../elements.js';
import { usageError } from '../exit-codes.js';
import { bytes, fields, shortSha, table, type FieldEntry } from '../output.js';
import { dryRunEntries, pushedEntries } from './write-answers.js';

type Hotfix = components['schemas']['Hotfix'];

interface ListOptions {
  readonly state?: 'open' | 'released' | 'abandoned';
  readonly element?: string;
  readonly type?: string;
  readonly limit?: number;
}

interface WriteOptions {
  readonly dryRun?: boolean;
  readonly type?: string;
  readonly description?: string;
  readonly message?: string;
}

export function registerHotfixes(program: Command, run: Run): void {
  const hotfix = program.command('hotfix').description('hotfix lines: create, list, show, release, abandon');
  hotfix
    .command('create')
    .description('open a hotfix of the line of <release>: pushes hotfix/<uuid>/<X.Y> from that line’s newest release')
    .argument('<element>', 'the app or workflow, by name or uuid')
    .argument('<release>', 'a release of the line to patch, e.g. 1.2.0 for the line 1.2')
    .addOption(typeOption())
    .option('--message <text>', 'the commit message')
    .option('--dry-run', 'say what would be pushed; push nothing')
    .action((element: string, release: string, options: WriteOptions, command: Command) => run(command, (ctx) => create(ctx, element, release, options)));
  hotfix
    .command('list')
    .description('hotfixes, newest first')
    .addOption(new Option('--state <state>', 'only those in this state').choices(['open', 'released', 'abandoned']))
    .option('--element <element>', 'only those of this app or workflow (name or uuid)')
    .addOption(typeOption())
    .option('--limit <n>', 'at most this many (default 100, at most 500)', positiveInteger)
    .action((options: ListOptions, command: Command) => run(command, (ctx) => list(ctx, options)));
  hotfix
    .command('show')
    .description('one hotfix and the commits pushed to its branch')
    .argument('<id>', 'the hotfix id')
    .action((id: string, _options: unknown, command: Command) => run(command, (ctx) => show(ctx, id)));
  hotfix
    .command('release')
    .description('propose the patch release built from the hotfix branch')
    .argument('<id>', 'the hotfix id')
    .option('--description <text>', 'the release description')
    .option('--message <text>', 'the commit message')
    .option('--dry-run', 'say what would be pushed; push nothing')
    .action((id: string, options: WriteOptions, command: Command) => run(command, (ctx) => release(ctx, id, options)));
  hotfix
    .command('abandon')
    .description('abandon the hotfix: deletes its branch and frees the line')
    .argument('<id>', 'the hotfix id')
    .option('--dry-run', 'say what would be deleted; delete nothing')
    .action((id: string, options: WriteOptions, command: Command) => run(command, (ctx) => abandon(ctx, id, options)));
}

function hotfixEntries(h: Hotfix): FieldEntry[] {
  return [
    ['hotfix', h.id],
    ['element', `${h.element_type === 'PAGE' ? 'app' : 'workflow'} ${h.element_uuid}`],
    ['line', `${h.line} (from ${h.base_version})`],
    ['state', h.state],
    ['branch', h.branch],
    ['release', h.release_version ?? undefined],
    ['pull request', h.pull_request ? `#${h.pull_request.number} ${h.pull_request.url}` : undefined],
    ['author', h.author],
    ['created', h.created_at],
  ];
}

async function create(ctx: Context, name: string, release: string, options: WriteOptions): Promise<void> {
  if (!VERSION.test(release)) throw usageError(`"${release}" is not a version X.Y.Z`);
  const element = await resolveElement(ctx, name, elementType(options.type));
  ctx.out.progress(`${options.dryRun ? 'computing' : 'pushing'} the hotfix branch of ${describeElement(element)} ${release}`);
  const answer = await ctx.send(
    ctx.client().POST('/api/v2/source_control/hotfixes', {
      params: { query: options.dryRun ? { dry_run: true } : {} },
      body: {
        element_uuid: element.uuid,
        element_type: element.type,
        release,
        ...(options.message !== undefined ? { commit_message: options.message } : {}),
      },
    }),
  );
  ctx.out.result(answer, () => {
    if ('dry_run' in answer) return fields([['line', `${answer.line} (from ${answer.base_version})`], ...dryRunEntries(answer)]);
    return fields([
      ...hotfixEntries(answer.hotfix),
      ['at', shortSha(answer.commit_sha)],
      ['next', `commit the fix to ${answer.hotfix.branch}, then: mir hotfix release ${answer.hotfix.id}`],
    ]);
  });
}

async function list(ctx: Context, options: ListOptions): Promise<void> {
  const element = options.element ? await resolveElement(ctx, options.element, elementType(options.type)) : undefined;
  const query = {
    ...(options.state ? { state: options.state } : {}),
    ...(element ? { element_uuid: element.uuid } : {}),
    ...(options.limit ? { limit: options.limit } : {}),
  };
  const { hotfixes } = await ctx.send(ctx.client().GET('/api/v2/source_control/hotfixes', { params: { query } }));
  ctx.out.result({ hotfixes }, () =>
    table(
      ['id', 'state', 'element', 'line', 'release', 'branch'],
      hotfixes.map((h) => [h.id, h.state, h.element_uuid, h.line, h.release_version ?? '—', h.branch]),
      'no hotfixes',
    ),
  );
}

async function show(ctx: Context, id: string): Promise<void> {
  const answer = await ctx.send(ctx.client().GET('/api/v2/source_control/hotfixes/{id}', { params: { path: { id } } }));
  ctx.out.result(answer, () =>
    fields([
      ...hotfixEntries(answer.hotfix),
      ...answer.commits.map((c): FieldEntry => ['commit', `${shortSha(c.sha)} ${c.author}: ${c.message.split('\n')[0]}`]),
    ]),
  );
}

async function release(ctx: Context, id: string, options: WriteOptions): Promise<void> {
  ctx.out.progress(`${options.dryRun ? 'computing' : 'building and pushing'} the patch release of hotfix ${id}`);
  const body = {
    ...(options.description !== undefined ? { release_description: options.description } : {}),
    ...(options.message !== undefined ? { commit_message: options.message } : {}),
  };
  const answer = await ctx.send(
    ctx.client().POST('/api/v2/source_control/hotfixes/{id}/release', {
      params: { path: { id }, query: options.dryRun ? { dry_run: true } : {} },
      body,
    }),
  );
  ctx.out.result(answer, () =>
    fields([
      ['release', answer.release_version],
      ['zip', `${bytes(answer.size)}, sha256 ${answer.sha256}`],
      ...('dry_run' in answer ? dryRunEntries(answer) : pushedEntries(answer)),
    ]),
  );
}

async function abandon(ctx: Context, id: string, options: WriteOptions): Promise<void> {
  if (!options.dryRun) ctx.out.progress(`abandoning hotfix ${id}`);
  const answer = await ctx.send(
    ctx.client().POST('/api/v2/source_control/hotfixes/{id}/abandon', { params: { path: { id }, query: options.dryRun ? { dry_run: true } : {} } }),
  );
  ctx.out.result(answer, () =>
    'dry_run' in answer
      ? fields([
          ['dry run', 'nothing was deleted or recorded'],
          ['hotfix', answer.hotfix_id],
          ['would delete', answer.branch_name],
          ['would be', answer.state],
        ])
      : fields(hotfixEntries(answer.hotfix)),
  );
}
