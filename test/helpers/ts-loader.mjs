// The TypeScript loader of every test process and of the processes tests start (.taprc:
// `node-arg: --import=./test/helpers/ts-loader.mjs`; children: TS_NODE_ARGS in child.ts). Each
// .ts module is compiled by esbuild's transformSync, as tsx does, with an inline source map that
// carries the original text (what tap's coverage maps lines back through), and the output is kept
// on disk by content, so a run compiles each file once however many processes load it. It replaces
// tsx as the loader because a test process is mostly start-up: tsx cost ~0.5 CPU-s more than this
// for a small test file (1.0 against 0.5) and ~0.9 more for one that builds the app (7.5 against
// 6.6), measured one at a time on this machine, and the suite starts a few hundred such processes
// per run. tsx stays the runner of scripts and benches (`npm run openapi`, `npx tsx bench/…`).
//
// Where Node has in-thread hooks (`registerHooks`, Node ≥ 22.15) they are used: Node 20's `register`
// runs hooks on a thread of their own, and each of the ~950 ES modules the app imports (most of
// them typebox's and kysely's) is a round trip to it — importing the app cost 2.4 CPU-s with even
// no-op hooks registered that way, 1.1 with none.
import * as nodeModule from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadSync, resolveSync } from './ts-hooks.mjs';

// Node ≥ 22.1 keeps the code V8 compiled for each module on disk: importing the app 1.16 → 0.85
// CPU-s on Node 24 here. Node 20 has no such cache.
nodeModule.enableCompileCache?.(path.join(process.env.TMPDIR || tmpdir(), 'mir-node-compile-cache'));

if (typeof nodeModule.registerHooks === 'function') nodeModule.registerHooks({ resolve: resolveSync, load: loadSync });
else nodeModule.register('./ts-hooks.mjs', import.meta.url);
