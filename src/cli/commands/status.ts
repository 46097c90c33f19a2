// `mir status`: the release matrix (GET /elements, every page) as one table — a row per protected
// element, a column per manifest, pending pull requests shown where they would land.
import type { Command } from 'commander';
import type { components } from '../../client/client.js';
import type { Context, Run } from '../context.js';
import { elementType, typeOption } from '../elements.js';
import { shortSha, table } from '../output.js';

type Matrix = components['schemas']['ReleaseMatrix'];
const PAGE_SIZE = 1000;

interface StatusOptions {
  readonly type?: string;
  readonly name?: string;
}

export function registerStatus(program: Command, run: Run): void {
  program
    .command('status')
    .description('the release × manifest matrix: which release each manifest sets for each app and workflow')
    .addOption(typeOption())
    .option('--name <part>', 'only elements whose name contains this (case-insensitive)')
    .action((options: StatusOptions, command: Command) => run(command, (ctx) => status(ctx, options)));
}

async function status(ctx: Context, options: StatusOptions): Promise<void> {
  const matrix = await readMatrix(ctx, options);
  ctx.out.result(matrix, () => render(matrix));
}

/** Every page, on one commit: a page computed on a newer commit starts the walk again. */
async function readMatrix(ctx: Context, options: StatusOptions): Promise<Matrix> {
  const type = elementType(options.type);
  for (let attempt = 0; ; attempt++) {
    const pages: Matrix[] = [];
    let cursor: string | undefined;
    do {
      const page = await ctx.send(
        ctx.client().GET('/api/v2/source_control/elements', {
          params: { query: { limit: PAGE_SIZE, ...(type ? { type } : {}), ...(options.name ? { name: options.name } : {}), ...(cursor ? { cursor } : {}) } },
        }),
      );
      pages.push(page);
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    const last = pages.at(-1)!;
    if (pages.every((p) => p.commit_sha === last.commit_sha) || attempt === 2) return { ...last, elements: pages.flatMap((p) => p.elements) };
  }
}

function render(matrix: Matrix): string {
  const headers = ['name', 'type', 'latest', ...matrix.manifests];
  const rows = matrix.elements.map((e) => {
    const proposed = e.pending_releases.map((p) => `${p.release_version}? #${p.pull_request.number}`);
    const cells = matrix.manifests.map((m) => {
      const now = e.manifests[m] ?? '—';
      const pending = e.pending.filter((p) => p.manifest === m).map((p) => `→ ${p.release ?? 'removed'} #${p.pull_request.number}`);
      return [now, ...pending].join(' ');
    });
    return [e.name, e.type === 'PAGE' ? 'app' : 'workflow', [e.latest_release ?? '—', ...proposed].join(' '), ...cells];
  });
  const lines = [table(headers, rows, 'no protected apps or workflows')];
  for (const bad of matrix.invalid_manifests) lines.push(`manifest ${bad.name} does not parse: ${bad.path}${bad.line ? `:${bad.line}` : ''}: ${bad.reason}`);
  lines.push(`default branch at ${shortSha(matrix.commit_sha)}; "→ x #n": pull request n would set x; "x? #n": release x proposed in n`);
  return lines.join('\n');
}
