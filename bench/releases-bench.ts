// Release creation for an app of 200 files (build the zip, commit, push the branch, open the pull
// request) and GET /elements (the release matrix) on the large generated repository (5,000 apps,
// 20,000 artifacts, 10 manifests). Requests go through app.inject, so the numbers are the
// service's own latency without a network hop.
//
//   npx tsx bench/releases-bench.ts [--releases 20] [--requests 200] [--no-write]
import { cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { buildApp, type App } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { openDatabase, type DatabaseHandle } from '../src/db/client.js';
import { createAdvisoryLock } from '../src/db/lock.js';
import { migrate } from '../src/db/migrator.js';
import { createGitGateway } from '../src/git/gateway.js';
import type { GitGateway } from '../src/git/types.js';
import { createLogger } from '../src/logger.js';
import { generateRepo } from './generate-repo.js';
import { appendResults, machine, numberFlag, writeResults } from './results.js';

const RELEASES = numberFlag('releases', 20);
const REQUESTS = numberFlag('requests', 200);
const API = '/api/v2/source_control';
const SYSTEM = { name: 'bench', email: 'bench@example.com', tokenId: null, requestId: null };

interface Service {
  app: App;
  git: GitGateway;
  database: DatabaseHandle;
  token: string;
  close(): Promise<void>;
}

async function start(dataDir: string): Promise<Service> {
  const config = loadConfig({
    MIR_DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    MIR_GIT_POLL_SECONDS: '0',
    ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {}),
  });
  const logger = createLogger({ level: 'silent' });
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir });
  await migrate(database);
  const git = createGitGateway({ git: config.git, dataDir, lock: createAdvisoryLock(database, 'mir:repository'), logger });
  await git.start();
  const app = await buildApp({ config, database, git, logger });
  const { token } = await app.services.tokens.create({ name: 'bench', scopes: ['source_control:releases_write'] }, SYSTEM);
  return {
    app,
    git,
    database,
    token,
    close: async () => {
      await app.close();
      await git.close();
      await database.close();
    },
  };
}

function stats(samples: number[]): { p50: number; p90: number; p99: number; max: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted.at(-1)! };
}

const ms = (n: number) => n.toFixed(1);

async function timed(fn: () => Promise<{ statusCode: number; body: string }>): Promise<number> {
  const started = performance.now();
  const res = await fn();
  const elapsed = performance.now() - started;
  if (res.statusCode !== 200) throw new Error(`${res.statusCode}: ${res.body.slice(0, 300)}`);
  return elapsed;
}

async function releaseCreation(work: string): Promise<string[]> {
  const dataDir = path.join(work, 'small');
  await mkdir(dataDir, { recursive: true });
  const service = await start(dataDir);
  try {
    const uuid = '0d7c1c9e-4a8e-4d0c-9a57-2f2f6f1d8a11';
    const files = Array.from({ length: 200 }, (_, i) => ({
      path: `apps/big-app/${['components', 'queries', 'lib/util'][i % 3]}/f${i}.json`,
      bytes: new TextEncoder().encode(
        JSON.stringify({ id: i, body: `${'component '.repeat(40)}${i}`, props: Array.from({ length: 20 }, (_, j) => `p${i}-${j}`) }, null, 2),
      ),
    }));
    await service.git.withWriteLock(async () => {
      const head = await service.git.headCommit();
      const next = await service.git.commit({
        parent: head,
        changes: [{ path: '.retool/protected-apps.yaml', bytes: new TextEncoder().encode(`apps:\n  - uuid: ${uuid}\n    name: big-app\n`) }, ...files],
        message: 'Seed the benchmark app',
        author: SYSTEM,
      });
      await service.git.fastForwardDefault({ from: head, to: next });
    });
    const sourceBytes = files.reduce((n, f) => n + f.bytes.length, 0);
    const post =
      (query = '') =>
      () =>
        service.app.inject({
          method: 'POST',
          url: `${API}/releases/${uuid}?elementType=PAGE${query}`,
          headers: { authorization: `Bearer ${service.token}` },
          payload: { bump: 'patch', release_description: 'bench' },
        });
    await timed(post('&dry_run=true'));
    const dry: number[] = [];
    for (let i = 0; i < RELEASES; i++) dry.push(await timed(post('&dry_run=true')));
    const real: number[] = [];
    for (let i = 0; i < RELEASES; i++) real.push(await timed(post()));
    const listing = await service.app.inject({
      method: 'GET',
      url: `${API}/releases/${uuid}?elementType=PAGE`,
      headers: { authorization: `Bearer ${service.token}` },
    });
    const size = (listing.json().data[0] as { size: number }).size;
    const d = stats(dry);
    const r = stats(real);
    return [
      `### Release creation, an app of 200 files (${(sourceBytes / 1024).toFixed(0)} KiB of source, zip ${(size / 1024).toFixed(1)} KiB)`,
      '',
      `${RELEASES} sequential requests each; every real one leaves a pending pull request, so later ones also read more open pull requests.`,
      '',
      '| request | p50 ms | p90 ms | max ms |',
      '|---|---:|---:|---:|',
      `| \`POST /releases/{uuid}?dry_run=true\` (read folder, build zip, sha256) | ${ms(d.p50)} | ${ms(d.p90)} | ${ms(d.max)} |`,
      `| \`POST /releases/{uuid}\` (… + commit, push branch, pull request row, audit) | ${ms(r.p50)} | ${ms(r.p90)} | ${ms(r.max)} |`,
      '',
    ];
  } finally {
    await service.close();
  }
}

async function matrix(work: string): Promise<string[]> {
  const repo = await generateRepo({ root: path.join(work, 'gen') });
  const dataDir = path.join(work, 'large');
  await mkdir(dataDir, { recursive: true });
  await cp(repo.path, path.join(dataDir, 'repo.git'), { recursive: true });
  const service = await start(dataDir);
  try {
    const get = (query: string) => () =>
      service.app.inject({ method: 'GET', url: `${API}/elements${query}`, headers: { authorization: `Bearer ${service.token}` } });
    const snapshotStarted = performance.now();
    const snapshot = await service.app.services.snapshots.latest();
    void snapshot.elements;
    for (const entry of snapshot.manifests.values()) void entry.file;
    const snapshotMs = performance.now() - snapshotStarted;
    const cold = await timed(get('?limit=100'));
    const series = async (query: string) => {
      const samples: number[] = [];
      for (let i = 0; i < REQUESTS; i++) samples.push(await timed(get(query)));
      return stats(samples);
    };
    const first = await series('?limit=100');
    const big = await series('?limit=1000');
    const filtered = await series('?name=app-049&limit=100');
    // The last page: the cursor skips 4,900 elements.
    let cursor: string | null = null;
    for (let i = 0; i < 49; i++) {
      const page = await get(`?limit=100${cursor ? `&cursor=${cursor}` : ''}`)();
      cursor = (page.json() as { data: { next_cursor: string } }).data.next_cursor;
    }
    const last = await series(`?limit=100&cursor=${cursor}`);
    // One manifest changes on the default branch: only it is read again.
    await service.git.withWriteLock(async () => {
      const head = await service.git.headCommit();
      const text = new TextDecoder().decode((await service.git.readFile({ ref: head, path: 'manifests/uat.yaml' }))!);
      const next = await service.git.commit({
        parent: head,
        changes: [{ path: 'manifests/uat.yaml', bytes: new TextEncoder().encode(text.replace('release: 1.0.0', 'release: 1.1.0')) }],
        message: 'Move one uat entry',
        author: SYSTEM,
      });
      await service.git.fastForwardDefault({ from: head, to: next });
    });
    const afterCommit = await timed(get('?limit=100'));
    const row = (label: string, s: ReturnType<typeof stats>) => `| ${label} | ${ms(s.p50)} | ${ms(s.p90)} | ${ms(s.p99)} |`;
    return [
      `### GET /elements on the generated repository (${repo.uuids.length} apps, ${repo.uuids.length * 4} artifacts, ${repo.manifestNames.length} manifests)`,
      '',
      `After start, the snapshot of the default branch (protected list, 10 manifests of up to 5,000 entries parsed, 20,000 artifacts; the git gateway's, shared by every read): ${ms(snapshotMs)} ms. ` +
        `The first request on it (builds the matrix index, memoized per snapshot): ${ms(cold)} ms. Then ${REQUESTS} sequential requests per row:`,
      '',
      '| query | p50 ms | p90 ms | p99 ms |',
      '|---|---:|---:|---:|',
      row('`?limit=100` (first page)', first),
      row('`?limit=100&cursor=…` (last page)', last),
      row('`?limit=1000`', big),
      row('`?name=app-049&limit=100` (10 matches)', filtered),
      '',
      `After a commit that changes one manifest, the first request (new snapshot, that manifest parsed again, index rebuilt from the others' memoized entries): ${ms(afterCommit)} ms.`,
      '',
    ];
  } finally {
    await service.close();
  }
}

async function main(): Promise<void> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'mir-bench-releases-'));
  try {
    const lines = [
      `## Releases and the release matrix (${machine()})`,
      '',
      `Database: ${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'}; requests through \`app.inject\` (no network).`,
      '',
    ];
    process.stdout.write('release creation…\n');
    lines.push(...(await releaseCreation(work)));
    process.stdout.write('generating the large repository and measuring GET /elements…\n');
    lines.push(...(await matrix(work)));
    process.stdout.write(`${lines.join('\n')}\n`);
    if (writeResults) await appendResults('releases', lines.join('\n'));
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

await main();
