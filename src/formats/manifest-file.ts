// A manifest file, `manifests/<name>.yaml`, as an editable value. The file is kept as a yaml
// Document rather than plain values so a rewrite preserves what people wrote by hand: comments,
// unknown keys and key order (manifest-document.ts reads and normalizes it).
//
// A file that is exactly in the canonical form this service prints, with nothing else in it (no
// comment, no unknown key: every file this service wrote), is read by the line grammar of
// manifest-canonical.ts instead, and edited there too, because a Document costs time in proportion
// to the entries (docs/architecture.md has the figures); one is built from the text only if
// something needs it. Both paths give the same values (test/formats/manifest.test.ts checks it, and
// `toString()` checks it again on every rewrite).

import { Document, type Scalar, type YAMLMap, type YAMLSeq } from 'yaml';
import { errors } from '../errors.js';
import { repoErrors } from './errors.js';
import { manifestPath } from './layout.js';
import {
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
import { entryOf, findPair, MANIFEST_FORMAT_VERSION, normalizeSeq, parseManifestDocument, printDocument, type ParsedDocument } from './manifest-document.js';
import { diffManifests, parseManifestEntries, type ManifestChange } from './manifest-entries.js';
import { type ElementType, parseElementType, parseReleaseRef, parseUuid } from './values.js';
import { decodeUtf8 } from './yaml-lines.js';

function listKey(type: ElementType): ListKey {
  return parseElementType(type, 'type') === 'PAGE' ? 'apps' : 'workflows';
}

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

  /**
   * The plain value without a copy, for reads that only look (the entries of a canonical file are
   * its own: never change them). `manifest` copies every entry, which at 50,000 entries is a
   * stretch of its own on the event loop.
   */
  get view(): Readonly<{ version: string; name: string; apps: readonly Readonly<ManifestEntry>[]; workflows: readonly Readonly<ManifestEntry>[] }> {
    return this.canonical?.manifest ?? this.manifest;
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
      this.parsed = parseManifestDocument(canonicalText(this.canonical!), this.path);
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
      // that no rewrite can produce a file this module would read differently. A text as read, or
      // with checked lines spliced into it (manifest-canonical.ts), is known to read back.
      if (!this.canonical.sourceChecked) {
        if (readCanonical(text, this.path) === undefined) throw errors.internal(`Rewriting ${this.path} left its canonical form`);
        this.canonical.sourceChecked = true;
      }
      return text;
    }
    const expected = JSON.stringify(this.manifest);
    let text = printDocument(this.doc);
    for (let round = 0; round < 3; round++) {
      let again: ManifestFile;
      try {
        again = parseManifest(text, this.path);
      } catch (error) {
        throw errors.internal(`Rewriting ${this.path} gave text that does not parse`, error);
      }
      if (JSON.stringify(again.manifest) !== expected) throw errors.internal(`Rewriting ${this.path} changed its entries`);
      const next = printDocument(again.doc);
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
  return new ManifestFile(path, canonical ?? parseManifestDocument(source, path), VALIDATED);
}

/** The fast path alone: the manifest when `source` is canonical, else undefined (for tests). */
export function readCanonicalManifest(source: string, path: string): Manifest | undefined {
  return readCanonical(source, path)?.manifest;
}

/** An empty manifest in canonical form. */
export function createManifest(name: string): ManifestFile {
  const path = manifestPath(name);
  // Through the Document API, not a text template: a name like `0` or `true` must be quoted.
  const doc = new Document({ version: MANIFEST_FORMAT_VERSION, name, apps: [], workflows: [] });
  return parseManifest(printDocument(doc), path);
}
