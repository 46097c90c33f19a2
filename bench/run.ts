// `npm run bench`: every benchmark in turn, each in its own process so none inherits another's
// caches or heap. Each writes its own section of bench/RESULTS.md. Pass-through flags (e.g.
// `npm run bench -- --no-write`) reach every benchmark.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const BENCHMARKS = ['git-bench.ts', 'releases-bench.ts', 'instances-bench.ts', 'documents-bench.ts'];

let failed = 0;
for (const file of BENCHMARKS) {
  const script = fileURLToPath(new URL(file, import.meta.url));
  if (!existsSync(script)) continue;
  process.stdout.write(`\n== ${file}\n`);
  const result = spawnSync(process.execPath, ['--import', 'tsx', script, ...process.argv.slice(2)], { stdio: 'inherit' });
  if (result.status !== 0) {
    process.stderr.write(`${file} failed (exit ${result.status ?? result.signal})\n`);
    failed++;
  }
}
process.exit(failed === 0 ? 0 : 1);
