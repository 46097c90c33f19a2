// `mir serve` is the server, every other `mir` command the client: the one bin package.json
// installs (`npx mir` in a checkout, no build needed) starts mir on its embedded defaults, and the
// CLI reads it with the admin token that start wrote.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { CHILD_ENV } from '../helpers/child.js';
import { createTestDatabase } from '../helpers/database.js';
import { cliEnv, runMir } from '../helpers/mir-cli.js';
import { freePort } from '../helpers/replica.js';

const BIN = new URL('../../bin/mir.js', import.meta.url);

t.test('package.json: the mir bin is bin/mir.js, an executable that runs the CLI', async (t) => {
  const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8'));
  t.same(pkg.bin, { mir: 'bin/mir.js' });
  t.equal((await stat(BIN)).mode & 0o111, 0o111, 'executable');
  t.match(await readFile(new URL('../../src/cli/main.ts', import.meta.url), 'utf8'), /^#!\/usr\/bin\/env node\n/, 'the build is executable too');
});

t.test('mir serve starts the server; mir status reads it; SIGTERM stops it cleanly', async (t) => {
  const database = await createTestDatabase({ migrated: false });
  t.teardown(() => database.dispose());
  if (!database.databaseUrl) await database.handle.close(); // PGlite: the server process owns the data dir
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env = { PORT: String(port), MIR_DATA_DIR: database.dataDir, LOG_LEVEL: 'warn', DATABASE_URL: database.databaseUrl };
  // The bin itself, as `npx mir serve` runs it (its tsx has no source maps for coverage: child.ts).
  const server = spawn(fileURLToPath(BIN), ['serve'], { env: cliEnv({ ...env, ...CHILD_ENV }), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  server.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  server.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = once(server, 'exit');
  t.teardown(() => server.kill('SIGKILL'));

  let ready = false;
  for (let i = 0; i < 600 && !ready && server.exitCode === null; i++) {
    ready = await fetch(`${url}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (!ready) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  t.ok(ready, `ready: ${output}`);

  const token = (await readFile(path.join(database.dataDir, 'admin-token'), 'utf8')).trim();
  const status = await runMir(['status'], { MIR_URL: url, MIR_TOKEN: token });
  t.equal(status.code, 0, status.stderr);
  t.match(status.stdout, /^no protected apps or workflows\n/, 'the embedded repository starts empty');

  server.kill('SIGTERM');
  const [code] = await exited;
  t.equal(code, 0, `a clean exit: ${output}`);
});
