// The API view of a pull request: its row as answers show it, with its link and what its intent
// does to each manifest.
import type { PullRequestKind, PullRequestRow, PullRequestState } from '../db/database.js';
import { diffIntent, type Conflict, type Intent, type ManifestDiff } from './intent.js';

export interface PullRequestView {
  number: number;
  url: string;
  provider: string;
  /** The forge's number (null for builtin). */
  external_number: number | null;
  kind: PullRequestKind;
  title: string;
  body: string;
  state: PullRequestState;
  source_branch: string;
  target_branch: string;
  base_commit: string;
  head_commit: string;
  merge_commit: string | null;
  author: string;
  merged_by: string | null;
  created_at: string;
  updated_at: string;
  merged_at: string | null;
  closed_at: string | null;
  conflicts: Conflict[] | null;
  manifests: ManifestDiff[];
  artifacts: { element_type: string; element_uuid: string; version: string; sha256: string; size: number }[];
  operations: Intent['operations'];
}

/** Where people look at a pull request: the forge's page, or else our own link. */
export function pullRequestLink(row: PullRequestRow, pullRequestUrl: (number: number) => string): string {
  return row.external_url ?? pullRequestUrl(row.number);
}

export function toPullRequestView(row: PullRequestRow, pullRequestUrl: (number: number) => string): PullRequestView {
  const intent = row.intent as Intent;
  return {
    number: row.number,
    url: pullRequestLink(row, pullRequestUrl),
    provider: row.provider,
    external_number: row.external_number,
    kind: row.kind,
    title: row.title,
    body: row.body,
    state: row.state,
    source_branch: row.source_branch,
    target_branch: row.target_branch,
    base_commit: row.base_commit,
    head_commit: row.head_commit,
    merge_commit: row.merge_commit,
    author: row.author,
    merged_by: row.merged_by,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
    merged_at: row.merged_at?.toISOString() ?? null,
    closed_at: row.closed_at?.toISOString() ?? null,
    conflicts: (row.conflicts as Conflict[] | null) ?? null,
    manifests: diffIntent(intent),
    artifacts: intent.operations.flatMap((op) =>
      op.op === 'add_artifact' ? [{ element_type: op.element_type, element_uuid: op.element_uuid, version: op.version, sha256: op.sha256, size: op.size }] : [],
    ),
    operations: intent.operations,
  };
}
