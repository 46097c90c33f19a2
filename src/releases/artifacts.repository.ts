import type { Kysely } from 'kysely';
import type { Tables } from '../db/database.js';

export interface ArtifactRow {
  blob_id: string;
  sha256: string;
  size: number;
  metadata: unknown;
  metadata_error: string | null;
}

export async function findArtifacts(db: Kysely<Tables>, blobIds: readonly string[]): Promise<ArtifactRow[]> {
  if (blobIds.length === 0) return [];
  const rows = await db.selectFrom('artifacts').select(['blob_id', 'sha256', 'size', 'metadata', 'metadata_error']).where('blob_id', 'in', blobIds).execute();
  return rows.map((row) => ({ ...row, size: Number(row.size) }));
}

/** Content-addressed: a concurrent insert of the same blob wrote the same row. */
export async function insertArtifacts(db: Kysely<Tables>, rows: readonly ArtifactRow[]): Promise<void> {
  if (rows.length === 0) return;
  await db
    .insertInto('artifacts')
    .values(rows.map((row) => ({ ...row, metadata: row.metadata === null ? null : JSON.stringify(row.metadata) })))
    .onConflict((oc) => oc.column('blob_id').doNothing())
    .execute();
}
