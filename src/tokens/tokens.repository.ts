import type { Kysely } from 'kysely';
import type { ApiTokenRow, NewApiToken, Tables } from '../db/database.js';

export function insertToken(db: Kysely<Tables>, token: NewApiToken): Promise<ApiTokenRow> {
  return db.insertInto('api_tokens').values(token).returningAll().executeTakeFirstOrThrow();
}

export function findTokenByHash(db: Kysely<Tables>, hash: string): Promise<ApiTokenRow | undefined> {
  return db.selectFrom('api_tokens').selectAll().where('token_hash', '=', hash).executeTakeFirst();
}

export function listTokens(db: Kysely<Tables>, options: { includeRevoked: boolean }): Promise<ApiTokenRow[]> {
  let query = db.selectFrom('api_tokens').selectAll().orderBy('created_at', 'desc').orderBy('id');
  if (!options.includeRevoked) query = query.where('revoked_at', 'is', null);
  return query.execute();
}

export function revokeToken(db: Kysely<Tables>, id: string, at: Date): Promise<ApiTokenRow | undefined> {
  return db.updateTable('api_tokens').set({ revoked_at: at }).where('id', '=', id).where('revoked_at', 'is', null).returningAll().executeTakeFirst();
}

export function findToken(db: Kysely<Tables>, id: string): Promise<ApiTokenRow | undefined> {
  return db.selectFrom('api_tokens').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function countActiveTokens(db: Kysely<Tables>, now: Date): Promise<number> {
  const row = await db
    .selectFrom('api_tokens')
    .select((eb) => eb.fn.countAll<string>().as('count'))
    .where('revoked_at', 'is', null)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

export function touchToken(db: Kysely<Tables>, id: string, at: Date): Promise<unknown> {
  return db.updateTable('api_tokens').set({ last_used_at: at }).where('id', '=', id).execute();
}
