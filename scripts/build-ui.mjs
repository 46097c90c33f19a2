// Builds the release dashboard (ui/) into build/ui: one minified ES module (app.js: Preact, the
// pages and the generated API client, bundled by esbuild), one stylesheet (app.css) and index.html
// naming both with a content hash in the query, so a browser may cache the assets and revalidates
// only index.html (src/http/ui.ts sends it with `no-cache`). Plain Node ESM on esbuild's API, so
// `npm run build` and `npm start` need no tsx; tests call buildUi(dir) in-process.
//   node scripts/build-ui.mjs [outDir]
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const UI = path.join(ROOT, 'ui');

/**
 * Writes index.html, app.js and app.css into outDir (created if missing).
 * @param {string} outDir
 * @returns {Promise<{ outDir: string, files: { name: string, bytes: number, gzipBytes: number }[] }>}
 */
export async function buildUi(outDir = path.join(ROOT, 'build', 'ui')) {
  const common = { bundle: true, minify: true, write: false, legalComments: 'none', logLevel: 'silent', target: ['es2022'] };
  const [script, style] = await Promise.all([
    build({
      ...common,
      entryPoints: [path.join(UI, 'src', 'main.tsx')],
      format: 'esm',
      jsx: 'automatic',
      jsxImportSource: 'preact',
      tsconfig: path.join(UI, 'tsconfig.json'),
    }),
    build({ ...common, entryPoints: [path.join(UI, 'styles.css')], loader: { '.css': 'css' } }),
  ]);
  const js = script.outputFiles[0].contents;
  const css = style.outputFiles[0].contents;
  const html = (await readFile(path.join(UI, 'index.html'), 'utf8')).replace('app.js', `app.js?v=${hash(js)}`).replace('app.css', `app.css?v=${hash(css)}`);
  await mkdir(outDir, { recursive: true });
  const outputs = [
    ['index.html', new TextEncoder().encode(html)],
    ['app.js', js],
    ['app.css', css],
  ];
  await Promise.all(outputs.map(([name, bytes]) => writeFile(path.join(outDir, name), bytes)));
  return { outDir, files: outputs.map(([name, bytes]) => ({ name, bytes: bytes.length, gzipBytes: gzipSync(bytes).length })) };
}

function hash(bytes) {
  return createHash('sha256').update(bytes).digest('hex').slice(0, 12);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const result = await buildUi(process.argv[2] ? path.resolve(process.argv[2]) : undefined);
  for (const file of result.files) console.log(`${path.relative(ROOT, path.join(result.outDir, file.name))}  ${file.bytes} B, ${file.gzipBytes} B gzip`);
}
