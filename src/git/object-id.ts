// Git object ids computed from bytes, without a repository: what `git hash-object` prints for a
// blob, and the id of the tree a set of files makes (https://git-scm.com/book/en/v2/Git-Internals-Git-Objects).
// A pull request's intent names an artifact by its blob id before any object is written, and an
// artifact's `.release.json` names the tree of the files it holds.
import { createHash, hash } from 'node:crypto';
import { relativePathProblem } from './tree-path.js';

/** The id of an object of this type and content: sha1 of `<type> <size>\0` and the content. */
export function objectId(type: 'blob' | 'tree' | 'commit' | 'tag', content: Uint8Array): string {
  return createHash('sha1').update(`${type} ${content.length}\0`).update(content).digest('hex');
}

/** Room for git's object header (`<type> <size>\0`) before an object's content. */
export const HEADER_ROOM = 32;

/**
 * The oid of an object whose `size` bytes of content are at HEADER_ROOM in `out`: sha1 of
 * `<type> <size>\0` and the content, the header written just before it so that one call to
 * crypto.hash does it, three times faster than a Hash object per object.
 */
export function hashFramed(type: 'blob' | 'tree' | 'commit' | 'tag', out: Buffer, size: number): string {
  const header = `${type} ${size}\0`;
  const at = HEADER_ROOM - header.length;
  out.write(header, at, 'latin1');
  return hash('sha1', out.subarray(at, HEADER_ROOM + size), 'hex');
}

/** `git hash-object` of these bytes. */
export function blobId(bytes: Uint8Array): string {
  return objectId('blob', bytes);
}

export interface TreeFile {
  /** Relative, `/`-separated. */
  readonly path: string;
  readonly bytes: Uint8Array;
  /** Mode 100755 rather than 100644. */
  readonly executable?: boolean;
}

interface Folder {
  files: Map<string, { id: string; mode: string }>;
  folders: Map<string, Folder>;
}

/**
 * The id of the tree holding exactly these files (regular files only: no symlinks, no
 * submodules, no empty folders, since git has none). Equal to `git rev-parse <commit>:<folder>`
 * when the folder at that commit holds the same files.
 */
export function treeId(files: readonly TreeFile[]): string {
  const root: Folder = { files: new Map(), folders: new Map() };
  for (const file of files) {
    const problem = relativePathProblem(file.path);
    if (problem !== null) throw new TypeError(`tree path ${JSON.stringify(file.path)} ${problem}`);
    const segments = file.path.split('/');
    const name = segments.pop()!;
    let folder = root;
    for (const segment of segments) {
      let next = folder.folders.get(segment);
      if (!next) folder.folders.set(segment, (next = { files: new Map(), folders: new Map() }));
      folder = next;
    }
    folder.files.set(name, { id: blobId(file.bytes), mode: file.executable ? '100755' : '100644' });
  }
  return writeTree(root);
}

function writeTree(folder: Folder): string {
  // Git orders entries by name bytes, a folder's name compared as if it ended with `/`.
  const entries: { key: Buffer; name: string; mode: string; id: string }[] = [];
  for (const [name, file] of folder.files) entries.push({ key: Buffer.from(name), name, mode: file.mode, id: file.id });
  for (const [name, sub] of folder.folders) entries.push({ key: Buffer.from(`${name}/`), name, mode: '40000', id: writeTree(sub) });
  entries.sort((a, b) => Buffer.compare(a.key, b.key));
  const parts: Buffer[] = [];
  for (const entry of entries) parts.push(Buffer.from(`${entry.mode} ${entry.name}\0`), Buffer.from(entry.id, 'hex'));
  return objectId('tree', Buffer.concat(parts));
}
