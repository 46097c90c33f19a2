// The release dashboard at scale: 5,000 elements (apps and workflows; every tenth with a release
// zip, the rest on `latest`, which keeps seeding under a minute) in three
// manifests, the real app serving the built UI, Debian's Chromium. Measured, never asserted: time
// from "Sign in" to the first matrix render (token check, every page of GET /elements, the grid),
// a scroll to the end (the last row rendered), the rows in the DOM meanwhile, and the bundle's size.
// Writes its section of bench/RESULTS.md (`--no-write`: print only).
//   npx tsx bench/ui-bench.ts [--elements 5000] [--runs 3]
import os from 'node:os';
import type { Test } from 'tap';
import { buildUi } from '../scripts/build-ui.mjs';
import { buildUiOnce, launchChromium, serveDashboard } from '../test/helpers/dashboard.js';
import { element, manifestYaml, seed } from '../test/helpers/repo-fixture.js';
import { appendResults, machine, numberFlag, writeResults } from './results.js';

const COUNT = numberFlag('elements', 5000);
const RUNS = numberFlag('runs', 3);
const teardowns: (() => unknown)[] = [];
const t = { teardown: (fn: () => unknown) => void teardowns.push(fn) } as unknown as Test;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

try {
  const uiDir = await buildUiOnce(t);
  const bundle = (await buildUi(uiDir)).files;
  const browser = await launchChromium(t);
  const { ctx, origin } = await serveDashboard(t, uiDir);
  const elements = Array.from({ length: COUNT }, (_, i) => element(i % 5 === 4 ? 'WORKFLOW' : 'PAGE', i % 10 === 0 ? ['1.0.0'] : []));
  const seedStart = performance.now();
  const byType = (type: string) => elements.filter((e) => e.type === type).map((e): [string, string] => [e.uuid, e.releases.length ? '1.0.0' : 'latest']);
  await seed(ctx.git, {
    elements,
    manifests: Object.fromEntries(['dev', 'uat', 'prod'].map((m) => [m, manifestYaml(m, { apps: byType('PAGE'), workflows: byType('WORKFLOW') })])),
  });
  console.log(`seeded ${COUNT} elements in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`);
  const lastName = [...elements].sort((a, b) => a.name.localeCompare(b.name)).at(-1)!.name;

  const firstRender: number[] = [];
  const scrollEnd: number[] = [];
  let domRows = 0;
  for (let run = 0; run < RUNS; run++) {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${origin}/ui/`);
    await page.getByLabel('API token').fill(ctx.adminToken);
    const start = performance.now();
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('[role="gridcell"]').first().waitFor();
    firstRender.push(performance.now() - start);
    domRows = Math.max(domRows, await page.locator('.grid-body [role="row"]').count());
    const scrollStart = performance.now();
    await page.locator('.grid-scroller').evaluate((el: { scrollTop: number; scrollHeight: number }) => {
      el.scrollTop = el.scrollHeight;
    });
    await page.getByRole('rowheader', { name: new RegExp(lastName) }).waitFor();
    scrollEnd.push(performance.now() - scrollStart);
    domRows = Math.max(domRows, await page.locator('.grid-body [role="row"]').count());
    await context.close();
  }
  const size = (name: string) => bundle.find((f) => f.name === name)!;
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
  const text = `## Release dashboard at ${COUNT.toLocaleString('en')} elements (${machine()})

Load average before the runs: ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}. ${RUNS} runs in Debian's Chromium (headless, 1440×900), each a new browser context; the app on PGlite.

| measurement | median | runs |
|---|---:|---|
| sign in → first matrix render (token check, ${Math.ceil(COUNT / 1000)} pages of \`GET /elements\`, the grid) | ${median(firstRender).toFixed(0)} ms | ${firstRender.map((x) => x.toFixed(0)).join(', ')} ms |
| scroll to the end → last row rendered | ${median(scrollEnd).toFixed(0)} ms | ${scrollEnd.map((x) => x.toFixed(0)).join(', ')} ms |
| rows in the DOM (virtual scrolling) | ${domRows} of ${COUNT} | |

Bundle (\`npm run build\` → build/ui): app.js ${kb(size('app.js').bytes)} (${kb(size('app.js').gzipBytes)} gzip), app.css ${kb(size('app.css').bytes)} (${kb(size('app.css').gzipBytes)} gzip), index.html ${size('index.html').bytes} B.
`;
  console.log(text);
  if (writeResults) await appendResults('ui', text);
} finally {
  for (const fn of teardowns.reverse()) await fn();
}
