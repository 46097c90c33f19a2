// The `mir` command line: `runMir` runs it as a user does, src/cli/main.ts in a process of its own,
// with its own environment (none of the test process's MIR_* variables), answering its exit code and
// what it printed on each stream; `runMirHere` runs the same command line (runCli, all of main.ts
// but the process's streams) in this process, which the fixture below uses: a CLI child cost ~0.5
// CPU-s to start and the CLI tests make about a hundred runs. test/cli/serve.test.ts runs the bin.
// And a fixture of a real mir on 127.0.0.1 to run it against.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { Test } from 'tap';
import { buildTestApp } from './app.js';
import { commitFiles, element, manifestName, manifestYaml, seed, type FixtureElement } from './repo-fixture.js';
import { runCli } from '../../src/cli/program.js';
import { packageVersion } from '../../src/cli/version.js';
import { TS_NODE_ARGS } from './child.js';

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

const ROOT = new URL('../../', import.meta.url);
const VERSION = packageVersion();

/** The environment a CLI child gets: PATH, tap's own variables (coverage), and what the test says. */
export function cliEnv(env: Record<string, string | undefined>): Record<string, string> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('MIR_') && k !== 'XDG_CONFIG_HOME'));
  return Object.fromEntries(Object.entries({ ...inherited, ...env }).filter((e): e is [string, string] => e[1] !== undefined));
}

/** `mir <args>` started with the loader tap loads the tests with (child.ts). */
export function spawnMir(args: readonly string[], env: Record<string, string | undefined>): ChildProcessByStdio<null, Readable, Readable> {
  return spawn(process.execPath, [...TS_NODE_ARGS, 'src/cli/main.ts', ...args], {
    cwd: ROOT,
    env: cliEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

export async function runMir(args: readonly string[], env: Record<string, string | undefined>): Promise<CliRun> {
  const child = spawnMir(args, env);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stdout, stderr };
}

/** `mir <args>` in this process, with only `env` (as cliEnv makes it) for its environment. */
export async function runMirHere(args: readonly string[], env: Record<string, string | undefined>): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const environment = cliEnv(env);
  const code = await runCli(
    args,
    {
      env: environment,
      homeDir: environment.HOME ?? os.homedir(),
      userAgent: `mir-cli/${VERSION} node/${process.versions.node}`,
      stdout: (text) => void (stdout += text),
      stderr: (text) => void (stderr += text),
    },
    VERSION,
  );
  return { code, stdout, stderr };
}

export interface CliFixture {
  readonly url: string;
  /** A token with releases_write and write: every command's scope. */
  readonly token: string;
  /** An admin token (overrides, lifts), another actor than `token`'s. */
  readonly adminToken: string;
  readonly home: string;
  readonly app: FixtureElement;
  readonly flow: FixtureElement;
  readonly prod: string;
  readonly uat: string;
  /** Every run so far, for the check that the token never shows. */
  readonly runs: CliRun[];
  /** `mir <args>` with MIR_URL and MIR_TOKEN set (an env value undefined removes the variable). */
  mir(args: readonly string[], env?: Record<string, string | undefined>): Promise<CliRun>;
  /** Runs it, asserts exit 0, answers stdout. */
  ok(t: Test, args: readonly string[], env?: Record<string, string | undefined>): Promise<string>;
  /** `mir --json <args>`, asserts exit 0, answers stdout parsed. */
  json(t: Test, args: readonly string[], env?: Record<string, string | undefined>): Promise<any>;
  tokenNeverPrinted(t: Test): void;
}

export interface CliFixtureOptions {
  readonly appReleases?: string[];
  readonly prodRelease?: string;
  /** Files committed to the default branch after the seed (a uat manifest with entries, a policy…). */
  readonly files?: (seeded: { app: FixtureElement; flow: FixtureElement; prod: string; uat: string }) => Record<string, string>;
}

/**
 * A mir listening on 127.0.0.1 with an app (releases `appReleases`) and a workflow (0.1.0), and
 * manifests prod (the app at `prodRelease`) and uat (empty), then `files`; a HOME of its own for the CLI.
 */
export async function cliFixture(t: Test, options: CliFixtureOptions = {}): Promise<CliFixture> {
  const ctx = await buildTestApp(t);
  await ctx.app.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${(ctx.app.server.address() as AddressInfo).port}`;
  const app = element('PAGE', options.appReleases ?? ['1.0.0']);
  const flow = element('WORKFLOW', ['0.1.0']);
  const [prod, uat] = [manifestName('prod'), manifestName('uat')];
  const prodEntries: [string, string][] = [[app.uuid, options.prodRelease ?? '1.0.0']];
  await seed(ctx.git, { elements: [app, flow], manifests: { [prod]: manifestYaml(prod, { apps: prodEntries }), [uat]: manifestYaml(uat) } });
  if (options.files) await commitFiles(ctx.git, options.files({ app, flow, prod, uat }));
  const token = await ctx.tokenFor('source_control:releases_write', 'source_control:write');
  const home = await mkdtemp(path.join(os.tmpdir(), 'mir-cli-home-'));
  t.teardown(() => rm(home, { recursive: true, force: true }));
  const runs: CliRun[] = [];
  const fixture: CliFixture = {
    url,
    token,
    adminToken: ctx.adminToken,
    home,
    app,
    flow,
    prod,
    uat,
    runs,
    async mir(args, env = {}) {
      const result = await runMirHere(args, { HOME: home, MIR_URL: url, MIR_TOKEN: token, ...env });
      runs.push(result);
      return result;
    },
    async ok(t, args, env) {
      const result = await fixture.mir(args, env);
      t.equal(result.code, 0, `mir ${args.join(' ')}: ${result.stderr}`);
      return result.stdout;
    },
    async json(t, args, env) {
      const result = await fixture.mir(['--json', ...args], env);
      t.equal(result.code, 0, `mir --json ${args.join(' ')}: ${result.stderr}`);
      return JSON.parse(result.stdout);
    },
    tokenNeverPrinted(t) {
      t.ok(runs.length > 0, `${runs.length} runs`);
      const secrets = [token, ctx.adminToken];
      const shown = runs.filter((run) => secrets.some((secret) => run.stdout.includes(secret) || run.stderr.includes(secret)));
      t.same(shown, [], 'no token is in any stdout or stderr');
    },
  };
  return fixture;
}
