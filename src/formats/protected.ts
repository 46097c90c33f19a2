// The protected lists, `.retool/protected-apps.yaml` (`apps: [{uuid, name, path?}]`) and
// `.retool/protected-workflows.yaml` (`workflows: [...]`), written by Retool and by people. This
// service only reads them. Unknown keys (at the top and on entries) are ignored, since Retool may
// add its own; everything this service relies on is checked and reported with its line.
//
// Decisions: an empty file, or one without the list key, protects nothing (Retool creates the
// file before anything is protected). Two elements of one list may not share a uuid, nor a
// source folder: a release of one would silently include the other's source.
//
// Through the yaml Document a list costs time per element, on every first snapshot
// (docs/architecture.md has the figures), so a list in the plain block layout (`<key>:` then
// `  - uuid:` / `    name:` / `    path:` lines, nothing else) whose values yaml can only read as
// strings is read by a line grammar. Anything else takes the Document path, which also reports every problem; both give
// the same elements (test/formats/protected.test.ts).

import { isMap, isScalar, isSeq, type YAMLMap } from 'yaml';
import { yieldToEventLoop } from '../runtime/event-loop.js';
import { repoErrors } from './errors.js';
import { PROTECTED_APPS_PATH, PROTECTED_WORKFLOWS_PATH, sourceFolder, sourceFolderProblem } from './layout.js';
import { type ElementType, isCanonicalUuid, isUuid, quoteForError } from './values.js';
import { decodeUtf8, parseWithLines } from './yaml-lines.js';

export interface ProtectedElement {
  /** Lowercase. */
  uuid: string;
  name: string;
  type: ElementType;
  /** As written in the file, when it overrides the default folder. */
  path?: string;
  /** Where the element's source lives: `path` normalized, else `apps/<name>` / `workflows/<name>`. */
  sourceFolder: string;
}

/** Parses `.retool/protected-apps.yaml`. Throws 422 `repository_file_invalid` `{path, line, reason}`. */
export function parseProtectedApps(text: string | Uint8Array, path: string = PROTECTED_APPS_PATH): ProtectedElement[] {
  return parseProtectedList(text, path, 'PAGE');
}

/** Parses `.retool/protected-workflows.yaml`. Throws 422 `repository_file_invalid` `{path, line, reason}`. */
export function parseProtectedWorkflows(text: string | Uint8Array, path: string = PROTECTED_WORKFLOWS_PATH): ProtectedElement[] {
  return parseProtectedList(text, path, 'WORKFLOW');
}

export function parseProtectedList(text: string | Uint8Array, path: string, type: ElementType): ProtectedElement[] {
  const source = decodeText(text, path);
  return readPlainList(source, type) ?? parseDocumentList(source, path, type);
}

/**
 * `parseProtectedList` for lists of any length: the plain layout read in slices that yield to the
 * event loop (50,000 elements took ~100 ms in one piece); a file in another layout, which people
 * write by hand and keep short, still takes the Document path in one piece.
 */
export async function parseProtectedListSliced(text: string | Uint8Array, path: string, type: ElementType): Promise<ProtectedElement[]> {
  const source = decodeText(text, path);
  const steps = plainListSteps(source, type);
  for (let step = steps.next(); ; step = steps.next()) {
    if (step.done) return step.value ?? parseDocumentList(source, path, type);
    await yieldToEventLoop();
  }
}

function decodeText(text: string | Uint8Array, path: string): string {
  return decodeUtf8(text, () => {
    throw repoErrors.fileInvalid(path, 1, 'is not valid UTF-8');
  });
}

// A uuid (lowercase), a name and an optional path, each a plain scalar yaml reads as a string:
// it starts with a letter or `_` (so it is no number) and is checked not to be true, false or null.
const PLAIN_ENTRY = / {2}- uuid: ([0-9a-f-]{36})\n {4}name: ([A-Za-z_][\w.-]*(?: [\w.-]+)*)\n(?: {4}path: ([A-Za-z_][\w./-]*)\n)?/y;
const YAML_WORD = /^(?:true|false|null)$/i;

/** Elements read between two steps of `plainListSteps`. */
const ENTRIES_PER_STEP = 1_000;

/** The fast path alone: the elements of a list in the plain layout, else undefined (for tests). */
export function readPlainList(source: string, type: ElementType): ProtectedElement[] | undefined {
  const steps = plainListSteps(source, type);
  for (let step = steps.next(); ; step = steps.next()) if (step.done) return step.value;
}

/** The fast path, pausing after every ENTRIES_PER_STEP elements: its return value is readPlainList's. */
function* plainListSteps(source: string, type: ElementType): Generator<void, ProtectedElement[] | undefined> {
  const key = type === 'PAGE' ? 'apps' : 'workflows';
  if (source === `${key}: []\n`) return [];
  if (!source.startsWith(`${key}:\n`)) return undefined;
  const elements: ProtectedElement[] = [];
  const uuids = new Set<string>();
  const folders = new Set<string>();
  let pos = key.length + 2;
  while (pos < source.length) {
    PLAIN_ENTRY.lastIndex = pos;
    const match = PLAIN_ENTRY.exec(source);
    if (!match) return undefined;
    const [, uuid, name, customPath] = match as unknown as [string, string, string, string | undefined];
    if (!isCanonicalUuid(uuid) || YAML_WORD.test(name) || (customPath !== undefined && YAML_WORD.test(customPath))) return undefined;
    const input = { type, name, path: customPath };
    // A problem, or a duplicate: the Document path reports it with its line.
    if (sourceFolderProblem(input) !== null) return undefined;
    const folder = sourceFolder(input);
    if (uuids.has(uuid) || folders.has(folder)) return undefined;
    uuids.add(uuid);
    folders.add(folder);
    elements.push({ uuid, name, type, ...(customPath !== undefined ? { path: customPath } : {}), sourceFolder: folder });
    pos = PLAIN_ENTRY.lastIndex;
    // PLAIN_ENTRY is shared: its lastIndex is set again before every exec, so steps may interleave.
    if (elements.length % ENTRIES_PER_STEP === 0) yield;
  }
  return elements.length > 0 ? elements : undefined;
}

function parseDocumentList(source: string, path: string, type: ElementType): ProtectedElement[] {
  const fail = (line: number, reason: string): never => {
    throw repoErrors.fileInvalid(path, line, reason);
  };
  const { doc, lineOfNode } = parseWithLines(source, fail);
  const key = type === 'PAGE' ? 'apps' : 'workflows';
  const root = doc.contents;
  if (root === null || (isScalar(root) && root.value === null)) return [];
  if (!isMap(root)) fail(lineOfNode(root), `must be a mapping with a list under ${key}`);
  const list = (root as YAMLMap).get(key, true);
  if (list === undefined || (isScalar(list) && list.value === null)) return [];
  if (!isSeq(list)) fail(lineOfNode(list), `${key} must be a list of {uuid, name, path?}`);

  const elements: ProtectedElement[] = [];
  const uuids = new Map<string, number>();
  const folders = new Map<string, number>();
  (list as unknown as { items: unknown[] }).items.forEach((item, i) => {
    const where = `${key}[${i}]`;
    if (!isMap(item)) fail(lineOfNode(item), `${where} must be a mapping with uuid and name`);
    const entry = item as YAMLMap;
    const field = (name: string): { node: unknown; value: unknown } | undefined => {
      const node = entry.get(name, true) as unknown;
      if (node === undefined) return undefined;
      return { node, value: isScalar(node) ? node.value : node };
    };

    const uuid = field('uuid');
    if (uuid === undefined) fail(lineOfNode(entry), `${where} is missing uuid`);
    if (!isUuid(uuid?.value)) fail(lineOfNode(uuid?.node), `${where}.uuid must be a UUID, got ${shown(uuid?.value)}`);
    const id = (uuid?.value as string).toLowerCase();

    const name = field('name');
    if (name === undefined) fail(lineOfNode(entry), `${where} is missing name`);
    if (typeof name?.value !== 'string' || name.value.trim() === '') {
      fail(lineOfNode(name?.node), `${where}.name must be a non-empty string, got ${shown(name?.value)}`);
    }
    const elementName = name?.value as string;

    const pathField = field('path');
    // `path:` with no value means "no override", like leaving the key out.
    const customPath = pathField === undefined || pathField.value === null ? undefined : pathField.value;
    if (customPath !== undefined && typeof customPath !== 'string') {
      fail(lineOfNode(pathField?.node), `${where}.path must be a string, got ${shown(customPath)}`);
    }
    const input = { type, name: elementName, path: customPath as string | undefined };
    const problem = sourceFolderProblem(input);
    if (problem !== null) fail(lineOfNode((customPath !== undefined ? pathField : name)?.node), `${where}: ${problem}`);
    const folder = sourceFolder(input);

    const line = lineOfNode(entry);
    const sameUuid = uuids.get(id);
    if (sameUuid !== undefined) fail(lineOfNode(uuid?.node), `${where}.uuid ${id} duplicates the element at line ${sameUuid}`);
    const sameFolder = folders.get(folder);
    if (sameFolder !== undefined) {
      fail(line, `${where}: source folder ${folder} is also the folder of the element at line ${sameFolder}`);
    }
    uuids.set(id, line);
    folders.set(folder, line);
    elements.push({
      uuid: id,
      name: elementName,
      type,
      ...(customPath !== undefined ? { path: customPath as string } : {}),
      sourceFolder: folder,
    });
  });
  return elements;
}

function shown(value: unknown): string {
  if (value === undefined || value === null) return 'nothing';
  if (typeof value === 'string') return quoteForError(value);
  if (typeof value === 'object') return 'a collection';
  return String(value);
}

/** The element of that type and uuid (any case), or null. */
export function findElement(elements: readonly ProtectedElement[], type: ElementType, uuid: string): ProtectedElement | null {
  const id = uuid.toLowerCase();
  return elements.find((e) => e.type === type && e.uuid === id) ?? null;
}
