// What every command gets: its output, and the client, made on first use from the configuration
// (so `--help` and usage errors need none). `send` turns an openapi-fetch answer into its data or
// a CliError whose exit code says what happened.
import type { Command } from 'commander';
import { createMirClient, type MirClient } from '../client/client.js';
import { loadCliConfig } from './config.js';
import { apiError, CliError, errorCode, EXIT, usageError } from './exit-codes.js';
import { createOutput, type Output, type Streams } from './output.js';

export interface CliEnvironment extends Streams {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly homeDir: string;
  readonly userAgent: string;
  /** Another fetch for the client (tests); Node's by default. */
  readonly fetch?: ((request: Request) => Promise<Response>) | undefined;
}

export interface GlobalOptions {
  readonly json?: boolean;
  readonly quiet?: boolean;
  readonly url?: string;
}

export interface Context {
  readonly out: Output;
  /** mir's origin, as configured. */
  url(): string;
  client(): MirClient;
  /** The answer as it is; a CliError (exit 5) when mir cannot be reached. */
  request<A>(pending: Promise<A>): Promise<A>;
  /** The data of a success answer; a CliError for anything else (404 → exit 4, 409 → 3…). */
  send<D extends { data: unknown }>(pending: Promise<{ data?: D; error?: unknown; response: Response }>): Promise<D['data']>;
}

/** Runs a command's action with the context its global options (--json, --quiet, --url) ask for. */
export type Run = (command: Command, action: (ctx: Context) => Promise<void>) => Promise<void>;

export function createContext(environment: CliEnvironment, options: GlobalOptions): Context {
  const out = createOutput(environment, { json: options.json ?? false, quiet: options.quiet ?? false });
  let config: ReturnType<typeof loadCliConfig> | undefined;
  let client: MirClient | undefined;
  const loaded = () => {
    if (!config) {
      config = loadCliConfig({ env: environment.env, homeDir: environment.homeDir, url: options.url });
      for (const warning of config.warnings) out.warn(warning);
    }
    return config;
  };
  const context: Context = {
    out,
    url: () => loaded().url,
    client() {
      if (client) return client;
      const { url, token } = loaded();
      if (token === undefined) throw usageError('no token: set MIR_TOKEN, or "token" in the config file (see `mir --help`)');
      client = createMirClient({ baseUrl: url, token, userAgent: environment.userAgent, fetch: environment.fetch });
      return client;
    },
    async request(pending) {
      try {
        return await pending;
      } catch (error) {
        throw unreachable(context.url(), error);
      }
    },
    async send(pending) {
      const answer = await context.request(pending);
      if (answer.data !== undefined && answer.response.ok) return answer.data.data;
      throw apiError(answer.response, answer.error);
    },
  };
  return context;
}

/** fetch's "fetch failed" names its reason only in `cause` (undici: ECONNREFUSED, ENOTFOUND…). */
function unreachable(url: string, error: unknown): CliError {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  const reason = cause instanceof Error ? (errorCode(cause) ?? cause.message) : String(cause);
  return new CliError(`cannot reach mir at ${url}: ${reason}`, EXIT.unavailable);
}
