// Children that run TypeScript through tsx are left out of coverage. tap follows every child
// process (@tapjs/processinfo) and merges its V8 coverage into the report. When tap's loader was
// ts-node, the children's tsx transpilation differed from the parent's and coverage merged by offset
// across the two was wrong (the manifest module, src/formats/manifest.ts then, read 67% of lines with
// a server child in the run, 99% without). tap's loader is tsx now too, but the children load plain `--import tsx`, whose
// source maps carry `sourcesContent: [null]` (see test/helpers/tsx.mjs): c8 reads such a file as
// empty, so a child's map for a file would report it as 0 of 0 lines. Including them would need the
// children to load test/helpers/tsx.mjs; what they run is covered by the in-process tests anyway.
export const TSX_CHILD_ENV: Readonly<Record<string, string>> = { _TAPJS_PROCESSINFO_COVERAGE_: '0' };
