// A manifest's entries as plain values: validated from a request body, compared (the changes a
// write makes), and sent in Retool's wire shape.

import { errors, invalidField, type FieldError } from '../errors.js';
import { byUuid, LIST_KEYS, pairByUuid, type ListKey, type Manifest, type ManifestEntry } from './manifest-canonical.js';
import { type ElementType, describeForError, parseReleaseRef, parseUuid } from './values.js';

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

function typeOfList(key: ListKey): ElementType {
  return key === 'apps' ? 'PAGE' : 'WORKFLOW';
}

/**
 * Validates `{apps?, workflows?}` from a request body: each entry `{uuid, release}`, uuids
 * unique per list. Other members (a `name` echoed back from a GET) are the caller's business.
 * Returns the lists sorted by uuid, uuids lowercased; throws 400 listing every bad field.
 */
export function parseManifestEntries(value: unknown, field = 'manifest'): ManifestEntries {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidField(field, `must be an object with apps and workflows, got ${describeForError(value)}`);
  }
  const problems: FieldError[] = [];
  const result: { apps: ManifestEntry[]; workflows: ManifestEntry[] } = { apps: [], workflows: [] };
  for (const key of LIST_KEYS) {
    const list = (value as Record<string, unknown>)[key];
    if (list === undefined) continue;
    if (!Array.isArray(list)) {
      problems.push({ field: `${field}.${key}`, message: `must be a list, got ${describeForError(list)}` });
      continue;
    }
    const seen = new Map<string, number>();
    list.forEach((item: unknown, i) => {
      const where = `${field}.${key}[${i}]`;
      if (typeof item !== 'object' || item === null || Array.isArray(item)) {
        problems.push({ field: where, message: `must be an object {uuid, release}, got ${describeForError(item)}` });
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

/**
 * Every entry that differs, apps first, then by uuid: one walk of both lists in uuid order. They
 * come sorted (files, parsed bodies), so the sorts are one pass each; a sort of the union of both
 * lists' uuids was ~20 ms of one turn in a 14,000-entry whole-manifest write.
 */
export function diffManifests(before: ManifestEntries, after: ManifestEntries): ManifestChange[] {
  const changes: ManifestChange[] = [];
  for (const key of LIST_KEYS) {
    const type = typeOfList(key);
    pairByUuid([...before[key]].sort(byUuid), [...after[key]].sort(byUuid), (a, b) => {
      const from = a?.release ?? null;
      const to = b?.release ?? null;
      if (from !== to) changes.push({ type, uuid: (a ?? b)!.uuid, before: from, after: to });
    });
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

/** The wire shape of a manifest's plain value, or of a file holding one (a ManifestFile). */
export function manifestToJson(manifest: Manifest | { readonly manifest: Manifest }): RetoolManifest {
  const m = 'manifest' in manifest ? manifest.manifest : manifest;
  const copy = (entries: readonly ManifestEntry[]): ManifestEntry[] => [...entries].sort(byUuid).map((e) => ({ uuid: e.uuid, release: e.release }));
  return { name: m.name, apps: copy(m.apps), workflows: copy(m.workflows) };
}
