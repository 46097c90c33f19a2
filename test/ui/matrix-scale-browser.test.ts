// The matrix at 5,000 elements in Chromium: every page of GET /elements is read, the grid renders
// and scrolls to the last element while only the rows in view (plus an overscan) are in the DOM.
// How long it takes is measured by bench/ui-bench.ts, never asserted here.
import t from 'tap';
import { buildUiOnce, launchChromium, serveDashboard, signIn } from '../helpers/dashboard.js';
import { element, manifestYaml, seed } from '../helpers/repo-fixture.js';

const COUNT = 5000;

t.test('5,000 elements render and scroll with a few dozen rows in the DOM', async (t) => {
  const uiDir = await buildUiOnce(t);
  const { ctx, origin } = await serveDashboard(t, uiDir);
  // No release zips (building 5,000 of them is the slow part of seeding): every entry is `latest`.
  const elements = Array.from({ length: COUNT }, (_, i) => element(i % 4 === 3 ? 'WORKFLOW' : 'PAGE', []));
  const entries = (type: string) => elements.filter((e) => e.type === type).map((e): [string, string] => [e.uuid, 'latest']);
  await seed(ctx.git, { elements, manifests: { prod: manifestYaml('prod', { apps: entries('PAGE'), workflows: entries('WORKFLOW') }) } });
  const sorted = [...elements].sort((a, b) => a.name.localeCompare(b.name));
  // Launched once the minute of seeding is over: an idle browser beside it died once in CI under load.
  const browser = await launchChromium(t);

  const page = await signIn(t, browser, origin, await ctx.tokenFor('source_control:releases_read'));
  await page.getByRole('rowheader', { name: new RegExp(sorted[0]!.name) }).waitFor();
  t.match(await page.locator('[aria-live]').first().textContent(), /5000 of 5000 elements/, 'every page of the matrix was read');
  t.equal(await page.getByRole('grid').getAttribute('aria-rowcount'), String(COUNT + 1), 'the grid says how many rows it has');
  const inDom = () => page.locator('.grid-body [role="row"]').count();
  const first = await inDom();
  t.ok(first > 0 && first < 100, `only the rows in view are in the DOM (${first})`);

  await page.locator('.grid-scroller').evaluate((el: { scrollTop: number; scrollHeight: number }) => {
    el.scrollTop = el.scrollHeight;
  });
  await page.getByRole('rowheader', { name: new RegExp(sorted.at(-1)!.name) }).waitFor();
  t.equal(await page.getByRole('rowheader', { name: new RegExp(sorted[0]!.name) }).count(), 0, 'the first row left the DOM');
  t.ok((await inDom()) < 100, 'still a few dozen rows after the scroll');

  // Keyboard: Ctrl+End from the top reaches the last cell, scrolling it into view.
  await page.locator('.grid-scroller').evaluate((el: { scrollTop: number }) => {
    el.scrollTop = 0;
  });
  await page.getByRole('rowheader', { name: new RegExp(sorted[0]!.name) }).focus();
  await page.keyboard.press('Control+End');
  await page.locator(`[data-cell="${COUNT - 1}:1"]:focus`).waitFor();
  t.pass('Ctrl+End focused the last cell');
});
