// The real app on a fresh database for one test file (or one test), closed in teardown.
import { Writable } from 'node:stream';
import type { Test } from 'tap';
import { buildApp, type App, type AppDeps } from '../../src/app.js';
import { createAdvisoryLock } from '../../src/db/lock.js';
import { createGitGateway } from '../../src/git/gateway.js';
import type { GitGateway } from '../../src/git/types.js';
import { loadConfig, type Config } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import type { Scope } from '../../src/tokens/scopes.js';
import { createTestDatabase, type TestDatabase } from './database.js';

export interface TestApp {
  readonly app: App;
  readonly config: Config;
  readonly database: TestDatabase;
  readonly git: GitGateway;
  /** A token with every scope. */
  readonly adminToken: string;
  /** Log lines the app wrote, parsed (only when `captureLogs` was asked for). */
  readonly logs: Record<string, unknown>[];
  /** A new token with exactly these scopes. */
  tokenFor(...scopes: Scope[]): Promise<string>;
  /** `Authorization` header for a token. */
  auth(token?: string): { authorization: string };
}

export interface TestAppOptions {
  readonly env?: Record<string, string>;
  readonly captureLogs?: boolean;
  readonly services?: AppDeps['services'];
  /** The app's clock (policy time); unset: the system clock. */
  readonly clock?: () => Date;
}

const SYSTEM = { name: 'test', email: 'test@mir.invalid', tokenId: null, requestId: null };

export async function buildTestApp(t: Test, options: TestAppOptions = {}): Promise<TestApp> {
  const database = await createTestDatabase({ reuse: true });
  // No background webhook dispatcher or drift evaluator: tests run them by hand, on their clock.
  const config = loadConfig({
    MIR_DATA_DIR: database.dataDir,
    LOG_LEVEL: options.captureLogs ? 'debug' : 'silent',
    MIR_WEBHOOK_POLL_MS: '0',
    MIR_DRIFT_CHECK_SECONDS: '0',
    ...options.env,
  });
  const logs: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const logger = createLogger({ level: config.logLevel, destination });
  const git = createGitGateway({
    git: config.git,
    dataDir: config.dataDir,
    lock: createAdvisoryLock(database.handle, 'mir:repository'),
    logger: logger.child({ component: 'git' }),
  });
  await git.start();
  const app = await buildApp({
    config,
    database: database.handle,
    git,
    logger,
    ...(options.services ? { services: options.services } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
  });
  t.teardown(async () => {
    await app.close();
    await git.close();
    await database.dispose();
  });
  const tokenFor = async (...scopes: Scope[]) =>
    (await app.services.tokens.create({ name: `test-${scopes.join('-') || 'none'}`.slice(0, 100), scopes }, SYSTEM)).token;
  const adminToken = await tokenFor('admin');
  return {
    app,
    config,
    database,
    git,
    adminToken,
    logs,
    tokenFor,
    auth: (token = adminToken) => ({ authorization: `Bearer ${token}` }),
  };
}
