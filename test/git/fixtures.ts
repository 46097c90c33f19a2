// Shared set-up for the git gateway tests.
import type { Config } from '../../src/config.js';
import { createGitGateway, type GitGatewayOptions } from '../../src/git/gateway.js';
import type { DatabaseHandle } from '../../src/db/client.js';
import { createAdvisoryLock } from '../../src/db/lock.js';
import { Mutex } from '../../src/runtime/mutex.js';
import type { GitGateway, Logger, WriteLock } from '../../src/git/types.js';

export interface LogLine {
  level: 'info' | 'warn' | 'error' | 'debug';
  obj: object;
  msg?: string;
}

export function createTestLogger(): Logger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: LogLine['level']) => (obj: object, msg?: string) => {
    lines.push({ level, obj, ...(msg === undefined ? {} : { msg }) });
  };
  return { lines, info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug') };
}

export function gitConfig(overrides: Partial<Config['git']> = {}): Config['git'] {
  return {
    url: undefined,
    username: undefined,
    token: undefined,
    defaultBranch: 'main',
    pollSeconds: 0,
    branchPrefix: 'mir/',
    ...overrides,
  };
}

export function makeGateway(options: { dataDir: string; git?: Partial<Config['git']>; lock?: WriteLock; logger?: Logger; httpTimeoutMs?: number }): GitGateway {
  const workerOptions: GitGatewayOptions = {
    dataDir: options.dataDir,
    git: gitConfig(options.git),
    lock: options.lock ?? new Mutex(),
    logger: options.logger ?? createTestLogger(),
    ...(options.httpTimeoutMs ? { httpTimeoutMs: options.httpTimeoutMs } : {}),
  };
  return createGitGateway(workerOptions);
}

export const author = { name: 'Ada Lovelace', email: 'ada@example.com' };
export const enc = (s: string) => new TextEncoder().encode(s);
export const dec = (b: Uint8Array | null) => (b === null ? null : new TextDecoder().decode(b));

/**
 * What each writer of the two-writer tests does, `count` times under the write lock: increment a
 * counter on the default branch, then add a file to the shared branch `mir/shared`. Were the lock
 * not held, interleaved writers would lose updates (or fail their compare-and-swap with 409).
 */
export async function writeConcurrently(gateway: GitGateway, id: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    await gateway.withWriteLock(async () => {
      const head = await gateway.headCommit();
      const n = Number(dec(await gateway.readFile({ ref: head, path: 'counter' })) ?? '0');
      // Give the other writer every chance to interleave, were the lock not held.
      await new Promise((r) => setTimeout(r, 2));
      const next = await gateway.commit({ parent: head, changes: [{ path: 'counter', bytes: enc(String(n + 1)) }], message: `${id} ${i}`, author });
      await gateway.fastForwardDefault({ from: head, to: next });

      const shared = await gateway.resolveRef('mir/shared');
      const tip = await gateway.commit({ parent: shared ?? next, changes: [{ path: `log/${id}-${i}`, bytes: enc('x') }], message: `${id} ${i}`, author });
      await gateway.pushBranch({ branch: 'mir/shared', commit: tip, expectedOld: shared });
    });
  }
}

export interface WriterInput {
  id: string;
  dataDir: string;
  url?: string;
  count: number;
  lockName: string;
}

/** One writer of the two-writer tests: its own gateway, under the database's advisory lock. */
export async function runWriterWorker(database: DatabaseHandle, input: WriterInput): Promise<void> {
  const gateway = makeGateway({ dataDir: input.dataDir, git: { url: input.url }, lock: createAdvisoryLock(database, input.lockName) });
  try {
    await gateway.start();
    await writeConcurrently(gateway, input.id, input.count);
  } finally {
    await gateway.close();
  }
}
