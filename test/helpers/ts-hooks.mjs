// Module hooks (registered by ts-loader.mjs): `./x.js` imported from a .ts module resolves to
// `./x.ts` when that exists (TypeScript's NodeNext convention), and a .ts module loads as ESM
// compiled by esbuild. Synchronous, so that the same functions serve Node's in-thread hooks
// (`registerHooks`, Node ≥ 22.15) and, wrapped, its off-thread ones (`register`, Node 20).
// Compiled output is cached under $TMPDIR/mir-ts-cache by file and content: a hit reads one small
// file and never loads esbuild (whose start-up is most of a miss). Every edit adds an entry, so a
// miss also prunes, at most once a day, entries (and package bundles, below) written over a week
// ago (one still in use is compiled again on its next miss: a few milliseconds).
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// tsconfig.json's options that change esbuild's output: ES2022 class fields, and imports kept as
// written (verbatimModuleSyntax).
const OPTIONS = {
  loader: 'ts',
  format: 'esm',
  target: 'node20',
  sourcemap: 'inline',
  tsconfigRaw: { compilerOptions: { target: 'ES2022', verbatimModuleSyntax: true } },
};
const CACHE = path.join(process.env.TMPDIR || tmpdir(), 'mir-ts-cache');
const KEY = JSON.stringify(OPTIONS);
const DAY_MS = 24 * 60 * 60 * 1000;
const KEEP_MS = 7 * DAY_MS;
let transformSync;
let pruned = false;

export function resolveSync(specifier, context, next) {
  if (specifier.endsWith('.js') && context.parentURL?.endsWith('.ts') && /^(\.{1,2}\/|\/|file:)/.test(specifier)) {
    const url = new URL(`${specifier.slice(0, -3)}.ts`, context.parentURL);
    if (existsSync(url)) return { url: url.href, format: 'module', shortCircuit: true };
  }
  return next(specifier, context);
}

export function loadSync(url, context, next) {
  if (!url.startsWith('file:') || !url.endsWith('.ts')) return next(url, context);
  const file = fileURLToPath(url);
  const source = readFileSync(file, 'utf8');
  const cached = path.join(CACHE, `${createHash('sha1').update(KEY).update('\0').update(file).update('\0').update(source).digest('hex')}.js`);
  let code;
  try {
    code = readFileSync(cached, 'utf8');
  } catch {
    transformSync ??= createRequire(import.meta.url)('esbuild').transformSync;
    code = transformSync(source, { ...OPTIONS, sourcefile: file }).code;
    // Written aside and renamed: processes compiling the same file at once never read half of one.
    mkdirSync(CACHE, { recursive: true });
    const temp = `${cached}.${process.pid}.${Math.random().toString(36).slice(2)}`;
    writeFileSync(temp, code);
    renameSync(temp, cached);
    if (!pruned) prune();
  }
  return { format: 'module', source: code, shortCircuit: true };
}

// Node 20's off-thread hooks (`register`): the same, as the async functions it expects — and one
// more step. Off-thread, every ES module loaded is a round trip to the hooks' thread, and two
// dependencies are most of them: typebox ships 679 modules, kysely 263 (the app imports ~950 in
// all; importing it cost 2.4 CPU-s with even no-op hooks registered, 1.1 with none). Each is
// served as an esbuild bundle of the package — every entry point of its `exports`, with the
// modules they share in common chunks, so each module of the package still exists once.
const BUNDLED = ['typebox', 'kysely'];
const bundles = new Map();

export async function resolve(specifier, context, next) {
  const pkg = BUNDLED.find((name) => specifier === name || specifier.startsWith(`${name}/`));
  if (pkg) {
    if (!bundles.has(pkg))
      bundles.set(
        pkg,
        bundle(pkg, context, next).catch(() => undefined),
      );
    const entries = await bundles.get(pkg);
    const url = entries?.get(`.${specifier.slice(pkg.length)}`);
    if (url) return { url, format: 'module', shortCircuit: true };
  }
  return resolveSync(specifier, context, next);
}

/** The package's entry points (`.`, `./value`…) → file URLs of their bundles, built once per version. */
async function bundle(pkg, context, next) {
  let dir = path.dirname(fileURLToPath((await next(pkg, context)).url));
  while (!existsSync(path.join(dir, 'package.json')) || JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')).name !== pkg) dir = path.dirname(dir);
  const manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
  const entryPoints = {};
  for (const [key, target] of Object.entries(manifest.exports)) {
    const file = typeof target === 'string' ? target : (target.import ?? target.default);
    if (typeof file === 'string' && !key.includes('*')) entryPoints[key === '.' ? 'index' : key.slice(2).replaceAll('/', '__')] = path.join(dir, file);
  }
  const out = path.join(CACHE, `bundle-${pkg}-${manifest.version}-esm`);
  if (!existsSync(out)) {
    const temp = `${out}.${process.pid}.${Math.random().toString(36).slice(2)}`;
    await createRequire(import.meta.url)('esbuild').build({
      entryPoints,
      outdir: temp,
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      logLevel: 'silent',
    });
    // The chunks are ES modules in a folder no package.json claims: say so, or a loader that
    // decides formats by package scope (ts-node's, tap's mock) loads them as CommonJS, and an
    // entry's named imports from its chunks fail ("does not provide an export named …").
    writeFileSync(path.join(temp, 'package.json'), '{ "type": "module" }\n');
    try {
      renameSync(temp, out);
    } catch {
      // Another process built it first.
      rmSync(temp, { recursive: true, force: true });
    }
  }
  return new Map(
    Object.keys(entryPoints).map((name) => [name === 'index' ? '.' : `./${name.replaceAll('__', '/')}`, pathToFileURL(path.join(out, `${name}.js`)).href]),
  );
}

export async function load(url, context, next) {
  return loadSync(url, context, next);
}

function prune() {
  pruned = true;
  const marker = path.join(CACHE, '.pruned');
  const now = Date.now();
  try {
    if (now - statSync(marker).mtimeMs < DAY_MS) return;
  } catch {
    // No marker yet: this cache was never pruned.
  }
  writeFileSync(marker, '');
  for (const name of readdirSync(CACHE)) {
    if (!name.endsWith('.js') && !name.startsWith('bundle-')) continue;
    const entry = path.join(CACHE, name);
    try {
      if (now - statSync(entry).mtimeMs > KEEP_MS) rmSync(entry, { recursive: true, force: true });
    } catch {
      // Removed by another process pruning at the same time.
    }
  }
}
