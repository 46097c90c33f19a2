// An app or workflow named on the command line, by its name (as in .retool/protected-*.yaml) or
// its uuid, resolved to what the API takes: uuid and element type.
import { Option } from 'commander';
import type { components } from '../client/client.js';
import type { Context } from './context.js';
import { apiError, CliError, EXIT, usageError } from './exit-codes.js';

export type ElementType = components['schemas']['Hotfix']['element_type'];

export interface ElementRef {
  readonly uuid: string;
  readonly type: ElementType;
  /** Null when it was named by uuid and the name was not looked up. */
  readonly name: string | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const PAGE_SIZE = 1000;

/** `--type app|workflow`, for a name or uuid that could be either. */
export function typeOption(): Option {
  return new Option('--type <type>', 'app or workflow, when the name could be either').choices(['app', 'workflow']);
}

export function elementType(type: string | undefined): ElementType | undefined {
  if (type === undefined) return undefined;
  return type === 'workflow' ? 'WORKFLOW' : 'PAGE';
}

export function describeElement(element: ElementRef): string {
  const kind = element.type === 'PAGE' ? 'app' : 'workflow';
  return element.name ? `${kind} ${element.name}` : `${kind} ${element.uuid}`;
}

export async function resolveElement(ctx: Context, nameOrUuid: string, type?: ElementType): Promise<ElementRef> {
  if (UUID.test(nameOrUuid)) return resolveUuid(ctx, nameOrUuid.toLowerCase(), type);
  const matches: ElementRef[] = [];
  const similar: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await ctx.send(
      ctx.client().GET('/api/v2/source_control/elements', {
        params: { query: { name: nameOrUuid, limit: PAGE_SIZE, ...(type ? { type } : {}), ...(cursor ? { cursor } : {}) } },
      }),
    );
    for (const e of page.elements) {
      if (e.name === nameOrUuid) matches.push({ uuid: e.uuid, type: e.type, name: e.name });
      else if (similar.length < 5) similar.push(e.name);
    }
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1) throw usageError(`"${nameOrUuid}" names both an app and a workflow: add --type app or --type workflow`);
  const hint = similar.length > 0 ? ` (similar: ${similar.join(', ')})` : '';
  throw new CliError(`no protected app or workflow is named "${nameOrUuid}"${hint}`, EXIT.notFound);
}

/** A uuid does not say its type: the release list answers element_not_found for the wrong one. */
async function resolveUuid(ctx: Context, uuid: string, type: ElementType | undefined): Promise<ElementRef> {
  for (const candidate of type ? [type] : (['PAGE', 'WORKFLOW'] as const)) {
    const answer = await ctx.request(
      ctx.client().GET('/api/v2/source_control/releases/{elementUuid}', {
        params: { path: { elementUuid: uuid }, query: { elementType: candidate } },
      }),
    );
    if (answer.response.ok) return { uuid, type: candidate, name: null };
    if (answer.error?.code !== 'element_not_found') throw apiError(answer.response, answer.error);
  }
  throw new CliError(`no protected app or workflow has the uuid ${uuid}`, EXIT.notFound);
}
