// A manifest's entries as plain values: validated from a request body, compared (the changes a
// write makes), and sent in Retool's wire shape.

import { errors, invalidField, type FieldError } from '../errors.js';
import { byUuid, LIST_KEYS, type ListKey, type Manifest, type ManifestEntry } from './manifest-canonical.js';
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
 * Every entry that differs, apps first, then by uuid. A walk of both lists in uuid order: they come
 * sorted (files, parsed bodies), so the sorts are one pass each, and a 14,000-entry whole-manifest
 * write no longer sorts the union of both lists' uuids on the event loop (~20 ms of one turn).
 */
export function diffManifests(before: ManifestEntries, after: ManifestEntries): ManifestChange[] {
  const changes: ManifestChange[] = [];
  for (const key of LIST_KEYS) {
    const type = typeOfList(key);
    const old = [...before[key]].sort(byUuid);
    const now = [...after[key]].sort(byUuid);
    let i = 0;
    let j = 0;
    while (i < old.length || j < now.length) {
      const a = old[i];
      const b = now[j];
      if (b === undefined || (a !== undefined && a.uuid < b.uuid)) {
        changes.push({ type, uuid: a!.uuid, before: a!.release, after: null });
        i++;
      } else if (a === undefined || b.uuid < a.uuid) {
        changes.push({ type, uuid: b.uuid, before: null, after: b.release });
        j++;
      } else {
        if (a.release !== b.release) changes.push({ type, uuid: a.uuid, before: a.release, after: b.release });
        i++;
        j++;
      }
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

/** The wire shape of a manifest's plain value, or of a file holding one (a ManifestFile). */
export function manifestToJson(manifest: Manifest | { readonly manifest: Manifest }): RetoolManifest {
  const m = 'manifest' in manifest ? manifest.manifest : manifest;
  const copy = (entries: readonly ManifestEntry[]): ManifestEntry[] => [...entries].sort(byUuid).map((e) => ({ uuid: e.uuid, release: e.release }));
  return { name: m.name, apps: copy(m.apps), workflows: copy(m.workflows) };
}
