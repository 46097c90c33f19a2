// What differs between two manifests: one walk over both entry lists, which a manifest keeps
// sorted by uuid (so 5,000 entries on each side cost 10,000 steps, not 25 million). Pure: the
// versions each element has are handed in; release descriptions are added by the service.
import { pairByUuid, type Manifest, type ManifestEntry } from '../formats/manifest-canonical.js';
import { LATEST, type ElementType } from '../formats/values.js';
import { compareVersions, highestVersion } from '../formats/version.js';

export interface Difference {
  readonly element_type: ElementType;
  readonly element_uuid: string;
  /** As `from` says it: a version or `latest`. */
  readonly from_release: string;
  /** The concrete version `from` runs: `latest` resolved to the highest release; null when it has none. */
  readonly from_version: string | null;
  readonly to_release: string;
  /** Releases after `to`'s up to and including `from`'s; null when either side is not a version. */
  readonly behind: number | null;
  /** Those releases, oldest first. */
  readonly between: readonly string[];
}

export interface OneSided {
  readonly element_type: ElementType;
  readonly element_uuid: string;
  readonly release: string;
  /** For `latest`, the version it resolves to (null: no release); otherwise the release itself. */
  readonly version: string | null;
}

export interface Comparison {
  readonly differences: Difference[];
  readonly only_in_from: OneSided[];
  readonly only_in_to: OneSided[];
}

/** The versions of an element on the default branch, in any order. */
export type VersionsOf = (type: ElementType, uuid: string) => readonly string[];

export function resolveRelease(release: string, versions: readonly string[]): string | null {
  return release === LATEST ? highestVersion(versions) : release;
}

export function compareManifests(from: Manifest, to: Manifest, versionsOf: VersionsOf): Comparison {
  const result: Comparison = { differences: [], only_in_from: [], only_in_to: [] };
  walk('PAGE', from.apps, to.apps, versionsOf, result);
  walk('WORKFLOW', from.workflows, to.workflows, versionsOf, result);
  return result;
}

function walk(type: ElementType, from: readonly ManifestEntry[], to: readonly ManifestEntry[], versionsOf: VersionsOf, out: Comparison): void {
  const one = (entry: ManifestEntry): OneSided => ({
    element_type: type,
    element_uuid: entry.uuid,
    release: entry.release,
    version: resolveRelease(entry.release, versionsOf(type, entry.uuid)),
  });
  /** An element on both sides at different releases: a difference unless `from`'s resolves to `to`'s. */
  const differ = (a: ManifestEntry, b: ManifestEntry) => {
    const versions = versionsOf(type, a.uuid);
    const fromVersion = resolveRelease(a.release, versions);
    if (fromVersion === b.release) return;
    const comparable = fromVersion !== null && b.release !== LATEST;
    const between = comparable ? versions.filter((v) => compareVersions(v, b.release) > 0 && compareVersions(v, fromVersion) <= 0).sort(compareVersions) : [];
    out.differences.push({
      element_type: type,
      element_uuid: a.uuid,
      from_release: a.release,
      from_version: fromVersion,
      to_release: b.release,
      behind: comparable ? between.length : null,
      between,
    });
  };
  pairByUuid(from, to, (a, b) => {
    if (!b) out.only_in_from.push(one(a!));
    else if (!a) out.only_in_to.push(one(b));
    else if (a.release !== b.release) differ(a, b);
  });
}
