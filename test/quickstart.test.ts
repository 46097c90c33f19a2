// The README's quickstart, run as a reader would: its marked shell blocks, in order, in one bash
// session, against a real mir process on a fresh data dir. The start step (`npm install && npm
// start`) is the one block the test does not run: it starts its own server on a free port, and the
// blocks find it through the variables they read (MIR, MIR_DATA_DIR).
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { DEMO_APP } from '../scripts/demo-app.js';
import { CHILD_ENV } from './helpers/child.js';
import { tempDir } from './helpers/git-server.js';
import { createReplica } from './helpers/replica.js';

const run = promisify(execFile);
const BLOCK = /<!-- quickstart(: server[^>]*)? -->\n\n```sh\n([\s\S]*?)```\n/g;
/** The version the README's release step creates. */
const RELEASE = '1.0.0';

interface Step {
  readonly server: boolean;
  readonly script: string;
}

function quickstart(readme: string): Step[] {
  return [...readme.matchAll(BLOCK)].map((m) => ({ server: m[1] !== undefined, script: m[2]! }));
}

/** The environment a reader's terminal has, without any mir setting of theirs, pointed at `base`. */
function readerEnv(base: string, dataDir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('MIR') && key !== 'PORT') env[key] = value;
  return { ...env, ...CHILD_ENV, MIR: base, MIR_DATA_DIR: dataDir };
}

t.test("README.md's quickstart runs from zero to what prod runs", async (t) => {
  const steps = quickstart(await readFile(new URL('../README.md', import.meta.url), 'utf8'));
  const servers = steps.filter((s) => s.server);
  t.same(
    servers.map((s) => s.script.trim()),
    ['npm install && npm start'],
    'one start step, the one this test replaces by its own server',
  );
  t.equal(
    steps.findIndex((s) => s.server),
    0,
    'the start step comes first',
  );
  const blocks = steps.filter((s) => !s.server).map((s) => s.script);
  t.ok(blocks.length >= 6, `${blocks.length} runnable blocks`);
  t.match(blocks[0], /^MIR=\$\{MIR:-/m, 'the first block takes MIR from the environment');
  t.match(blocks[0], /\$\{MIR_DATA_DIR:-data\}/, 'and the data dir');

  const data = await tempDir('mir-quickstart-');
  t.teardown(data.remove);
  const server = await createReplica({ name: 'quickstart', dataDir: data.path, env: {} });
  t.teardown(() => server.stop());
  await server.start();
  await server.waitReady();

  // One session, as in a terminal: variables set by a block are there in the next. Each block is
  // announced, so a failure names its step; `set -e` stops at the first command that fails.
  const script = [
    'set -euo pipefail',
    'exec 2>&1',
    ...blocks.flatMap((block, i) => [`printf '\\n::step %d::\\n' ${i + 1}`, block]),
    'printf "\\n::done::\\n"',
  ].join('\n');
  const bash = spawn('bash', ['-c', script], { cwd: path.resolve('.'), env: readerEnv(server.base, data.path), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  bash.stdout.on('data', (chunk) => (output += chunk));
  bash.stderr.on('data', (chunk) => (output += chunk));
  const [code] = (await once(bash, 'exit')) as [number | null];
  t.equal(code, 0, "the quickstart's blocks run without an error", { output: output.slice(-6000), server: server.output().slice(-2000) });
  t.match(output, /::done::\n$/, 'every block ran');

  const outputs = output.split(/\n::step \d+::\n/).slice(1);
  outputs.forEach((text, i) => t.notMatch(text, /"success":\s*false/, `step ${i + 1} answers no error`));
  const last = outputs.at(-1)!.replace(/\n::done::\n$/, '');
  const answer = JSON.parse(last.trim().split('\n').at(-1)!);
  t.match(answer, {
    success: true,
    data: {
      instance: 'prod',
      manifest: 'prod',
      commit_sha: /^[0-9a-f]{40}$/,
      elements: [
        {
          uuid: DEMO_APP.uuid,
          type: 'PAGE',
          name: DEMO_APP.name,
          release: RELEASE,
          artifact: { path: `dist/apps/${DEMO_APP.uuid}/${RELEASE}.zip`, sha256: /^[0-9a-f]{64}$/ },
        },
      ],
    },
  });
  t.equal(answer.data.elements.length, 1, 'prod runs the demo app, and nothing else');

  const artifact = answer.data.elements[0].artifact;
  t.ok(artifact.download_url.startsWith(`${server.base}/`), 'the blocks talked to this server');
  const zip = await fetch(artifact.download_url, { headers: { authorization: `Bearer ${await server.adminToken()}` } });
  t.equal(zip.status, 200);
  t.equal(zip.headers.get('content-type'), 'application/zip');
  t.equal(Buffer.from(await zip.arrayBuffer()).length, artifact.size, 'the download_url serves the zip');

  await t.test('the demo seed run again changes nothing', async (t) => {
    const main = async () => (await run('git', ['--git-dir', path.join(data.path, 'repo.git'), 'rev-parse', 'main'])).stdout.trim();
    const before = await main();
    const again = await run('npm', ['run', '--silent', 'demo'], { env: readerEnv(server.base, data.path) });
    t.match(again.stdout, /is protected in .* already/);
    t.equal(await main(), before, 'no commit pushed');
  });
});
