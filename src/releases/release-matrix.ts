// The release matrix (`GET /elements`): every protected element with its releases summary and
// the release each manifest sets, open pull requests overlaid — what a dashboard draws as a grid.
// The per-commit part is computed once per snapshot (snapshots are memoized per commit), so a
// page costs a sort-free slice plus the open pull requests.
import { invalidField } from '../errors.js';
import type { Snapshot } from '../snapshots/snapshot.js';
import { elementKey, type ElementKey } from '../snapshots/snapshot.js';
import type { PullRequestService } from '../pull-requests/pull-requests.service.js';
import type { DeploymentService } from '../deployments/deployments.service.js';
import type { ManifestFile } from '../formats/manifest-file.js';
import type { ProtectedElement } from '../formats/protected.js';
import type { ElementType } from '../formats/values.js';
import { highestVersion } from '../formats/version.js';
import { pendingArtifacts, pendingEntries } from './pending.js';
import { YIELD_EVERY, yieldToEventLoop } from '../runtime/event-loop.js';
import type { Snapshots } from '../snapshots/snapshots.js';

export interface MatrixElement {
  uuid: string;
  type: ElementType;
  name: string;
  source_folder: string;
  latest_release: string | null;
  releases_count: number;
  /** Every manifest that parses: the release it sets for this element, or null. */
  manifests: Record<string, string | null>;
  /** Manifest changes proposed in open pull requests (release null: the entry is removed). */
  pending: { manifest: string; release: string | null; pull_request: { number: number; url: string } }[];
  /** Releases proposed in open pull requests. */
  pending_releases: { release_version: string; pull_request: { number: number; url: string } }[];
  /** Versions held after a rollback (src/promotion/holds.service.ts). */
  holds: ActiveHold[];
  /**
   * Per instance: the release its manifest sets now (`desired`) and the one its last successful
   * deployment reported (`deployed`; null: not deployed, or not reported).
   */
  instances: Record<string, { desired: string | null; deployed: string | null }>;
}

/** An active hold as the release views show it. */
export interface ActiveHold {
  id: string;
  version: string;
  reason: string;
  manifest: string;
  created_by: string;
  created_at: string;
}

/** Active holds by element key; the holds domain provides them. */
export type ActiveHolds = () => Promise<ReadonlyMap<ElementKey, readonly ActiveHold[]>>;

export interface MatrixPage {
  elements: MatrixElement[];
  manifests: string[];
  invalid_manifests: { name: string; path: string; line: number | null; reason: string }[];
  commit_sha: string;
  next_cursor: string | null;
}

export interface MatrixQuery {
  readonly type?: ElementType | undefined;
  /** Case-insensitive substring of the element's name. */
  readonly name?: string | undefined;
  readonly cursor?: string | undefined;
  readonly limit: number;
}

export interface ReleaseMatrix {
  page(query: MatrixQuery): Promise<MatrixPage>;
}

interface Index {
  /** Sorted by type (PAGE first), name, uuid: the cursor order. */
  readonly elements: readonly ProtectedElement[];
  readonly manifestNames: readonly string[];
  readonly entries: ReadonlyMap<ElementKey, ReadonlyMap<string, string>>;
}

type SortKey = [ElementType, string, string];

const keyOf = (e: ProtectedElement): SortKey => [e.type, e.name, e.uuid];

function compareKeys(a: SortKey, b: SortKey): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
  return 0;
}

/** compareKeys(keyOf(a), keyOf(b)) without the two arrays per comparison (a sort makes ~800,000 at 50,000 elements). */
function compareElements(a: ProtectedElement, b: ProtectedElement): number {
  if (a.type !== b.type) return a.type < b.type ? -1 : 1;
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  return a.uuid === b.uuid ? 0 : a.uuid < b.uuid ? -1 : 1;
}

export function createReleaseMatrix(deps: {
  snapshots: Snapshots;
  pullRequests: PullRequestService;
  holds: ActiveHolds;
  deployments: DeploymentService;
}): ReleaseMatrix {
  const indexes = new WeakMap<Snapshot, Promise<Index>>();
  // A manifest's file object is shared by every snapshot holding the same blob, so after a commit
  // only the manifests it changed are read again.
  const manifestReleases = new WeakMap<ManifestFile, Promise<ReadonlyMap<ElementKey, string>>>();

  function releasesOf(file: ManifestFile): Promise<ReadonlyMap<ElementKey, string>> {
    let releases = manifestReleases.get(file);
    if (!releases) {
      releases = (async () => {
        const manifest = file.view;
        const map = new Map<ElementKey, string>();
        for (const [type, list] of [
          ['PAGE', manifest.apps],
          ['WORKFLOW', manifest.workflows],
        ] as const) {
          for (const [i, entry] of list.entries()) {
            if (i % YIELD_EVERY === 0) await yieldToEventLoop();
            map.set(elementKey(type, entry.uuid), entry.release);
          }
        }
        return map;
      })();
      manifestReleases.set(file, releases);
    }
    return releases;
  }

  /**
   * Built once per snapshot, yielding to the event loop between steps: at 50,000 elements and
   * ten manifests it held the loop ~190 ms in one piece.
   */
  function indexOf(snapshot: Snapshot): Promise<Index> {
    let index = indexes.get(snapshot);
    if (!index) indexes.set(snapshot, (index = buildIndex(snapshot)));
    return index;
  }

  async function buildIndex(snapshot: Snapshot): Promise<Index> {
    const manifestNames = [...snapshot.manifests.keys()].filter((n) => snapshot.manifests.get(n)!.file).sort();
    const entries = new Map<ElementKey, Map<string, string>>();
    for (const name of manifestNames) {
      await yieldToEventLoop();
      let step = 0;
      for (const [key, release] of await releasesOf(snapshot.manifests.get(name)!.file!)) {
        if (++step % YIELD_EVERY === 0) await yieldToEventLoop();
        let byManifest = entries.get(key);
        if (!byManifest) entries.set(key, (byManifest = new Map()));
        byManifest.set(name, release);
      }
    }
    const elements = [...(await snapshot.loadElements())];
    await yieldToEventLoop();
    elements.sort(compareElements);
    return { elements, manifestNames, entries };
  }

  return {
    async page(query) {
      const snapshot = await deps.snapshots.latest();
      const index = await indexOf(snapshot);
      const after = query.cursor === undefined ? null : decodeCursor(query.cursor);
      const needle = query.name?.toLowerCase();
      const selected: ProtectedElement[] = [];
      let more = false;
      for (const element of index.elements) {
        if (after && compareKeys(keyOf(element), after) <= 0) continue;
        if (query.type && element.type !== query.type) continue;
        if (needle && !element.name.toLowerCase().includes(needle)) continue;
        if (selected.length === query.limit) {
          more = true;
          break;
        }
        selected.push(element);
      }

      const open = await deps.pullRequests.listOpen();
      const link = (number: number) => ({ number, url: deps.pullRequests.pullRequestUrl(number) });
      const wanted = new Set(selected.map((e) => elementKey(e.type, e.uuid)));
      const pending = new Map<ElementKey, MatrixElement['pending']>();
      for (const p of pendingEntries(open)) {
        const key = elementKey(p.type, p.uuid);
        if (!wanted.has(key)) continue;
        if (!pending.has(key)) pending.set(key, []);
        pending.get(key)!.push({ manifest: p.manifest, release: p.release, pull_request: link(p.pullRequest.number) });
      }
      const pendingReleases = new Map<ElementKey, MatrixElement['pending_releases']>();
      for (const p of pendingArtifacts(open)) {
        const key = elementKey(p.type, p.uuid);
        if (!wanted.has(key)) continue;
        if (!pendingReleases.has(key)) pendingReleases.set(key, []);
        pendingReleases.get(key)!.push({ release_version: p.version, pull_request: link(p.pullRequest.number) });
      }

      const holds = await deps.holds();
      const instances = await deps.deployments.states();
      const elements = selected.map((element): MatrixElement => {
        const key = elementKey(element.type, element.uuid);
        const versions = [...(snapshot.releases.get(key)?.keys() ?? [])];
        const set = index.entries.get(key);
        return {
          uuid: element.uuid,
          type: element.type,
          name: element.name,
          source_folder: element.sourceFolder,
          latest_release: highestVersion(versions),
          releases_count: versions.length,
          manifests: Object.fromEntries(index.manifestNames.map((m) => [m, set?.get(m) ?? null])),
          pending: pending.get(key) ?? [],
          pending_releases: pendingReleases.get(key) ?? [],
          holds: (holds.get(key) ?? []).map(({ id, version, reason, manifest, created_by, created_at }) => ({
            id,
            version,
            reason,
            manifest,
            created_by,
            created_at,
          })),
          instances: Object.fromEntries(
            instances.map((i) => [i.instance, { desired: (i.manifest ? set?.get(i.manifest) : undefined) ?? null, deployed: i.deployed?.get(key) ?? null }]),
          ),
        };
      });
      const last = selected.at(-1);
      return {
        elements,
        manifests: [...index.manifestNames],
        invalid_manifests: [...snapshot.manifests]
          .filter(([, m]) => m.error)
          .map(([name, m]) => ({ name, path: m.path, line: m.error!.line ?? null, reason: m.error!.reason })),
        commit_sha: snapshot.commit,
        next_cursor: more && last ? encodeCursor(keyOf(last)) : null,
      };
    },
  };
}

function encodeCursor(key: SortKey): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

function decodeCursor(cursor: string): SortKey {
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(key) && key.length === 3 && key.every((k) => typeof k === 'string')) return key as SortKey;
  } catch {
    // reported below
  }
  throw invalidField('query.cursor', 'is not a cursor this service returned (use next_cursor as is)');
}
