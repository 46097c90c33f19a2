// `mir publish <manifest> <element>@<version>…`: sets releases in a manifest, any number of
// elements in one branch, one commit and one pull request (POST /publish). Rolling back is
// publishing the older version.
import type { Command } from 'commander';
import type { Context, Run } from '../context.js';
import { overrideHeader, overrideReason } from '../arguments.js';
import { elementType, resolveElement, typeOption } from '../elements.js';
import { usageError } from '../exit-codes.js';
import { fields } from '../output.js';
import { dryRunEntries, pushedEntries } from './write-answers.js';

interface PublishOptions {
  readonly type?: string;
  readonly message?: string;
  readonly baseSha?: string;
  readonly dryRun?: boolean;
  readonly overrideReason?: string;
}

const RELEASE = /^(\d+\.\d+\.\d+|latest)$/;

export function registerPublish(program: Command, run: Run): void {
  program
    .command('publish')
    .description('set releases in a manifest: one pull request for every element named')
    .argument('<manifest>', 'the manifest, e.g. prod')
    .argument('<element@version...>', 'each app or workflow (name or uuid) and its release X.Y.Z or latest')
    .addOption(typeOption())
    .option('--message <text>', 'the commit message')
    .option('--base-sha <sha>', 'the default-branch commit you read: 409 (exit 3) if an entry changed since')
    .option('--override-reason <text>', 'an admin token only: publish a held release, for this reason (audited)', overrideReason)
    .option('--dry-run', 'say what would be pushed; push nothing')
    .action((manifest: string, specs: string[], options: PublishOptions, command: Command) => run(command, (ctx) => publish(ctx, manifest, specs, options)));
}

async function publish(ctx: Context, manifest: string, specs: readonly string[], options: PublishOptions): Promise<void> {
  const wanted = specs.map((spec) => {
    const at = spec.lastIndexOf('@');
    const [name, release] = at > 0 ? [spec.slice(0, at), spec.slice(at + 1)] : [spec, ''];
    if (!RELEASE.test(release)) throw usageError(`"${spec}" is not <element>@<version> (a version X.Y.Z or latest)`);
    return { name, release };
  });
  const type = elementType(options.type);
  const changes = [];
  for (const { name, release } of wanted) {
    const element = await resolveElement(ctx, name, type);
    changes.push({ manifest, element_uuid: element.uuid, element_type: element.type, release });
  }
  ctx.out.progress(`${options.dryRun ? 'computing' : 'pushing'} ${changes.length === 1 ? 'one change' : `${changes.length} changes`} to ${manifest}`);
  const answer = await ctx.send(
    ctx.client().POST('/api/v2/source_control/publish', {
      params: { query: options.dryRun ? { dry_run: true } : {}, header: overrideHeader(options.overrideReason) },
      body: {
        changes,
        ...(options.message !== undefined ? { commit_message: options.message } : {}),
        ...(options.baseSha !== undefined ? { base_sha: options.baseSha } : {}),
      },
    }),
  );
  ctx.out.result(answer, () =>
    fields([
      ['manifest', manifest],
      ...wanted.map(({ name, release }): [string, string] => ['  set', `${name} to ${release}`]),
      ...('dry_run' in answer ? dryRunEntries(answer) : pushedEntries(answer)),
    ]),
  );
}
