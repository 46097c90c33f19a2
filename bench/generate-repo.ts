// Generates the benchmark repository (issue 3): 5,000 protected apps with their source
// folders, 4 release zips each (20,000 artifacts), 10 manifests — about 60k objects. Seeded and
// reproducible: the same options give the same commit sha. Written with native `git fast-import`,
// which takes a few seconds where building it through any porcelain would take minutes.
//
//   npx tsx bench/generate-repo.ts <dir> [--apps 5000] [--seed 42]   → <dir>/origin.git
import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { numberFlag } from './results.js';

export interface GenerateOptions {
  /** Folder to create `<name>.git` in. */
  readonly root: string;
  readonly name?: string;
  readonly seed?: number;
  readonly apps?: number;
  readonly releasesPerApp?: number;
  readonly manifests?: number;
  readonly branch?: string;
}

export interface GeneratedRepo {
  readonly path: string;
  readonly head: string;
  readonly uuids: readonly string[];
  readonly manifestNames: readonly string[];
  readonly objects: number;
}

/** mulberry32: tiny, seeded, good enough for test data. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function run(args: string[], options: { cwd?: string; input?: AsyncIterable<Buffer> | Buffer } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { cwd: options.cwd, env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' } });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(Buffer.concat(out).toString()) : reject(new Error(`git ${args[0]}: ${Buffer.concat(err).toString()}`))));
    if (Buffer.isBuffer(options.input)) child.stdin.end(options.input);
    else if (options.input) {
      const source = options.input;
      void (async () => {
        for await (const chunk of source) if (!child.stdin.write(chunk)) await new Promise((r) => child.stdin.once('drain', r));
        child.stdin.end();
      })().catch(reject);
    } else child.stdin.end();
  });
}

export async function generateRepo(options: GenerateOptions): Promise<GeneratedRepo> {
  const apps = options.apps ?? 5000;
  const releasesPerApp = options.releasesPerApp ?? 4;
  const manifestCount = options.manifests ?? 10;
  const branch = options.branch ?? 'main';
  const random = prng(options.seed ?? 42);
  const hex = (n: number) => Array.from({ length: n }, () => Math.floor(random() * 16).toString(16)).join('');
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(random() * 256)));

  const uuids = Array.from({ length: apps }, () => `${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}`);
  const names = uuids.map((_, i) => `app-${String(i).padStart(5, '0')}`);
  const manifestNames = Array.from({ length: manifestCount }, (_, i) => (i === 0 ? 'prod' : i === 1 ? 'uat' : `inst-${String(i).padStart(2, '0')}`));

  async function* stream(): AsyncGenerator<Buffer> {
    let mark = 0;
    const files: string[] = [];
    const blob = (content: Buffer | string, file: string): Buffer => {
      const data = Buffer.isBuffer(content) ? content : Buffer.from(content);
      mark++;
      files.push(`M 100644 :${mark} ${file}\n`);
      return Buffer.concat([Buffer.from(`blob\nmark :${mark}\ndata ${data.length}\n`), data, Buffer.from('\n')]);
    };
    const protectedApps = `apps:\n${uuids.map((u, i) => `  - uuid: ${u}\n    name: ${names[i]}\n`).join('')}`;
    yield blob(protectedApps, '.retool/protected-apps.yaml');
    yield blob('workflows: []\n', '.retool/protected-workflows.yaml');
    yield blob('# Benchmark release repository\n', 'README.md');
    for (let i = 0; i < apps; i++) {
      const chunk: Buffer[] = [];
      chunk.push(blob(`{"name":"${names[i]}","uuid":"${uuids[i]}","v":${i}}\n`, `apps/${names[i]}/app.json`));
      chunk.push(blob(`// ${names[i]}\nexport const id = '${hex(16)}';\n${'x'.repeat(100 + Math.floor(random() * 400))}\n`, `apps/${names[i]}/main.js`));
      chunk.push(blob(`query ${hex(24)}\n`, `apps/${names[i]}/queries/q1.sql`));
      for (let r = 0; r < releasesPerApp; r++) {
        // Small, incompressible "zips": deltas and compression win nothing, as with real ones.
        chunk.push(blob(Buffer.concat([Buffer.from('PK\x03\x04'), bytes(300 + Math.floor(random() * 700))]), `dist/apps/${uuids[i]}/1.${r}.0.zip`));
      }
      yield Buffer.concat(chunk);
    }
    for (const name of manifestNames) {
      const entries = uuids
        .map((u, i) => ({ u, i }))
        .filter(({ i }) => i % 2 === 0 || name === 'prod')
        .sort((a, b) => (a.u < b.u ? -1 : 1))
        .map(({ u, i }) => `  - uuid: ${u}\n    release: 1.${i % releasesPerApp}.0\n`)
        .join('');
      yield blob(`version: 1.0.0\nname: ${name}\napps:\n${entries}workflows: []\n`, `manifests/${name}.yaml`);
    }
    const message = 'Benchmark repository\n';
    yield Buffer.from(`commit refs/heads/${branch}\ncommitter mir-bench <bench@example.com> 1700000000 +0000\ndata ${message.length}\n${message}`);
    yield Buffer.from(files.join(''));
    yield Buffer.from('\n');
  }

  await mkdir(options.root, { recursive: true });
  const repo = path.join(options.root, `${options.name ?? 'origin'}.git`);
  await run(['init', '--quiet', '--bare', `--initial-branch=${branch}`, repo]);
  await run(['config', 'http.receivepack', 'true'], { cwd: repo });
  await run(['fast-import', '--quiet'], { cwd: repo, input: stream() });
  // One well-deltified pack, like a forge serves.
  await run(['repack', '-a', '-d', '-q'], { cwd: repo });
  const head = (await run(['rev-parse', branch], { cwd: repo })).trim();
  const total = Number(/in-pack: (\d+)/.exec(await run(['count-objects', '-v'], { cwd: repo }))?.[1] ?? 0);
  return { path: repo, head, uuids, manifestNames, objects: total };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const args = process.argv.slice(2);
  const root = args.find((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--')) ?? 'bench-repo';
  const started = Date.now();
  const repo = await generateRepo({ root, apps: numberFlag('apps', 5000), seed: numberFlag('seed', 42) });
  console.log(`${repo.path}: ${repo.objects} objects, head ${repo.head}, ${Date.now() - started} ms`);
}
