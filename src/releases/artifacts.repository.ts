import type { Kysely } from 'kysely';
import type { Tables } from '../db/database.js';

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

// PostgreSQL takes at most 65,535 bind parameters a statement: 1,000 rows of 7 columns, or 1,000
// ids in an `in` list, stay far below it whatever the number of artifacts.
const BATCH = 1_000;

export async function findArtifacts(db: Kysely<Tables>, blobIds: readonly string[]): Promise<ArtifactRow[]> {
  const rows: ArtifactRow[] = [];
  for (let i = 0; i < blobIds.length; i += BATCH) {
    const batch = await db
      .selectFrom('artifacts')
      .select(['blob_id', 'sha256', 'size', 'metadata', 'metadata_error', 'problem', 'checks'])
      .where('blob_id', 'in', blobIds.slice(i, i + BATCH))
      .execute();
    for (const row of batch) rows.push({ ...row, size: Number(row.size) });
  }
  return rows;
}

/**
 * Content-addressed: a concurrent insert of the same blob wrote the same row. A row that exists
 * without a verdict of these checks (written before them, or by an older replica) takes the new
 * verdict; one that has it is left alone.
 */
export async function insertArtifacts(db: Kysely<Tables>, rows: readonly ArtifactRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += BATCH) {
    await db
      .insertInto('artifacts')
      .values(rows.slice(i, i + BATCH).map((row) => ({ ...row, metadata: row.metadata === null ? null : JSON.stringify(row.metadata) })))
      .onConflict((oc) =>
        oc.column('blob_id').doUpdateSet((eb) => ({
          problem: eb.ref('excluded.problem'),
          checks: eb.ref('excluded.checks'),
          metadata: eb.ref('excluded.metadata'),
          metadata_error: eb.ref('excluded.metadata_error'),
        })).where((eb) => eb.or([eb('artifacts.checks', 'is', null), eb('artifacts.checks', '<', eb.ref('excluded.checks'))])),
      )
      .execute();
  }
}
