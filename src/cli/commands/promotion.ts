// `mir compare <from> <to>`, `mir promote <from> <to>` and `mir rollback <manifest> <element>`:
// what differs between two manifests (or the manifests two instances follow), one pull request that
// makes `to` run what `from` runs, and rolling an element back while holding the bad version.
import type { Command } from 'commander';
import type { components } from '../../client/client.js';
import { overrideHeader, overrideReason, reasonText, VERSION } from '../arguments.js';
import type { Context, Run } from '../context.js';
import { describeElement, elementType, resolveElement, typeOption } from '../elements.js';
import { usageError } from '../exit-codes.js';
import { fields, shortSha, table, type FieldEntry } from '../output.js';
import { dryRunEntries, operationEntries, pushedEntries, verdictEntries } from './write-answers.js';

type Comparison = components['schemas']['Comparison'];

interface PromoteOptions {
  readonly element: readonly string[];
  readonly type?: string;
  readonly message?: string;
  readonly baseSha?: string;
  readonly dryRun?: boolean;
  readonly overrideReason?: string;
}

interface RollbackOptions {
  readonly to?: string;
  readonly reason: string;
  readonly type?: string;
  readonly message?: string;
  readonly dryRun?: boolean;
  readonly overrideReason?: string;
}

const collect = (value: string, previous: readonly string[]) => [...previous, value];
const OVERRIDE_HELP = 'an admin token only: let held releases and policy blocks through, for this reason (audited)';

export function registerPromotion(program: Command, run: Run): void {
  program
    .command('compare')
    .description('what differs between two manifests (or the manifests two instances follow)')
    .argument('<from>', 'the manifest or instance ahead, e.g. uat')
    .argument('<to>', 'the manifest or instance behind, e.g. prod')
    .action((from: string, to: string, _options: unknown, command: Command) => run(command, (ctx) => compare(ctx, from, to)));
  program
    .command('promote')
    .description('make <to> run what <from> runs: one branch, one commit, one pull request')
    .argument('<from>', 'the manifest or instance to promote from, e.g. uat')
    .argument('<to>', 'the manifest or instance to promote to, e.g. prod')
    .option('--element <element>', 'only this app or workflow (name or uuid); repeat for more (default: every difference)', collect, [])
    .addOption(typeOption())
    .option('--message <text>', 'the commit message')
    .option('--base-sha <sha>', 'the default-branch commit you compared at: 409 (exit 3) if an entry moved since')
    .option('--override-reason <text>', OVERRIDE_HELP, overrideReason)
    .option('--dry-run', 'say what would change and what policy says; push nothing')
    .action((from: string, to: string, options: PromoteOptions, command: Command) => run(command, (ctx) => promote(ctx, from, to, options)));
  program
    .command('rollback')
    .description('propose the release before the one <manifest> runs (or --to) and hold the bad one')
    .argument('<manifest>', 'the manifest, e.g. prod')
    .argument('<element>', 'the app or workflow, by name or uuid')
    .requiredOption('--reason <text>', 'why: recorded on the hold', reasonText)
    .option('--to <version>', 'the release X.Y.Z to roll back to (lower than the one it runs)')
    .addOption(typeOption())
    .option('--message <text>', 'the commit message')
    .option('--override-reason <text>', OVERRIDE_HELP, overrideReason)
    .option('--dry-run', 'say what would be pushed and held; push and hold nothing')
    .action((manifest: string, element: string, options: RollbackOptions, command: Command) =>
      run(command, (ctx) => rollback(ctx, manifest, element, options)),
    );
}

async function compare(ctx: Context, from: string, to: string): Promise<void> {
  const answer = await ctx.send(ctx.client().GET('/api/v2/source_control/compare', { params: { query: { from, to } } }));
  ctx.out.result(answer, () => renderComparison(answer));
}

function renderComparison(c: Comparison): string {
  const kind = (type: string) => (type === 'PAGE' ? 'app' : 'workflow');
  // `latest` shows the version it resolves to, which is what a promotion would set.
  const release = (release: string, version: string | null) => (release === 'latest' ? `latest (${version ?? 'none'})` : release);
  const rows = [
    ...c.differences.map((d) => [
      d.name ?? d.element_uuid,
      kind(d.element_type),
      release(d.from_release, d.from_version),
      d.to_release,
      d.behind === null ? '—' : String(d.behind),
    ]),
    ...c.only_in_from.map((e) => [e.name ?? e.element_uuid, kind(e.element_type), release(e.release, e.version), '—', `only in ${c.from.name}`]),
    ...c.only_in_to.map((e) => [e.name ?? e.element_uuid, kind(e.element_type), '—', release(e.release, e.version), `only in ${c.to.name}`]),
  ];
  const names = (s: Comparison['from']) => (s.name === s.manifest ? s.name : `${s.name} (manifest ${s.manifest})`);
  return [
    table(['element', 'type', c.from.name, c.to.name, 'behind by'], rows, `${names(c.to)} runs what ${names(c.from)} runs`),
    `compared ${names(c.from)} with ${names(c.to)} at ${shortSha(c.from.commit_sha)}; "behind by": releases ${c.to.name} lacks up to ${c.from.name}'s`,
  ].join('\n');
}

async function promote(ctx: Context, from: string, to: string, options: PromoteOptions): Promise<void> {
  const type = elementType(options.type);
  const elements = [];
  for (const name of options.element) {
    const element = await resolveElement(ctx, name, type);
    elements.push({ element_uuid: element.uuid, element_type: element.type });
  }
  const what = elements.length === 0 ? 'every difference' : elements.length === 1 ? 'one element' : `${elements.length} elements`;
  ctx.out.progress(`${options.dryRun ? 'computing' : 'pushing'} the promotion of ${what} from ${from} to ${to}`);
  const answer = await ctx.send(
    ctx.client().POST('/api/v2/source_control/promote', {
      params: { query: options.dryRun ? { dry_run: true } : {}, header: overrideHeader(options.overrideReason) },
      body: {
        from,
        to,
        ...(elements.length > 0 ? { elements } : {}),
        ...(options.message !== undefined ? { commit_message: options.message } : {}),
        ...(options.baseSha !== undefined ? { base_sha: options.baseSha } : {}),
      },
    }),
  );
  ctx.out.result(answer, () =>
    fields([
      ['promote', `${from} → ${to}`],
      ...('dry_run' in answer ? [...dryRunEntries(answer), ...operationEntries(answer.operations)] : pushedEntries(answer)),
      ...verdictEntries(answer.policy),
    ]),
  );
}

async function rollback(ctx: Context, manifest: string, name: string, options: RollbackOptions): Promise<void> {
  if (options.to !== undefined && !VERSION.test(options.to)) throw usageError(`"${options.to}" is not a version X.Y.Z`);
  const element = await resolveElement(ctx, name, elementType(options.type));
  ctx.out.progress(`${options.dryRun ? 'computing' : 'pushing'} the rollback of ${describeElement(element)} in ${manifest}`);
  const answer = await ctx.send(
    ctx.client().POST('/api/v2/source_control/rollback', {
      params: { query: options.dryRun ? { dry_run: true } : {}, header: overrideHeader(options.overrideReason) },
      body: {
        manifest,
        element_uuid: element.uuid,
        element_type: element.type,
        reason: options.reason,
        ...(options.to !== undefined ? { to: options.to } : {}),
        ...(options.message !== undefined ? { commit_message: options.message } : {}),
      },
    }),
  );
  const hold: FieldEntry[] = answer.hold
    ? [['hold', `${answer.hold.id} on ${answer.held_version}: ${answer.hold.reason}`]]
    : [['would hold', `${answer.held_version}: ${options.reason}`]];
  ctx.out.result(answer, () =>
    fields([
      ['rollback', `${describeElement(element)} in ${manifest}`],
      ...('dry_run' in answer ? [...dryRunEntries(answer), ...operationEntries(answer.operations)] : pushedEntries(answer)),
      ...hold,
      ...verdictEntries(answer.policy),
    ]),
  );
}
