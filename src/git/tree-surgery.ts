// Commits without a working tree or an index: only the trees on the changed paths are read and
// rewritten; every other subtree keeps its oid, so a one-file change in a 60k-object repository
// writes one blob and a handful of trees, faster than native git's plumbing (docs/architecture.md).
import { errors } from '../errors.js';
import { EMPTY_TREE, type TreeEntry } from './object-formats.js';
import type { ObjectStore } from './object-store.js';
import type { FileChange } from './types.js';

interface DirPlan {
  readonly files: Map<string, FileChange>;
  readonly dirs: Map<string, DirPlan>;
}

/** Rejects paths that could escape the tree or touch git's own metadata. */
export function checkChangePath(path: string): string[] {
  const segments = path.split('/');
  const bad = path.length === 0 || path.includes('\0') || segments.some((s) => s === '' || s === '.' || s === '..' || s.toLowerCase() === '.git');
  if (bad) throw errors.internal(`Refusing to write the path ${JSON.stringify(path)}`);
  return segments;
}

function plan(changes: readonly FileChange[]): DirPlan {
  const root: DirPlan = { files: new Map(), dirs: new Map() };
  const seen = new Set<string>();
  for (const change of changes) {
    if (seen.has(change.path)) throw errors.internal(`The path ${change.path} is changed twice in one commit`);
    seen.add(change.path);
    const segments = checkChangePath(change.path);
    let dir = root;
    for (const segment of segments.slice(0, -1)) {
      if (dir.files.has(segment)) throw errors.internal(`${change.path} is under a file changed in the same commit`);
      let next = dir.dirs.get(segment);
      if (!next) {
        next = { files: new Map(), dirs: new Map() };
        dir.dirs.set(segment, next);
      }
      dir = next;
    }
    const name = segments[segments.length - 1]!;
    if (dir.dirs.has(name)) throw errors.internal(`${change.path} is a folder of other changes in the same commit`);
    dir.files.set(name, change);
  }
  return root;
}

/**
 * Returns the oid of `baseTree` with `changes` applied. A deleted path that does not exist is a
 * no-op; a folder left empty disappears, as git cannot store one.
 */
export async function applyChanges(store: ObjectStore, options: { baseTree: string; changes: readonly FileChange[] }): Promise<string> {
  const result = await rewrite(store, options.baseTree, plan(options.changes), '');
  return result ?? (await store.writeTree([]));
}

async function rewrite(store: ObjectStore, treeOid: string | null, dir: DirPlan, prefix: string): Promise<string | null> {
  const original = treeOid && treeOid !== EMPTY_TREE ? await store.readTree(treeOid) : [];
  const entries = new Map<string, TreeEntry>(original.map((e) => [e.path, e]));
  let changed = false;

  await Promise.all(
    [...dir.files].map(async ([name, change]) => {
      const existing = entries.get(name);
      if ('delete' in change) {
        if (existing) {
          entries.delete(name);
          changed = true;
        }
        return;
      }
      if (existing && existing.type !== 'blob') {
        throw errors.internal(`Cannot write the file ${prefix}${name}: it is a ${existing.type} in the tree`);
      }
      const oid = await store.writeBlob(change.bytes);
      // Keep an executable bit or a symlink mode the file already had.
      const mode = existing?.mode ?? '100644';
      if (existing?.oid !== oid) {
        entries.set(name, { mode, path: name, oid, type: 'blob' });
        changed = true;
      }
    }),
  );

  await Promise.all(
    [...dir.dirs].map(async ([name, sub]) => {
      const existing = entries.get(name);
      if (existing && existing.type !== 'tree') {
        throw errors.internal(`Cannot write under ${prefix}${name}: it is a ${existing.type}, not a folder`);
      }
      const oid = await rewrite(store, existing?.oid ?? null, sub, `${prefix}${name}/`);
      if (oid === (existing?.oid ?? null)) return;
      changed = true;
      if (oid === null) entries.delete(name);
      else entries.set(name, { mode: '040000', path: name, oid, type: 'tree' });
    }),
  );

  if (!changed) return treeOid && treeOid !== EMPTY_TREE ? treeOid : null;
  if (entries.size === 0) return null;
  return store.writeTree([...entries.values()]);
}
