// API tokens: random bearer secrets of which only a sha256 is stored (a fast hash is right here:
// the secret has 256 bits of entropy, so there is nothing to brute-force), scopes, revocation, and
// the admin token written on first start.
import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Kysely } from 'kysely';
import type { ApiTokenRow, Tables } from '../db/database.js';
import type { NamedLock } from '../db/lock.js';
import { errors, invalidField } from '../errors.js';
import type { Actor, AuditService } from '../audit/audit.service.js';
import { BoundedCache, type CacheStats } from '../runtime/bounded-cache.js';
import { isScope, type Scope } from './scopes.js';
import * as repository from './tokens.repository.js';

export const TOKEN_PREFIX = 'mir_';
export const ADMIN_TOKEN_FILE = 'admin-token';

/** How long a verified token is trusted without asking the database again. */
const CACHE_MS = 10_000;
/** `last_used_at` is written at most this often per token: it is not worth a write per request. */
const TOUCH_MS = 60_000;

export interface Principal {
  readonly tokenId: string;
  readonly name: string;
  readonly email: string;
  readonly scopes: readonly Scope[];
  /** Set: the token acts for this one instance only (src/http/auth.ts). */
  readonly instance: string | null;
}

export interface TokenView {
  id: string;
  name: string;
  email: string | null;
  token_prefix: string;
  scopes: Scope[];
  created_by: string | null;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
  instance: string | null;
}

export interface NewToken {
  readonly name: string;
  readonly email?: string | undefined;
  readonly scopes: readonly string[];
  readonly expiresAt?: Date | undefined;
  /** Bind the token to one instance: it may then hold source_control:read only. */
  readonly instance?: string | undefined;
}

/** What a token bound to an instance may hold besides reporting that instance's deployments. */
const INSTANCE_TOKEN_SCOPES: readonly Scope[] = ['source_control:read'];

export interface TokenService {
  create(input: NewToken, actor: Actor): Promise<{ token: string; view: TokenView }>;
  list(options: { includeRevoked: boolean }): Promise<TokenView[]>;
  get(id: string): Promise<TokenView>;
  revoke(id: string, actor: Actor): Promise<TokenView>;
  /** The principal of a bearer token, or null when unknown, revoked or expired. */
  authenticate(bearer: string): Promise<Principal | null>;
  /**
   * On first start (no usable token at all), creates an admin token and writes it to
   * `<dataDir>/admin-token` with mode 0600. Returns the file's path when it did.
   */
  bootstrapAdmin(dataDir: string): Promise<string | null>;
  /** Its cache of verified tokens, for /metrics. */
  cacheStats(): CacheStats[];
}

export interface TokenServiceDeps {
  readonly db: Kysely<Tables>;
  readonly audit: AuditService;
  /** Serialises first-start bootstrap across processes. */
  readonly bootstrapLock: NamedLock;
  readonly now?: () => Date;
  readonly onTouchError?: (error: unknown) => void;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function createTokenService(deps: TokenServiceDeps): TokenService {
  const now = deps.now ?? (() => new Date());
  // Unknown tokens are remembered too (a scanner's guesses): the limit keeps them from piling up.
  const cache = new BoundedCache<string, { principal: Principal | null; until: number }>('tokens', 10_000);
  const touched = new Map<string, number>();

  async function insert(db: Kysely<Tables>, input: NewToken, createdBy: string | null) {
    const scopes = validateScopes(input.scopes);
    if (input.instance && scopes.some((scope) => !INSTANCE_TOKEN_SCOPES.includes(scope))) {
      throw invalidField('body.scopes', `a token bound to an instance may hold only ${INSTANCE_TOKEN_SCOPES.join(', ')}`);
    }
    const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
    const row = await repository.insertToken(db, {
      name: input.name,
      email: input.email ?? null,
      token_hash: hashToken(token),
      token_prefix: token.slice(0, TOKEN_PREFIX.length + 6),
      scopes,
      created_by: createdBy,
      expires_at: input.expiresAt ?? null,
      instance: input.instance ?? null,
    });
    return { token, view: toView(row) };
  }

  return {
    async create(input, actor) {
      if (input.expiresAt && input.expiresAt.getTime() <= now().getTime()) {
        throw invalidField('body.expires_at', 'must be in the future');
      }
      return deps.db.transaction().execute(async (trx) => {
        const created = await insert(trx, input, actor.name);
        await deps.audit.record(
          actor,
          {
            action: 'token.create',
            target: `token:${created.view.id}`,
            details: { name: created.view.name, scopes: created.view.scopes, ...(created.view.instance ? { instance: created.view.instance } : {}) },
          },
          trx,
        );
        return created;
      });
    },

    async list(options) {
      return (await repository.listTokens(deps.db, options)).map(toView);
    },

    async get(id) {
      const row = await repository.findToken(deps.db, id);
      if (!row) throw errors.tokenNotFound(id);
      return toView(row);
    },

    async revoke(id, actor) {
      const row = await deps.db.transaction().execute(async (trx) => {
        const revoked = await repository.revokeToken(trx, id, now());
        if (!revoked) throw (await repository.findToken(trx, id)) ? errors.tokenRevoked(id) : errors.tokenNotFound(id);
        await deps.audit.record(actor, { action: 'token.revoke', target: `token:${id}`, details: { name: revoked.name } }, trx);
        return revoked;
      });
      cache.delete(row.token_hash);
      return toView(row);
    },

    cacheStats: () => [cache.stats()],

    async authenticate(bearer) {
      if (!bearer.startsWith(TOKEN_PREFIX) || bearer.length > 200) return null;
      const hash = hashToken(bearer);
      const at = now();
      const cached = cache.get(hash);
      if (cached && cached.until > at.getTime()) return cached.principal;
      const row = await repository.findTokenByHash(deps.db, hash);
      const usable = row && !row.revoked_at && (!row.expires_at || row.expires_at > at);
      const principal: Principal | null = usable
        ? { tokenId: row.id, name: row.name, email: row.email ?? `${row.name}@mir.invalid`, scopes: row.scopes.filter(isScope), instance: row.instance }
        : null;
      // An expiring token is cached no longer than it lives.
      const until = Math.min(at.getTime() + CACHE_MS, row?.expires_at?.getTime() ?? Infinity);
      cache.set(hash, { principal, until });
      if (principal && (touched.get(principal.tokenId) ?? 0) + TOUCH_MS <= at.getTime()) {
        touched.set(principal.tokenId, at.getTime());
        repository.touchToken(deps.db, principal.tokenId, at).catch((error) => deps.onTouchError?.(error));
      }
      return principal;
    },

    bootstrapAdmin(dataDir) {
      return deps.bootstrapLock.withLock(async () => {
        if ((await repository.countActiveTokens(deps.db, now())) > 0) return null;
        const file = path.join(dataDir, ADMIN_TOKEN_FILE);
        // The file is written inside the transaction: if writing it fails, no token exists that
        // nobody can read, and the next start tries again.
        return deps.db.transaction().execute(async (trx) => {
          const { token, view } = await insert(trx, { name: 'admin', scopes: ['admin'] }, null);
          await mkdir(dataDir, { recursive: true });
          await writeFile(file, `${token}\n`, { mode: 0o600 });
          // `mode` applies only when the file is created; an older file keeps its mode otherwise.
          await chmod(file, 0o600);
          await deps.audit.record(
            { name: 'system', email: 'system@mir.invalid', tokenId: null, requestId: null },
            { action: 'token.bootstrap', target: `token:${view.id}`, details: { file } },
            trx,
          );
          return file;
        });
      });
    },
  };
}

function validateScopes(scopes: readonly string[]): Scope[] {
  const unknown = scopes.filter((scope) => !isScope(scope));
  if (unknown.length > 0) throw invalidField('body.scopes', `has unknown scopes: ${unknown.join(', ')}`);
  if (scopes.length === 0) throw invalidField('body.scopes', 'must name at least one scope');
  return [...new Set(scopes)] as Scope[];
}

function toView(row: ApiTokenRow): TokenView {
  return {
    id: row.id,
    name: row.name,
    email: row.email,
    token_prefix: row.token_prefix,
    scopes: row.scopes.filter(isScope),
    created_by: row.created_by,
    created_at: row.created_at.toISOString(),
    expires_at: row.expires_at?.toISOString() ?? null,
    last_used_at: row.last_used_at?.toISOString() ?? null,
    revoked_at: row.revoked_at?.toISOString() ?? null,
    instance: row.instance,
  };
}
