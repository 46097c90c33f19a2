// `mir holds [list]` and `mir holds lift <id> --reason …`: the release versions a rollback keeps out
// of every manifest, and lifting one (an admin token; audited with the reason).
import type { Command } from 'commander';
import type { components } from '../../client/client.js';
import { reasonText } from '../arguments.js';
import type { Context, Run } from '../context.js';
import { fields, table, type FieldEntry } from '../output.js';

type Hold = components['schemas']['Hold'];

interface ListOptions {
  readonly lifted?: boolean;
  readonly all?: boolean;
}

export function registerHolds(program: Command, run: Run): void {
  const holds = program.command('holds').description('held release versions: list (the default), lift');
  holds
    .command('list', { isDefault: true })
    .description('active holds, newest first')
    .option('--lifted', 'lifted holds instead')
    .option('--all', 'active and lifted holds')
    .action((options: ListOptions, command: Command) => run(command, (ctx) => list(ctx, options)));
  holds
    .command('lift')
    .description('lift a hold (an admin token): the version may be set again')
    .argument('<id>', 'the hold id (mir holds lists them)')
    .requiredOption('--reason <text>', 'why: audited with the lift', reasonText)
    .action((id: string, options: { reason: string }, command: Command) => run(command, (ctx) => lift(ctx, id, options.reason)));
}

async function list(ctx: Context, options: ListOptions): Promise<void> {
  const query = options.all ? { all: true } : options.lifted ? { active: false } : {};
  const { holds } = await ctx.send(ctx.client().GET('/api/v2/source_control/holds', { params: { query } }));
  ctx.out.result({ holds }, () =>
    table(
      ['id', 'state', 'type', 'element', 'version', 'manifest', 'pull request', 'by', 'created', 'reason'],
      holds.map((h) => [
        h.id,
        h.active ? 'active' : 'lifted',
        h.element_type === 'PAGE' ? 'app' : 'workflow',
        h.element_uuid,
        h.version,
        h.manifest,
        h.pull_request === null ? '—' : `#${h.pull_request}`,
        h.created_by,
        h.created_at.slice(0, 16).replace('T', ' '),
        h.reason,
      ]),
      options.all || options.lifted ? 'no holds' : 'no active holds',
    ),
  );
}

async function lift(ctx: Context, id: string, reason: string): Promise<void> {
  const answer = await ctx.send(ctx.client().POST('/api/v2/source_control/holds/{holdId}/lift', { params: { path: { holdId: id } }, body: { reason } }));
  ctx.out.result(answer, () => fields(holdEntries(answer.hold)));
}

function holdEntries(h: Hold): FieldEntry[] {
  return [
    ['hold', h.id],
    ['state', h.active ? 'active' : 'lifted'],
    ['element', `${h.element_type === 'PAGE' ? 'app' : 'workflow'} ${h.element_uuid}`],
    ['version', h.version],
    ['held because', h.reason],
    ['lifted', h.lifted_at ? `${h.lifted_at} by ${h.lifted_by ?? '?'}: ${h.lift_reason ?? ''}` : undefined],
  ];
}
