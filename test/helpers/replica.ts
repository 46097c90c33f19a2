// A mir replica as operators run it: `src/server.ts` in a process of its own, with its own data
// dir and port, killed with SIGKILL and started again on the same data dir when a test says so.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { CHILD_ENV, TS_NODE_ARGS } from './child.js';

export async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  server.close();
  return port;
}

export interface Replica {
  readonly name: string;
  readonly base: string;
  readonly dataDir: string;
  /** Everything every run of the process printed. */
  output(): string;
  /** Exit codes of runs that ended by themselves (not by kill or stop). */
  readonly unexpectedExits: (number | null)[];
  start(): Promise<void>;
  /** SIGKILL, no warning: what a crash or an OOM kill does. */
  kill(): Promise<void>;
  /** SIGTERM, and waits for a clean exit. */
  stop(): Promise<void>;
  waitReady(timeoutMs?: number): Promise<void>;
  readonly running: boolean;
  adminToken(): Promise<string>;
  /** fetch() against the replica with a token; the body parsed as JSON when it is JSON. */
  call(
    method: string,
    url: string,
    options?: { token?: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<{ status: number; body: any; headers: Headers }>;
}

export interface ReplicaOptions {
  readonly name: string;
  readonly dataDir: string;
  readonly env: Record<string, string>;
  /** Before the loader's own, e.g. `--cpu-prof`. */
  readonly nodeArgs?: readonly string[];
  /**
   * V8 tiers PGlite's WebAssembly up to TurboFan as a server's Node does, rather than the tests'
   * `--liftoff-only` (child.ts): for benches, which must measure the process operators run.
   */
  readonly wasmTierUp?: boolean;
}

export async function createReplica(options: ReplicaOptions): Promise<Replica> {
  const loaderArgs = options.wasmTierUp ? TS_NODE_ARGS.filter((arg) => arg !== '--liftoff-only') : TS_NODE_ARGS;
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let output = '';
  let expectingExit = false;
  const unexpectedExits: (number | null)[] = [];
  let token: string | undefined;

  const replica: Replica = {
    name: options.name,
    base,
    dataDir: options.dataDir,
    output: () => output,
    unexpectedExits,
    get running() {
      return child !== undefined;
    },
    async start() {
      if (child) throw new Error(`${options.name} is running`);
      expectingExit = false;
      const proc = spawn(process.execPath, [...(options.nodeArgs ?? []), ...loaderArgs, 'src/server.ts'], {
        env: { PATH: process.env.PATH ?? '', ...CHILD_ENV, PORT: String(port), MIR_DATA_DIR: options.dataDir, LOG_LEVEL: 'warn', ...options.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child = proc;
      proc.stdout!.on('data', (chunk) => (output += chunk));
      proc.stderr!.on('data', (chunk) => (output += chunk));
      exited = once(proc, 'exit').then(([code]) => {
        if (!expectingExit) unexpectedExits.push(code as number | null);
        if (child === proc) child = undefined;
      });
    },
    async kill() {
      if (!child) return;
      expectingExit = true;
      child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (!child) return;
      expectingExit = true;
      child.kill('SIGTERM');
      await exited;
    },
    async waitReady(timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      let last = '';
      while (Date.now() < deadline) {
        if (!child) throw new Error(`${options.name} exited while starting:\n${output.slice(-2000)}`);
        try {
          const response = await fetch(`${base}/readyz`);
          last = await response.text();
          if (response.status === 200) return;
        } catch {
          // not listening yet
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error(`${options.name} was not ready within ${timeoutMs} ms (last /readyz: ${last}):\n${output.slice(-2000)}`);
    },
    async adminToken() {
      token ??= (await readFile(path.join(options.dataDir, 'admin-token'), 'utf8')).trim();
      return token;
    },
    async call(method, url, callOptions = {}) {
      const headers: Record<string, string> = { authorization: `Bearer ${callOptions.token ?? (await replica.adminToken())}`, ...callOptions.headers };
      if (callOptions.body !== undefined) headers['content-type'] = 'application/json';
      const response = await fetch(`${base}${url}`, {
        method,
        headers,
        ...(callOptions.body !== undefined ? { body: JSON.stringify(callOptions.body) } : {}),
        signal: AbortSignal.timeout(60_000),
      });
      const text = await response.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON
      }
      return { status: response.status, body, headers: response.headers };
    },
  };
  return replica;
}
