// `mir webhooks list|show|create|update|delete|deliveries|replay`: outbound event subscriptions
// (admin). The secret is read from MIR_WEBHOOK_SECRET_VALUE or --secret-stdin, never from the
// command line, where the shell history and `ps` would keep it.
import { text } from 'node:stream/consumers';
import type { Command } from 'commander';
import type { components } from '../../client/client.js';
import type { Context, Run } from '../context.js';
import { usageError } from '../exit-codes.js';
import { fields, table, type FieldEntry } from '../output.js';

type Subscription = components['schemas']['WebhookSubscription'];
type EventType = Subscription['event_types'][number];

const BASE = '/api/v2/webhooks/subscriptions';

interface WriteOptions {
  readonly events?: string;
  readonly secretStdin?: boolean;
  readonly description?: string;
  readonly active?: boolean;
}

export function registerWebhooks(program: Command, run: Run, stdin: () => NodeJS.ReadableStream, env: Readonly<Record<string, string | undefined>>): void {
  const webhooks = program.command('webhooks').description('outbound webhook subscriptions (admin): list, show, create, update, delete, deliveries, replay');
  webhooks
    .command('list')
    .description('every subscription')
    .action((_options: unknown, command: Command) => run(command, (ctx) => list(ctx)));
  webhooks
    .command('show')
    .description('one subscription')
    .argument('<id>', 'the subscription id')
    .action((id: string, _options: unknown, command: Command) => run(command, (ctx) => show(ctx, id)));
  webhooks
    .command('create')
    .description('subscribe a URL to events; the secret comes from MIR_WEBHOOK_SECRET_VALUE or stdin (--secret-stdin)')
    .argument('<url>', 'where deliveries are POSTed')
    .requiredOption('--events <types>', 'comma-separated event types (e.g. deployment.failed,drift.detected)')
    .option('--secret-stdin', 'read the secret from stdin')
    .option('--description <text>', 'what it is for')
    .action((url: string, options: WriteOptions, command: Command) =>
      run(command, async (ctx) => create(ctx, url, options, await secretOf(options, stdin, env))),
    );
  webhooks
    .command('update')
    .description('change a subscription')
    .argument('<id>', 'the subscription id')
    .option('--url <url>', 'a new URL')
    .option('--events <types>', 'comma-separated event types')
    .option('--secret-stdin', 'a new secret, read from stdin')
    .option('--description <text>', 'what it is for')
    .option('--active', 'deliver to it')
    .option('--no-active', 'stop delivering to it (pending deliveries wait)')
    .action((id: string, options: WriteOptions & { url?: string }, command: Command) =>
      run(command, async (ctx) => update(ctx, id, options, options.secretStdin ? await secretOf(options, stdin, env) : undefined)),
    );
  webhooks
    .command('delete')
    .description('delete a subscription and its delivery log')
    .argument('<id>', 'the subscription id')
    .action((id: string, _options: unknown, command: Command) => run(command, (ctx) => remove(ctx, id)));
  webhooks
    .command('deliveries')
    .description('the delivery log: every attempt, newest first')
    .argument('<id>', 'the subscription id')
    .option('--dead', 'only dead letters')
    .option('--limit <n>', 'at most this many', '50')
    .action((id: string, options: { dead?: boolean; limit: string }, command: Command) => run(command, (ctx) => deliveries(ctx, id, options)));
  webhooks
    .command('replay')
    .description('send a dead-lettered event again, or every dead letter of the subscription')
    .argument('<id>', 'the subscription id')
    .option('--event <id>', 'only this event')
    .action((id: string, options: { event?: string }, command: Command) => run(command, (ctx) => replay(ctx, id, options.event)));
}

async function secretOf(options: WriteOptions, stdin: () => NodeJS.ReadableStream, env: Readonly<Record<string, string | undefined>>): Promise<string> {
  const secret = options.secretStdin ? (await text(stdin())).trim() : env.MIR_WEBHOOK_SECRET_VALUE;
  if (!secret) throw usageError('no secret: set MIR_WEBHOOK_SECRET_VALUE, or pass --secret-stdin and write it to stdin');
  return secret;
}

function eventTypes(value: string): EventType[] {
  return value
    .split(',')
    .map((type) => type.trim())
    .filter(Boolean) as EventType[];
}

function entries(s: Subscription): FieldEntry[] {
  return [
    ['subscription', s.id],
    ['url', s.url],
    ['events', s.event_types.join(', ')],
    ['active', s.active ? 'yes' : 'no'],
    ['description', s.description || undefined],
    ['created', `${s.created_at} by ${s.created_by}`],
  ];
}

async function list(ctx: Context): Promise<void> {
  const { subscriptions } = await ctx.send(ctx.client().GET(BASE));
  ctx.out.result({ subscriptions }, () =>
    table(
      ['id', 'url', 'events', 'active'],
      subscriptions.map((s) => [s.id, s.url, s.event_types.join(','), s.active ? 'yes' : 'no']),
      'no subscriptions',
    ),
  );
}

async function show(ctx: Context, id: string): Promise<void> {
  const { subscription } = await ctx.send(ctx.client().GET(`${BASE}/{id}`, { params: { path: { id } } }));
  ctx.out.result({ subscription }, () => fields(entries(subscription)));
}

async function create(ctx: Context, url: string, options: WriteOptions, secret: string): Promise<void> {
  const body = {
    url,
    secret,
    event_types: eventTypes(options.events ?? ''),
    ...(options.description !== undefined ? { description: options.description } : {}),
  };
  const { subscription } = await ctx.send(ctx.client().POST(BASE, { body }));
  ctx.out.result({ subscription }, () => fields(entries(subscription)));
}

async function update(ctx: Context, id: string, options: WriteOptions & { url?: string }, secret: string | undefined): Promise<void> {
  const body = {
    ...(options.url !== undefined ? { url: options.url } : {}),
    ...(options.events !== undefined ? { event_types: eventTypes(options.events) } : {}),
    ...(secret !== undefined ? { secret } : {}),
    ...(options.description !== undefined ? { description: options.description } : {}),
    ...(options.active !== undefined ? { active: options.active } : {}),
  };
  if (Object.keys(body).length === 0) throw usageError('nothing to change: pass --url, --events, --secret-stdin, --description or --[no-]active');
  const { subscription } = await ctx.send(ctx.client().PATCH(`${BASE}/{id}`, { params: { path: { id } }, body }));
  ctx.out.result({ subscription }, () => fields(entries(subscription)));
}

async function remove(ctx: Context, id: string): Promise<void> {
  const { subscription } = await ctx.send(ctx.client().DELETE(`${BASE}/{id}`, { params: { path: { id } } }));
  ctx.out.result({ subscription }, () => fields([['deleted', subscription.id], ...entries(subscription).slice(1)]));
}

async function deliveries(ctx: Context, id: string, options: { dead?: boolean; limit: string }): Promise<void> {
  const limit = Number(options.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw usageError('--limit must be an integer from 1 to 500');
  const query = { limit, ...(options.dead ? { state: 'dead' as const } : {}) };
  const answer = await ctx.send(ctx.client().GET(`${BASE}/{id}/deliveries`, { params: { path: { id }, query } }));
  ctx.out.result(answer, () =>
    table(
      ['event', 'type', 'attempt', 'status', 'code', 'ms', 'at', 'now'],
      answer.deliveries.map((d) => [
        d.event_id,
        d.event_type,
        String(d.attempt),
        d.status,
        d.response_code === null ? '—' : String(d.response_code),
        String(d.duration_ms),
        d.attempted_at,
        d.delivery_state,
      ]),
      'no deliveries yet',
    ),
  );
}

async function replay(ctx: Context, id: string, event: string | undefined): Promise<void> {
  const answer = await ctx.send(ctx.client().POST(`${BASE}/{id}/replay`, { params: { path: { id } }, body: event ? { event_id: event } : {} }));
  ctx.out.result(answer, () => `${answer.replayed} deliver${answer.replayed === 1 ? 'y' : 'ies'} due again`);
}
