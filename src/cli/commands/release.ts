// `mir release <element> [version] | --bump part`: builds a release from the element's source on
// the default branch and opens its pull request (POST /releases/{uuid}).
import { Option, type Command } from 'commander';
import { VERSION } from '../arguments.js';
import type { Context, Run } from '../context.js';
import { describeElement, elementType, resolveElement, typeOption } from '../elements.js';
import { usageError } from '../exit-codes.js';
import { bytes, fields } from '../output.js';
import { dryRunEntries, pushedEntries } from './write-answers.js';

interface ReleaseOptions {
  readonly bump?: 'major' | 'minor' | 'patch';
  readonly type?: string;
  readonly description?: string;
  readonly message?: string;
  readonly dryRun?: boolean;
}

export function registerRelease(program: Command, run: Run): void {
  program
    .command('release')
    .description('release an app or workflow: a zip of its source on the default branch, proposed in a pull request')
    .argument('<element>', 'the app or workflow, by name or uuid')
    .argument('[version]', 'the version X.Y.Z (or use --bump)')
    .addOption(new Option('--bump <part>', 'bump the highest version instead').choices(['major', 'minor', 'patch']))
    .addOption(typeOption())
    .option('--description <text>', 'the release description')
    .option('--message <text>', 'the commit message')
    .option('--dry-run', 'say what would be pushed; push nothing')
    .action((element: string, version: string | undefined, options: ReleaseOptions, command: Command) =>
      run(command, (ctx) => release(ctx, element, version, options)),
    );
}

async function release(ctx: Context, name: string, version: string | undefined, options: ReleaseOptions): Promise<void> {
  if ((version === undefined) === (options.bump === undefined)) throw usageError('give a version X.Y.Z or --bump major|minor|patch (one of them)');
  if (version !== undefined && !VERSION.test(version)) throw usageError(`"${version}" is not a version X.Y.Z`);
  const element = await resolveElement(ctx, name, elementType(options.type));
  const what = version ?? `${options.bump} bump`;
  ctx.out.progress(`${options.dryRun ? 'computing' : 'building and pushing'} the release of ${describeElement(element)} (${what})`);
  const answer = await ctx.send(
    ctx.client().POST('/api/v2/source_control/releases/{elementUuid}', {
      params: { path: { elementUuid: element.uuid }, query: { elementType: element.type, ...(options.dryRun ? { dry_run: true } : {}) } },
      body: {
        ...(version !== undefined ? { release_version: version } : {}),
        ...(options.bump ? { bump: options.bump } : {}),
        ...(options.description !== undefined ? { release_description: options.description } : {}),
        ...(options.message !== undefined ? { commit_message: options.message } : {}),
      },
    }),
  );
  ctx.out.result(answer, () =>
    fields([
      ['release', `${describeElement(element)} ${answer.release_version}`],
      ['zip', `${bytes(answer.size)}, sha256 ${answer.sha256}`],
      ...('dry_run' in answer ? dryRunEntries(answer) : pushedEntries(answer)),
    ]),
  );
}
