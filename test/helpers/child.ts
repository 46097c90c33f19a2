// How a test starts a TypeScript child process: Node with the tests' own loader (ts-loader.mjs),
// by absolute path so the child's working directory does not matter.
//
// Children are left out of coverage. tap follows every child process (@tapjs/processinfo) and
// merges its V8 coverage into the report. When tap's loader was ts-node and children ran tsx, the
// two transpilations differed and coverage merged by offset across them was wrong (the manifest
// module, src/formats/manifest.ts then, read 67% of lines with a server child in the run, 99%
// without). Parent and children now load the same compiled output, but collecting a child's
// coverage costs it CPU on every run, and what children run is covered by the in-process tests.
import { fileURLToPath } from 'node:url';

// --liftoff-only as in .taprc: no TurboFan tier-up of PGlite's wasm in a short-lived child.
export const TS_NODE_ARGS: readonly string[] = ['--liftoff-only', '--import', fileURLToPath(new URL('./ts-loader.mjs', import.meta.url))];

export const CHILD_ENV: Readonly<Record<string, string>> = { _TAPJS_PROCESSINFO_COVERAGE_: '0' };
