// Snapshots of the default branch, built once per commit and memoized by object id: a subtree
// whose oid did not change is never read again, a manifest whose blob did not change is never
// parsed again. Moving the branch by one manifest re-reads the root, manifests/ and that blob.
//
// Parsing is lazy: YAML is the expensive part (docs/architecture.md has the figures), so a snapshot
// holds each manifest's bytes and parses it on first access of `file`/`error` (and the protected
// lists on first access of `elements`/`elementErrors`), once per blob id. Building a snapshot after a one-manifest change therefore costs two tree reads.
import { parseManifest } from '../formats/manifest-file.js';
import { parseProtectedList, parseProtectedListSliced, type ProtectedElement } from '../formats/protected.js';
import type { ElementType } from '../formats/values.js';
import { DIST_DIR, MANIFESTS_DIR, PROTECTED_APPS_PATH, PROTECTED_WORKFLOWS_PATH, parseArtifactPath, parseManifestPath } from '../formats/layout.js';
import { yieldToEventLoop } from '../runtime/event-loop.js';
import type { TreeEntry } from '../git/object-formats.js';
import type { ObjectReads } from '../git/types.js';
import { lazy, type Lazy, type Parsed } from './lazy-file.js';
import { elementKey, type ElementKey, type FileParseError, type ReleaseArtifact, type Snapshot, type SnapshotManifest } from './snapshot.js';

/** Keeps what the current and the previous build used; anything older is dropped. */
class Generational<K, V> {
  private current = new Map<K, V>();
  private previous = new Map<K, V>();

  get(key: K): V | undefined {
    const hit = this.current.get(key);
    if (hit !== undefined) return hit;
    const old = this.previous.get(key);
    if (old !== undefined) this.current.set(key, old);
    return old;
  }

  set(key: K, value: V): V {
    this.current.set(key, value);
    return value;
  }

  rotate(): void {
    this.previous = this.current;
    this.current = new Map();
  }
}

export interface SnapshotCounters {
  snapshotsBuilt: number;
  manifestParses: number;
  protectedParses: number;
  treeReads: number;
  blobSizeReads: number;
}

export interface SnapshotBuilder {
  /** The snapshot of `commit`; the same object while `commit` stays the latest one asked for. */
  build(commit: string): Promise<Snapshot>;
  readonly counters: Readonly<SnapshotCounters>;
}

/** Element folders of dist/ read at once when they are not at hand. */
const SLOW_BATCH = 256;

const NO_ELEMENTS: Lazy<ProtectedElement[]> = Object.assign(() => ({ value: [] }), { sliced: async () => ({ value: [] }) });

export function createSnapshotBuilder(store: ObjectReads): SnapshotBuilder {
  const counters: SnapshotCounters = { snapshotsBuilt: 0, manifestParses: 0, protectedParses: 0, treeReads: 0, blobSizeReads: 0 };
  const trees = new Generational<string, Promise<TreeEntry[]>>();
  const manifestEntries = new Generational<string, Promise<SnapshotManifest>>();
  const protectedFiles = new Generational<string, Promise<Lazy<ProtectedElement[]>>>();
  const manifestDirs = new Generational<string, Promise<Map<string, SnapshotManifest>>>();
  const releaseDirs = new Generational<string, Promise<Map<string, ReleaseArtifact>>>();
  const releaseDirsAtHand = new Generational<string, Map<string, ReleaseArtifact>>();
  const distDirs = new Generational<string, Promise<Map<ElementKey, ReadonlyMap<string, ReleaseArtifact>>>>();
  const sizes = new Generational<string, number>();
  let last: { commit: string; snapshot: Promise<Snapshot> } | undefined;

  function readTree(oid: string): Promise<TreeEntry[]> {
    const hit = trees.get(oid);
    if (hit) return hit;
    counters.treeReads++;
    return trees.set(oid, store.readTree(oid));
  }

  async function entryAt(rootTree: string, path: string): Promise<TreeEntry | undefined> {
    const segments = path.split('/');
    let tree = rootTree;
    for (let i = 0; i < segments.length; i++) {
      const entry = (await readTree(tree)).find((e) => e.path === segments[i]);
      if (!entry || i === segments.length - 1) return entry;
      if (entry.type !== 'tree') return undefined;
      tree = entry.oid;
    }
    return undefined;
  }

  /** One entry object per (path, blob): shared by every snapshot holding that blob there. */
  function manifestEntry(path: string, oid: string): Promise<SnapshotManifest> {
    const key = `${path}\0${oid}`;
    return (
      manifestEntries.get(key) ??
      manifestEntries.set(
        key,
        store.readBlob(oid).then((bytes) => {
          const parsed = lazy(path, bytes, parseManifest, () => counters.manifestParses++);
          const entry = { path, blobId: oid } as SnapshotManifest;
          Object.defineProperties(entry, {
            file: { get: () => parsed().value, enumerable: true },
            error: { get: () => parsed().error, enumerable: true },
          });
          return Object.freeze(entry);
        }),
      )
    );
  }

  function manifestsOf(treeOid: string): Promise<Map<string, SnapshotManifest>> {
    return (
      manifestDirs.get(treeOid) ??
      manifestDirs.set(
        treeOid,
        (async () => {
          const entries = (await readTree(treeOid)).filter((e) => e.type === 'blob');
          const found = await Promise.all(
            entries.map(async (e) => {
              const path = `${MANIFESTS_DIR}/${e.path}`;
              const name = parseManifestPath(path);
              return name === null ? null : ([name, await manifestEntry(path, e.oid)] as const);
            }),
          );
          return new Map(found.filter((f) => f !== null));
        })(),
      )
    );
  }

  function protectedOf(path: string, oid: string, type: ElementType): Promise<Lazy<ProtectedElement[]>> {
    const key = `${path}\0${oid}`;
    return (
      protectedFiles.get(key) ??
      protectedFiles.set(
        key,
        store.readBlob(oid).then((bytes) =>
          lazy(
            path,
            bytes,
            (text) => parseProtectedList(text, path, type),
            () => counters.protectedParses++,
            (text) => parseProtectedListSliced(text, path, type),
          ),
        ),
      )
    );
  }

  /** Sizes of blobs, memoized by oid (numbers, not promises: 200,000 promises held ~15 MB). */
  async function blobSizes(oids: readonly string[]): Promise<number[]> {
    const known = oids.map((oid) => sizes.get(oid));
    const missing = oids.filter((_, i) => known[i] === undefined);
    if (missing.length === 0) return known as number[];
    counters.blobSizeReads += missing.length;
    const read = await store.objectSizes(missing);
    // `missing` is `oids` without the known ones, in order.
    let next = 0;
    return known.map((size, i) => size ?? sizes.set(oids[i]!, read[next++]!));
  }

  /** releasesOf without waiting, when the folder's tree and its blobs' sizes are known already. */
  function releasesAtHand(path: string, treeOid: string): Map<string, ReleaseArtifact> | undefined {
    const key = `${path}\0${treeOid}`;
    const memo = releaseDirsAtHand.get(key);
    if (memo) return memo;
    const entries = store.peekTree(treeOid);
    if (!entries) return undefined;
    const result = new Map<string, ReleaseArtifact>();
    for (const e of entries) {
      if (e.type !== 'blob') continue;
      const filePath = `${path}/${e.path}`;
      const parsed = parseArtifactPath(filePath);
      if (!parsed) continue;
      const size = store.peekSize(e.oid);
      if (size === undefined) return undefined;
      result.set(parsed.version, { path: filePath, blobId: e.oid, size });
    }
    counters.treeReads++;
    // Settled already: releasesOf finds it without waiting.
    void releaseDirs.set(key, Promise.resolve(result));
    return releaseDirsAtHand.set(key, result);
  }

  /** Versions of one element folder, e.g. dist/apps/<uuid>. */
  function releasesOf(path: string, treeOid: string): Promise<Map<string, ReleaseArtifact>> {
    const key = `${path}\0${treeOid}`;
    return (
      releaseDirs.get(key) ??
      releaseDirs.set(
        key,
        (async () => {
          const result = new Map<string, ReleaseArtifact>();
          // Not kept in `trees`: the folder's answer is (releaseDirs), and 50,000 folders' entries
          // held there were ~35 MB at 50,000 apps.
          counters.treeReads++;
          const artifacts = (await store.readTree(treeOid))
            .filter((e) => e.type === 'blob')
            .map((e) => ({ entry: e, path: `${path}/${e.path}` }))
            .map((a) => ({ ...a, parsed: parseArtifactPath(a.path) }))
            .filter((a) => a.parsed !== null);
          const found = await blobSizes(artifacts.map((a) => a.entry.oid));
          artifacts.forEach((a, i) => result.set(a.parsed!.version, { path: a.path, blobId: a.entry.oid, size: found[i]! }));
          return result;
        })(),
      )
    );
  }

  function distOf(treeOid: string): Promise<Map<ElementKey, ReadonlyMap<string, ReleaseArtifact>>> {
    return (
      distDirs.get(treeOid) ??
      distDirs.set(
        treeOid,
        (async () => {
          const result = new Map<ElementKey, ReadonlyMap<string, ReleaseArtifact>>();
          const add = (releases: Map<string, ReleaseArtifact>) => {
            // The element's type and uuid come from the artifact path parser, never from here.
            const first = releases.values().next();
            const parsed = first.done ? null : parseArtifactPath(first.value.path);
            if (parsed) result.set(elementKey(parsed.type, parsed.uuid), releases);
          };
          for (const kind of (await readTree(treeOid)).filter((e) => e.type === 'tree')) {
            const elements = (await readTree(kind.oid)).filter((e) => e.type === 'tree');
            let slow: Promise<Map<string, ReleaseArtifact>>[] = [];
            for (const e of elements) {
              const path = `${DIST_DIR}/${kind.path}/${e.path}`;
              // Right after a clone every folder is at hand: no promise per element.
              const known = releasesAtHand(path, e.oid);
              if (known) add(known);
              else slow.push(releasesOf(path, e.oid));
              // In slices: tens of thousands of folders read from memory would hold the loop.
              if (slow.length === SLOW_BATCH) {
                for (const releases of await Promise.all(slow)) add(releases);
                slow = [];
              }
              await yieldToEventLoop();
            }
            for (const releases of await Promise.all(slow)) add(releases);
          }
          return result;
        })(),
      )
    );
  }

  async function buildFresh(commit: string): Promise<Snapshot> {
    const tree = (await store.readCommit(commit)).tree;
    const [manifestsEntry, distEntry, appsEntry, workflowsEntry] = await Promise.all([
      entryAt(tree, MANIFESTS_DIR),
      entryAt(tree, DIST_DIR),
      entryAt(tree, PROTECTED_APPS_PATH),
      entryAt(tree, PROTECTED_WORKFLOWS_PATH),
    ]);
    const [manifests, releases, apps, workflows] = await Promise.all([
      manifestsEntry?.type === 'tree' ? manifestsOf(manifestsEntry.oid) : new Map<string, SnapshotManifest>(),
      distEntry?.type === 'tree' ? distOf(distEntry.oid) : new Map<ElementKey, ReadonlyMap<string, ReleaseArtifact>>(),
      appsEntry?.type === 'blob' ? protectedOf(PROTECTED_APPS_PATH, appsEntry.oid, 'PAGE') : NO_ELEMENTS,
      workflowsEntry?.type === 'blob' ? protectedOf(PROTECTED_WORKFLOWS_PATH, workflowsEntry.oid, 'WORKFLOW') : NO_ELEMENTS,
    ]);
    counters.snapshotsBuilt++;
    let elements: { list: readonly ProtectedElement[]; errors: readonly FileParseError[] } | undefined;
    const combine = (a: Parsed<ProtectedElement[]>, w: Parsed<ProtectedElement[]>) =>
      (elements ??= {
        list: Object.freeze([...(a.value ?? []), ...(w.value ?? [])]),
        errors: Object.freeze([a.error, w.error].filter((e): e is FileParseError => e !== undefined)),
      });
    const parsedElements = () => elements ?? combine(apps(), workflows());
    const snapshot = { commit, tree, manifests, releases } as unknown as Snapshot;
    Object.defineProperties(snapshot, {
      elements: { get: () => parsedElements().list, enumerable: true },
      elementErrors: { get: () => parsedElements().errors, enumerable: true },
      loadElements: {
        value: async () => (elements ?? combine(...(await Promise.all([apps.sliced(), workflows.sliced()])))).list,
      },
    });
    return Object.freeze(snapshot);
  }

  return {
    counters,
    build(commit) {
      if (last?.commit === commit) return last.snapshot;
      const snapshot = buildFresh(commit);
      const entry = { commit, snapshot };
      last = entry;
      snapshot.then(
        () => {
          for (const cache of [trees, manifestEntries, protectedFiles, manifestDirs, releaseDirs, releaseDirsAtHand, distDirs, sizes]) cache.rotate();
        },
        () => {
          // Do not memoize a failure (an object not yet fetched, a transient read error).
          if (last === entry) last = undefined;
        },
      );
      return snapshot;
    },
  };
}
