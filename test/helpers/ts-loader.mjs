// The TypeScript loader of every test process and of the processes tests start (.taprc:
// `node-arg: --import=./test/helpers/ts-loader.mjs`; children: TS_NODE_ARGS in child.ts). Each
// .ts module is compiled by esbuild's transformSync, as tsx does, with an inline source map that
// carries the original text (what tap's coverage maps lines back through), and the output is kept
// on disk by content, so a run compiles each file once however many processes load it. It replaces
// tsx as the loader because a test process is mostly start-up: tsx cost ~0.5 CPU-s more than this
// for a small test file (1.0 against 0.5) and ~0.9 more for one that builds the app (7.5 against
// 6.6), measured one at a time on this machine, and the suite starts a few hundred such processes
// per run. tsx stays the runner of scripts and benches (`npm run openapi`, `npx tsx bench/…`).
import { register } from 'node:module';

register('./ts-hooks.mjs', import.meta.url);
