// The events of a pull request's life, built from its row: what subscribers hear when one opens,
// conflicts, closes or merges — and, for a merge, what the default branch gained (each release
// created, each manifest changed with the entries that changed).
import type { PullRequestRow } from '../db/database.js';
import type { NewEvent } from '../events/events.service.js';
import type { EventType } from '../events/event-types.js';
import type { Intent } from './intent.js';

type PullRequestEventType = Extract<EventType, `pull_request.${string}`>;

export function pullRequestEvent(type: PullRequestEventType, row: PullRequestRow, url: string): NewEvent {
  return {
    type,
    data: {
      pull_request: {
        number: row.number,
        url,
        kind: row.kind,
        title: row.title,
        state: row.state,
        source_branch: row.source_branch,
        head_commit: row.head_commit,
        merge_commit: row.merge_commit,
        author: row.author,
        ...(row.state === 'conflicted' ? { conflicts: row.conflicts } : {}),
      },
    },
  };
}

/** pull_request.merged, then release.created for each artifact it added, manifest.changed for each manifest it changed. */
export function mergeEvents(row: PullRequestRow, url: string): NewEvent[] {
  const intent = row.intent as Intent;
  const link = { number: row.number, url };
  const commit = row.merge_commit;
  const events: NewEvent[] = [pullRequestEvent('pull_request.merged', row, url)];
  const manifests = new Map<string, Record<string, unknown>[]>();
  const changed = (manifest: string) => {
    let entries = manifests.get(manifest);
    if (!entries) manifests.set(manifest, (entries = []));
    return entries;
  };
  for (const op of intent.operations) {
    if (op.op === 'add_artifact') {
      events.push({
        type: 'release.created',
        data: {
          element_type: op.element_type,
          element_uuid: op.element_uuid,
          release_version: op.version,
          sha256: op.sha256,
          size: op.size,
          commit_sha: commit,
          pull_request: link,
        },
      });
    } else if (op.op === 'set_entry') {
      changed(op.manifest).push({ element_type: op.element_type, element_uuid: op.element_uuid, from: op.from, to: op.to });
    } else if (op.op === 'remove_entry') {
      changed(op.manifest).push({ element_type: op.element_type, element_uuid: op.element_uuid, from: op.from, to: null });
    } else if (op.op === 'delete_manifest') {
      manifests.set(op.manifest, manifests.get(op.manifest) ?? []);
    }
  }
  const deleted = new Set(intent.operations.flatMap((op) => (op.op === 'delete_manifest' ? [op.manifest] : [])));
  for (const [manifest, entries] of manifests) {
    events.push({ type: 'manifest.changed', data: { manifest, deleted: deleted.has(manifest), entries, commit_sha: commit, pull_request: link } });
  }
  return events;
}
