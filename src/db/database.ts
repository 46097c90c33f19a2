// Kysely table interfaces: one per table in migrations/, named as the table. Row types for
// repositories come from Selectable/Insertable (https://kysely.dev/docs/getting-started#types).
import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Json<T> = ColumnType<T, string, string>;
/**
 * A packed JSON column (src/db/packed-json.ts): written as `packedValue(...)`, read only as
 * `packedColumn(...)` and unpacked, so a plain select of it is no type at all.
 */
type PackedJson = ColumnType<never, Buffer, Buffer>;

export interface ApiTokensTable {
  id: Generated<string>;
  name: string;
  email: string | null;
  /** sha256 of the token, hex. The token itself is never stored. */
  token_hash: string;
  /** The first characters of the token, for people to recognise it in a list. */
  token_prefix: string;
  scopes: string[];
  created_by: string | null;
  created_at: Timestamp;
  expires_at: Date | null;
  last_used_at: Date | null;
  revoked_at: Date | null;
  /** Set: the token acts for this one instance only (migration 0010). */
  instance: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface AuditEventsTable {
  id: Generated<string>;
  occurred_at: Timestamp;
  actor: string;
  action: string;
  target: string;
  details: Json<Record<string, unknown>>;
  request_id: string | null;
}

export interface SchemaMigrationsTable {
  version: number;
  name: string;
  checksum: string;
  applied_at: Timestamp;
}

export type PullRequestState = 'open' | 'merged' | 'closed' | 'conflicted';
/**
 * A row's state: a pull request's, or `opening` while its branch is being pushed (migration 0006).
 * Opening rows never leave the repository functions that read pull requests for the API.
 */
export type PullRequestRowState = PullRequestState | 'opening';
export type PullRequestKind = 'manifest' | 'release' | 'publish' | 'hotfix_release' | 'promotion' | 'rollback';

export type HotfixState = 'open' | 'released' | 'abandoned';
/**
 * A row's state: a hotfix's, or `opening` while its branch is being pushed (migration 0008).
 * Opening rows never leave the repository functions that read hotfixes for the API.
 */
export type HotfixRowState = HotfixState | 'opening';

export interface HotfixesTable {
  id: Generated<string>;
  element_type: 'PAGE' | 'WORKFLOW';
  element_uuid: string;
  /** `X.Y` */
  line: string;
  base_version: string;
  branch: string;
  base_commit: string;
  state: ColumnType<HotfixRowState, HotfixRowState | undefined, HotfixRowState>;
  release_version: string | null;
  pull_request: number | null;
  release_commit: string | null;
  author: string;
  author_email: string;
  created_at: Timestamp;
  updated_at: Timestamp;
  released_at: Date | null;
  abandoned_at: Date | null;
  abandoned_by: string | null;
}

export interface PullRequestsTable {
  number: Generated<number>;
  provider: ColumnType<string, string | undefined, string>;
  external_id: string | null;
  external_number: number | null;
  external_url: string | null;
  kind: PullRequestKind;
  title: string;
  body: ColumnType<string, string | undefined, string>;
  source_branch: string;
  target_branch: string;
  base_commit: string;
  head_commit: string;
  state: ColumnType<PullRequestRowState, PullRequestRowState | undefined, PullRequestRowState>;
  /** An `Intent` (src/pull-requests/intent.ts), packed; the repository hands it out unpacked. */
  intent: PackedJson;
  /** The manifests in which the intent sets entries (migration 0011). */
  entry_manifests: ColumnType<string[], string[] | undefined, string[]>;
  conflicts: ColumnType<unknown, string | null | undefined, string | null>;
  author: string;
  author_email: string;
  merge_commit: string | null;
  merged_by: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  merged_at: Date | null;
  closed_at: Date | null;
}

export interface ArtifactsTable {
  blob_id: string;
  sha256: string;
  /** bigint: pg returns it as a string. */
  size: ColumnType<string, number, number>;
  metadata: ColumnType<unknown, string | null, string | null>;
  metadata_error: string | null;
  /** Why the zip may not be published or served; null when it passed its checks. */
  problem: ColumnType<string | null, string | null | undefined, string | null>;
  /** Which version of the checks gave `problem`; null: never checked. */
  checks: ColumnType<number | null, number | null | undefined, number | null>;
  created_at: Timestamp;
}

export interface InstancesTable {
  name: string;
  description: ColumnType<string, string | undefined, string>;
  url: string | null;
  manifest: string | null;
  created_by: string;
  created_at: Timestamp;
  updated_at: Timestamp;
  last_seen_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  last_seen_commit: ColumnType<string | null, string | null | undefined, string | null>;
}

export type DeploymentStatus = 'PENDING_START' | 'RUNNING' | 'SUCCESS' | 'ERROR';

/** What a deployment says the instance runs: one entry per element. */
export interface DeployedElement {
  uuid: string;
  type: 'PAGE' | 'WORKFLOW';
  release: string;
}

export interface DeploymentsTable {
  id: Generated<string>;
  /** bigint: pg returns it as a string. */
  seq: ColumnType<string, never, never>;
  instance: string;
  commit_sha: string;
  status: DeploymentStatus;
  triggered_by: string;
  elements: ColumnType<DeployedElement[] | null, string | null, string | null>;
  message: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  completed_at: Date | null;
}

export interface DeploymentDriftTable {
  instance: string;
  element_type: 'PAGE' | 'WORKFLOW';
  element_uuid: string;
  desired: string | null;
  deployed: string | null;
  since: Date;
}

export interface OutboxEventsTable {
  id: string;
  seq: ColumnType<string, never, never>;
  type: string;
  /** The event's `data`, packed; the repository hands it out unpacked. */
  payload: PackedJson;
  occurred_at: Date;
  fanned_out_at: Date | null;
}

export interface WebhookSubscriptionsTable {
  id: Generated<string>;
  url: string;
  secret: string;
  event_types: string[];
  active: ColumnType<boolean, boolean | undefined, boolean>;
  description: ColumnType<string, string | undefined, string>;
  created_by: string;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export type DeliveryState = 'pending' | 'delivered' | 'dead';

export interface WebhookDeliveriesTable {
  id: ColumnType<string, never, never>;
  event_id: string;
  subscription_id: string;
  state: ColumnType<DeliveryState, DeliveryState | undefined, DeliveryState>;
  attempts: ColumnType<number, number | undefined, number>;
  next_attempt_at: Date;
  claim: string | null;
  last_error: string | null;
  created_at: Date;
  delivered_at: Date | null;
  dead_at: Date | null;
}

export type AttemptOutcome = 'delivered' | 'failed' | 'timeout';

export interface WebhookAttemptsTable {
  id: ColumnType<string, never, never>;
  delivery_id: string;
  subscription_id: string;
  event_id: string;
  attempt: number;
  outcome: AttemptOutcome;
  response_code: number | null;
  response_excerpt: string | null;
  duration_ms: number;
  attempted_at: Date;
}

export interface ReleaseHoldsTable {
  id: Generated<string>;
  element_type: 'PAGE' | 'WORKFLOW';
  element_uuid: string;
  version: string;
  manifest: string;
  reason: string;
  pull_request: number | null;
  created_by: string;
  created_at: Timestamp;
  lifted_at: Date | null;
  lifted_by: string | null;
  lift_reason: string | null;
}

export interface PullRequestApprovalsTable {
  pull_request: number;
  approver: string;
  token_id: string | null;
  approved_at: Timestamp;
}

export interface Tables {
  deployments: DeploymentsTable;
  deployment_drift: DeploymentDriftTable;
  outbox_events: OutboxEventsTable;
  webhook_subscriptions: WebhookSubscriptionsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_attempts: WebhookAttemptsTable;
  release_holds: ReleaseHoldsTable;
  pull_request_approvals: PullRequestApprovalsTable;
  hotfixes: HotfixesTable;
  instances: InstancesTable;
  artifacts: ArtifactsTable;
  pull_requests: PullRequestsTable;
  api_tokens: ApiTokensTable;
  audit_events: AuditEventsTable;
  schema_migrations: SchemaMigrationsTable;
}

export type ApiTokenRow = Selectable<ApiTokensTable>;
export type NewApiToken = Insertable<ApiTokensTable>;
export type AuditEventRow = Selectable<AuditEventsTable>;
/** Any row, an opening one included; `intent` unpacked. */
export type PullRequestRecord = Selectable<PullRequestsTable> & { intent: unknown };
/** A pull request: a row past `opening`, the only kind the repository's readers return. */
export type PullRequestRow = Omit<PullRequestRecord, 'state'> & { state: PullRequestState };
/** Any hotfix row, an opening one included. */
export type HotfixRecord = Selectable<HotfixesTable>;
/** A hotfix: a row past `opening`, the only kind the repository's readers return. */
export type HotfixRow = Omit<HotfixRecord, 'state'> & { state: HotfixState };
export type NewHotfix = Insertable<HotfixesTable>;
export type InstanceRow = Selectable<InstancesTable>;
export type NewPullRequest = Insertable<PullRequestsTable>;
export type DeploymentRow = Selectable<DeploymentsTable>;
export type DeploymentDriftRow = Selectable<DeploymentDriftTable>;
export type OutboxEventRow = Selectable<OutboxEventsTable>;
export type WebhookSubscriptionRow = Selectable<WebhookSubscriptionsTable>;
export type WebhookDeliveryRow = Selectable<WebhookDeliveriesTable>;
export type WebhookAttemptRow = Selectable<WebhookAttemptsTable>;
export type ReleaseHoldRow = Selectable<ReleaseHoldsTable>;
export type PullRequestApprovalRow = Selectable<PullRequestApprovalsTable>;
