// GET /instances/{name}/releases — the hot read path every instance polls — against a bare Fastify
// route serving the same pre-serialized bytes, in the same run (issue 6). The repository is the
// large generated one (5,000 apps, 20,000 artifacts, 10 manifests; `prod` has 5,000 entries). The
// servers run in this process one at a time; the load comes from the autocannon CLI in its own
// process, so it does not compete with the server's event loop.
//
//   npx tsx bench/instances-bench.ts [--seconds 10] [--connections 16] [--no-write]
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Fastify from 'fastify';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/client.js';
import { createAdvisoryLock } from '../src/db/lock.js';
import { migrate } from '../src/db/migrator.js';
import { createGitGateway } from '../src/git/gateway.js';
import { createLogger } from '../src/logger.js';
import { generateRepo } from './generate-repo.js';
import { appendResults, machine, numberFlag, writeResults } from './results.js';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const SECONDS = numberFlag('seconds', 10);
const CONNECTIONS = numberFlag('connections', 16);

interface Load {
  requests: number;
  p99: number;
  p50: number;
  non2xx: number;
}

async function load(url: string, headers: Record<string, string>): Promise<Load> {
  const args = ['-j', '-c', String(CONNECTIONS), '-d', String(SECONDS)];
  for (const [name, value] of Object.entries(headers)) args.push('-H', `${name}=${value}`);
  const { stdout } = await run(path.join(here, '..', 'node_modules', '.bin', 'autocannon'), [...args, url], { maxBuffer: 64 * 1024 * 1024 });
  const result = JSON.parse(stdout) as { requests: { average: number }; latency: { p99: number; p50: number }; non2xx: number };
  return { requests: result.requests.average, p99: result.latency.p99, p50: result.latency.p50, non2xx: result.non2xx };
}

async function main(): Promise<void> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'mir-bench-instances-'));
  try {
    process.stdout.write('generating the repository…\n');
    const repo = await generateRepo({ root: path.join(work, 'gen') });
    const dataDir = path.join(work, 'data');
    await mkdir(dataDir, { recursive: true });
    await cp(repo.path, path.join(dataDir, 'repo.git'), { recursive: true });

    const config = loadConfig({
      MIR_DATA_DIR: dataDir,
      LOG_LEVEL: 'info',
      MIR_GIT_POLL_SECONDS: '0',
      ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {}),
    });
    const logger = createLogger({ level: 'info', destination: { write: () => {} } as never });
    const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir });
    await migrate(database);
    const git = createGitGateway({ git: config.git, dataDir, lock: createAdvisoryLock(database, 'mir:repository'), logger });
    await git.start();
    const app = await buildApp({ config, database, git, logger });
    const system = { name: 'bench', email: 'bench@example.com', tokenId: null, requestId: null };
    const { token } = await app.services.tokens.create({ name: 'bench', scopes: ['source_control:read'] }, system);
    await app.services.instances.create({ name: 'prod-eu', manifest: 'prod' }, system);

    const coldStart = performance.now();
    await app.services.instances.releases('prod-eu');
    const firstAnswerMs = performance.now() - coldStart;
    const warmStart = performance.now();
    const answer = await app.services.instances.releases('prod-eu');
    const warmAnswerMs = performance.now() - warmStart;
    await app.listen({ port: 0, host: '127.0.0.1' });
    const mirUrl = `http://127.0.0.1:${(app.server.address() as { port: number }).port}/api/v2/source_control/instances/prod-eu/releases`;
    const auth = { authorization: `Bearer ${token}` };

    const bare = Fastify({ logger: false });
    bare.get('/releases', (request, reply) => {
      reply.header('etag', answer.etag);
      if (request.headers['if-none-match'] === answer.etag) return reply.code(304).send();
      return reply.type('application/json; charset=utf-8').send(answer.body);
    });
    await bare.listen({ port: 0, host: '127.0.0.1' });
    const bareUrl = `http://127.0.0.1:${(bare.server.address() as { port: number }).port}/releases`;

    // Warm both, then measure each path against its bare twin back to back.
    await load(mirUrl, auth);
    await load(bareUrl, auth);
    const mir200 = await load(mirUrl, auth);
    const bare200 = await load(bareUrl, auth);
    const mir304 = await load(mirUrl, { ...auth, 'if-none-match': answer.etag });
    const bare304 = await load(bareUrl, { ...auth, 'if-none-match': answer.etag });
    const rss = process.memoryUsage().rss;
    await app.close();
    await bare.close();
    await git.close();
    await database.close();

    const ratio = (a: Load, b: Load) => (a.requests / b.requests).toFixed(2);
    const lines = [
      `## GET /instances/{name}/releases (${machine()})`,
      '',
      `Manifest \`prod\`: ${repo.uuids.length} entries; answer ${answer.body.length} bytes. Database: ${database.kind}.`,
      `autocannon, ${CONNECTIONS} connections, ${SECONDS} s per run, in its own process; servers in the bench process.`,
      '',
      '| path | mir req/s | bare Fastify req/s | ratio (target ≥ 0.50) | mir p50 / p99 ms | bare p50 / p99 ms |',
      '|---|---:|---:|---:|---:|---:|',
      `| 200 | ${mir200.requests.toFixed(0)} | ${bare200.requests.toFixed(0)} | **${ratio(mir200, bare200)}** | ${mir200.p50} / ${mir200.p99} | ${bare200.p50} / ${bare200.p99} |`,
      `| 304 | ${mir304.requests.toFixed(0)} | ${bare304.requests.toFixed(0)} | **${ratio(mir304, bare304)}** | ${mir304.p50} / ${mir304.p99} | ${bare304.p50} / ${bare304.p99} |`,
      '',
      `First answer after a new commit (resolve 5,000 entries, read and hash 5,000 artifacts, cache them): ${firstAnswerMs.toFixed(0)} ms; ` +
        `served from memory afterwards: ${warmAnswerMs.toFixed(2)} ms. Resident memory after the runs: ${(rss / 1024 / 1024).toFixed(0)} MiB. ` +
        `Non-2xx answers: mir 200-path ${mir200.non2xx}, 304-path ${mir304.non2xx} (304s count as non-2xx for autocannon).`,
      '',
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    if (writeResults) await appendResults('instances', lines.join('\n'));
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

await main();
