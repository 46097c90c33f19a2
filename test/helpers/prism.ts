// Validating mocks of the forges' APIs: `prism mock` serves each forge's own API description on
// 127.0.0.1 from its static examples and answers a request the description rejects with 422 (or
// 401 for missing credentials), naming what is wrong in an `sl-violations` header or its problem
// body. Not `--errors`: that also fails the mock's own answers wherever a forge's examples do not
// match its schemas, which says nothing about our requests. Started once per test file, in
// parallel, and stopped in teardown.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Test } from 'tap';

export type Forge = 'github' | 'gitlab' | 'bitbucket' | 'azure';

export const FORGE_SPECS: Record<Forge, string> = {
  github: 'github.pulls.openapi.json',
  gitlab: 'gitlab.merge-requests.openapi.json',
  bitbucket: 'bitbucket.pullrequests.openapi.json',
  azure: 'azure.pullrequests.openapi.json',
};

export interface PrismMock {
  readonly forge: Forge;
  /** http://127.0.0.1:<port> */
  readonly url: string;
  /** Requests the mock answered, with status and violations (from its log). */
  readonly log: string[];
}

/** What the mock found wrong with a request: the sl-violations header, or its problem body's `validation`. */
export async function violations(response: Response): Promise<string> {
  const header = response.headers.get('sl-violations');
  if (header) return header;
  const body = (await response.json().catch(() => ({}))) as { validation?: unknown };
  return JSON.stringify(body.validation ?? []);
}

const PRISM = fileURLToPath(new URL('../../node_modules/@stoplight/prism-cli/dist/index.js', import.meta.url));
const START_TIMEOUT_MS = 60_000;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function startOne(forge: Forge): Promise<{ mock: PrismMock; child: ChildProcess }> {
  const spec = fileURLToPath(new URL(`../contracts/forges/${FORGE_SPECS[forge]}`, import.meta.url));
  const port = await freePort();
  const child = spawn(process.execPath, [PRISM, 'mock', spec, '--host', '127.0.0.1', '--port', String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    // Without tap's loader hooks (NODE_OPTIONS), which would instrument the mock too and make it start ten times slower.
    env: Object.fromEntries(Object.entries(process.env).filter(([key]) => key !== 'NODE_OPTIONS' && !key.startsWith('_TAPJS'))),
  });
  const log: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`prism (${forge}) did not start within ${START_TIMEOUT_MS} ms:\n${log.join('')}`)), START_TIMEOUT_MS);
    const onData = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      log.push(text);
      if (text.includes('Prism is listening')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`prism (${forge}) exited with ${code}:\n${log.join('')}`));
    });
  });
  return { mock: { forge, url: `http://127.0.0.1:${port}`, log }, child };
}

/** Starts the mocks for `forges` in parallel; they stop when `t` ends. */
export async function startPrismMocks<F extends Forge>(t: Test, forges: readonly F[]): Promise<Record<F, PrismMock>> {
  const started = await Promise.allSettled(forges.map((forge) => startOne(forge)));
  const children = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value.child] : []));
  t.teardown(async () => {
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
          }),
      ),
    );
  });
  const failed = started.find((result) => result.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
  return Object.fromEntries(
    started.map((result) => [
      (result as PromiseFulfilledResult<{ mock: PrismMock }>).value.mock.forge,
      (result as PromiseFulfilledResult<{ mock: PrismMock }>).value.mock,
    ]),
  ) as Record<F, PrismMock>;
}
