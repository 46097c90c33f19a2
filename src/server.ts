#!/usr/bin/env node
// The process: load config, open the database, migrate, build the app, listen, and close
// gracefully on SIGTERM/SIGINT (stop accepting, finish in-flight requests, close the database).
import { mkdir } from 'node:fs/promises';
import { buildApp } from './app.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { openDatabase } from './db/client.js';
import { createAdvisoryLock } from './db/lock.js';
import { migrate } from './db/migrator.js';
import { createGitWorker } from './git/git-worker.js';
import { createLogger } from './logger.js';

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
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  const migrations = await migrate(database);
  logger.info({ applied: migrations.applied, schema_version: migrations.current, database: database.kind }, 'database ready');

  const git = createGitWorker({
    git: config.git,
    dataDir: config.dataDir,
    lock: createAdvisoryLock(database, 'mir:repository'),
    logger: logger.child({ component: 'git' }),
  });
  await git.start();
  logger.info({ mode: git.mode, default_branch: git.defaultBranch, head: await git.headCommit() }, 'repository ready');
  const provider = config.provider;
  logger.info(provider.name === 'builtin' ? { provider: 'builtin' } : { provider: provider.name, api_url: provider.apiUrl, repository: provider.repository, webhooks: provider.webhookSecret !== undefined, poll_seconds: provider.pollSeconds }, 'pull request provider');

  const app = await buildApp({ config, database, git, logger });
  const tokenFile = await app.services.tokens.bootstrapAdmin(config.dataDir);
  if (tokenFile) logger.info({ path: tokenFile }, 'created the first admin token; read it from this file (mode 0600)');

  let closing = false;
  const close = async (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'shutting down: no new connections, finishing requests in flight');
    const timer = setTimeout(() => {
      logger.error({ timeout_ms: config.shutdownTimeoutMs }, 'shutdown timed out; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs).unref();
    try {
      await app.close();
      await git.close();
      await database.close();
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
}

main().catch((error: unknown) => {
  process.stderr.write(`mir: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
