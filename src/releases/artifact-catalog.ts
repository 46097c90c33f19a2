// What each artifact on the default branch is: sha256, size, release metadata and whether the zip
// passed its checks, by git blob id. Blob ids are content addresses, so an answer never goes
// stale: it is kept in memory and in Postgres (the `artifacts` table), and a zip is read from git
// once in the life of the database (once more when the checks themselves change: CHECKS).
import type { Kysely } from 'kysely';
import type { Tables } from '../db/database.js';
import { isAppError } from '../errors.js';
import type { GitWorker } from '../git/types.js';
import { checkArtifact, readArtifactMetadata, sha256Hex, type ReleaseMetadata } from '../repo/artifact.js';
import { repoErrors } from '../repo/errors.js';
import { quote } from '../repo/values.js';
import { BoundedCache, type CacheStats } from '../runtime/bounded-cache.js';
import { yieldToEventLoop } from '../runtime/event-loop.js';
import { findArtifacts, insertArtifacts, type ArtifactRow } from './artifacts.repository.js';

export interface ArtifactInfo {
  readonly blobId: string;
  readonly sha256: string;
  readonly size: number;
  /** The zip's .release.json; null for zips made by other tools, or when it does not parse. */
  readonly metadata: ReleaseMetadata | null;
  readonly metadataError: string | null;
  /** Why the zip may not be published or served (checkArtifact's reason); null when it may. */
  readonly problem: string | null;
}

type Located = { blobId: string; commit: string; path: string };

export interface ArtifactCatalog {
  /**
   * Describes artifacts given where each can be read (a commit that has it, and its path).
   * Unknown blobs are read from git in parallel batches and remembered.
   */
  describe(artifacts: readonly Located[]): Promise<Map<string, ArtifactInfo>>;
  /**
   * describe, then 422 `artifact_invalid` naming the path and reason of the first artifact (in
   * the order given) whose zip failed its checks: what publishing and serving an artifact need.
   */
  requireValid(artifacts: readonly Located[]): Promise<Map<string, ArtifactInfo>>;
  /** Its in-memory cache, for /metrics. */
  cacheStats(): CacheStats[];
}

/**
 * The version of checkArtifact's checks. A row of an older version (or of none: written before
 * verdicts existed, or by a replica of an older release) is checked again and its verdict
 * replaced; bump this when the checks grow stricter.
 */
export const CHECKS = 1;

/** Entries kept in memory; each is ~300 bytes plus its metadata. */
const MEMORY_ENTRIES = 100_000;
const READ_BATCH = 16;

export function createArtifactCatalog(deps: { db: Kysely<Tables>; git: GitWorker }): ArtifactCatalog {
  const memory = new BoundedCache<string, ArtifactInfo>('artifacts', MEMORY_ENTRIES);
  const remember = (info: ArtifactInfo) => memory.set(info.blobId, info);

  async function read(artifact: Located): Promise<ArtifactRow | null> {
    const bytes = await deps.git.readBlob({ oid: artifact.blobId });
    if (!bytes) return null;
    let metadata: ReleaseMetadata | null = null;
    let metadataError: string | null = null;
    // Checked without its path: the verdict belongs to the blob, which may sit at several paths.
    const problem = await checkArtifact(bytes).then(
      () => null,
      (error: unknown) => {
        if (!isAppError(error)) throw error;
        return problemOf(error.details);
      },
    );
    if (problem === null) {
      try {
        metadata = await readArtifactMetadata(bytes, { path: artifact.path });
      } catch (error) {
        metadataError = (error as Error).message;
      }
    } else {
      metadataError = problem;
    }
    return { blob_id: artifact.blobId, sha256: sha256Hex(bytes), size: bytes.length, metadata, metadata_error: metadataError, problem, checks: CHECKS };
  }

  const catalog: ArtifactCatalog = {
    cacheStats: () => [memory.stats()],

    async requireValid(artifacts) {
      const infos = await catalog.describe(artifacts);
      for (const artifact of artifacts) {
        const problem = infos.get(artifact.blobId)?.problem;
        if (problem) throw repoErrors.artifactInvalid(problem, { path: artifact.path });
      }
      return infos;
    },

    async describe(artifacts) {
      const result = new Map<string, ArtifactInfo>();
      const wanted = new Map<string, Located>();
      for (const artifact of artifacts) {
        const known = memory.get(artifact.blobId);
        if (known) result.set(artifact.blobId, known);
        else wanted.set(artifact.blobId, artifact);
      }
      if (wanted.size === 0) return result;
      const fromDb = (await findArtifacts(deps.db, [...wanted.keys()])).filter((row) => row.checks !== null && row.checks >= CHECKS);
      const fresh: ArtifactRow[] = [];
      const found = new Set(fromDb.map((row) => row.blob_id));
      const pending = [...wanted.values()].filter((a) => !found.has(a.blobId));
      for (let i = 0; i < pending.length; i += READ_BATCH) {
        await yieldToEventLoop();
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
          problem: row.problem,
        };
        remember(info);
        result.set(info.blobId, info);
      }
      return result;
    },
  };
  return catalog;
}

/** checkArtifact's reason, naming the entry unless the reason already does. */
function problemOf(details: Record<string, unknown>): string {
  const reason = typeof details.reason === 'string' ? details.reason : 'the zip failed its checks';
  const entry = typeof details.entry === 'string' ? details.entry : undefined;
  return entry === undefined || reason.includes(quote(entry)) ? reason : `entry ${quote(entry)}: ${reason}`;
}
