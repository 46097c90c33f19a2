// Module hooks (registered by ts-loader.mjs): `./x.js` imported from a .ts module resolves to
// `./x.ts` when that exists (TypeScript's NodeNext convention), and a .ts module loads as ESM
// compiled by esbuild. Compiled output is cached under $TMPDIR/mir-ts-cache by file and content:
// a hit reads one small file and never loads esbuild (whose start-up is most of a miss).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

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
let transformSync;

export async function resolve(specifier, context, next) {
  if (specifier.endsWith('.js') && context.parentURL?.endsWith('.ts') && /^(\.{1,2}\/|\/|file:)/.test(specifier)) {
    const url = new URL(`${specifier.slice(0, -3)}.ts`, context.parentURL);
    if (existsSync(url)) return { url: url.href, format: 'module', shortCircuit: true };
  }
  return next(specifier, context);
}

export async function load(url, context, next) {
  if (!url.startsWith('file:') || !url.endsWith('.ts')) return next(url, context);
  const file = fileURLToPath(url);
  const source = readFileSync(file, 'utf8');
  const cached = path.join(CACHE, `${createHash('sha1').update(KEY).update('\0').update(file).update('\0').update(source).digest('hex')}.js`);
  let code;
  try {
    code = readFileSync(cached, 'utf8');
  } catch {
    transformSync ??= (await import('esbuild')).transformSync;
    code = transformSync(source, { ...OPTIONS, sourcefile: file }).code;
    // Written aside and renamed: processes compiling the same file at once never read half of one.
    mkdirSync(CACHE, { recursive: true });
    const temp = `${cached}.${process.pid}.${Math.random().toString(36).slice(2)}`;
    writeFileSync(temp, code);
    renameSync(temp, cached);
  }
  return { format: 'module', source: code, shortCircuit: true };
}
