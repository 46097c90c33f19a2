// Configuration: one TypeBox schema over the environment, parsed once at start, frozen, and
// injected. No other module reads process.env.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Type, { type Static } from 'typebox';
import Value from 'typebox/value';
import { parseCorsOrigins } from './http/cors-origins.js';
import { FORGE_NAMES, FORGES, type ForgeName } from './providers/forge/defaults.js';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const PROVIDERS = ['builtin', ...FORGE_NAMES] as const;
export type ProviderName = (typeof PROVIDERS)[number];

/** The package's root: this file is src/config.ts (tsx) or build/src/config.js (compiled). */
const PACKAGE_ROOT = ((here) => (path.basename(path.dirname(here)) === 'build' ? path.dirname(path.dirname(here)) : path.dirname(here)))(
  path.dirname(fileURLToPath(import.meta.url)),
);

/** The environment this service reads (README → Configuration). Every variable is optional. */
export const EnvSchema = Type.Object({
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3000, description: 'TCP port to listen on' }),
  HOST: Type.String({ minLength: 1, default: '127.0.0.1', description: 'Address to listen on' }),
  DATABASE_URL: Type.Optional(Type.String({ pattern: '^postgres(ql)?://', description: 'PostgreSQL URL; unset: embedded PGlite under the data dir' })),
  MIR_DATA_DIR: Type.String({ minLength: 1, default: './data', description: 'Where the embedded database, repository and admin token live' }),
  MIR_GIT_URL: Type.Optional(Type.String({ pattern: '^https?://', description: 'http(s) URL of the source control repository; unset: embedded' })),
  MIR_GIT_USERNAME: Type.Optional(Type.String({ minLength: 1 })),
  MIR_GIT_TOKEN: Type.Optional(Type.String({ minLength: 1 })),
  MIR_GIT_DEFAULT_BRANCH: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$', default: 'main' }),
  MIR_GIT_POLL_SECONDS: Type.Integer({ minimum: 0, maximum: 86_400, default: 30, description: '0 disables polling' }),
  MIR_BRANCH_PREFIX: Type.String({ pattern: '^([A-Za-z0-9][A-Za-z0-9._-]*/)*$', default: 'mir/' }),
  MIR_PUBLIC_URL: Type.Optional(Type.String({ pattern: '^https?://[^\\s]+$', description: 'Base URL clients use to reach this service' })),
  MIR_BODY_LIMIT_BYTES: Type.Integer({ minimum: 1024, maximum: 1_073_741_824, default: 1_048_576 }),
  MIR_CORS_ORIGINS: Type.Optional(
    Type.String({ description: 'Comma-separated origins (scheme://host[:port]) whose pages may call the API from a browser; unset: no CORS' }),
  ),
  MIR_UI_DIR: Type.Optional(
    Type.String({ minLength: 1, description: 'Where the built release dashboard (/ui/) is read from; unset: build/ui under the package root (npm run build)' }),
  ),
  MIR_SHUTDOWN_TIMEOUT_SECONDS: Type.Integer({ minimum: 1, maximum: 3600, default: 30 }),
  LOG_LEVEL: Type.Enum([...LOG_LEVELS], { default: 'info' }),
  MIR_PROVIDER: Type.Enum([...PROVIDERS], { default: 'builtin', description: 'Where pull requests live' }),
  MIR_PROVIDER_API_URL: Type.Optional(
    Type.String({ pattern: '^https?://[^\\s]+$', description: "The forge's API base URL (GitHub Enterprise, self-managed GitLab)" }),
  ),
  MIR_PROVIDER_REPOSITORY: Type.Optional(
    Type.String({
      pattern: '^[A-Za-z0-9._~ -]+(/[A-Za-z0-9._~ -]+)*$',
      description: 'owner/repo, group/project (or project id), workspace/repo, organization/project/repository',
    }),
  ),
  MIR_PROVIDER_TOKEN: Type.Optional(Type.String({ minLength: 1, description: "The forge's API token; also the git remote's password" })),
  MIR_WEBHOOK_SECRET: Type.Optional(Type.String({ minLength: 16, description: 'Shared secret of the forge webhook' })),
  MIR_PROVIDER_POLL_SECONDS: Type.Integer({ minimum: 0, maximum: 86_400, default: 60, description: 'Poll the forge this often; 0 disables' }),
  MIR_SWEEP_SECONDS: Type.Integer({
    minimum: 0,
    maximum: 86_400,
    default: 60,
    description: 'Look for branches and proposals a crash left behind this often; 0 disables',
  }),
  MIR_ORPHAN_GRACE_SECONDS: Type.Integer({
    minimum: 1,
    maximum: 86_400,
    default: 300,
    description: 'A branch without a pull request, or a proposal still opening, is removed once this old (longer than any push takes)',
  }),
  MIR_INSTANCE_STALE_SECONDS: Type.Integer({
    minimum: 1,
    maximum: 31_536_000,
    default: 900,
    description: 'An instance that has not polled its releases for this long is flagged in its drift',
  }),
  MIR_DRIFT_CHECK_SECONDS: Type.Integer({
    minimum: 0,
    maximum: 86_400,
    default: 30,
    description: 'Re-evaluate every instance’s drift this often when the default branch moved; 0 disables',
  }),
  MIR_WEBHOOK_POLL_MS: Type.Integer({
    minimum: 0,
    maximum: 3_600_000,
    default: 1000,
    description: 'The webhook dispatcher looks for due deliveries this often; 0 disables it',
  }),
  MIR_WEBHOOK_TIMEOUT_MS: Type.Integer({
    minimum: 100,
    maximum: 300_000,
    default: 10_000,
    description: 'A delivery not answered within this is a failed attempt',
  }),
  MIR_WEBHOOK_MAX_ATTEMPTS: Type.Integer({ minimum: 1, maximum: 100, default: 12, description: 'Attempts before an event goes to the dead letter' }),
  MIR_WEBHOOK_RETRY_BASE_MS: Type.Integer({
    minimum: 1,
    maximum: 86_400_000,
    default: 10_000,
    description: 'The first retry waits about this long; each next one twice as long',
  }),
  MIR_WEBHOOK_RETRY_MAX_MS: Type.Integer({ minimum: 1, maximum: 604_800_000, default: 3_600_000, description: 'No retry waits longer than this' }),
  MIR_WEBHOOK_RETENTION_DAYS: Type.Integer({
    minimum: 1,
    maximum: 3650,
    default: 30,
    description: 'Delivered events and delivery logs older than this are deleted (dead letters are kept)',
  }),
  MIR_EVENTS_POLL_MS: Type.Integer({
    minimum: 10,
    maximum: 60_000,
    default: 500,
    description: 'While an event stream is open, the outbox is read for new events this often (one query per process)',
  }),
  MIR_EVENTS_HEARTBEAT_SECONDS: Type.Integer({
    minimum: 1,
    maximum: 3600,
    default: 15,
    description: 'An event stream sends a keep-alive comment, and checks its token again, this often',
  }),
  MIR_EVENTS_GAP_SECONDS: Type.Integer({
    minimum: 0,
    maximum: 600,
    default: 5,
    description: 'A missing event seq (a transaction not yet committed) holds the streams back at most this long before it counts as rolled back',
  }),
  MIR_EVENT_STREAMS_MAX: Type.Integer({ minimum: 1, maximum: 100_000, default: 200, description: 'Open event streams per process; past it, 503' }),
});

export type Env = Static<typeof EnvSchema>;

export interface Config {
  readonly port: number;
  readonly host: string;
  /** Unset: embedded PGlite under `<dataDir>/pglite`. */
  readonly databaseUrl: string | undefined;
  /** Absolute. */
  readonly dataDir: string;
  readonly git: {
    /** Unset: the embedded repository `<dataDir>/repo.git` is the repository. */
    readonly url: string | undefined;
    readonly username: string | undefined;
    readonly token: string | undefined;
    readonly defaultBranch: string;
    /** 0: never poll; fetch only before writes and on demand. */
    readonly pollSeconds: number;
    readonly branchPrefix: string;
  };
  readonly publicUrl: string | undefined;
  readonly sweep: {
    /** 0: never sweep. */
    readonly intervalMs: number;
    readonly graceMs: number;
  };
  readonly bodyLimitBytes: number;
  /** Origins whose pages may call the API from a browser, each as the browser sends it in `Origin`; empty: no CORS. */
  readonly corsOrigins: readonly string[];
  /** Absolute: the built dashboard served at /ui/ (index.html, app.js, app.css). */
  readonly uiDir: string;
  readonly shutdownTimeoutMs: number;
  readonly logLevel: (typeof LOG_LEVELS)[number];
  readonly provider: ProviderConfig;
  readonly deployments: {
    readonly staleAfterMs: number;
    /** 0: drift is re-evaluated only when a deployment is reported. */
    readonly driftCheckMs: number;
  };
  readonly webhooks: {
    /** 0: no dispatcher runs in this process. */
    readonly pollMs: number;
    readonly timeoutMs: number;
    readonly maxAttempts: number;
    readonly retryBaseMs: number;
    readonly retryMaxMs: number;
    readonly retentionMs: number;
  };
  /** The event stream (src/events/event-stream.ts). */
  readonly events: {
    readonly pollMs: number;
    readonly heartbeatMs: number;
    readonly gapMs: number;
    readonly maxStreams: number;
  };
}

export type ProviderConfig =
  | { readonly name: 'builtin' }
  | {
      readonly name: ForgeName;
      /** Without a trailing slash. */
      readonly apiUrl: string;
      /** As configured: owner/repo, group/project or a project id, workspace/repo, organization/project/repository. */
      readonly repository: string;
      readonly token: string;
      /** Unset: webhooks are refused (401) and only polling keeps pull requests current. */
      readonly webhookSecret: string | undefined;
      /** 0: never poll. */
      readonly pollSeconds: number;
    };

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: readonly string[]) {
    super(problems.join('\n'));
  }
}

/**
 * Parses the environment. Throws ConfigError with one line per bad variable, each naming it.
 * Empty strings count as unset, as a shell `FOO= npm start` intends.
 */
export function loadConfig(environment: Record<string, string | undefined>, cwd = process.cwd()): Config {
  const raw: Record<string, string> = {};
  for (const key of Object.keys(EnvSchema.properties)) {
    const value = environment[key];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  // Convert works in place: it gets a copy, so `raw` keeps what the operator typed for messages.
  const env = Value.Default(EnvSchema, Value.Convert(EnvSchema, { ...raw })) as Env;
  if (!Value.Check(EnvSchema, env)) {
    const problems = new Map<string, string>();
    for (const error of Value.Errors(EnvSchema, env)) {
      const variable = error.instancePath.replace(/^\//, '');
      if (!problems.has(variable)) problems.set(variable, describe(variable, raw[variable], error.message));
    }
    throw new ConfigError([...problems.values()]);
  }
  if ((env.MIR_GIT_USERNAME || env.MIR_GIT_TOKEN) && !env.MIR_GIT_URL) {
    throw new ConfigError(['MIR_GIT_TOKEN/MIR_GIT_USERNAME: set MIR_GIT_URL too, or leave both unset']);
  }
  const { provider, git } = providerConfig(env);
  const cors = parseCorsOrigins(env.MIR_CORS_ORIGINS);
  if (cors.problems.length > 0) throw new ConfigError(cors.problems.map((problem) => `MIR_CORS_ORIGINS: ${problem}`));
  const corsOrigins = cors.origins;
  return Object.freeze({
    port: env.PORT,
    host: env.HOST,
    databaseUrl: env.DATABASE_URL,
    dataDir: path.resolve(cwd, env.MIR_DATA_DIR),
    git: Object.freeze({
      url: git.url,
      username: git.username,
      token: git.token,
      defaultBranch: env.MIR_GIT_DEFAULT_BRANCH,
      pollSeconds: env.MIR_GIT_POLL_SECONDS,
      branchPrefix: env.MIR_BRANCH_PREFIX,
    }),
    publicUrl: env.MIR_PUBLIC_URL?.replace(/\/+$/, ''),
    sweep: Object.freeze({ intervalMs: env.MIR_SWEEP_SECONDS * 1000, graceMs: env.MIR_ORPHAN_GRACE_SECONDS * 1000 }),
    bodyLimitBytes: env.MIR_BODY_LIMIT_BYTES,
    corsOrigins,
    uiDir: env.MIR_UI_DIR ? path.resolve(cwd, env.MIR_UI_DIR) : path.join(PACKAGE_ROOT, 'build', 'ui'),
    shutdownTimeoutMs: env.MIR_SHUTDOWN_TIMEOUT_SECONDS * 1000,
    logLevel: env.LOG_LEVEL,
    provider,
    deployments: Object.freeze({ staleAfterMs: env.MIR_INSTANCE_STALE_SECONDS * 1000, driftCheckMs: env.MIR_DRIFT_CHECK_SECONDS * 1000 }),
    webhooks: Object.freeze({
      pollMs: env.MIR_WEBHOOK_POLL_MS,
      timeoutMs: env.MIR_WEBHOOK_TIMEOUT_MS,
      maxAttempts: env.MIR_WEBHOOK_MAX_ATTEMPTS,
      retryBaseMs: env.MIR_WEBHOOK_RETRY_BASE_MS,
      retryMaxMs: Math.max(env.MIR_WEBHOOK_RETRY_MAX_MS, env.MIR_WEBHOOK_RETRY_BASE_MS),
      retentionMs: env.MIR_WEBHOOK_RETENTION_DAYS * 86_400_000,
    }),
    events: Object.freeze({
      pollMs: env.MIR_EVENTS_POLL_MS,
      heartbeatMs: env.MIR_EVENTS_HEARTBEAT_SECONDS * 1000,
      gapMs: env.MIR_EVENTS_GAP_SECONDS * 1000,
      maxStreams: env.MIR_EVENT_STREAMS_MAX,
    }),
  });
}

/**
 * The forge settings, and the git remote they imply: with a forge and no MIR_GIT_URL, the forge's
 * public clone URL (only when the API is the public one; GitHub Enterprise and self-managed GitLab
 * need MIR_GIT_URL); with no MIR_GIT_TOKEN, the forge token with the forge's conventional git user.
 */
function providerConfig(env: Env): { provider: ProviderConfig; git: { url: string | undefined; username: string | undefined; token: string | undefined } } {
  const git = { url: env.MIR_GIT_URL, username: env.MIR_GIT_USERNAME, token: env.MIR_GIT_TOKEN };
  const name = env.MIR_PROVIDER;
  if (name === 'builtin') {
    const stray = (['MIR_PROVIDER_API_URL', 'MIR_PROVIDER_REPOSITORY', 'MIR_PROVIDER_TOKEN', 'MIR_WEBHOOK_SECRET'] as const).filter(
      (key) => env[key] !== undefined,
    );
    if (stray.length > 0)
      throw new ConfigError(stray.map((key) => `${key}: only used with MIR_PROVIDER=github|gitlab|bitbucket|azure (MIR_PROVIDER is builtin)`));
    return { provider: Object.freeze({ name }), git };
  }
  const forge = FORGES[name];
  const problems: string[] = [];
  if (!env.MIR_PROVIDER_REPOSITORY) problems.push(`MIR_PROVIDER_REPOSITORY: required with MIR_PROVIDER=${name} (${forge.identity})`);
  else if (!forge.repository.test(env.MIR_PROVIDER_REPOSITORY)) {
    problems.push(`MIR_PROVIDER_REPOSITORY: must be ${forge.identity} for ${name} (got ${JSON.stringify(env.MIR_PROVIDER_REPOSITORY)})`);
  }
  if (!env.MIR_PROVIDER_TOKEN) problems.push(`MIR_PROVIDER_TOKEN: required with MIR_PROVIDER=${name}`);
  const apiUrl = (env.MIR_PROVIDER_API_URL ?? forge.apiUrl).replace(/\/+$/, '');
  if (!git.url && env.MIR_PROVIDER_API_URL && apiUrl !== forge.apiUrl) {
    problems.push(`MIR_GIT_URL: required with MIR_PROVIDER=${name} on a non-public MIR_PROVIDER_API_URL (the forge's clone URL of the repository)`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const repository = env.MIR_PROVIDER_REPOSITORY!;
  const token = env.MIR_PROVIDER_TOKEN!;
  return {
    provider: Object.freeze({ name, apiUrl, repository, token, webhookSecret: env.MIR_WEBHOOK_SECRET, pollSeconds: env.MIR_PROVIDER_POLL_SECONDS }),
    git: {
      url: git.url ?? forge.gitUrl(repository),
      username: git.username ?? (git.token ? undefined : forge.gitUsername),
      token: git.token ?? token,
    },
  };
}

const SECRET_VARIABLES = new Set(['DATABASE_URL', 'MIR_GIT_TOKEN', 'MIR_GIT_URL', 'MIR_PROVIDER_TOKEN', 'MIR_WEBHOOK_SECRET', 'MIR_PROVIDER_API_URL']);

function describe(variable: string, value: string | undefined, reason: string): string {
  const schema = (EnvSchema.properties as Record<string, { enum?: readonly string[]; pattern?: string; minimum?: number; maximum?: number; type?: string }>)[
    variable
  ];
  let expected = reason;
  if (schema?.enum) expected = `must be one of ${schema.enum.join(', ')}`;
  else if (schema?.type === 'integer') expected = `must be an integer from ${schema.minimum} to ${schema.maximum}`;
  else if (schema?.pattern) expected = `must match ${schema.pattern}`;
  const shown = value === undefined || SECRET_VARIABLES.has(variable) ? '' : ` (got ${JSON.stringify(value)})`;
  return `${variable}: ${expected}${shown}`;
}
