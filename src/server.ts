#!/usr/bin/env node
// The process: load config, take the data dir, open the database, build the app and listen; then
// start up (migrate, open the repository, first admin token) retrying transient faults while
// /readyz says why it waits; close gracefully on SIGTERM/SIGINT (stop accepting, finish requests
// in flight, close the repository and the database, release the data dir). Only configuration
// errors, and a data dir that another live process owns, end it.
import { mkdir } from 'node:fs/promises';
import { buildApp } from './app.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { openDatabase } from './db/client.js';
import { createAdvisoryLock } from './db/lock.js';
import { migrate } from './db/migrator.js';
import { createGitGateway } from './git/gateway.js';
import { createLogger } from './logger.js';
import { acquireDataDirLock, DataDirLockedError } from './runtime/data-dir-lock.js';
import { createStartup, StartupAborted } from './runtime/startup.js';

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const problem of error.problems) process.stderr.write(`mir: invalid configuration: ${problem}\n`);
    process.exit(78); // EX_CONFIG
  }

  const logger = createLogger({ level: config.logLevel });
  await mkdir(config.dataDir, { recursive: true });
  let dataDirLock;
  try {
    dataDirLock = await acquireDataDirLock(config.dataDir);
  } catch (error) {
    if (!(error instanceof DataDirLockedError)) throw error;
    process.stderr.write(`mir: ${error.message}\n`);
    process.exit(73); // EX_CANTCREAT
  }
  if (dataDirLock.tookOverFrom)
    logger.warn({ data_dir: config.dataDir, previous_owner: dataDirLock.tookOverFrom }, 'took over the data dir of a process that is gone');

  const startup = createStartup({ logger: logger.child({ component: 'startup' }) });
  const database = await openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    onConnectionError: (error) => logger.warn({ err: error }, 'a database connection failed; the pool replaces it'),
  });
  const git = createGitGateway({
    git: config.git,
    dataDir: config.dataDir,
    lock: createAdvisoryLock(database, 'mir:repository'),
    logger: logger.child({ component: 'git' }),
  });
  const app = await buildApp({ config, database, git, logger, startup });

  let closing = false;
  const close = async (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'shutting down: no new connections, finishing requests in flight');
    const timer = setTimeout(() => {
      logger.error({ timeout_ms: config.shutdownTimeoutMs }, 'shutdown timed out; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs).unref();
    startup.abort();
    try {
      await app.close();
      await git.close();
      await database.close();
      await dataDirLock.release();
      clearTimeout(timer);
      logger.info('shut down cleanly');
    } catch (error) {
      logger.error({ err: error }, 'shutdown failed');
      process.exitCode = 1;
    }
  };
  process.once('SIGTERM', () => void close('SIGTERM'));
  process.once('SIGINT', () => void close('SIGINT'));

  await app.listen({ port: config.port, host: config.host });

  try {
    const migrations = await startup.step('migrating the database', () => migrate(database));
    logger.info({ applied: migrations.applied, schema_version: migrations.current, database: database.kind }, 'database ready');
    await startup.step('opening the repository', () => git.start());
    logger.info({ mode: git.mode, default_branch: git.defaultBranch, head: await git.headCommit() }, 'repository ready');
    const provider = config.provider;
    logger.info(
      provider.name === 'builtin'
        ? { provider: 'builtin' }
        : {
            provider: provider.name,
            api_url: provider.apiUrl,
            repository: provider.repository,
            webhooks: provider.webhookSecret !== undefined,
            poll_seconds: provider.pollSeconds,
          },
      'pull request provider',
    );
    const tokenFile = await startup.step('creating the first admin token', () => app.services.tokens.bootstrapAdmin(config.dataDir));
    if (tokenFile) logger.info({ path: tokenFile }, 'created the first admin token; read it from this file (mode 0600)');
    startup.done();
    app.services.sweeper.start();
    app.services.warmer.start();
    await app.startBackground();
    logger.info({ port: config.port, host: config.host }, 'ready');
  } catch (error) {
    if (error instanceof StartupAborted) return;
    throw error;
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`mir: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
