// What open pull requests propose, read from their intents: releases not merged yet, and
// manifest entries about to change. Releases, the release matrix and hotfixes overlay these on
// the default branch, so a version proposed in one pull request is never proposed again.
import type { PullRequestRow } from '../db/database.js';
import type { Intent } from '../pull-requests/intent.js';
import type { ElementType } from '../formats/values.js';

export interface PendingArtifact {
  readonly type: ElementType;
  readonly uuid: string;
  readonly version: string;
  readonly blob: string;
  readonly sha256: string;
  readonly size: number;
  readonly pullRequest: PullRequestRow;
}

export interface PendingEntry {
  readonly manifest: string;
  readonly type: ElementType;
  readonly uuid: string;
  /** The release it would set; null when the pull request removes the entry. */
  readonly release: string | null;
  readonly pullRequest: PullRequestRow;
}

export function pendingArtifacts(rows: readonly PullRequestRow[]): PendingArtifact[] {
  const out: PendingArtifact[] = [];
  for (const row of rows) {
    for (const op of (row.intent as Intent).operations) {
      if (op.op !== 'add_artifact') continue;
      out.push({ type: op.element_type, uuid: op.element_uuid, version: op.version, blob: op.blob, sha256: op.sha256, size: op.size, pullRequest: row });
    }
  }
  return out;
}

export function pendingEntries(rows: readonly PullRequestRow[]): PendingEntry[] {
  const out: PendingEntry[] = [];
  for (const row of rows) {
    for (const op of (row.intent as Intent).operations) {
      if (op.op === 'set_entry') out.push({ manifest: op.manifest, type: op.element_type, uuid: op.element_uuid, release: op.to, pullRequest: row });
      else if (op.op === 'remove_entry') out.push({ manifest: op.manifest, type: op.element_type, uuid: op.element_uuid, release: null, pullRequest: row });
    }
  }
  return out;
}
