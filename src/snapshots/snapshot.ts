// The default branch as the domain sees it: its manifests, protected elements and release
// artifacts, parsed from one commit's tree (src/snapshots/snapshot-builder.ts builds it; git itself
// knows nothing of these formats).
import type { ElementType } from '../formats/values.js';
import type { ManifestFile } from '../formats/manifest-file.js';
import type { ProtectedElement } from '../formats/protected.js';

/** A repository file that did not parse: reported with its path and reason, never dropped silently. */
export interface FileParseError {
  readonly path: string;
  readonly line?: number;
  readonly reason: string;
}

export interface SnapshotManifest {
  /** `manifests/<name>.yaml` */
  readonly path: string;
  readonly blobId: string;
  /**
   * Set when the file parsed (parsed on first access, once per blob). Shared by every snapshot
   * holding the same blob: never mutate it; `clone()` it before `setEntry`/`removeEntry`.
   */
  readonly file?: ManifestFile;
  /** Set when it did not parse. */
  readonly error?: FileParseError;
}

export interface ReleaseArtifact {
  /** `dist/apps/<uuid>/<X.Y.Z>.zip` or `dist/workflows/…` */
  readonly path: string;
  readonly blobId: string;
  /** Bytes. */
  readonly size: number;
}

/** `PAGE:<uuid>` or `WORKFLOW:<uuid>`. */
export type ElementKey = `${ElementType}:${string}`;

export function elementKey(type: ElementType, uuid: string): ElementKey {
  return `${type}:${uuid}`;
}

/**
 * What the default branch holds at one commit, parsed. Immutable; the same object is returned
 * for the same commit, and its parts are shared with snapshots of other commits where the
 * subtrees are the same.
 */
export interface Snapshot {
  readonly commit: string;
  readonly tree: string;
  /** By manifest name. */
  readonly manifests: ReadonlyMap<string, SnapshotManifest>;
  /** Protected apps then protected workflows, as listed (parsed on first access). */
  readonly elements: readonly ProtectedElement[];
  /**
   * `elements`, parsed in slices that yield to the event loop when not parsed yet: for request
   * paths that may meet lists of tens of thousands of elements.
   */
  loadElements(): Promise<readonly ProtectedElement[]>;
  /** Parse errors of `.retool/protected-apps.yaml` / `protected-workflows.yaml`. */
  readonly elementErrors: readonly FileParseError[];
  /** Artifacts under dist/, by element then by version. */
  readonly releases: ReadonlyMap<ElementKey, ReadonlyMap<string, ReleaseArtifact>>;
}
