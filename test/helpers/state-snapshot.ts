// What a refused request must leave as it found: the repository's refs and the rows a write would
// touch. Rows are compared by count and a hash of their contents; api_tokens.last_used_at is left
// out because authenticating a request records it (every request does that, refused or not), and
// an instance's last contact because every poll of its releases answered records it (a read).
import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import type { TestApp } from './app.js';

const TABLES = {
  pull_requests: 'number',
  instances: 'name',
  hotfixes: 'id',
  api_tokens: 'id',
  audit_events: 'id',
  deployments: 'id',
  webhook_subscriptions: 'id',
  outbox_events: 'id',
} as const;

type Table = keyof typeof TABLES;

export interface StateSnapshot {
  readonly head: string;
  /** `name sha` of every branch, sorted by name. */
  readonly branches: readonly string[];
  readonly rows: Readonly<Record<Table, { readonly count: number; readonly hash: string }>>;
}

export async function captureState(ctx: TestApp): Promise<StateSnapshot> {
  const [head, branches] = await Promise.all([ctx.git.headCommit(), ctx.git.listBranches({})]);
  const db = ctx.database.handle.db;
  const rows = {} as Record<Table, { count: number; hash: string }>;
  for (const [table, key] of Object.entries(TABLES) as [Table, string][]) {
    const found = await db.selectFrom(table).selectAll().orderBy(sql.ref(key)).execute();
    const hash = createHash('sha256');
    for (const row of found) {
      const { last_used_at: _touched, last_seen_at: _seen, last_seen_commit: _seenAt, ...kept } = row as Record<string, unknown>;
      hash.update(JSON.stringify(table === 'api_tokens' || table === 'instances' ? kept : row)).update('\n');
    }
    rows[table] = { count: found.length, hash: hash.digest('hex') };
  }
  return { head, branches: branches.map((b) => `${b.name} ${b.sha}`), rows };
}

/** What differs between two snapshots, one line each; empty when nothing does. */
export function stateDifferences(before: StateSnapshot, after: StateSnapshot): string[] {
  const out: string[] = [];
  if (before.head !== after.head) out.push(`default branch moved ${before.head} → ${after.head}`);
  const gone = before.branches.filter((b) => !after.branches.includes(b));
  const added = after.branches.filter((b) => !before.branches.includes(b));
  if (gone.length > 0 || added.length > 0) out.push(`branches: -[${gone.join(', ')}] +[${added.join(', ')}]`);
  for (const table of Object.keys(TABLES) as Table[]) {
    const [b, a] = [before.rows[table], after.rows[table]];
    if (b.hash !== a.hash) out.push(`${table}: ${b.count} → ${a.count} rows${b.count === a.count ? ' (contents changed)' : ''}`);
  }
  return out;
}
