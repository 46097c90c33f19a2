import { sql, type Kysely } from 'kysely';
import type { Tables } from '../db/database.js';
import { yieldToEventLoop } from '../runtime/event-loop.js';

export interface ArtifactRow {
  blob_id: string;
  sha256: string;
  size: number;
  metadata: unknown;
  metadata_error: string | null;
  /** Why the zip may not be published or served; null when it passed (or was never checked). */
  problem: string | null;
  /** The version of the checks that gave `problem`; null: never checked. */
  checks: number | null;
}

// PostgreSQL takes at most 65,535 bind parameters a statement: 1,000 ids in an `in` list stay far
// below it whatever the number of artifacts. Inserts go 100 rows at a time: PGlite runs a statement
// synchronously, and a row costs more as the table grows (250 rows took 30–120 ms once it held
// 100,000–200,000 rows, at 50,000 apps: bench/RESULTS.md), which held the event loop (issue 14).
const BATCH = 1_000;
const INSERT_BATCH = 100;

export async function findArtifacts(db: Kysely<Tables>, blobIds: readonly string[]): Promise<ArtifactRow[]> {
  const rows: ArtifactRow[] = [];
  for (let i = 0; i < blobIds.length; i += BATCH) {
    await yieldToEventLoop();
    const batch = await db
      .selectFrom('artifacts')
      .select(['blob_id', 'sha256', 'size', 'metadata', 'metadata_error', 'problem', 'checks'])
      // One array parameter rather than an `in` list of 1,000: PGlite parses it in half the time.
      .where('blob_id', '=', sql<string>`any(${blobIds.slice(i, i + BATCH)}::text[])`)
      .execute();
    for (const row of batch) rows.push({ ...row, size: Number(row.size) });
  }
  return rows;
}

/**
 * Content-addressed: a concurrent insert of the same blob wrote the same row. A row that exists
 * without a verdict of these checks (written before them, or by an older replica) takes the new
 * verdict; one that has it is left alone. Rows go as one array per column through `unnest`: on
 * PGlite that parses in under half the time of a `values` list with a parameter per cell.
 */
export async function insertArtifacts(db: Kysely<Tables>, rows: readonly ArtifactRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += INSERT_BATCH) {
    await yieldToEventLoop();
    const batch = rows.slice(i, i + INSERT_BATCH);
    const column = <T>(value: (row: ArtifactRow) => T): T[] => batch.map(value);
    // metadata travels as text and is cast here: both drivers pass a text[] through untouched.
    await sql`
      insert into artifacts (blob_id, sha256, size, metadata, metadata_error, problem, checks)
      select blob_id, sha256, size, metadata::jsonb, metadata_error, problem, checks
      from unnest(
        ${column((r) => r.blob_id)}::text[], ${column((r) => r.sha256)}::text[], ${column((r) => r.size)}::bigint[],
        ${column((r) => (r.metadata === null ? null : JSON.stringify(r.metadata)))}::text[], ${column((r) => r.metadata_error)}::text[],
        ${column((r) => r.problem)}::text[], ${column((r) => r.checks)}::integer[]
      ) as row (blob_id, sha256, size, metadata, metadata_error, problem, checks)
      on conflict (blob_id) do update set
        problem = excluded.problem, checks = excluded.checks, metadata = excluded.metadata, metadata_error = excluded.metadata_error
      where artifacts.checks is null or artifacts.checks < excluded.checks
    `.execute(db);
  }
}
