// `npm run migrate`: apply pending migrations to the configured database and exit.
import { mkdir } from 'node:fs/promises';
import { ConfigError, loadConfig } from '../config.js';
import { openDatabase } from './client.js';
import { migrate } from './migrator.js';

try {
  const config = loadConfig(process.env);
  await mkdir(config.dataDir, { recursive: true });
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    const result = await migrate(database);
    process.stdout.write(
      result.applied.length > 0 ? `applied ${result.applied.join(', ')}; schema version ${result.current}\n` : `up to date; schema version ${result.current}\n`,
    );
  } finally {
    await database.close();
  }
} catch (error) {
  const lines = error instanceof ConfigError ? error.problems.map((p) => `invalid configuration: ${p}`) : [(error as Error).message];
  for (const line of lines) process.stderr.write(`mir migrate: ${line}\n`);
  process.exitCode = 1;
}
