// tap's TypeScript loader for this project (.taprc: `node-arg: --import=./test/helpers/tsx.mjs`):
// tsx, with the original source inside its source maps. tsx writes `sourcesContent` into its maps
// only when NODE_V8_COVERAGE is set as it loads; otherwise every map says `sourcesContent: [null]`,
// which c8 reads as an empty original file: every src/ file then reported 0 of 0 statements and
// the coverage floors passed vacuously ("100%"). tap collects coverage through the inspector, not
// NODE_V8_COVERAGE, so the variable is set here, only where tsx reads it: in this thread while tsx
// loads (its CommonJS hooks), and in the module-hooks thread, which tap's own loaders started
// already with a copy of the environment (its ESM hooks). It is removed from this thread again, so
// Node does not write coverage of its own for the child processes tests start.
import { register } from 'node:module';

const had = Boolean(process.env.NODE_V8_COVERAGE);
const unused = JSON.stringify(`${process.env.TMPDIR ?? '/tmp'}/mir-tsx-sources-content`);
register(`data:text/javascript,process.env.NODE_V8_COVERAGE ||= ${encodeURIComponent(unused)};`);
if (!had) process.env.NODE_V8_COVERAGE = JSON.parse(unused);
try {
  await import('tsx');
} finally {
  if (!had) delete process.env.NODE_V8_COVERAGE;
}
