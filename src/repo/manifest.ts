// Manifest files, `manifests/<name>.yaml` (DESIGN §2). The file is kept as a yaml Document rather
// than plain values so a rewrite preserves what people wrote by hand: comments, unknown keys and
// key order. Only what this module owns is normalized, which defines the canonical form:
//
//   - `version` (the file-format version) present, inserted first when missing;
//   - `apps` and `workflows` present, block lists (`[]` when empty), entries sorted by uuid;
//   - each entry a block mapping whose `uuid` (lowercase) and `release` are plain scalars.
//
// Parsing normalizes, so `toString()` of a file already in canonical form gives back its bytes;
// `toString()` reads its output back, so serialization is a fixed point
// (Document API: https://eemeli.org/yaml/#documents).
//
// Reading is the common case and the yaml library's Document costs ~60 µs an entry (a 5,000-entry
// manifest: ~300 ms), so a file that is exactly in the canonical form this module prints, with
// nothing else in it (no comment, no unknown key, which is every file this service wrote), is read
// by a line grammar instead, and its Document is built only if it is rewritten. Any other file
// takes the Document path; both give the same values (test/repo/manifest.test.ts checks it, and
// `toString()` checks it again on every rewrite).
//
// Decisions:
//   - `name` must equal the file name: instances find their manifest by file name, so a file
//     whose content says otherwise is ambiguous and reported as invalid, never guessed at;
//   - a missing `apps`/`workflows` (or `apps:` with nothing) is an empty list; a missing
//     `version` is 1.0.0; a 1.x version is read as is, any other major is refused;
//   - the same uuid may appear once in `apps` and once in `workflows` (different element types).
//   - an alias or a collection where a uuid or release belongs is refused (a rewrite could not
//     keep it and stay canonical); anchors and aliases elsewhere are kept.

import { Document, isMap, isScalar, isSeq, type Node, type Pair, Scalar, visit, YAMLMap, YAMLSeq } from 'yaml';
import { errors, invalidField, type FieldError } from '../errors.js';
import { repoErrors } from './errors.js';
import { manifestPath, parseManifestPath } from './layout.js';
import { type ElementType, describe, isManifestName, isReleaseRef, isUuid, parseElementType, parseReleaseRef, parseUuid, quote } from './values.js';
import {
  byUuid,
  canonicalIndex,
  canonicalText,
  ownCanonical,
  LIST_KEYS,
  readCanonical,
  removeCanonicalEntry,
  replaceCanonicalEntries,
  setCanonicalEntry,
  type CanonicalRead,
  type ListKey,
  type Manifest,
  type ManifestEntry,
} from './manifest-canonical.js';
import { decodeUtf8, parseWithLines } from './yaml-lines.js';

export type { Manifest, ManifestEntry } from './manifest-canonical.js';

export const MANIFEST_FORMAT_VERSION = '1.0.0';

export interface ManifestEntries {
  apps: readonly ManifestEntry[];
  workflows: readonly ManifestEntry[];
}

/** One entry that differs between two manifests; null means absent on that side. */
export interface ManifestChange {
  type: ElementType;
  uuid: string;
  before: string | null;
  after: string | null;
}

function listKey(type: ElementType): ListKey {
  return parseElementType(type, 'type') === 'PAGE' ? 'apps' : 'workflows';
}

function typeOfList(key: ListKey): ElementType {
  return key === 'apps' ? 'PAGE' : 'WORKFLOW';
}

// --- the file -----------------------------------------------------------------------------------

// Only this module can produce it, so only a document parseManifest validated becomes a file.
const VALIDATED: unique symbol = Symbol('validated manifest');

export class ManifestFile {
  /** Entry nodes by uuid, per list; built on first lookup, dropped when a list changes. */
  private readonly indexes = new Map<ListKey, Map<string, YAMLMap>>();
  /** A file read on the fast path, until something needs its Document. */
  private canonical?: CanonicalRead;
  /** Whether `canonical` is this file's own copy, which edits change in place, or still shared. */
  private ownsCanonical = false;
  private parsed?: ParsedDocument;

  /** Use parseManifest or createManifest. */
  constructor(
    readonly path: string,
    content: ParsedDocument | CanonicalRead,
    validated: typeof VALIDATED,
  ) {
    if (validated !== VALIDATED) throw new TypeError('ManifestFile comes from parseManifest or createManifest');
    if ('doc' in content) this.parsed = content;
    else this.canonical = content;
  }

  get name(): string {
    if (this.canonical) return this.canonical.manifest.name;
    return String((findPair(this.root, 'name')?.value as Scalar).value);
  }

  get formatVersion(): string {
    if (this.canonical) return this.canonical.manifest.version;
    return String((findPair(this.root, 'version')?.value as Scalar).value);
  }

  /** The plain value, entries sorted by uuid. */
  get manifest(): Manifest {
    const read = this.canonical?.manifest;
    if (read) return { ...read, apps: read.apps.map((e) => ({ ...e })), workflows: read.workflows.map((e) => ({ ...e })) };
    return {
      version: this.formatVersion,
      name: this.name,
      apps: this.entries('apps'),
      workflows: this.entries('workflows'),
    };
  }

  getEntry(type: ElementType, uuid: string): ManifestEntry | null {
    const id = parseUuid(uuid, 'uuid');
    if (this.canonical) {
      const release = canonicalIndex(this.canonical, listKey(type)).get(id);
      return release === undefined ? null : { uuid: id, release };
    }
    const node = this.index(listKey(type)).get(id);
    return node === undefined ? null : entryOf(node);
  }

  private editableCanonical(): CanonicalRead {
    if (!this.ownsCanonical) {
      this.canonical = ownCanonical(this.canonical!);
      this.ownsCanonical = true;
    }
    return this.canonical!;
  }

  /** The yaml Document, built from the text on first use when the file was read on the fast path. */
  private get doc(): Document {
    return this.document().doc;
  }

  private get root(): YAMLMap {
    return this.document().root;
  }

  private document(): ParsedDocument {
    if (!this.parsed) {
      this.parsed = parseDocumentOf(canonicalText(this.canonical!), this.path);
      this.canonical = undefined;
    }
    return this.parsed;
  }

  /** Sets an element's release, adding the entry if needed; returns the previous release or null. */
  setEntry(type: ElementType, uuid: string, release: string): string | null {
    const id = parseUuid(uuid, 'uuid');
    const ref = parseReleaseRef(release, 'release');
    const key = listKey(type);
    // Canonical stays canonical: the one entry changed, no Document.
    if (this.canonical) return setCanonicalEntry(this.editableCanonical(), key, id, ref);
    const item = this.index(key).get(id);
    if (item !== undefined) {
      const scalar = item.get('release', true) as Scalar;
      const previous = String(scalar.value);
      scalar.value = ref;
      return previous;
    }
    const seq = this.list(key);
    seq.items.splice(insertionIndex(seq, id), 0, this.newEntryNode(id, ref));
    seq.flow = false;
    this.indexes.delete(key);
    return null;
  }

  /** Removes an element's entry; returns its release, or null when there was none. */
  removeEntry(type: ElementType, uuid: string): string | null {
    const id = parseUuid(uuid, 'uuid');
    const key = listKey(type);
    if (this.canonical) return removeCanonicalEntry(this.editableCanonical(), key, id);
    const item = this.index(key).get(id);
    if (item === undefined) return null;
    const seq = this.list(key);
    seq.items.splice(seq.items.indexOf(item), 1);
    seq.flow = seq.items.length === 0;
    this.indexes.delete(key);
    return entryOf(item).release;
  }

  /**
   * Replaces every entry (Retool's PUT of a whole manifest). Entries that survive keep their
   * node, so their comments and unknown keys stay; unknown top-level keys stay too.
   * `entries` is validated like a request body (400 with one field error per problem).
   */
  replace(entries: unknown, field = 'manifest'): ManifestChange[] {
    const next = parseManifestEntries(entries, field);
    const changes = diffManifests(this.manifest, next);
    if (this.canonical) {
      this.canonical = replaceCanonicalEntries(this.canonical, next);
      this.ownsCanonical = true;
      return changes;
    }
    for (const key of LIST_KEYS) {
      const seq = this.list(key);
      const kept = new Map(seq.items.map((m) => [entryOf(m).uuid, m] as const));
      seq.items = next[key].map((entry) => {
        const node = kept.get(entry.uuid);
        if (node === undefined) return this.newEntryNode(entry.uuid, entry.release);
        (node.get('release', true) as Scalar).value = entry.release;
        return node;
      });
      normalizeSeq(seq);
      this.indexes.delete(key);
    }
    return changes;
  }

  /** A deep copy, so a caller can show a before/after without re-parsing. */
  clone(): ManifestFile {
    // Shared by both until one edits: that one copies it first (editableCanonical).
    if (this.canonical) {
      this.ownsCanonical = false;
      return new ManifestFile(this.path, this.canonical, VALIDATED);
    }
    const doc = this.doc.clone();
    return new ManifestFile(this.path, { doc, root: doc.contents as YAMLMap }, VALIDATED);
  }

  /**
   * The canonical text, ending with a newline. It is read back before it is returned: the
   * printer of yaml is not idempotent for a few odd layouts (a comment before a key-less pair,
   * an anchor on the root after a comment), which move on the next round, so printing repeats
   * until the text reads back to itself. That makes the output a fixed point, and guarantees a
   * rewrite never produces a file this module would refuse or read differently (500 if so).
   */
  toString(): string {
    if (this.canonical) {
      const text = canonicalText(this.canonical);
      // Printed from values the line grammar read or an edit checked; read back all the same, so
      // that no rewrite can produce a file this module would read differently.
      if (readCanonical(text, this.path) === undefined) throw errors.internal(`Rewriting ${this.path} left its canonical form`);
      return text;
    }
    const expected = JSON.stringify(this.manifest);
    let text = print(this.doc);
    for (let round = 0; round < 3; round++) {
      let again: ManifestFile;
      try {
        again = parseManifest(text, this.path);
      } catch (error) {
        throw errors.internal(`Rewriting ${this.path} gave text that does not parse`, error);
      }
      if (JSON.stringify(again.manifest) !== expected) throw errors.internal(`Rewriting ${this.path} changed its entries`);
      const next = print(again.doc);
      if (next === text) return text;
      text = next;
    }
    throw errors.internal(`Rewriting ${this.path} does not settle on one text`);
  }

  toBytes(): Uint8Array {
    return new TextEncoder().encode(this.toString());
  }

  private entries(key: ListKey): ManifestEntry[] {
    return this.list(key).items.map(entryOf);
  }

  private index(key: ListKey): Map<string, YAMLMap> {
    let index = this.indexes.get(key);
    if (index === undefined) {
      index = new Map(this.list(key).items.map((node) => [entryOf(node).uuid, node] as const));
      this.indexes.set(key, index);
    }
    return index;
  }

  private list(key: ListKey): YAMLSeq<YAMLMap> {
    return findPair(this.root, key)?.value as YAMLSeq<YAMLMap>;
  }

  private newEntryNode(uuid: string, release: string): YAMLMap {
    return this.doc.createNode({ uuid, release }) as YAMLMap;
  }
}

function print(doc: Document): string {
  // lineWidth 0: never fold a long scalar someone wrote on one line.
  return doc.toString({ lineWidth: 0 });
}

function entryOf(node: YAMLMap): ManifestEntry {
  return { uuid: String(node.get('uuid')), release: String(node.get('release')) };
}

/** Sorted by uuid; a block list, or `[]` when empty (an empty block list prints as `\n  []`). */
function normalizeSeq(seq: YAMLSeq<YAMLMap>): void {
  seq.items.sort((a, b) => byUuid(entryOf(a), entryOf(b)));
  seq.flow = seq.items.length === 0;
}

/** Where an entry for `uuid` goes to keep the list sorted (binary search). */
function insertionIndex(seq: YAMLSeq<YAMLMap>, uuid: string): number {
  let low = 0;
  let high = seq.items.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (entryOf(seq.items[middle] as YAMLMap).uuid < uuid) low = middle + 1;
    else high = middle;
  }
  return low;
}

function findPair(map: YAMLMap, key: string): Pair<unknown, unknown> | undefined {
  return map.items.find((p) => isScalar(p.key) && p.key.value === key);
}

// --- parsing ------------------------------------------------------------------------------------

/**
 * Parses and validates a manifest. Throws 422 `manifest_invalid` with `{path, line, reason}`
 * (line 1-based) for the first problem found. When `path` is a `manifests/<name>.yaml` path,
 * the `name` inside must equal `<name>`.
 */
export function parseManifest(text: string | Uint8Array, path: string): ManifestFile {
  const source = decodeUtf8(text, () => {
    throw repoErrors.manifestInvalid(path, 1, 'is not valid UTF-8');
  });
  const canonical = readCanonical(source, path);
  return new ManifestFile(path, canonical ?? parseDocumentOf(source, path), VALIDATED);
}

interface ParsedDocument {
  readonly doc: Document;
  readonly root: YAMLMap;
}

/** The fast path alone: the manifest when `source` is canonical, else undefined (for tests). */
export function readCanonicalManifest(source: string, path: string): Manifest | undefined {
  return readCanonical(source, path)?.manifest;
}

/** The Document path: any valid manifest, with the first problem reported with its line. */
function parseDocumentOf(source: string, path: string): ParsedDocument {
  const fail = (line: number, reason: string): never => {
    throw repoErrors.manifestInvalid(path, line, reason);
  };
  const { doc, lineOfNode } = parseWithLines(source, fail);
  // yaml reports an alias without its anchor only when converting or printing; found here, it
  // gets a line instead of breaking a later rewrite.
  const aliased = new Set<string>();
  visit(doc, {
    Alias(_, alias) {
      if (alias.resolve(doc) === undefined) fail(lineOfNode(alias), `alias *${alias.source} has no anchor before it`);
      aliased.add(alias.source);
    },
  });
  const root = doc.contents;
  if (root === null || (isScalar(root) && root.value === null)) fail(1, 'is empty');
  if (!isMap(root)) fail(lineOfNode(root), 'must be a mapping with version, name, apps and workflows');
  const map = root as YAMLMap;

  const versionPair = findPair(map, 'version');
  if (versionPair === undefined) {
    map.items.unshift(doc.createPair('version', MANIFEST_FORMAT_VERSION));
  } else {
    const value = versionPair.value;
    const version = isScalar(value) && typeof value.value === 'string' ? value.value : null;
    if (version === null || !/^\d+\.\d+\.\d+$/.test(version)) {
      fail(lineOfNode(value ?? versionPair.key), `version must be the file-format version ${MANIFEST_FORMAT_VERSION}, got ${sourceOf(source, value)}`);
    } else if (!version.startsWith('1.')) {
      fail(lineOfNode(value), `unsupported file-format version ${version}: this service reads 1.x`);
    }
  }

  const namePair = findPair(map, 'name');
  if (namePair === undefined) fail(lineOfNode(map), 'missing name');
  const nameNode = namePair?.value;
  const name = isScalar(nameNode) ? nameOf(source, nameNode) : null;
  if (name === null || !isManifestName(name)) {
    fail(
      lineOfNode(nameNode ?? namePair?.key),
      `name must be 1 to 63 characters of a-z, 0-9, _ and -, starting with a letter or digit, got ${sourceOf(source, nameNode)}`,
    );
  }
  const fileName = parseManifestPath(path);
  if (fileName !== null && name !== fileName) {
    fail(lineOfNode(nameNode), `name ${quote(name as string)} does not match the file name ${path}`);
  }

  for (const key of LIST_KEYS) {
    const pair = findPair(map, key);
    if (pair === undefined) {
      map.items.push(doc.createPair(key, new YAMLSeq()));
      continue;
    }
    // `apps:` with nothing after it is how people write an empty list by hand.
    if (isScalar(pair.value) && pair.value.value === null) pair.value = new YAMLSeq();
    if (!isSeq(pair.value)) fail(lineOfNode(pair.value ?? pair.key), `${key} must be a list of {uuid, release}`);
    const seq = pair.value as YAMLSeq;
    const seen = new Map<string, number>();
    seq.items.forEach((item, i) => {
      const where = `${key}[${i}]`;
      if (!isMap(item)) fail(lineOfNode(item), `${where} must be a mapping with uuid and release`);
      const entry = item as YAMLMap;
      entry.flow = false;
      entry.tag = undefined;
      const uuidNode = scalarField(entry, 'uuid', where, fail, lineOfNode);
      if (!isUuid(uuidNode.value)) fail(lineOfNode(uuidNode), `${where}.uuid must be a UUID, got ${sourceOf(source, uuidNode)}`);
      const uuid = (uuidNode.value as string).toLowerCase();
      uuidNode.value = uuid;
      uuidNode.type = Scalar.PLAIN;
      uuidNode.tag = undefined;
      const earlier = seen.get(uuid);
      if (earlier !== undefined) fail(lineOfNode(uuidNode), `${where}.uuid ${uuid} duplicates ${key}[${earlier}]`);
      seen.set(uuid, i);
      const releaseNode = scalarField(entry, 'release', where, fail, lineOfNode);
      if (!isReleaseRef(releaseNode.value)) {
        fail(lineOfNode(releaseNode), `${where}.release must be a version X.Y.Z or latest, got ${sourceOf(source, releaseNode)}`);
      }
      releaseNode.type = Scalar.PLAIN;
      releaseNode.tag = undefined;
    });
    seq.tag = undefined;
    normalizeSeq(seq as YAMLSeq<YAMLMap>);
  }
  // A tag on what this module owns (`!!str` on the root, say) would change what it reads as.
  map.flow = false;
  map.tag = undefined;
  // An anchor on the whole file is useless and the printer moves it around its comment.
  if (map.anchor !== undefined) {
    if (aliased.has(map.anchor)) fail(lineOfNode(map), `the whole file is anchored as &${map.anchor} and aliased inside itself`);
    map.anchor = undefined;
  }
  return { doc, root: map };
}

/**
 * The name a scalar spells. `name: 0` or `name: null` reads as a number or null, but the file
 * plainly names manifest `0` or `null`: the plain source text is taken, and stored as a string
 * so the rewrite quotes it.
 */
function nameOf(source: string, node: Scalar): string | null {
  if (typeof node.value === 'string') return node.value;
  if (node.type !== Scalar.PLAIN || node.range === undefined || node.range === null) return null;
  const text = source.slice(node.range[0], node.range[1]);
  if (!isManifestName(text)) return null;
  node.value = text;
  return text;
}

function scalarField(entry: YAMLMap, key: string, where: string, fail: (line: number, reason: string) => never, lineOfNode: (node: unknown) => number): Scalar {
  const pair = findPair(entry, key);
  if (pair === undefined) fail(lineOfNode(entry), `${where} is missing ${key}`);
  const value = pair?.value;
  // Aliases and collections are refused: a rewrite could not keep them and stay canonical.
  if (!isScalar(value)) fail(lineOfNode(value ?? pair?.key), `${where}.${key} must be a plain value, not a collection or alias`);
  return value as Scalar;
}

/** How a value was written, for messages: `1.0` and `"1.0"` read the same once parsed. */
function sourceOf(source: string, node: unknown): string {
  const range = (node as Node | null | undefined)?.range;
  if (range === undefined || range === null) return 'nothing';
  const text = source.slice(range[0], range[1]).trim();
  return text === '' ? 'nothing' : quote(text);
}

/** An empty manifest in canonical form. */
export function createManifest(name: string): ManifestFile {
  const path = manifestPath(name);
  // Through the Document API, not a text template: a name like `0` or `true` must be quoted.
  const doc = new Document({ version: MANIFEST_FORMAT_VERSION, name, apps: [], workflows: [] });
  return parseManifest(print(doc), path);
}

// --- plain values and Retool's wire shape -------------------------------------------------------

/**
 * Validates `{apps?, workflows?}` from a request body: each entry `{uuid, release}`, uuids
 * unique per list. Other members (a `name` echoed back from a GET) are the caller's business.
 * Returns the lists sorted by uuid, uuids lowercased; throws 400 listing every bad field.
 */
export function parseManifestEntries(value: unknown, field = 'manifest'): ManifestEntries {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidField(field, `must be an object with apps and workflows, got ${describe(value)}`);
  }
  const problems: FieldError[] = [];
  const result: { apps: ManifestEntry[]; workflows: ManifestEntry[] } = { apps: [], workflows: [] };
  for (const key of LIST_KEYS) {
    const list = (value as Record<string, unknown>)[key];
    if (list === undefined) continue;
    if (!Array.isArray(list)) {
      problems.push({ field: `${field}.${key}`, message: `must be a list, got ${describe(list)}` });
      continue;
    }
    const seen = new Map<string, number>();
    list.forEach((item: unknown, i) => {
      const where = `${field}.${key}[${i}]`;
      if (typeof item !== 'object' || item === null || Array.isArray(item)) {
        problems.push({ field: where, message: `must be an object {uuid, release}, got ${describe(item)}` });
        return;
      }
      const record = item as Record<string, unknown>;
      const uuid = collect(problems, () => parseUuid(record.uuid, `${where}.uuid`));
      const release = collect(problems, () => parseReleaseRef(record.release, `${where}.release`));
      if (uuid === null || release === null) return;
      const earlier = seen.get(uuid);
      if (earlier !== undefined) {
        problems.push({ field: `${where}.uuid`, message: `duplicates ${field}.${key}[${earlier}].uuid (${uuid})` });
        return;
      }
      seen.set(uuid, i);
      result[key].push({ uuid, release });
    });
    result[key].sort(byUuid);
  }
  if (problems.length > 0) throw errors.validation(problems);
  return result;
}

function collect<T>(problems: FieldError[], parse: () => T): T | null {
  try {
    return parse();
  } catch (error) {
    const fields = (error as { details?: { errors?: FieldError[] } }).details?.errors;
    if (fields === undefined) throw error;
    problems.push(...fields);
    return null;
  }
}

/** Every entry that differs, apps first, then by uuid. */
export function diffManifests(before: ManifestEntries, after: ManifestEntries): ManifestChange[] {
  const changes: ManifestChange[] = [];
  for (const key of LIST_KEYS) {
    const old = new Map(before[key].map((e) => [e.uuid, e.release] as const));
    const now = new Map(after[key].map((e) => [e.uuid, e.release] as const));
    const uuids = [...new Set([...old.keys(), ...now.keys()])].sort();
    for (const uuid of uuids) {
      const a = old.get(uuid) ?? null;
      const b = now.get(uuid) ?? null;
      if (a !== b) changes.push({ type: typeOfList(key), uuid, before: a, after: b });
    }
  }
  return changes;
}

/**
 * Retool's wire shape (`GET /source_control/manifests/{name}` → `data.manifest`): entries are
 * `{uuid, release}` exactly as in the file. Retool marks only `name` as required; this service
 * always sends both lists. The file-format `version` is not part of the wire shape.
 */
export interface RetoolManifest {
  name: string;
  apps: ManifestEntry[];
  workflows: ManifestEntry[];
}

export function manifestToJson(manifest: Manifest | ManifestFile): RetoolManifest {
  const m = manifest instanceof ManifestFile ? manifest.manifest : manifest;
  const copy = (entries: readonly ManifestEntry[]): ManifestEntry[] => [...entries].sort(byUuid).map((e) => ({ uuid: e.uuid, release: e.release }));
  return { name: m.name, apps: copy(m.apps), workflows: copy(m.workflows) };
}
