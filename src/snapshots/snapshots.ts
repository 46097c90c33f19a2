// The snapshot of the default branch every service reads: the gateway says which commit the
// branch is at, the builder parses that commit (once per commit, sharing unchanged subtrees).
import type { GitGateway } from '../git/types.js';
import type { Snapshot } from './snapshot.js';
import { createSnapshotBuilder, type SnapshotBuilder, type SnapshotCounters } from './snapshot-builder.js';

export interface Snapshots {
  /**
   * The parsed default branch: as of the last fetch, or with `fresh` as the remote has it now.
   * Reads take the cached one; every write decides on a fresh one. With `elements`, its protected
   * lists are parsed first, in slices (Snapshot.loadElements), for callers that read `elements`.
   */
  latest(options?: { fresh?: boolean; elements?: boolean }): Promise<Snapshot>;
  /** How much parsing the snapshots took, for tests and benchmarks. */
  counters(): Readonly<SnapshotCounters>;
}

export function createSnapshots(git: GitGateway): Snapshots {
  let objects = git.objects();
  let builder: SnapshotBuilder = createSnapshotBuilder(objects);
  let retired: SnapshotCounters = { snapshotsBuilt: 0, manifestParses: 0, protectedParses: 0, treeReads: 0, blobSizeReads: 0 };

  function current(): SnapshotBuilder {
    const now = git.objects();
    if (now !== objects) {
      // The mirror was fetched again from nothing: start from its new reader, not from
      // reads (or failures) memoized against the old one.
      retired = sum(retired, builder.counters);
      objects = now;
      builder = createSnapshotBuilder(objects);
    }
    return builder;
  }

  return {
    async latest(options = {}) {
      const head = await git.headCommit(options);
      const snapshot = await current().build(head);
      if (options.elements) await snapshot.loadElements();
      return snapshot;
    },
    counters: () => sum(retired, builder.counters),
  };
}

function sum(a: SnapshotCounters, b: SnapshotCounters): SnapshotCounters {
  return {
    snapshotsBuilt: a.snapshotsBuilt + b.snapshotsBuilt,
    manifestParses: a.manifestParses + b.manifestParses,
    protectedParses: a.protectedParses + b.protectedParses,
    treeReads: a.treeReads + b.treeReads,
    blobSizeReads: a.blobSizeReads + b.blobSizeReads,
  };
}
