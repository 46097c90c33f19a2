// What each artifact on the default branch is: sha256, size, release metadata and whether the zip
// passed its checks, by git blob id. Blob ids are content addresses, so an answer never goes
// stale: it is kept in memory and in Postgres (the `artifacts` table), and a zip is read from git
// once in the life of the database (once more when the checks themselves change: CHECKS).
import type { Kysely } from 'kysely';
import type { Tables } from '../db/database.js';
import { isAppError } from '../errors.js';
import { type GitGateway } from '../git/types.js';
import { elementKey, type ReleaseArtifact, type Snapshot } from '../snapshots/snapshot.js';
import { checkArtifact, readArtifactMetadata } from '../formats/artifact-reader.js';
import { sha256Hex } from '../formats/artifact.js';
import type { ReleaseMetadata } from '../formats/release-metadata.js';
import { repoErrors } from '../formats/errors.js';
import { quoteForError } from '../formats/values.js';
import { BoundedCache, type CacheStats } from '../runtime/bounded-cache.js';
import { YIELD_EVERY, yieldToEventLoop } from '../runtime/event-loop.js';
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
  /**
   * Describes every artifact of `snapshot` not described yet by this catalog, those its manifests
   * name last (freshest in memory for the reads of instances), in slices of a few hundred: what keeps the
   * first read of a large repository from reading tens of thousands of zips while a client waits
   * (src/releases/artifact-warmer.ts runs it in the background). Requests describing the same
   * blobs meanwhile share the reads rather than repeating them.
   */
  warm(snapshot: Snapshot, options?: { signal?: AbortSignal; onProgress?: (progress: WarmProgress) => void }): Promise<WarmProgress & { aborted: boolean }>;
  /** Its in-memory caches, for /metrics. */
  cacheStats(): CacheStats[];
}

export interface WarmProgress {
  /** Artifacts described so far (from memory, the database or git). */
  readonly checked: number;
  /** Of those, the zips read from git and checked. */
  readonly read: number;
  readonly ms: number;
}

/**
 * The version of checkArtifact's checks. A row of an older version (or of none: written before
 * verdicts existed, or by a replica of an older release) is checked again and its verdict
 * replaced; bump this when the checks grow stricter.
 */
export const CHECKS = 1;

/** Entries kept in memory; each is ~300 bytes plus its metadata. */
const MEMORY_ENTRIES = 100_000;
/** Blob ids the warmer has seen described: 200,000 artifacts take ~20 MB. */
const WARMED_ENTRIES = 1_000_000;
/** Zips read at once (their reads interleave on the object store). */
const READ_BATCH = 16;
/** Rows recorded per insert, and per slice of warm-up. */
const RECORD_SLICE = 250;
const WARM_SLICE = 500;
const WARM_LOG_MS = 10_000;

export function createArtifactCatalog(deps: { db: Kysely<Tables>; git: GitGateway }): ArtifactCatalog {
  const memory = new BoundedCache<string, ArtifactInfo>('artifacts', MEMORY_ENTRIES);
  const remember = (info: ArtifactInfo) => memory.set(info.blobId, info);
  /** Blobs being read and checked now, by whichever describe started first. */
  const reading = new Map<string, Promise<ArtifactInfo | null>>();
  const warmed = new BoundedCache<string, true>('artifacts_warmed', WARMED_ENTRIES);
  const stats = { read: 0 };

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
    cacheStats: () => [memory.stats(), warmed.stats()],

    async requireValid(artifacts) {
      const infos = await catalog.describe(artifacts);
      for (const [i, artifact] of artifacts.entries()) {
        if (i % YIELD_EVERY === 0) await yieldToEventLoop();
        const problem = infos.get(artifact.blobId)?.problem;
        if (problem) throw repoErrors.artifactInvalid(problem, { path: artifact.path });
      }
      return infos;
    },

    async describe(artifacts) {
      const result = new Map<string, ArtifactInfo>();
      const wanted = new Map<string, Located>();
      const shared: Promise<ArtifactInfo | null>[] = [];
      // An instance's answer names every artifact of its manifest: 50,000 took ~40 ms in one piece.
      for (const [i, artifact] of artifacts.entries()) {
        if (i % YIELD_EVERY === 0) await yieldToEventLoop();
        const known = memory.get(artifact.blobId);
        if (known) result.set(artifact.blobId, known);
        else if (reading.has(artifact.blobId)) shared.push(reading.get(artifact.blobId)!);
        else wanted.set(artifact.blobId, artifact);
      }
      if (wanted.size > 0) {
        const fromDb = (await findArtifacts(deps.db, [...wanted.keys()])).filter((row) => row.checks !== null && row.checks >= CHECKS);
        for (const row of fromDb) result.set(row.blob_id, remember(infoOf(row)));
        // Another describe (a request, or the warmer) may claim some while this one reads.
        const pending = [...wanted.values()].filter((a) => !result.has(a.blobId));
        for (const info of await readAndRecord(pending)) result.set(info.blobId, info);
      }
      for (const info of await Promise.all(shared)) if (info) result.set(info.blobId, info);
      return result;
    },

    async warm(snapshot, options = {}) {
      const started = performance.now();
      let checked = 0;
      let read = 0;
      let nextLog = started + WARM_LOG_MS;
      for await (const slice of warmOrder(snapshot, WARM_SLICE)) {
        if (options.signal?.aborted) break;
        // Most slices of a pass after a merge are known already: without this the walk over
        // 200,000 of them would be one synchronous stretch.
        await yieldToEventLoop();
        const todo = slice.filter((a) => !warmed.get(a.blobId));
        if (todo.length === 0) continue;
        const before = stats.read;
        const infos = await catalog.describe(todo);
        read += stats.read - before;
        for (const a of todo) if (infos.has(a.blobId)) warmed.set(a.blobId, true);
        checked += todo.length;
        if (performance.now() >= nextLog) {
          options.onProgress?.({ checked, read, ms: Math.round(performance.now() - started) });
          nextLog = performance.now() + WARM_LOG_MS;
        }
      }
      return { checked, read, ms: Math.round(performance.now() - started), aborted: options.signal?.aborted ?? false };
    },
  };

  /**
   * Reads, checks and records blobs nobody else is reading: a slice at a time (the event loop
   * stays free between slices), each slice claimed as it starts and remembered and recorded before
   * the next, so a concurrent describe of the same blob waits for this one rather than reading it
   * again. A blob another describe claimed or settled meanwhile is taken from it.
   */
  async function readAndRecord(pending: readonly Located[]): Promise<ArtifactInfo[]> {
    const infos: ArtifactInfo[] = [];
    const shared: Promise<ArtifactInfo | null>[] = [];
    for (let next = 0; next < pending.length; next += RECORD_SLICE) {
      await yieldToEventLoop();
      const slice: Located[] = [];
      for (const artifact of pending.slice(next, next + RECORD_SLICE)) {
        const known = memory.get(artifact.blobId);
        const claimed = reading.get(artifact.blobId);
        if (known) infos.push(known);
        else if (claimed) shared.push(claimed);
        else slice.push(artifact);
      }
      const settle = new Map<string, (info: ArtifactInfo | null, error?: unknown) => void>();
      for (const artifact of slice) {
        const promise = new Promise<ArtifactInfo | null>((resolve, reject) =>
          settle.set(artifact.blobId, (info, error) => (error === undefined ? resolve(info) : reject(error))),
        );
        // A reader that fails rejects its sharers too; none may be left unhandled meanwhile.
        promise.catch(() => {});
        reading.set(artifact.blobId, promise);
      }
      try {
        const rows: ArtifactRow[] = [];
        for (let i = 0; i < slice.length; i += READ_BATCH) {
          if (i > 0) await yieldToEventLoop();
          for (const row of await Promise.all(slice.slice(i, i + READ_BATCH).map(read))) if (row) rows.push(row);
        }
        stats.read += rows.length;
        await insertArtifacts(deps.db, rows);
        const byBlob = new Map(rows.map((row) => [row.blob_id, remember(infoOf(row))]));
        for (const artifact of slice) {
          const info = byBlob.get(artifact.blobId) ?? null;
          if (info) infos.push(info);
          settle.get(artifact.blobId)!(info);
        }
      } catch (error) {
        for (const artifact of slice) settle.get(artifact.blobId)!(null, error ?? new Error('artifact read failed'));
        throw error;
      } finally {
        for (const artifact of slice) reading.delete(artifact.blobId);
      }
    }
    for (const info of await Promise.all(shared)) if (info) infos.push(info);
    return infos;
  }

  return catalog;
}

function infoOf(row: ArtifactRow): ArtifactInfo {
  return {
    blobId: row.blob_id,
    sha256: row.sha256,
    size: row.size,
    metadata: (row.metadata as ReleaseMetadata | null) ?? null,
    metadataError: row.metadata_error,
    problem: row.problem,
  };
}

/**
 * Every artifact of `snapshot` once, in slices: those no manifest names, then those manifests name,
 * so that these end freshest in the memory cache (at 50,000 apps it holds half of the 200,000),
 * where the reads of instances find them.
 */
async function* warmOrder(snapshot: Snapshot, size: number): AsyncGenerator<Located[]> {
  const named = new Map<string, ReleaseArtifact>();
  for (const entry of snapshot.manifests.values()) {
    await yieldToEventLoop();
    const manifest = entry.file?.view;
    if (!manifest) continue;
    for (const [type, entries] of [
      ['PAGE', manifest.apps],
      ['WORKFLOW', manifest.workflows],
    ] as const) {
      for (let i = 0; i < entries.length; i++) {
        if (i % 1_000 === 0) await yieldToEventLoop();
        const e = entries[i]!;
        const artifact = snapshot.releases.get(elementKey(type, e.uuid))?.get(e.release);
        if (artifact) named.set(artifact.blobId, artifact);
      }
    }
  }
  const seen = new Set<string>();
  let slice: Located[] = [];
  function* add(artifacts: Iterable<ReleaseArtifact>, skip: ReadonlyMap<string, unknown>): Generator<Located[]> {
    for (const artifact of artifacts) {
      if (skip.has(artifact.blobId) || seen.has(artifact.blobId)) continue;
      seen.add(artifact.blobId);
      slice.push({ blobId: artifact.blobId, commit: snapshot.commit, path: artifact.path });
      if (slice.length === size) {
        yield slice;
        slice = [];
      }
    }
  }
  let folders = 0;
  for (const versions of snapshot.releases.values()) {
    if (++folders % 1_000 === 0) await yieldToEventLoop();
    yield* add(versions.values(), named);
  }
  yield* add(named.values(), new Map());
  if (slice.length > 0) yield slice;
}

/** checkArtifact's reason, naming the entry unless the reason already does. */
function problemOf(details: Record<string, unknown>): string {
  const reason = typeof details.reason === 'string' ? details.reason : 'the zip failed its checks';
  const entry = typeof details.entry === 'string' ? details.entry : undefined;
  return entry === undefined || reason.includes(quoteForError(entry)) ? reason : `entry ${quoteForError(entry)}: ${reason}`;
}
