// The canonical layout of a manifest file as a line grammar: read, and written, without a yaml
// Document. Every file this service writes is in it (version, name, then `apps` and `workflows`
// as block lists of `uuid`/`release` pairs sorted by uuid, `[]` when empty, nothing else), so
// reading a manifest, and changing one entry of it, cost a scan of its lines instead of a Document
// whose cost grows with every entry: a one-entry write no longer costs in proportion to the file.
// Text in any other layout (comments, unknown keys, flow style…) goes through the Document path
// in src/formats/manifest-document.ts, which keeps what people wrote; both read the same values
// (test/formats/manifest.test.ts checks it).
import { parseManifestPath } from './layout.js';
import { isCanonicalUuid, isManifestName, isReleaseRef } from './values.js';

export interface ManifestEntry {
  uuid: string;
  /** `X.Y.Z`, or `latest`. */
  release: string;
}

export interface Manifest {
  /** The file-format version, not a release. */
  version: string;
  name: string;
  apps: ManifestEntry[];
  workflows: ManifestEntry[];
}

export type ListKey = 'apps' | 'workflows';

export const LIST_KEYS: readonly ListKey[] = ['apps', 'workflows'];

export const byUuid = (a: { uuid: string }, b: { uuid: string }): number => (a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0);

/**
 * Walks two entry lists sorted by uuid side by side, in uuid order: `visit` gets each uuid's entry
 * on either side, undefined where a side has none. One step per entry, where a lookup of one list
 * in the other, or a sort of their union, costs more on lists of thousands.
 */
export function pairByUuid<E extends { uuid: string }>(a: readonly E[], b: readonly E[], visit: (a: E | undefined, b: E | undefined) => void): void {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const x = a[i];
    const y = b[j];
    if (y === undefined || (x !== undefined && x.uuid < y.uuid)) {
      visit(x, undefined);
      i++;
    } else if (x === undefined || y.uuid < x.uuid) {
      visit(undefined, y);
      j++;
    } else {
      visit(x, y);
      i++;
      j++;
    }
  }
}

/**
 * A manifest in the canonical layout. A read a snapshot holds is shared and never changed; a file
 * edits its own copy (ownCanonical). `source` is the text when it was read, or printed on first
 * use after an edit.
 */
export interface CanonicalRead {
  source?: string;
  /**
   * `source` reads back as `manifest` without reading it again: it was read by readCanonical, or
   * spliced from such a text by checked edits. A printed text is read back once before it is used.
   */
  sourceChecked?: boolean;
  /** Edits spliced into `source` since it was read. */
  splices?: number;
  readonly manifest: Manifest;
  /** Releases by uuid, per list; built on first lookup. */
  indexes?: Map<ListKey, Map<string, string>>;
}

export function canonicalIndex(read: CanonicalRead, key: ListKey): Map<string, string> {
  read.indexes ??= new Map();
  let index = read.indexes.get(key);
  if (index === undefined) {
    index = new Map(read.manifest[key].map((e) => [e.uuid, e.release] as const));
    read.indexes.set(key, index);
  }
  return index;
}

// The canonical form, line by line (sticky: each matches where the last ended).
const CANONICAL_HEAD = /version: (\d+\.\d+\.\d+)\nname: ([a-z0-9][a-z0-9_-]*)\n/y;
const CANONICAL_LIST = /(apps|workflows):( \[\])?\n/y;
const CANONICAL_ENTRY = / {2}- uuid: ([0-9a-f-]{36})\n {4}release: ([0-9a-z.]+)\n/y;

/**
 * The manifest, when `source` is exactly in the canonical form with nothing else in it and valid;
 * undefined otherwise (then the Document path reads it, and reports what is wrong). Every value
 * it accepts reads the same through yaml: a semver or `latest`, a lowercase uuid and a manifest
 * name are plain strings there (a name like `0` or `null`, read as a number or null, is taken as
 * written by the Document path too), and `version` has two dots, so it is not a number.
 */
export function readCanonical(source: string, path: string): CanonicalRead | undefined {
  CANONICAL_HEAD.lastIndex = 0;
  const head = CANONICAL_HEAD.exec(source);
  if (!head) return undefined;
  const [, version, name] = head as unknown as [string, string, string];
  if (!version.startsWith('1.') || !isManifestName(name)) return undefined;
  const fileName = parseManifestPath(path);
  if (fileName !== null && name !== fileName) return undefined;
  let pos = CANONICAL_HEAD.lastIndex;
  const lists: Record<ListKey, ManifestEntry[]> = { apps: [], workflows: [] };
  for (const key of LIST_KEYS) {
    CANONICAL_LIST.lastIndex = pos;
    const list = CANONICAL_LIST.exec(source);
    if (!list || list[1] !== key) return undefined;
    pos = CANONICAL_LIST.lastIndex;
    if (list[2]) continue;
    const entries = lists[key];
    for (;;) {
      CANONICAL_ENTRY.lastIndex = pos;
      const entry = CANONICAL_ENTRY.exec(source);
      if (!entry) break;
      const [, uuid, release] = entry as unknown as [string, string, string];
      // Sorted and unique, as the canonical form is; anything else is for the Document path.
      if (!isCanonicalUuid(uuid) || !isReleaseRef(release) || (entries.length > 0 && entries[entries.length - 1]!.uuid >= uuid)) return undefined;
      entries.push({ uuid, release });
      pos = CANONICAL_ENTRY.lastIndex;
    }
    // `apps:` with no entries is an empty list written by hand, not the canonical `apps: []`.
    if (entries.length === 0) return undefined;
  }
  if (pos !== source.length) return undefined;
  return { source, sourceChecked: true, manifest: { version, name, ...lists } };
}

/** The canonical text of a manifest whose values the line grammar reads (the inverse of readCanonical). */
export function printCanonical(manifest: Manifest): string {
  const parts = [`version: ${manifest.version}\nname: ${manifest.name}\n`];
  for (const key of LIST_KEYS) {
    const list = manifest[key];
    if (list.length === 0) {
      parts.push(`${key}: []\n`);
      continue;
    }
    parts.push(`${key}:\n`);
    for (const entry of list) parts.push(`  - uuid: ${entry.uuid}\n    release: ${entry.release}\n`);
  }
  return parts.join('');
}

/** The text of `read`: as it was read, or printed once after an edit. */
export function canonicalText(read: CanonicalRead): string {
  read.source ??= printCanonical(read.manifest);
  return read.source;
}

/** Where `uuid` is, or belongs, in a list sorted by uuid (binary search). */
function position(list: readonly ManifestEntry[], uuid: string): number {
  let low = 0;
  let high = list.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (list[middle]!.uuid < uuid) low = middle + 1;
    else high = middle;
  }
  return low;
}

/**
 * A copy of `read` that edits may change in place: its own lists (the entries themselves are
 * never changed, only replaced), the same text. A snapshot's read is shared, so a file copies it
 * once, on its first edit, and every edit after that costs a lookup and at most one array move: a
 * request changing every entry of a large manifest stays linear.
 */
export function ownCanonical(read: CanonicalRead): CanonicalRead {
  return {
    ...(read.source !== undefined ? { source: read.source, sourceChecked: read.sourceChecked ?? false } : {}),
    manifest: { ...read.manifest, apps: read.manifest.apps.slice(), workflows: read.manifest.workflows.slice() },
  };
}

/**
 * Edits spliced into a text at most; past them the text is printed once when it is next needed.
 * A splice copies the text (~2 MB at 50,000 entries), so a request editing every entry prints.
 */
const MAX_SPLICES = 16;

const entryText = (uuid: string, release: string): string => `  - uuid: ${uuid}\n    release: ${release}\n`;

/**
 * Keeps `read.source` the text of `read.manifest` after one entry of `key` changed (`previous` →
 * `release`, null for none; `next`: for an insertion, the entry it goes before), by replacing
 * the lines of that entry rather than printing every entry again: a one-entry write costs the
 * same at 50,000 entries as at 50. Where it cannot (no checked text, too many splices), the text
 * is dropped, to be printed and read back on next use.
 */
function spliceEntry(read: CanonicalRead, key: ListKey, uuid: string, previous: string | null, release: string | null, next: ManifestEntry | undefined): void {
  const source = read.source;
  const spliced =
    source !== undefined && read.sourceChecked && (read.splices ?? 0) < MAX_SPLICES ? splicedText(source, key, uuid, previous, release, next) : undefined;
  if (spliced === undefined) {
    delete read.source;
    read.sourceChecked = false;
    return;
  }
  read.source = spliced;
  read.splices = (read.splices ?? 0) + 1;
}

function splicedText(
  source: string,
  key: ListKey,
  uuid: string,
  previous: string | null,
  release: string | null,
  next: ManifestEntry | undefined,
): string | undefined {
  // The canonical layout: version, name, `apps:` then `workflows:`, each at a line's start.
  const workflowsAt = source.indexOf('\nworkflows:') + 1;
  const [start, end] = key === 'apps' ? [source.indexOf('\napps:') + 1, workflowsAt] : [workflowsAt, source.length];
  if (start <= 0 || workflowsAt <= 0) return undefined;
  const lines = release === null ? '' : entryText(uuid, release);
  // What replaces what: the new lines are in the line grammar, or nothing is spliced.
  CANONICAL_ENTRY.lastIndex = 0;
  if (release !== null && !(CANONICAL_ENTRY.exec(lines) && CANONICAL_ENTRY.lastIndex === lines.length && isCanonicalUuid(uuid) && isReleaseRef(release)))
    return undefined;
  const find = (entry: string): number => {
    const at = source.indexOf(entry, start);
    return at >= start && at + entry.length <= end ? at : -1;
  };
  if (previous !== null) {
    const old = entryText(uuid, previous);
    const at = find(old);
    if (at < 0) return undefined;
    // The list's last entry removed: `key: []`, as printCanonical writes an empty list.
    if (release === null && start + `${key}:\n`.length === at && at + old.length === end) return `${source.slice(0, start)}${key}: []\n${source.slice(end)}`;
    return source.slice(0, at) + lines + source.slice(at + old.length);
  }
  if (release === null) return source;
  if (source.startsWith(`${key}: []\n`, start)) return `${source.slice(0, start)}${key}:\n${lines}${source.slice(start + `${key}: []\n`.length)}`;
  const at = next === undefined ? end : find(entryText(next.uuid, next.release));
  return at < 0 ? undefined : source.slice(0, at) + lines + source.slice(at);
}

/** Sets (or adds) one entry of an owned read (see ownCanonical) in place; the previous release. */
export function setCanonicalEntry(read: CanonicalRead, key: ListKey, uuid: string, release: string): string | null {
  const index = canonicalIndex(read, key);
  const previous = index.get(uuid) ?? null;
  if (previous === release) return previous;
  const list = read.manifest[key];
  const at = position(list, uuid);
  spliceEntry(read, key, uuid, previous, release, previous === null ? list[at] : undefined);
  if (previous === null) list.splice(at, 0, { uuid, release });
  else list[at] = { uuid, release };
  index.set(uuid, release);
  return previous;
}

/** Removes one entry of an owned read in place: its release, or null when there was none. */
export function removeCanonicalEntry(read: CanonicalRead, key: ListKey, uuid: string): string | null {
  const index = canonicalIndex(read, key);
  const previous = index.get(uuid) ?? null;
  if (previous === null) return null;
  const list = read.manifest[key];
  spliceEntry(read, key, uuid, previous, null, undefined);
  list.splice(position(list, uuid), 1);
  index.delete(uuid);
  return previous;
}

/** Replaces both lists (sorted by uuid here): a new read, owned by the caller. */
export function replaceCanonicalEntries(read: CanonicalRead, entries: { apps: readonly ManifestEntry[]; workflows: readonly ManifestEntry[] }): CanonicalRead {
  return {
    manifest: {
      ...read.manifest,
      apps: entries.apps.map((e) => ({ ...e })).sort(byUuid),
      workflows: entries.workflows.map((e) => ({ ...e })).sort(byUuid),
    },
  };
}
