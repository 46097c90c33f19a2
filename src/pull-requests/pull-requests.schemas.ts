// Shapes shared by every route that proposes a change: the pushed branch (Retool's answer to a
// write, plus the pull request) and the dry-run answer.
import Type from 'typebox';

export const PullRequestState = Type.Enum(['open', 'merged', 'closed', 'conflicted']);

export const PushedBranch = Type.Object(
  {
    commit_sha: Type.String({ description: 'The commit the pushed branch points to' }),
    branch_name: Type.String({ description: 'The pushed branch' }),
    url: Type.String({ description: 'Where to review and merge the pull request' }),
    pull_request: Type.Object({
      number: Type.Integer(),
      url: Type.String(),
      state: PullRequestState,
      title: Type.String(),
      provider: Type.String({ description: 'builtin, github, gitlab, bitbucket or azure' }),
      external_number: Type.Union([Type.Integer(), Type.Null()], { description: "The forge's own number of the pull request (null for builtin)" }),
    }),
  },
  { $id: 'PushedBranch', description: 'A pushed branch and the pull request that proposes it' },
);

const FileSummary = Type.Object({ path: Type.String(), change: Type.Enum(['added', 'modified', 'deleted']) });

export const Operation = Type.Record(Type.String(), Type.Unknown(), { description: 'One operation of the intent (op, target, from, to…)' });

export const DryRun = Type.Object(
  {
    dry_run: Type.Literal(true),
    base_sha: Type.String({ description: 'The default-branch commit the change was computed against' }),
    branch_name: Type.String({ description: 'The branch that would be pushed' }),
    pull_request: Type.Object({ title: Type.String(), body: Type.String() }),
    files: Type.Array(FileSummary),
    manifests: Type.Array(
      Type.Object({
        name: Type.String(),
        before: Type.Union([Type.String(), Type.Null()]),
        after: Type.Union([Type.String(), Type.Null()]),
      }),
      { description: 'Each touched manifest file, before and after' },
    ),
    operations: Type.Array(Operation),
  },
  { $id: 'DryRun', description: 'What the write would do (dry_run=true): nothing was pushed or recorded' },
);

export const WriteAnswer = Type.Union([Type.Ref('PushedBranch'), Type.Ref('DryRun')]);

export const WriteQuery = Type.Object(
  { dry_run: Type.Boolean({ default: false, description: 'Answer what would be done; push nothing, record nothing' }) },
  { additionalProperties: false },
);

export const BaseSha = Type.String({
  pattern: '^[0-9a-f]{40}$',
  description: 'The default-branch commit the caller read; 409 stale_base if an entry this write changes moved since (also as If-Match)',
});

const ManifestDiff = Type.Object({
  manifest: Type.String(),
  created: Type.Boolean(),
  deleted: Type.Boolean(),
  added: Type.Array(Type.Object({ element_type: Type.String(), element_uuid: Type.String(), release: Type.String() })),
  changed: Type.Array(Type.Object({ element_type: Type.String(), element_uuid: Type.String(), from: Type.String(), to: Type.String() })),
  removed: Type.Array(Type.Object({ element_type: Type.String(), element_uuid: Type.String(), release: Type.String() })),
});

export const PullRequest = Type.Object(
  {
    number: Type.Integer(),
    url: Type.String(),
    provider: Type.String(),
    external_number: Type.Union([Type.Integer(), Type.Null()], { description: "The forge's own number (null for builtin)" }),
    kind: Type.Enum(['manifest', 'release', 'publish', 'hotfix_release']),
    title: Type.String(),
    body: Type.String(),
    state: PullRequestState,
    source_branch: Type.String(),
    target_branch: Type.String(),
    base_commit: Type.String(),
    head_commit: Type.String(),
    merge_commit: Type.Union([Type.String(), Type.Null()]),
    author: Type.String(),
    merged_by: Type.Union([Type.String(), Type.Null()]),
    created_at: Type.String({ format: 'date-time' }),
    updated_at: Type.String({ format: 'date-time' }),
    merged_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    closed_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    conflicts: Type.Union([
      Type.Array(
        Type.Object({
          target: Type.String(),
          reason: Type.String(),
          expected: Type.Union([Type.String(), Type.Null()]),
          found: Type.Union([Type.String(), Type.Null()]),
          wanted: Type.Union([Type.String(), Type.Null()]),
        }),
      ),
      Type.Null(),
    ]),
    manifests: Type.Array(ManifestDiff, { description: 'What it does to each manifest' }),
    artifacts: Type.Array(
      Type.Object({ element_type: Type.String(), element_uuid: Type.String(), version: Type.String(), sha256: Type.String(), size: Type.Integer() }),
      { description: 'Release artifacts it adds' },
    ),
    operations: Type.Array(Operation),
  },
  { $id: 'PullRequest' },
);

export const pullRequestSchemas = [PushedBranch, DryRun, PullRequest];

/** `If-Match: "<sha>"` (or W/"<sha>") → the sha; undefined when absent. */
export function ifMatchSha(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const value = header
    .trim()
    .replace(/^W\//, '')
    .replace(/^"(.*)"$/, '$1');
  return value === '*' ? undefined : value;
}
