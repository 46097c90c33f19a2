// What each artifact on the default branch is: sha256, size and release metadata, by git blob
// id. Blob ids are content addresses, so an answer never goes stale: it is kept in memory and in
// Postgres (the `artifacts` table), and a zip is read from git once in the life of the database.
import type { Kysely } from 'kysely';
import type { Tables } from '../db/database.js';
import type { GitWorker } from '../git/types.js';
import { readArtifactMetadata, sha256Hex, type ReleaseMetadata } from '../repo/artifact.js';
import { findArtifacts, insertArtifacts, type ArtifactRow } from './artifacts.repository.js';

export interface ArtifactInfo {
  readonly blobId: string;
  readonly sha256: string;
  readonly size: number;
  /** The zip's .release.json; null for zips made by other tools, or when it does not parse. */
  readonly metadata: ReleaseMetadata | null;
  readonly metadataError: string | null;
}

export interface ArtifactCatalog {
  /**
   * Describes artifacts given where each can be read (a commit that has it, and its path).
   * Unknown blobs are read from git in parallel batches and remembered.
   */
  describe(artifacts: readonly { blobId: string; commit: string; path: string }[]): Promise<Map<string, ArtifactInfo>>;
}

/** Entries kept in memory; each is ~300 bytes plus its metadata. */
const MEMORY_ENTRIES = 100_000;
const READ_BATCH = 16;

export function createArtifactCatalog(deps: { db: Kysely<Tables>; git: GitWorker }): ArtifactCatalog {
  const memory = new Map<string, ArtifactInfo>();
  const remember = (info: ArtifactInfo) => {
    if (memory.size >= MEMORY_ENTRIES) memory.delete(memory.keys().next().value!);
    memory.set(info.blobId, info);
  };

  async function read(artifact: { blobId: string; commit: string; path: string }): Promise<ArtifactRow | null> {
    const bytes = await deps.git.readBlob({ oid: artifact.blobId });
    if (!bytes) return null;
    let metadata: ReleaseMetadata | null = null;
    let metadataError: string | null = null;
    try {
      metadata = await readArtifactMetadata(bytes, { path: artifact.path });
    } catch (error) {
      metadataError = (error as Error).message;
    }
    return { blob_id: artifact.blobId, sha256: sha256Hex(bytes), size: bytes.length, metadata, metadata_error: metadataError };
  }

  return {
    async describe(artifacts) {
      const result = new Map<string, ArtifactInfo>();
      const wanted = new Map<string, { blobId: string; commit: string; path: string }>();
      for (const artifact of artifacts) {
        const known = memory.get(artifact.blobId);
        if (known) result.set(artifact.blobId, known);
        else wanted.set(artifact.blobId, artifact);
      }
      if (wanted.size === 0) return result;
      const fromDb = await findArtifacts(deps.db, [...wanted.keys()]);
      const fresh: ArtifactRow[] = [];
      const found = new Set(fromDb.map((row) => row.blob_id));
      const pending = [...wanted.values()].filter((a) => !found.has(a.blobId));
      for (let i = 0; i < pending.length; i += READ_BATCH) {
        const rows = await Promise.all(pending.slice(i, i + READ_BATCH).map(read));
        for (const row of rows) if (row) fresh.push(row);
      }
      await insertArtifacts(deps.db, fresh);
      for (const row of [...fromDb, ...fresh]) {
        const info: ArtifactInfo = {
          blobId: row.blob_id,
          sha256: row.sha256,
          size: row.size,
          metadata: (row.metadata as ReleaseMetadata | null) ?? null,
          metadataError: row.metadata_error,
        };
        remember(info);
        result.set(info.blobId, info);
      }
      return result;
    },
  };
}
