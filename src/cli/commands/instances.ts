// `mir instances list|show|releases|create|bind|unbind`: which manifest each deployment instance
// follows, and what that resolves to now. The API has no dry run for instance writes: `--dry-run`
// reads what the write would check (the instance, the manifest) and says what it would change.
import type { Command } from 'commander';
import type { components } from '../../client/client.js';
import type { Context, Run } from '../context.js';
import { CliError, EXIT } from '../exit-codes.js';
import { bytes, fields, shortSha, table, type FieldEntry } from '../output.js';

type Instance = components['schemas']['Instance'];

interface CreateOptions {
  readonly manifest?: string;
  readonly description?: string;
  readonly instanceUrl?: string;
  readonly dryRun?: boolean;
}

const BASE = '/api/v2/source_control/instances';

export function registerInstances(program: Command, run: Run): void {
  const instances = program.command('instances').description('deployment instances: list, show, releases, create, bind, unbind');
  instances
    .command('list')
    .description('every instance and the manifest it follows')
    .option('--manifest <name>', 'only those following this manifest')
    .action((options: { manifest?: string }, command: Command) => run(command, (ctx) => list(ctx, options.manifest)));
  instances
    .command('show')
    .description('one instance')
    .argument('<name>', 'the instance name')
    .action((name: string, _options: unknown, command: Command) => run(command, (ctx) => show(ctx, name)));
  instances
    .command('releases')
    .description('what the instance must run now: its manifest resolved to release artifacts')
    .argument('<name>', 'the instance name')
    .action((name: string, _options: unknown, command: Command) => run(command, (ctx) => releases(ctx, name)));
  instances
    .command('create')
    .description('record a new instance')
    .argument('<name>', 'the instance name (a-z 0-9 _ -)')
    .option('--manifest <name>', 'the manifest it follows (it must exist on the default branch)')
    .option('--description <text>', 'what it is')
    // Not --url: that is mir's own address, a global option.
    .option('--instance-url <url>', 'where it runs')
    .option('--dry-run', 'check and say what would be recorded; record nothing')
    .action((name: string, options: CreateOptions, command: Command) => run(command, (ctx) => create(ctx, name, options)));
  instances
    .command('bind')
    .description('make the instance follow a manifest')
    .argument('<name>', 'the instance name')
    .argument('<manifest>', 'the manifest (it must exist on the default branch)')
    .option('--dry-run', 'check and say what would change; change nothing')
    .action((name: string, manifest: string, options: { dryRun?: boolean }, command: Command) => run(command, (ctx) => bind(ctx, name, manifest, options)));
  instances
    .command('unbind')
    .description('make the instance follow no manifest')
    .argument('<name>', 'the instance name')
    .option('--dry-run', 'check and say what would change; change nothing')
    .action((name: string, options: { dryRun?: boolean }, command: Command) => run(command, (ctx) => bind(ctx, name, null, options)));
}

function instanceEntries(i: Instance): FieldEntry[] {
  return [
    ['instance', i.name],
    ['manifest', i.manifest ?? '(none)'],
    ['description', i.description || undefined],
    ['url', i.url ?? undefined],
    ['created', `${i.created_at} by ${i.created_by}`],
    ['updated', i.updated_at],
  ];
}

async function list(ctx: Context, manifest: string | undefined): Promise<void> {
  const { instances } = await ctx.send(ctx.client().GET(BASE, { params: { query: manifest ? { manifest } : {} } }));
  ctx.out.result({ instances }, () =>
    table(
      ['name', 'manifest', 'url', 'description'],
      instances.map((i) => [i.name, i.manifest ?? '(none)', i.url ?? '—', i.description]),
      'no instances',
    ),
  );
}

async function read(ctx: Context, name: string): Promise<Instance> {
  return (await ctx.send(ctx.client().GET(`${BASE}/{name}`, { params: { path: { name } } }))).instance;
}

async function show(ctx: Context, name: string): Promise<void> {
  const instance = await read(ctx, name);
  ctx.out.result({ instance }, () => fields(instanceEntries(instance)));
}

async function releases(ctx: Context, name: string): Promise<void> {
  const answer = await ctx.send(ctx.client().GET(`${BASE}/{name}/releases`, { params: { path: { name } } }));
  ctx.out.result(answer, () => {
    const rows = answer.elements.map((e) => [
      e.name ?? e.uuid,
      e.type === 'PAGE' ? 'app' : 'workflow',
      e.release,
      e.artifact ? e.artifact.sha256.slice(0, 12) : '—',
      e.artifact ? bytes(e.artifact.size) : '—',
      e.error ? `${e.error.code}: ${e.error.message}` : '',
    ]);
    const head = `instance ${answer.instance} follows ${answer.manifest} at ${shortSha(answer.commit_sha)}`;
    return `${head}\n${table(['element', 'type', 'release', 'sha256', 'size', 'error'], rows, 'the manifest sets no element')}`;
  });
}

/** A manifest exists when the default branch has it: the check the API's writes make too. */
async function requireManifest(ctx: Context, manifest: string): Promise<void> {
  await ctx.send(ctx.client().GET('/api/v2/source_control/manifests/{manifestName}', { params: { path: { manifestName: manifest } } }));
}

async function create(ctx: Context, name: string, options: CreateOptions): Promise<void> {
  const body = {
    name,
    ...(options.manifest !== undefined ? { manifest: options.manifest } : {}),
    ...(options.description !== undefined ? { description: options.description } : {}),
    ...(options.instanceUrl !== undefined ? { url: options.instanceUrl } : {}),
  };
  if (options.dryRun) {
    const existing = await ctx.request(ctx.client().GET(`${BASE}/{name}`, { params: { path: { name } } }));
    if (existing.response.ok) throw new CliError(`an instance named ${name} exists already (instance_exists)`, EXIT.conflict);
    if (options.manifest !== undefined) await requireManifest(ctx, options.manifest);
    ctx.out.result({ dry_run: true, instance: body }, () =>
      fields([
        ['dry run', 'nothing was recorded'],
        ['would create', name],
        ['manifest', options.manifest ?? '(none)'],
      ]),
    );
    return;
  }
  const { instance } = await ctx.send(ctx.client().POST(BASE, { body }));
  ctx.out.result({ instance }, () => fields(instanceEntries(instance)));
}

async function bind(ctx: Context, name: string, manifest: string | null, options: { dryRun?: boolean }): Promise<void> {
  if (options.dryRun) {
    const instance = await read(ctx, name);
    if (manifest !== null) await requireManifest(ctx, manifest);
    const change = instance.manifest === manifest ? 'no change' : `${instance.manifest ?? '(none)'} → ${manifest ?? '(none)'}`;
    ctx.out.result({ dry_run: true, instance: { ...instance, manifest } }, () =>
      fields([
        ['dry run', 'nothing was changed'],
        ['instance', name],
        ['would follow', change],
      ]),
    );
    return;
  }
  const { instance } = await ctx.send(ctx.client().PUT(`${BASE}/{name}/manifest`, { params: { path: { name } }, body: { manifest } }));
  ctx.out.result({ instance }, () => fields(instanceEntries(instance)));
}
