// The real process: `src/server.ts` started as `npm start` would, on embedded defaults or on the
// test PostgreSQL, then stopped with SIGTERM while a request is in flight.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { stat, readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import t from 'tap';
import { CHILD_ENV, TS_NODE_ARGS } from './helpers/child.js';
import { createTestDatabase } from './helpers/database.js';

async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  server.close();
  return port;
}

function startServer(env: Record<string, string>): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [...TS_NODE_ARGS, 'src/server.ts'], {
    env: { PATH: process.env.PATH ?? '', ...CHILD_ENV, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return { child, output: () => output, exited };
}

async function waitReady(base: string, exited: Promise<unknown>): Promise<void> {
  let done = false;
  void exited.then(() => (done = true));
  for (let i = 0; i < 300 && !done; i++) {
    try {
      if ((await fetch(`${base}/readyz`)).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('the server did not become ready');
}

t.test('a bad variable stops the start with one line naming it', async (t) => {
  const { exited, output } = startServer({ PORT: 'abc' });
  const code = await exited;
  t.not(code, 0);
  const lines = output().trim().split('\n');
  t.equal(lines.length, 1, output());
  t.match(lines[0], /PORT/);
});

t.test('starts, writes the admin token, serves, and shuts down gracefully', async (t) => {
  const database = await createTestDatabase({ migrated: false });
  t.teardown(() => database.dispose());
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const server = startServer({
    PORT: String(port),
    MIR_DATA_DIR: database.dataDir,
    ...(database.databaseUrl ? { DATABASE_URL: database.databaseUrl } : {}),
  });
  t.teardown(() => server.child.kill('SIGKILL'));
  if (!database.databaseUrl) await database.handle.close(); // PGlite: the server process owns the data dir
  await waitReady(base, server.exited);
  // Background work (webhook dispatch, drift, forge sync) starts once migrations are done: started at
  // listen, its first round failed against tables not created yet.
  // Nor is a readiness probe answered 503 while starting an error (waitReady polls from the start).
  const failures = server
    .output()
    .split('\n')
    .filter((line) => /"level":[56]0/.test(line) || (/"level":40/.test(line) && /failed|does not exist/.test(line)));
  t.same(failures, [], 'nothing failed while starting');

  const file = path.join(database.dataDir, 'admin-token');
  t.equal((await stat(file)).mode & 0o777, 0o600);
  const token = (await readFile(file, 'utf8')).trim();
  t.match(server.output(), file, 'the path is logged');
  t.notMatch(server.output(), token, 'the token is not');
  const list = await fetch(`${base}/api/v2/tokens`, { headers: { authorization: `Bearer ${token}` } });
  t.equal(list.status, 200);
  t.match(await list.json(), { success: true, data: { tokens: [{ name: 'admin', scopes: ['admin'] }] } });
  t.equal((await fetch(`${base}/docs/`)).status, 200);

  // A request in flight when SIGTERM arrives: its body is half sent.
  const body = JSON.stringify({ name: 'in-flight', scopes: ['source_control:read'] });
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  let response = '';
  socket.on('data', (chunk) => (response += chunk));
  socket.write(
    `POST /api/v2/tokens HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body.slice(0, 10)}`,
  );
  await new Promise((resolve) => setTimeout(resolve, 200));
  server.child.kill('SIGTERM');
  await new Promise((resolve) => setTimeout(resolve, 300));
  await t.rejects(fetch(`${base}/healthz`), 'no new connections once shutting down');
  socket.write(body.slice(10)); // not end(): a half-closed request socket is an aborted request to Node
  await once(socket, 'close');
  t.match(response, /^HTTP\/1\.1 201/, 'the request in flight completes');
  t.equal(await server.exited, 0);
  t.match(server.output(), /shut down cleanly/);
});
