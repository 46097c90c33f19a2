// The Document path of a manifest file: any valid manifest, read through the yaml library, with the
// first problem reported with its line. Only what a manifest file owns is normalized, which defines
// the canonical form:
//
//   - `version` (the file-format version) present, inserted first when missing;
//   - `apps` and `workflows` present, block lists (`[]` when empty), entries sorted by uuid;
//   - each entry a block mapping whose `uuid` (lowercase) and `release` are plain scalars.
//
// Everything else (comments, unknown keys, key order) is kept. Parsing normalizes, so printing a
// file already in canonical form gives back its bytes (Document API: https://eemeli.org/yaml/#documents).
//
// Decisions:
//   - `name` must equal the file name: instances find their manifest by file name, so a file
//     whose content says otherwise is ambiguous and reported as invalid, never guessed at;
//   - a missing `apps`/`workflows` (or `apps:` with nothing) is an empty list; a missing
//     `version` is 1.0.0; a 1.x version is read as is, any other major is refused;
//   - the same uuid may appear once in `apps` and once in `workflows` (different element types).
//   - an alias or a collection where a uuid or release belongs is refused (a rewrite could not
//     keep it and stay canonical); anchors and aliases elsewhere are kept.

import { type Document, isMap, isScalar, isSeq, type Node, type Pair, Scalar, visit, type YAMLMap, YAMLSeq } from 'yaml';
import { repoErrors } from './errors.js';
import { parseManifestPath } from './layout.js';
import { byUuid, LIST_KEYS, type ManifestEntry } from './manifest-canonical.js';
import { isManifestName, isReleaseRef, isUuid, quoteForError } from './values.js';
import { parseWithLines } from './yaml-lines.js';

export const MANIFEST_FORMAT_VERSION = '1.0.0';

export interface ParsedDocument {
  readonly doc: Document;
  readonly root: YAMLMap;
}

/** The Document path: any valid manifest, with the first problem reported with its line. */
export function parseManifestDocument(source: string, path: string): ParsedDocument {
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
    fail(lineOfNode(nameNode), `name ${quoteForError(name as string)} does not match the file name ${path}`);
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
  return text === '' ? 'nothing' : quoteForError(text);
}

export function printDocument(doc: Document): string {
  // lineWidth 0: never fold a long scalar someone wrote on one line.
  return doc.toString({ lineWidth: 0 });
}

export function entryOf(node: YAMLMap): ManifestEntry {
  return { uuid: String(node.get('uuid')), release: String(node.get('release')) };
}

/** Sorted by uuid; a block list, or `[]` when empty (an empty block list prints as `\n  []`). */
export function normalizeSeq(seq: YAMLSeq<YAMLMap>): void {
  seq.items.sort((a, b) => byUuid(entryOf(a), entryOf(b)));
  seq.flow = seq.items.length === 0;
}

export function findPair(map: YAMLMap, key: string): Pair<unknown, unknown> | undefined {
  return map.items.find((p) => isScalar(p.key) && p.key.value === key);
}
