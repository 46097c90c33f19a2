// Where the CLI finds mir and its token: MIR_URL and MIR_TOKEN, else a JSON config file
// (MIR_CONFIG, else $XDG_CONFIG_HOME/mir/config.json, else ~/.config/mir/config.json) holding
// `{"url": …, "token": …}`. The token is passed to the client and nowhere else: no message here
// or elsewhere in the CLI prints it.
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { errorCode, usageError } from './exit-codes.js';

export const DEFAULT_URL = 'http://127.0.0.1:3000';

export interface CliConfig {
  readonly url: string;
  readonly token: string | undefined;
  /** Warnings to print (a config file others can read). */
  readonly warnings: readonly string[];
}

export interface ConfigSources {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly homeDir: string;
  /** --url, which wins over everything. */
  readonly url?: string | undefined;
}

export function configFilePath(sources: ConfigSources): string {
  const { env } = sources;
  if (env.MIR_CONFIG) return env.MIR_CONFIG;
  const base = env.XDG_CONFIG_HOME || path.join(sources.homeDir, '.config');
  return path.join(base, 'mir', 'config.json');
}

export function loadCliConfig(sources: ConfigSources): CliConfig {
  const file = configFilePath(sources);
  const fromFile = readConfigFile(file, Boolean(sources.env.MIR_CONFIG));
  const warnings: string[] = [];
  const url = sources.url ?? (sources.env.MIR_URL || undefined) ?? fromFile.url ?? DEFAULT_URL;
  checkUrl(url);
  const token = (sources.env.MIR_TOKEN || undefined) ?? fromFile.token;
  if (fromFile.token !== undefined && fromFile.readableByOthers) warnings.push(`${file} holds a token and others can read it: chmod 600 ${file}`);
  return { url, token, warnings };
}

interface FileConfig {
  url?: string;
  token?: string;
  readableByOthers: boolean;
}

function readConfigFile(file: string, named: boolean): FileConfig {
  let text: string;
  let mode: number;
  try {
    text = readFileSync(file, 'utf8');
    mode = statSync(file).mode;
  } catch (error) {
    if (!named && errorCode(error) === 'ENOENT') return { readableByOthers: false };
    throw usageError(`cannot read the config file ${file}: ${errorCode(error) ?? String(error)}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw usageError(`the config file ${file} is not JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw usageError(`the config file ${file} must hold a JSON object`);
  const config: FileConfig = { readableByOthers: (mode & 0o077) !== 0 };
  for (const [key, value] of Object.entries(parsed)) {
    if (key !== 'url' && key !== 'token') throw usageError(`the config file ${file}: unknown key "${key}" (it takes url and token)`);
    if (typeof value !== 'string' || value === '') throw usageError(`the config file ${file}: ${key} must be a non-empty string`);
    config[key] = value;
  }
  return config;
}

function checkUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw usageError('the mir URL (--url, MIR_URL or the config file) is not a URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw usageError('the mir URL must be http: or https:');
  // Credentials in a URL end up in error messages and logs; mir takes a bearer token instead.
  if (parsed.username || parsed.password) throw usageError('the mir URL must not carry credentials: set MIR_TOKEN');
}
