// Manifest writes end to end over HTTP against the same change made with native git, the longest
// wait of /healthz while they run, and how start, memory and the first reads grow with the
// repository. mir runs as operators run it (test/helpers/replica.ts: `src/server.ts` in its own
// process, embedded PGlite, the generated repository as its embedded `repo.git`, the bootstrap
// admin token). /healthz is probed every 25 ms from a child process of its own, so the probe
// measures mir's event loop and not this one's.
//
// - one entry: `PUT /manifests/prod/{uuid}?elementType=PAGE` then the merge of its pull request,
//   at each of --sizes entries in `prod`; native: edit the file in a worktree, `git commit`,
//   `git push` of a new branch to a bare copy;
// - whole manifest: `PUT /manifests/prod` of --whole entries, every one changed, then its merge;
//   native: the same rewrite, commit and push;
// - scale, at each of --scale apps: time to /readyz 200 against `git clone --bare`, resident
//   memory, the first and a cached `GET /instances/{name}/releases`, the first `GET /elements`.
//
//   npx tsx bench/writes-bench.ts [--sizes 1000,5000,20000,50000] [--runs 3] [--whole 14000]
//     [--scale 5000,50000] [--no-write] [--repos DIR]   (0 skips a list: --whole 0 --scale 0)
import { execFile, fork, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { crc32 } from 'node:zlib';
import { PGLITE_START_PARAMS } from '../src/db/client.js';
import { serializeReleaseMetadata } from '../src/formats/release-metadata.js';
import { CHILD_ENV } from '../test/helpers/child.js';
import { createReplica, type Replica } from '../test/helpers/replica.js';
import { generateRepo, type GeneratedRepo } from './generate-repo.js';
import { appendResults, machine, numberFlag, writeResults } from './results.js';

const API = '/api/v2/source_control';
const PROBE_EVERY_MS = 25;
const REQUEST_TIMEOUT_MS = 30 * 60_000;
const MANIFEST = 'prod';
const INSTANCE = 'bench-prod';
const GIT_ENV = {
  ...process.env,
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_AUTHOR_NAME: 'bench',
  GIT_AUTHOR_EMAIL: 'bench@example.com',
  GIT_COMMITTER_NAME: 'bench',
  GIT_COMMITTER_EMAIL: 'bench@example.com',
};
const execFileAsync = promisify(execFile);

/** `--name 1000,5000` from the command line, or `fallback`; zeros are dropped. */
function listFlag(name: string, fallback: number[]): number[] {
  const i = process.argv.indexOf(`--${name}`);
  const values = i > 0 && i + 1 < process.argv.length ? process.argv[i + 1]!.split(',').map(Number) : fallback;
  return values.filter((n) => n > 0);
}

const SIZES = listFlag('sizes', [1000, 5000, 20000, 50000]);
const RUNS = numberFlag('runs', 3);
const WHOLE = numberFlag('whole', 14000);
const SCALE = listFlag('scale', [5000, 50000]);
/**
 * `--repos DIR`: each generated repository is kept in DIR/<apps>/ and reused by later runs instead of
 * generated again (about 5 minutes at 50,000 apps). It is only ever copied from, never changed.
 */
const REPOS = process.argv.includes('--repos') ? process.argv[process.argv.indexOf('--repos') + 1] : undefined;

const started = performance.now();
function progress(message: string): void {
  process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(0).padStart(5)} s] ${message}\n`);
}

async function git(args: string[], cwd?: string): Promise<string> {
  return (await execFileAsync('git', args, { cwd, env: GIT_ENV, maxBuffer: 1 << 28 })).stdout;
}

async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const from = performance.now();
  const value = await fn();
  return [performance.now() - from, value];
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const ms = (n: number) => n.toFixed(0);
const s = (n: number) => (n / 1000).toFixed(1);
const count = (n: number) => n.toLocaleString('en-US');
const runsText = (values: number[]) => values.map(ms).join(', ');
const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');

// ---- release zips that pass mir's artifact checks ------------------------------------------------

/** A zip of stored entries (method 0), each dated 1980-01-01 with UNIX mode 0644. */
function storedZip(files: readonly { name: string; bytes: Buffer }[]): Buffer {
  const parts: Buffer[] = [];
  const directory: Buffer[] = [];
  let offset = 0;
  for (const { name, bytes } of files) {
    const fileName = Buffer.from(name);
    const crc = crc32(bytes);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x21, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(bytes.length, 18);
    local.writeUInt32LE(bytes.length, 22);
    local.writeUInt16LE(fileName.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(0x031e, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x21, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(bytes.length, 20);
    central.writeUInt32LE(bytes.length, 24);
    central.writeUInt16LE(fileName.length, 28);
    central.writeUInt32LE((0o100644 << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    parts.push(local, fileName, bytes);
    directory.push(central, fileName);
    offset += local.length + fileName.length + bytes.length;
  }
  const size = directory.reduce((n, b) => n + b.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(size, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...parts, ...directory, end]);
}

/** 300–1,000 bytes that depend only on `seed`: incompressible, like real zips. */
function seededBytes(seed: string): Buffer {
  const first = createHash('sha512').update(seed).digest();
  const blocks = [first];
  const length = 300 + (first.readUInt16LE(0) % 700);
  for (let k = 1; k * 64 < length; k++) blocks.push(createHash('sha512').update(`${seed}/${k}`).digest());
  return Buffer.concat(blocks).subarray(0, length);
}

/** Runs git with `input` on stdin (streamed), answering its stdout. */
async function gitWithInput(args: string[], cwd: string, input: Iterable<Buffer | string> | AsyncIterable<Buffer | string>): Promise<string> {
  const child = spawn('git', args, { cwd, env: GIT_ENV, stdio: ['pipe', 'pipe', 'inherit'] });
  const out: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
  const exited = new Promise<void>((resolve, reject) =>
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`git ${args[0]} exited ${code}`)))),
  );
  await pipeline(Readable.from(input), child.stdin);
  await exited;
  return Buffer.concat(out).toString();
}

/** `git mktree --batch`: one tree per list of ls-tree lines, their ids in order. */
async function mktrees(repo: string, trees: readonly (readonly string[])[]): Promise<string[]> {
  return (
    await gitWithInput(
      ['mktree', '--batch'],
      repo,
      trees.map((lines) => `${lines.join('\n')}\n\n`),
    )
  )
    .trim()
    .split('\n');
}

/**
 * bench/generate-repo.ts writes placeholder zips (a zip signature and random bytes), which mir's
 * artifact checks refuse (422 artifact_invalid) before any write names them. This replaces the
 * default branch by one root commit with the same trees but `dist/` holding real release zips
 * (`.release.json` and one file), and drops the old objects, so the repository keeps the
 * generator's shape and object count. Blobs go through `git fast-import`, trees through
 * `git mktree --batch`: fast-import's trees slow down with the square of a folder's entries.
 */
async function withValidArtifacts(repo: GeneratedRepo): Promise<GeneratedRepo> {
  const index = new Map(repo.uuids.map((uuid, i) => [uuid, i]));
  const artifacts = (await git(['ls-tree', '-r', '--name-only', 'main', 'dist'], repo.path)).trim().split('\n');
  async function* blobs(): AsyncGenerator<Buffer> {
    for (const [n, file] of artifacts.entries()) {
      const [, , uuid, zip] = file.split('/') as [string, string, string, string];
      const metadata = serializeReleaseMetadata({
        format: 1,
        element_uuid: uuid,
        element_type: 'PAGE',
        name: `app-${String(index.get(uuid) ?? 0).padStart(5, '0')}`,
        release_version: zip.replace(/\.zip$/, ''),
        release_description: 'benchmark release',
        created_at: '2023-11-14T22:13:20.000Z',
        created_by: 'mir-bench',
        source_commit: repo.head,
        source_tree: createHash('sha1').update(file).digest('hex'),
      });
      const bytes = storedZip([
        { name: '.release.json', bytes: Buffer.from(metadata) },
        { name: 'main.js', bytes: seededBytes(file) },
      ]);
      yield Buffer.concat([Buffer.from(`blob\nmark :${n + 1}\ndata ${bytes.length}\n`), bytes, Buffer.from('\n')]);
    }
  }
  const marks = path.join(repo.path, 'bench-marks');
  await gitWithInput(['fast-import', '--quiet', `--export-marks=${marks}`], repo.path, blobs());
  const blobIds = new Map(
    (await readFile(marks, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => [Number(line.slice(1, line.indexOf(' '))), line.slice(line.indexOf(' ') + 1)]),
  );
  await rm(marks);

  const folders = new Map<string, string[]>();
  for (const [n, file] of artifacts.entries()) {
    const folder = file.slice(0, file.lastIndexOf('/'));
    if (!folders.has(folder)) folders.set(folder, []);
    folders.get(folder)!.push(`100644 blob ${blobIds.get(n + 1)}\t${file.slice(folder.length + 1)}`);
  }
  const names = [...folders.keys()];
  const folderIds = await mktrees(repo.path, [...folders.values()]);
  const [appsTree] = await mktrees(repo.path, [names.map((folder, i) => `040000 tree ${folderIds[i]}\t${folder.slice('dist/apps/'.length)}`)]);
  const [distTree] = await mktrees(repo.path, [[`040000 tree ${appsTree}\tapps`]]);
  const kept = (await git(['ls-tree', 'main'], repo.path))
    .trim()
    .split('\n')
    .filter((line) => !line.endsWith('\tdist'));
  const [root] = await mktrees(repo.path, [[...kept, `040000 tree ${distTree}\tdist`]]);
  const dated = { ...GIT_ENV, GIT_AUTHOR_DATE: '1700000000 +0000', GIT_COMMITTER_DATE: '1700000000 +0000' };
  const commit = (await execFileAsync('git', ['commit-tree', root!, '-m', 'Benchmark repository'], { cwd: repo.path, env: dated })).stdout.trim();
  await git(['update-ref', 'refs/heads/main', commit], repo.path);
  // A bare repository keeps no reflog, so the old commit and its zips are unreachable now.
  await git(['repack', '-a', '-d', '-q'], repo.path);
  const objects = Number(/in-pack: (\d+)/.exec(await git(['count-objects', '-v'], repo.path))?.[1] ?? 0);
  return { ...repo, head: commit, objects };
}

// ---- the /healthz probe (a child process running this file with --probe <url>) -----------------

interface ProbeQuery {
  from: number;
  to: number;
}

/** Probes `url` every 25 ms; answers each {from, to} (epoch ms) with the longest wait overlapping it. */
async function runProbe(url: string): Promise<void> {
  const waits: { start: number; end: number }[] = [];
  let inFlight: Promise<void> = Promise.resolve();
  process.on('message', (query: ProbeQuery) => {
    // A wait still running at `to` counts in full: answer once it ends.
    void inFlight.then(() => {
      const overlapping = waits.filter((w) => w.end >= query.from && w.start <= query.to);
      process.send!({ longest: Math.max(0, ...overlapping.map((w) => w.end - w.start)) });
    });
  });
  process.on('disconnect', () => process.exit(0));
  for (;;) {
    const start = performance.timeOrigin + performance.now();
    inFlight = fetch(url, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) })
      .then(async (response) => {
        await response.arrayBuffer();
        waits.push({ start, end: performance.timeOrigin + performance.now() });
      })
      .catch(() => undefined); // not listening yet: not a wait
    await inFlight;
    const elapsed = performance.timeOrigin + performance.now() - start;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, PROBE_EVERY_MS - elapsed)));
  }
}

interface Probe {
  /** The longest /healthz wait that overlapped [from, to] (epoch ms). */
  longest(from: number, to: number): Promise<number>;
  stop(): void;
}

function startProbe(url: string): Probe {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['--probe', url], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, ...CHILD_ENV },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return {
    longest: (from, to) =>
      new Promise((resolve) => {
        child.once('message', (answer: { longest: number }) => resolve(answer.longest));
        child.send({ from, to } satisfies ProbeQuery);
      }),
    stop: () => void child.kill('SIGTERM'),
  };
}

// ---- mir in its own process ------------------------------------------------------------------

interface Mir {
  readonly replica: Replica;
  readonly probe: Probe;
  readonly readyMs: number;
  /** The longest /healthz wait between the start and /readyz 200. */
  readonly startStallMs: number;
  /** From /readyz 200 to `mir_artifacts_warm 1`: every artifact of the head read and checked once. */
  readonly warmMs: number;
  /** The longest /healthz wait during that warm-up. */
  readonly warmStallMs: number;
  call(method: string, url: string, body?: unknown): Promise<{ ms: number; data: any }>;
  /** VmRSS and VmHWM of the mir process, in MiB. */
  memory(): Promise<{ rss: number; peak: number }>;
  /**
   * SIGTERM, then a start on the same data dir: the time to /readyz 200, and the longest /healthz
   * wait from the start until its warm-up is done (the artifacts are known by then, so it is short;
   * the first snapshot's reads run in it).
   */
  restart(): Promise<{ readyMs: number; stallMs: number }>;
  stop(): Promise<void>;
}

/** mir on a fresh data dir `dataDir` holding a copy of `repo` as its embedded repository. */
async function startMir(dataDir: string, repo: GeneratedRepo): Promise<Mir> {
  await rm(dataDir, { recursive: true, force: true });
  await mkdir(dataDir, { recursive: true });
  await cp(repo.path, path.join(dataDir, 'repo.git'), { recursive: true });
  // A whole-manifest body of 14,000 entries is ~0.9 MiB, next to the 1 MiB default.
  // MIR_BENCH_NODE_ARGS reach mir's process only, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile it.
  const nodeArgs = process.env.MIR_BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const replica = await createReplica({ name: 'mir', dataDir, env: { MIR_BODY_LIMIT_BYTES: String(64 * 1024 * 1024) }, nodeArgs, wasmTierUp: true });
  const probe = startProbe(`${replica.base}/healthz`);
  const from = Date.now();
  const [readyMs] = await timed(async () => {
    await replica.start();
    await replica.waitReady(REQUEST_TIMEOUT_MS);
  });
  const startStallMs = await probe.longest(from, Date.now());
  const warmFrom = Date.now();
  const [warmMs] = await timed(() => untilWarm(replica.base));
  const warmStallMs = await probe.longest(warmFrom, Date.now());
  const token = await replica.adminToken();
  const pidOf = async () => (JSON.parse(await readFile(path.join(dataDir, 'mir.lock'), 'utf8')) as { pid: number }).pid;
  let pid = await pidOf();
  return {
    replica,
    probe,
    readyMs,
    startStallMs,
    warmMs,
    warmStallMs,
    async call(method, url, body) {
      const headers: Record<string, string> = { authorization: `Bearer ${token}` };
      if (body !== undefined) headers['content-type'] = 'application/json';
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const [elapsed, [status, text]] = await timed(async () => {
        const response = await fetch(`${replica.base}${url}`, { method, headers, body: payload, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
        return [response.status, await response.text()] as const;
      });
      if (status >= 300) throw new Error(`${method} ${url}: ${status} ${text.slice(0, 500)}`);
      return { ms: elapsed, data: (JSON.parse(text) as { data: unknown }).data };
    },
    async memory() {
      const status = await readFile(`/proc/${pid}/status`, 'utf8');
      const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
      return { rss: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 };
    },
    async restart() {
      await replica.stop();
      const from = Date.now();
      const [readyMs] = await timed(async () => {
        await replica.start();
        await replica.waitReady(REQUEST_TIMEOUT_MS);
      });
      pid = await pidOf();
      await untilWarm(replica.base);
      return { readyMs, stallMs: await probe.longest(from, Date.now()) };
    },
    async stop() {
      await replica.stop();
      probe.stop();
    },
  };
}

/** RSS (MiB) of a Node process that only opens PGlite on `dataDir` and reads the artifacts table. */
async function pgliteAlone(dataDir: string): Promise<number> {
  const script = [
    "import { PGlite } from '@electric-sql/pglite';",
    // As mir opens it (src/db/client.ts: its shared_buffers).
    `const db = await PGlite.create(${JSON.stringify(dataDir)}, { startParams: ${JSON.stringify(PGLITE_START_PARAMS)} });`,
    "await db.query('select count(*), sum(size) from artifacts');",
    'await new Promise((resolve) => setTimeout(resolve, 3000));',
    'process.stdout.write(String(process.memoryUsage().rss));',
    'await db.close();',
  ].join('\n');
  const { stdout } = await execFileAsync(process.execPath, ['--input-type=module', '-e', script], { cwd: process.cwd(), maxBuffer: 1 << 20 });
  return Number(stdout) / 1024 / 1024;
}

/** Resolves once /metrics says every artifact of the head is described (src/releases/artifact-warmer.ts). */
async function untilWarm(base: string): Promise<void> {
  const deadline = Date.now() + REQUEST_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const metrics = await (await fetch(`${base}/metrics`)).text();
    if (/^mir_artifacts_warm 1$/m.test(metrics)) return;
    await sleep(250);
  }
  throw new Error('the artifact warm-up did not finish');
}

// ---- native git: a worktree of a bare copy --------------------------------------------------

async function nativeWorktree(work: string, bare: string): Promise<string> {
  const tree = path.join(work, 'native-work');
  await git(['clone', '-q', bare, tree]);
  return tree;
}

/** Edit `manifests/prod.yaml` in the worktree, commit it, push it as a new branch: the user's way. */
async function nativeWrite(tree: string, branch: string, edit: (text: string) => string): Promise<number> {
  const file = path.join(tree, 'manifests', `${MANIFEST}.yaml`);
  const [elapsed] = await timed(async () => {
    await writeFile(file, edit(await readFile(file, 'utf8')));
    await git(['add', `manifests/${MANIFEST}.yaml`], tree);
    await git(['commit', '-q', '-m', `bench: ${branch}`], tree);
    await git(['push', '-q', 'origin', `HEAD:refs/heads/${branch}`], tree);
  });
  return elapsed;
}

/** The generator gives app i the release 1.(i mod 4).0 in every manifest; 4 releases exist. */
const releaseOf = (i: number, shift: number) => `1.${(i + shift) % 4}.0`;

// ---- the measurements --------------------------------------------------------------------------

interface WriteRow {
  entries: number;
  put: number[];
  merge: number[];
  native: number[];
  longestWait: number;
  /** The mir's artifact warm-up before the first write, and the longest /healthz wait during it. */
  warmMs: number;
  warmStallMs: number;
}

/** One-entry PUT + merge against one-line native edits, on a running mir. */
async function oneEntryWrites(mir: Mir, repo: GeneratedRepo, tree: string): Promise<WriteRow> {
  const n = repo.uuids.length;
  const row: WriteRow = { entries: n, put: [], merge: [], native: [], longestWait: 0, warmMs: mir.warmMs, warmStallMs: mir.warmStallMs };
  for (let run = 0; run < RUNS; run++) {
    const i = Math.floor(((2 * run + 1) * n) / (2 * RUNS));
    const uuid = repo.uuids[i]!;
    const [from, to] = [releaseOf(i, 0), releaseOf(i, 1)];
    const windowFrom = Date.now();
    const put = await mir.call('PUT', `${API}/manifests/${MANIFEST}/${uuid}?elementType=PAGE`, { release: to });
    const merge = await mir.call('POST', `${API}/pull_requests/${put.data.pull_request.number}/merge`);
    row.longestWait = Math.max(row.longestWait, await mir.probe.longest(windowFrom, Date.now()));
    row.put.push(put.ms);
    row.merge.push(merge.ms);
    const line = `  - uuid: ${uuid}\n    release: `;
    row.native.push(await nativeWrite(tree, `native/one-${run}`, (text) => text.replace(`${line}${from}\n`, `${line}${to}\n`)));
    progress(`  ${count(n)} entries, run ${run + 1}/${RUNS}: PUT ${ms(put.ms)} ms, merge ${ms(merge.ms)} ms, native ${ms(row.native.at(-1)!)} ms`);
  }
  return row;
}

/** Whole-manifest PUT + merge, every entry changed each run, against the same rewrite natively. */
async function wholeManifestWrites(mir: Mir, repo: GeneratedRepo, tree: string): Promise<WriteRow & { bodyBytes: number }> {
  const order = repo.uuids.map((uuid, i) => ({ uuid, i })).sort((a, b) => (a.uuid < b.uuid ? -1 : 1));
  const row = {
    entries: order.length,
    put: [] as number[],
    merge: [] as number[],
    native: [] as number[],
    longestWait: 0,
    bodyBytes: 0,
    warmMs: mir.warmMs,
    warmStallMs: mir.warmStallMs,
  };
  for (let run = 0; run < RUNS; run++) {
    const body = { manifest: { apps: order.map(({ uuid, i }) => ({ uuid, release: releaseOf(i, run + 1) })), workflows: [] } };
    row.bodyBytes = JSON.stringify(body).length;
    const windowFrom = Date.now();
    const put = await mir.call('PUT', `${API}/manifests/${MANIFEST}`, body);
    const merge = await mir.call('POST', `${API}/pull_requests/${put.data.pull_request.number}/merge`);
    row.longestWait = Math.max(row.longestWait, await mir.probe.longest(windowFrom, Date.now()));
    row.put.push(put.ms);
    row.merge.push(merge.ms);
    const wanted = new Map(body.manifest.apps.map((a) => [a.uuid, a.release]));
    const edit = (text: string) =>
      text.replace(/^( {2}- uuid: (\S+)\n {4}release: )\S+$/gm, (all, head: string, uuid: string) => {
        const release = wanted.get(uuid);
        return release === undefined ? all : `${head}${release}`;
      });
    row.native.push(await nativeWrite(tree, `native/whole-${run}`, edit));
    progress(
      `  whole manifest of ${count(order.length)}, run ${run + 1}/${RUNS}: PUT ${ms(put.ms)} ms, merge ${ms(merge.ms)} ms, native ${ms(row.native.at(-1)!)} ms`,
    );
  }
  return row;
}

interface ScaleColumn {
  apps: number;
  artifacts: number;
  objects: number;
  manifestEntries: string;
  readyMs: number;
  restartMs: number;
  startStallMs: number;
  restartStallMs: number;
  warmMs: number;
  warmStallMs: number;
  cloneMs: number[];
  idle: { rss: number; peak: number; afterMs: number };
  afterReads: { rss: number; peak: number; afterMs: number };
  /** What mir's /metrics said of its memory then (MiB). */
  breakdown: MemoryBreakdown;
  firstReleases: number;
  cachedReleases: number;
  releasesBytes: number;
  firstElements: number;
  readStallMs: number;
  /** RSS of a process holding only PGlite on the same data dir, after a query of the artifacts table. */
  pgliteAloneMiB?: number;
}

interface MemoryBreakdown {
  /** V8's heap in use (`nodejs_heap_size_used_bytes`) and as allocated (`…_total_bytes`). */
  heapUsed: number;
  heapTotal: number;
  /** Memory V8 tracks outside its heap (`nodejs_external_memory_bytes`): Buffers, PGlite's WebAssembly memory. */
  external: number;
  /** Bytes the byte-bounded caches hold (`mir_cache_bytes`), by cache. */
  caches: Record<string, number>;
}

/** mir's own account of its memory, from /metrics (prom-client's default metrics and mir_cache_bytes). */
async function memoryBreakdown(base: string): Promise<MemoryBreakdown> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const mib = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN) / 1024 / 1024;
  const caches: Record<string, number> = {};
  for (const [, cache, bytes] of text.matchAll(/^mir_cache_bytes\{cache="([^"]+)"\} (\S+)$/gm)) caches[cache!] = Number(bytes) / 1024 / 1024;
  return {
    heapUsed: mib('nodejs_heap_size_used_bytes'),
    heapTotal: mib('nodejs_heap_size_total_bytes'),
    external: mib('nodejs_external_memory_bytes'),
    caches,
  };
}

/** VmRSS of an idle mir once it moved less than 1% over 3 s, at least 10 s and at most 30 s on. */
async function steadyMemory(mir: Mir): Promise<{ rss: number; peak: number; afterMs: number }> {
  const from = performance.now();
  const samples = [await mir.memory()];
  while (performance.now() - from < 30_000) {
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    samples.push(await mir.memory());
    const [then, now] = [samples.at(-4), samples.at(-1)!];
    if (performance.now() - from >= 10_000 && then && Math.abs(now.rss - then.rss) < 0.01 * now.rss) break;
  }
  return { ...samples.at(-1)!, afterMs: performance.now() - from };
}

async function scaleReads(mir: Mir, repo: GeneratedRepo, cloneMs: number[]): Promise<ScaleColumn> {
  const idle = await steadyMemory(mir);
  await mir.call('POST', `${API}/instances`, { name: INSTANCE, manifest: MANIFEST });
  const windowFrom = Date.now();
  const first = await mir.call('GET', `${API}/instances/${INSTANCE}/releases`);
  const cached: number[] = [];
  for (let i = 0; i < 5; i++) cached.push((await mir.call('GET', `${API}/instances/${INSTANCE}/releases`)).ms);
  const elements = await mir.call('GET', `${API}/elements?limit=100`);
  const readStallMs = await mir.probe.longest(windowFrom, Date.now());
  const apps = repo.uuids.length;
  const afterReads = await steadyMemory(mir);
  const breakdown = await memoryBreakdown(mir.replica.base);
  const restart = await mir.restart();
  return {
    apps,
    artifacts: apps * 4,
    objects: repo.objects,
    manifestEntries: `${MANIFEST} ${count(apps)}, the ${repo.manifestNames.length - 1} others ${count(Math.ceil(apps / 2))} each`,
    readyMs: mir.readyMs,
    startStallMs: mir.startStallMs,
    warmMs: mir.warmMs,
    warmStallMs: mir.warmStallMs,
    cloneMs,
    idle,
    afterReads,
    breakdown,
    firstReleases: first.ms,
    cachedReleases: median(cached),
    releasesBytes: JSON.stringify(first.data).length,
    firstElements: elements.ms,
    readStallMs,
    restartMs: restart.readyMs,
    restartStallMs: restart.stallMs,
  };
}

// ---- the report --------------------------------------------------------------------------------

interface Preparation {
  generateMs: number;
  zipsMs: number;
  /** Repositories taken from --repos rather than generated. */
  reused: number;
}

function report(
  rows: WriteRow[],
  whole: (WriteRow & { bodyBytes: number }) | undefined,
  scale: ScaleColumn[],
  loadAtStart: string,
  preparation: Preparation,
  unfinished: string | null,
): string[] {
  const minutes = (n: number) => (n / 60_000).toFixed(1);
  const lines = [
    `## Manifest writes end to end vs native git, event-loop stalls, scale (${machine()})`,
    '',
    ...(unfinished ? [`**Unfinished run**: ${unfinished}.`, ''] : []),
    `Load average ${loadAtStart} at the start, ${load()} at the end (2 cores, other work on the machine slows both sides). ` +
      "mir: `node --import test/helpers/ts-loader.mjs src/server.ts` in its own process (test/helpers/replica.ts, without the tests' `--liftoff-only`), embedded PGlite, the generated repository " +
      '(bench/generate-repo.ts) as its embedded `repo.git`, default configuration but `MIR_BODY_LIMIT_BYTES` 64 MiB; requests over HTTP on 127.0.0.1. ' +
      `Native: a worktree cloned from a bare copy of the same repository. \`/healthz\` probed every ${PROBE_EVERY_MS} ms from a separate process; ` +
      '"longest wait" is the slowest probe answer that overlapped the mir requests of the row. ' +
      "The generator's placeholder zips are replaced by valid release zips (`.release.json` + one file, stored), which mir's artifact checks require. " +
      'The writes of each size run on a freshly started mir, the scale reads on another. ' +
      `The run took ${minutes(performance.now() - started)} min, of which ${minutes(preparation.generateMs)} generating the repositories (bench/generate-repo.ts) and ${minutes(preparation.zipsMs)} making their zips valid` +
      (preparation.reused > 0 ? ` (${preparation.reused} taken as an earlier run generated them, --repos).` : '.'),
    '',
  ];
  if (rows.length > 0) {
    lines.push(
      `### One entry: \`PUT /manifests/prod/{uuid}?elementType=PAGE\` and \`POST /pull_requests/{number}/merge\` (median of ${RUNS})`,
      '',
      'Native: change the one line in `manifests/prod.yaml`, `git add`, `git commit`, `git push origin HEAD:refs/heads/<new branch>`. ' +
        "Each size's first run is the first write of a freshly started mir, once its artifact warm-up is done (src/releases/artifact-warmer.ts; its time is listed below each size).",
      '',
      '| entries in `prod` | PUT ms | merge ms | native edit + commit + push ms | PUT / native | longest /healthz wait ms |',
      '|---:|---:|---:|---:|---:|---:|',
      ...rows.map(
        (r) =>
          `| ${count(r.entries)} | ${ms(median(r.put))} | ${ms(median(r.merge))} | ${ms(median(r.native))} | ${(median(r.put) / median(r.native)).toFixed(1)}× | ${ms(r.longestWait)} |`,
      ),
      '',
      ...rows.map(
        (r) =>
          `- ${count(r.entries)}, runs in order: PUT ${runsText(r.put)}; merge ${runsText(r.merge)}; native ${runsText(r.native)} ms; ` +
          `warm-up before them ${s(r.warmMs)} s (longest /healthz wait ${ms(r.warmStallMs)} ms).`,
      ),
      "- The issue's figures: 1,000 entries PUT 368 ms, merge 320 ms, native 145 ms, longest /healthz wait 744 ms; 5,000: 1,696 / 1,295 / 151 ms, 2,039 ms.",
      '',
    );
  }
  if (whole) {
    lines.push(
      `### Whole manifest: \`PUT /manifests/prod\` of ${count(whole.entries)} entries, every release changed, and its merge (median of ${RUNS})`,
      '',
      `Body ${(whole.bodyBytes / 1024).toFixed(0)} KiB; repository of ${count(whole.entries)} apps. Native: the same rewrite of \`manifests/prod.yaml\`, commit, push of a new branch. Target ≤ 2,000 ms each; the issue measured 56.7 s and 74.8 s.`,
      '',
      '| entries | PUT ms | merge ms | native rewrite + commit + push ms | longest /healthz wait ms |',
      '|---:|---:|---:|---:|---:|',
      `| ${count(whole.entries)} | ${ms(median(whole.put))} | ${ms(median(whole.merge))} | ${ms(median(whole.native))} | ${ms(whole.longestWait)} |`,
      '',
      `Runs in order: PUT ${runsText(whole.put)}; merge ${runsText(whole.merge)}; native ${runsText(whole.native)} ms; ` +
        `warm-up before them ${s(whole.warmMs)} s (longest /healthz wait ${ms(whole.warmStallMs)} ms).`,
      '',
    );
  }
  if (scale.length > 0) {
    const row = (label: string, cell: (c: ScaleColumn) => string) => `| ${label} | ${scale.map(cell).join(' | ')} |`;
    lines.push(
      '### Scale: start, memory and first reads',
      '',
      'A fresh data dir each (PGlite created and migrated, then the repository opened). The instance `bench-prod` follows `prod`. ' +
        `\`git clone --bare --no-local\` of the same repository, median of ${Math.min(RUNS, 3)}. RSS: VmRSS and VmHWM from \`/proc/<pid>/status\`, "steady" once it moved < 1% over 3 s, at least 10 s after.`,
      '',
      `| | ${scale.map((c) => `${count(c.apps)} apps`).join(' | ')} |`,
      `|---|${scale.map(() => '---:').join('|')}|`,
      row('repository', (c) => `${count(c.artifacts)} artifacts, ${count(c.objects)} objects`),
      row('manifest entries', (c) => c.manifestEntries),
      row('time to `/readyz` 200, fresh data dir (s)', (c) => s(c.readyMs)),
      row('`git clone --bare` (s)', (c) => s(median(c.cloneMs))),
      row('time to `/readyz` 200 on a restart, same data dir (s)', (c) => s(c.restartMs)),
      row('longest /healthz wait while starting, fresh data dir (to ready) / restart (to warm) (ms)', (c) => `${ms(c.startStallMs)} / ${ms(c.restartStallMs)}`),
      row('artifact warm-up after ready, every artifact read and checked (s)', (c) => s(c.warmMs)),
      row('longest /healthz wait during the warm-up (ms)', (c) => ms(c.warmStallMs)),
      row('steady RSS, idle after ready (MiB)', (c) => `${ms(c.idle.rss)} (${s(c.idle.afterMs)} s on)`),
      row('first `GET /instances/bench-prod/releases` (ms)', (c) => `${ms(c.firstReleases)} (${(c.releasesBytes / 1024 / 1024).toFixed(1)} MiB)`),
      row('cached `GET …/releases`, median of 5 (ms)', (c) => c.cachedReleases.toFixed(1)),
      row('first `GET /elements?limit=100` (ms)', (c) => ms(c.firstElements)),
      row('longest /healthz wait during these reads (ms)', (c) => ms(c.readStallMs)),
      row(
        'steady RSS, idle after the reads / peak so far (MiB)',
        (c) => `${ms(c.afterReads.rss)} / ${ms(c.afterReads.peak)} (${s(c.afterReads.afterMs)} s on)`,
      ),
      row(
        "of which, by /metrics then: V8 heap used / allocated, external (Buffers, PGlite's WebAssembly memory) (MiB)",
        (c) => `${ms(c.breakdown.heapUsed)} / ${ms(c.breakdown.heapTotal)}, ${ms(c.breakdown.external)}`,
      ),
      row('byte-bounded caches then (MiB)', (c) =>
        Object.entries(c.breakdown.caches)
          .map(([name, bytes]) => `${name} ${bytes.toFixed(1)}`)
          .join(', '),
      ),
      row('PGlite alone: RSS of a process holding only it, same data dir (MiB)', (c) => (c.pgliteAloneMiB === undefined ? '—' : ms(c.pgliteAloneMiB))),
      '',
    );
  }
  return lines;
}

/** The repository of `apps` apps: generated under `work`, or the one --repos keeps (kept there once generated). */
async function preparedRepo(apps: number, work: string, preparation: Preparation): Promise<GeneratedRepo> {
  const kept = REPOS === undefined ? undefined : path.resolve(REPOS, String(apps));
  if (kept) {
    // repo.json is written last: a kept folder without it is an interrupted copy, made again.
    const saved = await readFile(path.join(kept, 'repo.json'), 'utf8').then(
      (text) => JSON.parse(text) as Omit<GeneratedRepo, 'path'>,
      () => undefined,
    );
    if (saved) {
      progress(`${count(apps)} apps: the repository kept in ${kept}`);
      preparation.reused++;
      return { ...saved, path: path.join(kept, 'repo.git') };
    }
  }
  progress(`${count(apps)} apps: generating the repository`);
  const [genMs, generated] = await timed(() => generateRepo({ root: path.join(work, 'gen'), apps }));
  const [zipMs, repo] = await timed(() => withValidArtifacts(generated));
  preparation.generateMs += genMs;
  preparation.zipsMs += zipMs;
  progress(`  ${count(repo.objects)} objects: generated in ${s(genMs)} s, zips made valid in ${s(zipMs)} s`);
  if (!kept) return repo;
  await rm(kept, { recursive: true, force: true });
  await mkdir(kept, { recursive: true });
  await cp(repo.path, path.join(kept, 'repo.git'), { recursive: true });
  const { path: _, ...saved } = repo;
  await writeFile(path.join(kept, 'repo.json'), `${JSON.stringify(saved)}\n`);
  return { ...repo, path: path.join(kept, 'repo.git') };
}

async function main(): Promise<void> {
  // createReplica starts `src/server.ts` relative to the working directory.
  process.chdir(fileURLToPath(new URL('..', import.meta.url)));
  const loadAtStart = load();
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'mir-writes-bench-'));
  const rows: WriteRow[] = [];
  const scale: ScaleColumn[] = [];
  let whole: (WriteRow & { bodyBytes: number }) | undefined;
  const preparation: Preparation = { generateMs: 0, zipsMs: 0, reused: 0 };
  let running: Mir | undefined;
  const interrupted = () => void (running?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  progress(`sizes ${SIZES.join(',') || '-'}, runs ${RUNS}, whole ${WHOLE || '-'}, scale ${SCALE.join(',') || '-'}; load ${loadAtStart}; scratch ${scratch}`);
  try {
    const plan = [...new Set([...SIZES, ...SCALE, ...(WHOLE > 0 ? [WHOLE] : [])])].sort((a, b) => a - b);
    for (const apps of plan) {
      const work = path.join(scratch, String(apps));
      const repo = await preparedRepo(apps, work, preparation);
      const writes = SIZES.includes(apps) || apps === WHOLE;
      const cloneMs: number[] = [];
      const bare = path.join(work, 'native.git');
      for (let i = 0; i < (SCALE.includes(apps) ? Math.min(RUNS, 3) : 1); i++) {
        await rm(bare, { recursive: true, force: true });
        cloneMs.push((await timed(() => git(['clone', '-q', '--bare', '--no-local', repo.path, bare])))[0]);
      }
      progress(`  clone --bare ${runsText(cloneMs)} ms`);
      // Reads and writes each on a fresh process, so neither finds the other's caches warm.
      if (SCALE.includes(apps)) {
        running = await startMir(path.join(work, 'data'), repo);
        progress(`  mir ready in ${s(running.readyMs)} s; reads`);
        scale.push(await scaleReads(running, repo, cloneMs));
        await running.stop();
        scale.at(-1)!.pgliteAloneMiB = await pgliteAlone(path.join(work, 'data', 'pglite'));
      }
      if (writes) {
        const tree = await nativeWorktree(work, bare);
        running = await startMir(path.join(work, 'data'), repo);
        progress(`  mir ready in ${s(running.readyMs)} s; writes`);
        if (SIZES.includes(apps)) rows.push(await oneEntryWrites(running, repo, tree));
        if (apps === WHOLE) whole = await wholeManifestWrites(running, repo, tree);
        await running.stop();
      }
      running = undefined;
      await rm(work, { recursive: true, force: true });
      // Each size can take minutes: an interrupted run still leaves what it measured.
      if (writeResults && apps !== plan.at(-1))
        await appendResults('writes', report(rows, whole, scale, loadAtStart, preparation, `sizes up to ${count(apps)} apps done`).join('\n'));
    }
    const lines = report(rows, whole, scale, loadAtStart, preparation, null);
    process.stdout.write(`${lines.join('\n')}\n`);
    if (writeResults) await appendResults('writes', lines.join('\n'));
  } catch (error) {
    if (running) process.stderr.write(`mir's output, last 4,000 characters:\n${running.replica.output().slice(-4000)}\n`);
    throw error;
  } finally {
    await running?.stop();
    await rm(scratch, { recursive: true, force: true });
  }
}

const probeAt = process.argv.indexOf('--probe');
if (probeAt > 0) await runProbe(process.argv[probeAt + 1]!);
else await main();
