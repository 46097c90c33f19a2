// Kysely table interfaces: one per table in migrations/, named as the table. Row types for
// repositories come from Selectable/Insertable (https://kysely.dev/docs/getting-started#types).
import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Json<T> = ColumnType<T, string, string>;

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

export interface Tables {
  api_tokens: ApiTokensTable;
  audit_events: AuditEventsTable;
  schema_migrations: SchemaMigrationsTable;
}

export type ApiTokenRow = Selectable<ApiTokensTable>;
export type NewApiToken = Insertable<ApiTokensTable>;
export type AuditEventRow = Selectable<AuditEventsTable>;
