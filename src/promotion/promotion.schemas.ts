// Shapes of compare, promote, rollback and holds, with the document's examples.
import Type, { type Static } from 'typebox';
import { EXAMPLE } from '../http/example-values.js';
import { ElementType, ManifestName, Uuid, Version } from '../http/schemas.js';
import { DryRun, PushedBranch, PUSHED_EXAMPLE } from '../pull-requests/pull-requests.schemas.js';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);

export const Hold = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    element_type: ElementType,
    element_uuid: Uuid,
    version: Version,
    manifest: Type.String({ description: 'The manifest it was rolled back in; the hold applies to every manifest' }),
    reason: Type.String(),
    pull_request: Nullable(Type.Integer({ description: 'The rollback pull request' })),
    created_by: Type.String(),
    created_at: Type.String({ format: 'date-time' }),
    active: Type.Boolean(),
    lifted_at: Nullable(Type.String({ format: 'date-time' })),
    lifted_by: Nullable(Type.String()),
    lift_reason: Nullable(Type.String()),
  },
  { $id: 'Hold', description: 'A release version kept out of every manifest until lifted' },
);

export const HOLD_EXAMPLE: Static<typeof Hold> = {
  id: EXAMPLE.hold,
  element_type: 'PAGE',
  element_uuid: EXAMPLE.app,
  version: '1.4.2',
  manifest: 'prod',
  reason: 'checkout 1.4.2 double-charges cards',
  pull_request: EXAMPLE.pullRequest,
  created_by: EXAMPLE.actor,
  created_at: EXAMPLE.at,
  active: true,
  lifted_at: null,
  lifted_by: null,
  lift_reason: null,
};

const Side = Type.Object({
  name: Type.String({ description: 'As asked: a manifest or an instance' }),
  manifest: Type.String({ description: 'The manifest read' }),
  commit_sha: Type.String({ description: 'The default-branch commit it was read at' }),
});

const OneSided = Type.Object({
  element_type: ElementType,
  element_uuid: Type.String(),
  name: Nullable(Type.String()),
  release: Type.String(),
  version: Nullable(Type.String({ description: 'latest resolved to the highest release (null: none)' })),
});

export const Comparison = Type.Object(
  {
    from: Side,
    to: Side,
    differences: Type.Array(
      Type.Object({
        element_type: ElementType,
        element_uuid: Type.String(),
        name: Nullable(Type.String()),
        from_release: Type.String(),
        from_version: Nullable(Type.String({ description: 'What from runs: latest resolved to its highest release' })),
        to_release: Type.String(),
        behind: Nullable(Type.Integer({ description: 'Releases to lacks up to from’s; null when a side is not a version' })),
        between: Type.Array(Type.String()),
        releases: Type.Array(Type.Object({ release_version: Type.String(), release_description: Type.String() }), {
          description: 'The releases in between, oldest first, with their descriptions',
        }),
      }),
    ),
    only_in_from: Type.Array(OneSided),
    only_in_to: Type.Array(OneSided),
  },
  { $id: 'Comparison', description: 'Every element whose release differs between two manifests' },
);

export const COMPARISON_EXAMPLE: Static<typeof Comparison> = {
  from: { name: 'uat', manifest: 'uat', commit_sha: EXAMPLE.commit },
  to: { name: 'prod-eu', manifest: 'prod', commit_sha: EXAMPLE.commit },
  differences: [
    {
      element_type: 'PAGE',
      element_uuid: EXAMPLE.app,
      name: EXAMPLE.appName,
      from_release: '1.4.2',
      from_version: '1.4.2',
      to_release: '1.4.0',
      behind: 2,
      between: ['1.4.1', '1.4.2'],
      releases: [
        { release_version: '1.4.1', release_description: 'Fix rounding in totals' },
        { release_version: '1.4.2', release_description: 'Apple Pay' },
      ],
    },
  ],
  only_in_from: [{ element_type: 'WORKFLOW', element_uuid: EXAMPLE.workflow, name: EXAMPLE.workflowName, release: 'latest', version: '0.3.1' }],
  only_in_to: [],
};

export const PromoteBody = Type.Object(
  {
    from: ManifestName,
    to: ManifestName,
    elements: Type.Optional(
      Type.Array(Type.Object({ element_uuid: Uuid, element_type: ElementType }, { additionalProperties: false }), {
        minItems: 1,
        maxItems: 10_000,
        description: 'Only these elements; all differences when absent',
      }),
    ),
    commit_message: Type.Optional(Type.String({ minLength: 1, maxLength: 10_000 })),
    base_sha: Type.Optional(
      Type.String({ pattern: '^[0-9a-f]{40}$', description: 'The default-branch commit you compared at: 409 stale_base if an entry moved since' }),
    ),
  },
  { additionalProperties: false, examples: [{ from: 'uat', to: 'prod', elements: [{ element_uuid: EXAMPLE.app, element_type: 'PAGE' }] }] },
);

export const RollbackBody = Type.Object(
  {
    manifest: ManifestName,
    element_uuid: Uuid,
    element_type: ElementType,
    to: Type.Optional(Version),
    reason: Type.String({ minLength: 1, maxLength: 2000, description: 'Why: recorded on the hold' }),
    commit_message: Type.Optional(Type.String({ minLength: 1, maxLength: 10_000 })),
  },
  {
    additionalProperties: false,
    examples: [{ manifest: 'prod', element_uuid: EXAMPLE.app, element_type: 'PAGE', reason: 'checkout 1.4.2 double-charges cards' }],
  },
);

const Held = { hold: Nullable(Type.Ref('Hold')), held_version: Version };
export const RollbackPushed = Type.Object(
  { ...PushedBranch.properties, ...Held },
  { $id: 'RollbackPushed', description: 'The rollback pull request and its hold' },
);
export const RollbackDryRun = Type.Object(
  { ...DryRun.properties, ...Held },
  { $id: 'RollbackDryRun', description: 'What a rollback would push and hold (dry_run=true)' },
);

export const ROLLBACK_EXAMPLE = {
  ...PUSHED_EXAMPLE,
  branch_name: 'mir/publish/q2v9xk1m',
  pull_request: { ...PUSHED_EXAMPLE.pull_request, title: `Roll back ${EXAMPLE.appName} from 1.4.2 to 1.4.1 in prod` },
  policy: [],
  hold: HOLD_EXAMPLE,
  held_version: '1.4.2',
};

export const LiftBody = Type.Object(
  { reason: Type.String({ minLength: 1, maxLength: 2000 }) },
  { additionalProperties: false, examples: [{ reason: 'fixed in 1.4.3; 1.4.2 is safe for the demo instance' }] },
);

export const promotionSchemas = [Hold, Comparison, RollbackPushed, RollbackDryRun];
