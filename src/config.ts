// Configuration: one TypeBox schema over the environment, parsed once at start, frozen, and
// injected. No other module reads process.env.
import path from 'node:path';
import Type, { type Static } from 'typebox';
import Value from 'typebox/value';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** The environment this service reads (DESIGN §7). Every variable is optional. */
export const EnvSchema = Type.Object({
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3000, description: 'TCP port to listen on' }),
  HOST: Type.String({ minLength: 1, default: '127.0.0.1', description: 'Address to listen on' }),
  DATABASE_URL: Type.Optional(
    Type.String({ pattern: '^postgres(ql)?://', description: 'PostgreSQL URL; unset: embedded PGlite under the data dir' }),
  ),
  MIR_DATA_DIR: Type.String({ minLength: 1, default: './data', description: 'Where the embedded database, repository and admin token live' }),
  MIR_GIT_URL: Type.Optional(Type.String({ pattern: '^https?://', description: 'http(s) URL of the source control repository; unset: embedded' })),
  MIR_GIT_USERNAME: Type.Optional(Type.String({ minLength: 1 })),
  MIR_GIT_TOKEN: Type.Optional(Type.String({ minLength: 1 })),
  MIR_GIT_DEFAULT_BRANCH: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$', default: 'main' }),
  MIR_GIT_POLL_SECONDS: Type.Integer({ minimum: 0, maximum: 86_400, default: 30, description: '0 disables polling' }),
  MIR_BRANCH_PREFIX: Type.String({ pattern: '^([A-Za-z0-9][A-Za-z0-9._-]*/)*$', default: 'mir/' }),
  MIR_PUBLIC_URL: Type.Optional(Type.String({ pattern: '^https?://[^\\s]+$', description: 'Base URL clients use to reach this service' })),
  MIR_BODY_LIMIT_BYTES: Type.Integer({ minimum: 1024, maximum: 1_073_741_824, default: 1_048_576 }),
  MIR_SHUTDOWN_TIMEOUT_SECONDS: Type.Integer({ minimum: 1, maximum: 3600, default: 30 }),
  LOG_LEVEL: Type.Enum([...LOG_LEVELS], { default: 'info' }),
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
  readonly bodyLimitBytes: number;
  readonly shutdownTimeoutMs: number;
  readonly logLevel: (typeof LOG_LEVELS)[number];
}

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
  return Object.freeze({
    port: env.PORT,
    host: env.HOST,
    databaseUrl: env.DATABASE_URL,
    dataDir: path.resolve(cwd, env.MIR_DATA_DIR),
    git: Object.freeze({
      url: env.MIR_GIT_URL,
      username: env.MIR_GIT_USERNAME,
      token: env.MIR_GIT_TOKEN,
      defaultBranch: env.MIR_GIT_DEFAULT_BRANCH,
      pollSeconds: env.MIR_GIT_POLL_SECONDS,
      branchPrefix: env.MIR_BRANCH_PREFIX,
    }),
    publicUrl: env.MIR_PUBLIC_URL?.replace(/\/+$/, ''),
    bodyLimitBytes: env.MIR_BODY_LIMIT_BYTES,
    shutdownTimeoutMs: env.MIR_SHUTDOWN_TIMEOUT_SECONDS * 1000,
    logLevel: env.LOG_LEVEL,
  });
}

const SECRET_VARIABLES = new Set(['DATABASE_URL', 'MIR_GIT_TOKEN', 'MIR_GIT_URL']);

function describe(variable: string, value: string | undefined, reason: string): string {
  const schema = (EnvSchema.properties as Record<string, { enum?: readonly string[]; pattern?: string; minimum?: number; maximum?: number; type?: string }>)[variable];
  let expected = reason;
  if (schema?.enum) expected = `must be one of ${schema.enum.join(', ')}`;
  else if (schema?.type === 'integer') expected = `must be an integer from ${schema.minimum} to ${schema.maximum}`;
  else if (schema?.pattern) expected = `must match ${schema.pattern}`;
  const shown = value === undefined || SECRET_VARIABLES.has(variable) ? '' : ` (got ${JSON.stringify(value)})`;
  return `${variable}: ${expected}${shown}`;
}
