// The intent of a pull request: the operations it makes, each with what it expects to find.
// Opening a pull request applies its intent to the default branch as it was then; merging applies
// the same intent to the default branch as it is now: merging never text-merges a branch.
// An operation whose target still holds what it expected, or already holds what it wants, applies;
// one whose target moved to something else is a conflict, named precisely. Unrelated changes made
// in between touch other targets and so never conflict.
import type { AppError, errors } from '../errors.js';
import type { FileChange } from '../git/types.js';
import type { Snapshot } from '../snapshots/snapshot.js';
import { elementKey } from '../snapshots/snapshot.js';
import { artifactPath, manifestPath } from '../formats/layout.js';
import { createManifest, type ManifestFile } from '../formats/manifest-file.js';
import type { ElementType } from '../formats/values.js';
import { yieldToEventLoop } from '../runtime/event-loop.js';

export type Operation =
  | {
      /** Set an element's release in a manifest, creating the manifest when it is missing. */
      readonly op: 'set_entry';
      readonly manifest: string;
      readonly element_type: ElementType;
      readonly element_uuid: string;
      /** The release it had when the change was made; null: no entry. */
      readonly from: string | null;
      readonly to: string;
    }
  | {
      readonly op: 'remove_entry';
      readonly manifest: string;
      readonly element_type: ElementType;
      readonly element_uuid: string;
      readonly from: string | null;
    }
  | {
      /** Make sure the manifest file exists (an empty one when it does not). */
      readonly op: 'create_manifest';
      readonly manifest: string;
    }
  | {
      readonly op: 'delete_manifest';
      readonly manifest: string;
      /** The file's blob when the change was made: a manifest changed since is not deleted blind. */
      readonly from_blob: string;
    }
  | {
      readonly op: 'add_artifact';
      readonly element_type: ElementType;
      readonly element_uuid: string;
      readonly version: string;
      /** The zip's blob id; its bytes are on the pull request's branch. */
      readonly blob: string;
      readonly sha256: string;
      readonly size: number;
    };

export interface Intent {
  readonly version: 1;
  readonly operations: readonly Operation[];
}

/** One operation that cannot apply: what it expected, what it found, what it wanted. */
export interface Conflict {
  readonly target: string;
  readonly reason: string;
  readonly expected: string | null;
  readonly found: string | null;
  readonly wanted: string | null;
}

export interface ManifestDiff {
  readonly manifest: string;
  readonly created: boolean;
  readonly deleted: boolean;
  readonly added: { element_type: ElementType; element_uuid: string; release: string }[];
  readonly changed: { element_type: ElementType; element_uuid: string; from: string; to: string }[];
  readonly removed: { element_type: ElementType; element_uuid: string; release: string }[];
}

export interface FileSummary {
  readonly path: string;
  readonly change: 'added' | 'modified' | 'deleted';
}

export interface Application {
  /** The file changes to commit, in path order; empty when everything was already applied. */
  readonly changes: readonly AppliedChange[];
  readonly conflicts: readonly Conflict[];
  readonly files: readonly FileSummary[];
  /** Each touched manifest's text before and after (null: absent). */
  readonly manifests: readonly { name: string; before: string | null; after: string | null }[];
}

/** A file change whose bytes may still be on another commit (artifacts: read them from there). */
export type AppliedChange = FileChange | { readonly path: string; readonly blob: string };

/**
 * Applies `intent` to `snapshot`. Pure: reads only the snapshot (async only to let the event loop
 * run between operations); returns the file changes, or the conflicts when any operation's target
 * moved. A manifest that does not parse is a conflict too: nothing overwrites a file it could not
 * read.
 */
export async function applyIntent(snapshot: Snapshot, intent: Intent): Promise<Application> {
  const conflicts: Conflict[] = [];
  const manifests = new Map<string, { original: ManifestFile | null; file: ManifestFile | null; touched: boolean }>();
  const artifacts: AppliedChange[] = [];
  const files: FileSummary[] = [];

  const manifestState = (name: string) => {
    let state = manifests.get(name);
    if (!state) {
      const entry = snapshot.manifests.get(name);
      if (entry?.error) {
        conflicts.push({
          target: `manifest:${name}`,
          reason: `the manifest does not parse (${entry.error.path}${entry.error.line ? `:${entry.error.line}` : ''}: ${entry.error.reason})`,
          expected: null,
          found: null,
          wanted: null,
        });
      }
      const original = entry?.file ?? null;
      state = { original, file: original ? original.clone() : null, touched: false };
      manifests.set(name, state);
    }
    return state;
  };

  for (const operation of intent.operations) {
    // A whole-manifest write is one operation per entry: tens of thousands (issue 14).
    await yieldToEventLoop();
    switch (operation.op) {
      case 'create_manifest': {
        const state = manifestState(operation.manifest);
        if (!state.file && !snapshot.manifests.get(operation.manifest)?.error) {
          state.file = createManifest(operation.manifest);
          state.touched = true;
        }
        break;
      }
      case 'set_entry':
      case 'remove_entry': {
        const state = manifestState(operation.manifest);
        if (snapshot.manifests.get(operation.manifest)?.error) break;
        const target = `manifest:${operation.manifest}/${operation.element_type}:${operation.element_uuid}`;
        const wanted = operation.op === 'set_entry' ? operation.to : null;
        const found = state.file?.getEntry(operation.element_type, operation.element_uuid)?.release ?? null;
        if (found === wanted) break;
        if (found !== operation.from) {
          conflicts.push({ target, reason: 'the entry changed since the pull request was opened', expected: operation.from, found, wanted });
          break;
        }
        if (operation.op === 'set_entry') {
          state.file ??= createManifest(operation.manifest);
          state.file.setEntry(operation.element_type, operation.element_uuid, operation.to);
        } else {
          state.file?.removeEntry(operation.element_type, operation.element_uuid);
        }
        state.touched = true;
        break;
      }
      case 'delete_manifest': {
        const entry = snapshot.manifests.get(operation.manifest);
        const state = manifestState(operation.manifest);
        if (!entry) {
          state.file = null;
          break;
        }
        if (entry.blobId !== operation.from_blob) {
          conflicts.push({
            target: `manifest:${operation.manifest}`,
            reason: 'the manifest changed since the pull request was opened',
            expected: operation.from_blob,
            found: entry.blobId,
            wanted: null,
          });
          break;
        }
        state.file = null;
        state.touched = true;
        break;
      }
      case 'add_artifact': {
        const path = artifactPath(operation.element_type, operation.element_uuid, operation.version);
        const existing = snapshot.releases.get(elementKey(operation.element_type, operation.element_uuid))?.get(operation.version);
        if (existing?.blobId === operation.blob) break;
        if (existing) {
          conflicts.push({
            target: `artifact:${path}`,
            reason: 'another artifact with this version exists',
            expected: null,
            found: existing.blobId,
            wanted: operation.blob,
          });
          break;
        }
        artifacts.push({ path, blob: operation.blob });
        files.push({ path, change: 'added' });
        break;
      }
    }
  }

  const changes: AppliedChange[] = [...artifacts];
  const texts: { name: string; before: string | null; after: string | null }[] = [];
  for (const [name, state] of manifests) {
    if (!state.touched) continue;
    const before = state.original ? state.original.toString() : null;
    const after = state.file ? state.file.toString() : null;
    if (before === after) continue;
    const path = manifestPath(name);
    texts.push({ name, before, after });
    if (after === null) {
      changes.push({ path, delete: true });
      files.push({ path, change: 'deleted' });
    } else {
      changes.push({ path, bytes: new TextEncoder().encode(after) });
      files.push({ path, change: before === null ? 'added' : 'modified' });
    }
  }
  const byPath = (a: { path: string }, b: { path: string }) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
  return {
    changes: conflicts.length > 0 ? [] : changes.sort(byPath),
    conflicts,
    files: files.sort(byPath),
    manifests: texts.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
  };
}

/** What an intent does to each manifest, from its operations alone (for pull request views). */
export function diffIntent(intent: Intent): ManifestDiff[] {
  const diffs = new Map<
    string,
    { manifest: string; created: boolean; deleted: boolean; added: ManifestDiff['added']; changed: ManifestDiff['changed']; removed: ManifestDiff['removed'] }
  >();
  const diff = (manifest: string) => {
    let d = diffs.get(manifest);
    if (!d) diffs.set(manifest, (d = { manifest, created: false, deleted: false, added: [], changed: [], removed: [] }));
    return d;
  };
  for (const operation of intent.operations) {
    if (operation.op === 'create_manifest') diff(operation.manifest).created = true;
    else if (operation.op === 'delete_manifest') diff(operation.manifest).deleted = true;
    else if (operation.op === 'set_entry') {
      const element = { element_type: operation.element_type, element_uuid: operation.element_uuid };
      if (operation.from === null) diff(operation.manifest).added.push({ ...element, release: operation.to });
      else diff(operation.manifest).changed.push({ ...element, from: operation.from, to: operation.to });
    } else if (operation.op === 'remove_entry' && operation.from !== null) {
      diff(operation.manifest).removed.push({ element_type: operation.element_type, element_uuid: operation.element_uuid, release: operation.from });
    }
  }
  return [...diffs.values()].sort((a, b) => (a.manifest < b.manifest ? -1 : 1));
}

/** The bytes of each change: those still on another commit are read with `readBlob`. */
export async function resolveChanges(changes: readonly AppliedChange[], readBlob: (path: string, blob: string) => Promise<Uint8Array>): Promise<FileChange[]> {
  return Promise.all(changes.map(async (change) => ('blob' in change ? { path: change.path, bytes: await readBlob(change.path, change.blob) } : change)));
}

/** The error `factory` makes of `conflicts`, each named with what it expected and what it found. */
export function conflictError(factory: typeof errors.changeConflict, message: string, conflicts: readonly Conflict[]): AppError {
  return factory(
    `${message}: ${conflicts.map((c) => `${c.target} (${c.reason}: expected ${c.expected ?? 'nothing'}, found ${c.found ?? 'nothing'})`).join('; ')}`,
    conflicts,
  );
}
