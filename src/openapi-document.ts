// The OpenAPI document of the built app. It depends on the route schemas only: the app is built
// on a database handle that is never connected to (pg connects lazily) and a git gateway that is
// never started, and it never listens.
import os from 'node:os';
import { buildApp } from './app.js';
import { loadConfig } from './config.js';
import { openDatabase } from './db/client.js';
import { Mutex } from './runtime/mutex.js';
import { createGitGateway } from './git/gateway.js';
import { createLogger } from './logger.js';

export const OPENAPI_PATH = new URL('../openapi/openapi.json', import.meta.url);

export async function generateOpenApiDocument(): Promise<string> {
  const config = loadConfig({ MIR_DATA_DIR: os.tmpdir(), LOG_LEVEL: 'silent' });
  const database = await openDatabase({ databaseUrl: 'postgres://openapi@127.0.0.1:1/unused', dataDir: config.dataDir });
  const logger = createLogger({ level: 'silent' });
  // Never started: building the app reads no repository.
  const git = createGitGateway({ git: config.git, dataDir: config.dataDir, lock: new Mutex(), logger });
  const app = await buildApp({ config, database, git, logger });
  try {
    await app.ready();
    return `${JSON.stringify(app.swagger(), null, 2)}\n`;
  } finally {
    await app.close();
    await database.close();
  }
}
