// Shapes shared by every route that proposes a change: the pushed branch (Retool's answer to a
// write, plus the pull request) and the dry-run answer, with the document's examples of each.
import Type, { type Static } from 'typebox';
import { EXAMPLE } from '../http/example-values.js';

export const PullRequestState = Type.Enum(['open', 'merged', 'closed', 'conflicted']);

export const Verdict = Type.Object(
  {
    gate: Type.String({ description: 'hold or policy' }),
    manifest: Type.String(),
    rule: Type.String({ description: 'hold, order, soak, freeze or approvals' }),
    status: Type.Enum(['pass', 'blocked', 'overridden']),
    reason: Type.String(),
    until: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'When a time-bound block (soak, freeze) ends' }),
  },
  { $id: 'Verdict', description: 'What a gate said of the change: pass, blocked (by what, until when) or overridden' },
);

const Policy = Type.Optional(Type.Array(Type.Ref('Verdict'), { description: 'The verdicts of holds and policy on this change' }));

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
    policy: Policy,
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
    policy: Policy,
  },
  { $id: 'DryRun', description: 'What the write would do (dry_run=true): nothing was pushed or recorded' },
);

export const WriteAnswer = Type.Union([Type.Ref('PushedBranch'), Type.Ref('DryRun')]);

export const WriteQuery = Type.Object(
  { dry_run: Type.Boolean({ default: false, description: 'Answer what would be done; push nothing, record nothing' }) },
  { additionalProperties: false },
);

const OverrideReason = Type.Optional(
  Type.String({
    minLength: 1,
    maxLength: 2000,
    description:
      'An admin token only (403 otherwise): override the holds (409 release_held) and policy blocks (409 policy_blocked) this change meets, for this reason; every override is audited',
  }),
);

/** Override headers of a gated action (a merge, a promotion): an admin's reason to let a held release or a policy block through. */
export const OverrideHeaders = Type.Object({ 'Mir-Override-Reason': OverrideReason });

/** A write's headers: `If-Match`, the optimistic-concurrency check `base_sha` makes, and the override. */
export const WriteHeaders = Type.Object({
  'Mir-Override-Reason': OverrideReason,
  'If-Match': Type.Optional(
    Type.String({
      description:
        'The default-branch commit you read, as "<sha>" (the ETag of GET …/manifests/{manifestName}): 409 stale_base if an entry this write changes moved since; the same as base_sha, which it must equal when both are sent',
    }),
  ),
});

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
    kind: Type.Enum(['manifest', 'release', 'publish', 'hotfix_release', 'promotion', 'rollback']),
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

export const pullRequestSchemas = [Verdict, PushedBranch, DryRun, PullRequest];

const BRANCH = `mir/manifest/prod/71ek0kn8`;
const MANIFEST_BEFORE = `version: 1.0.0\nname: prod\napps:\n  - uuid: ${EXAMPLE.app}\n    release: 1.4.1\nworkflows: []\n`;
const SET_ENTRY = { op: 'set_entry', manifest: 'prod', element_type: 'PAGE', element_uuid: EXAMPLE.app, from: '1.4.1', to: '1.4.2' };
const TITLE = `Set ${EXAMPLE.appName} (${EXAMPLE.app.slice(0, 8)}) to 1.4.2 in prod`;
const BODY = `Proposed by ${EXAMPLE.actor} through mir.\n\n- prod: PAGE ${EXAMPLE.app} 1.4.1 → 1.4.2`;

/** The answer to a write that pushed its branch: the pull request proposing app checkout 1.4.2 in prod. */
export const PUSHED_EXAMPLE: Static<typeof PushedBranch> = {
  commit_sha: EXAMPLE.branchCommit,
  branch_name: BRANCH,
  url: EXAMPLE.pullRequestUrl,
  pull_request: { number: EXAMPLE.pullRequest, url: EXAMPLE.pullRequestUrl, state: 'open', title: TITLE, provider: 'builtin', external_number: null },
};

/** The same write with dry_run=true. */
export const DRY_RUN_EXAMPLE: Static<typeof DryRun> = {
  dry_run: true,
  base_sha: EXAMPLE.commit,
  branch_name: BRANCH,
  pull_request: { title: TITLE, body: BODY },
  files: [{ path: 'manifests/prod.yaml', change: 'modified' }],
  manifests: [{ name: 'prod', before: MANIFEST_BEFORE, after: MANIFEST_BEFORE.replace('1.4.1', '1.4.2') }],
  operations: [SET_ENTRY],
};

/** That pull request, merged. */
export const PULL_REQUEST_EXAMPLE: Static<typeof PullRequest> = {
  number: EXAMPLE.pullRequest,
  url: EXAMPLE.pullRequestUrl,
  provider: 'builtin',
  external_number: null,
  kind: 'manifest',
  title: TITLE,
  body: BODY,
  state: 'merged',
  source_branch: BRANCH,
  target_branch: 'main',
  base_commit: EXAMPLE.commit,
  head_commit: EXAMPLE.branchCommit,
  merge_commit: EXAMPLE.mergeCommit,
  author: EXAMPLE.actor,
  merged_by: EXAMPLE.actor,
  created_at: EXAMPLE.at,
  updated_at: EXAMPLE.later,
  merged_at: EXAMPLE.later,
  closed_at: null,
  conflicts: null,
  manifests: [
    {
      manifest: 'prod',
      created: false,
      deleted: false,
      added: [],
      changed: [{ element_type: 'PAGE', element_uuid: EXAMPLE.app, from: '1.4.1', to: '1.4.2' }],
      removed: [],
    },
  ],
  artifacts: [],
  operations: [SET_ENTRY],
};

/** `If-Match: "<sha>"` (or W/"<sha>") → the sha; undefined when absent. */
export function ifMatchSha(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const value = header
    .trim()
    .replace(/^W\//, '')
    .replace(/^"(.*)"$/, '$1');
  return value === '*' ? undefined : value;
}
