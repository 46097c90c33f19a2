// Children that run TypeScript through tsx are left out of coverage. tap follows every child
// process (@tapjs/processinfo) and merges its V8 coverage into the report; tsx transpiles the
// same source files differently from tap's own loader, and coverage merged by offset across two
// transpilations is wrong (src/repo/manifest.ts read 67% of lines with a server child in the run,
// 99% without). What those children run is covered by the in-process tests.
export const TSX_CHILD_ENV: Readonly<Record<string, string>> = { _TAPJS_PROCESSINFO_COVERAGE_: '0' };
