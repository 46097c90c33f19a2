// The release dashboard (/ui/) driven in Chromium against the real app: sign in, the matrix of a
// seeded repository, two cells changed, reviewed as a dry run, proposed as one pull request and
// merged, the matrix showing the new versions; a second browser context following along through
// the event stream without a reload; a read-only token seeing no write controls; errors with the
// problem's message and request_id; the grid's keyboard navigation.
import type { Page } from 'playwright-core';
import t from 'tap';
import { buildUiOnce, launchChromium, serveDashboard, signIn } from '../helpers/dashboard.js';
import { element, manifestName, manifestYaml, PEOPLE, seed } from '../helpers/repo-fixture.js';

const uiDir = await buildUiOnce(t);
const browser = await launchChromium(t);
const { ctx, origin } = await serveDashboard(t, uiDir);

const checkout = element('PAGE', ['1.0.0', '1.1.0', '1.2.0']);
const billing = element('PAGE', ['2.0.0', '2.1.0']);
const nightly = element('WORKFLOW', ['0.1.0', '0.2.0']);
const uat = manifestName('uat');
const prod = manifestName('prod');
await seed(ctx.git, {
  elements: [checkout, billing, nightly],
  manifests: {
    [uat]: manifestYaml(uat, {
      apps: [
        [checkout.uuid, '1.1.0'],
        [billing.uuid, '2.1.0'],
      ],
      workflows: [[nightly.uuid, '0.2.0']],
    }),
    [prod]: manifestYaml(prod, {
      apps: [
        [checkout.uuid, '1.0.0'],
        [billing.uuid, '2.0.0'],
      ],
      workflows: [[nightly.uuid, 'latest']],
    }),
  },
});
const writer = await ctx.tokenFor('source_control:releases_write', 'source_control:read');
const reader = await ctx.tokenFor('source_control:releases_read');

const cell = (page: Page, uuid: string, manifest: string) => page.locator(`[data-uuid="${uuid}"] [role="gridcell"][data-manifest="${manifest}"]`);

async function pick(page: Page, uuid: string, manifest: string, release: string) {
  await cell(page, uuid, manifest).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByRole('radio', { name: new RegExp(`^${release.replace(/\./g, '\\.')}\\b`) }).check();
  await dialog.getByRole('button', { name: `Stage ${release}` }).click();
  await dialog.waitFor({ state: 'detached' });
}

t.test('sign in: the token stays in sessionStorage, the matrix of the seeded repository renders', async (t) => {
  const page = await signIn(t, browser, origin, writer);
  await page.getByRole('grid').waitFor();
  t.notOk(page.url().includes(writer), 'the token is not in the URL');
  t.equal(await page.evaluate("sessionStorage.getItem('mir.token')"), writer, 'kept in sessionStorage');
  t.equal(await page.evaluate('localStorage.length'), 0, 'nothing in localStorage');
  for (const m of [uat, prod]) t.ok(await page.getByRole('columnheader', { name: new RegExp(m) }).isVisible(), `column ${m}`);
  t.equal(await cell(page, checkout.uuid, uat).locator('.value').textContent(), '1.1.0');
  t.equal(await cell(page, checkout.uuid, prod).locator('.value').textContent(), '1.0.0');
  t.equal(await cell(page, nightly.uuid, prod).locator('.value').textContent(), 'latest');
  t.ok(await page.getByRole('rowheader', { name: new RegExp(billing.name) }).isVisible(), 'each element is a row');

  await page.getByRole('searchbox', { name: 'Name' }).fill(billing.name);
  await page.locator(`[data-uuid="${checkout.uuid}"]`).waitFor({ state: 'detached' });
  t.equal(await page.getByRole('rowheader').count(), 1, 'filtered by name');
  await page.getByRole('searchbox', { name: 'Name' }).fill('');
  await page.getByRole('combobox', { name: 'Type' }).selectOption('WORKFLOW');
  await page.locator(`[data-uuid="${billing.uuid}"]`).waitFor({ state: 'detached' });
  t.equal(await page.getByRole('rowheader').count(), 1, 'filtered by type');

  await page.reload();
  await page.getByRole('grid').waitFor();
  t.pass('a reload keeps the session (sessionStorage)');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByLabel('API token').waitFor();
  t.equal(await page.evaluate("sessionStorage.getItem('mir.token')"), null, 'signing out forgets the token');
});

t.test('a bad token: the problem message, its code and request_id', async (t) => {
  const context = await browser.newContext();
  t.teardown(() => context.close());
  const page = await context.newPage();
  await page.goto(`${origin}/ui/`);
  await page.getByLabel('API token').fill('mir_not-a-real-token');
  await page.getByRole('button', { name: 'Sign in' }).click();
  const alert = page.getByRole('alert');
  await alert.waitFor();
  const text = (await alert.textContent()) ?? '';
  t.match(text, /unauthorized/, 'the code');
  t.match(text, /request_id [0-9a-f-]{36}/, 'the request_id');
});

t.test('change two cells, review the dry run, create one pull request, merge it; another page follows live', async (t) => {
  const page = await signIn(t, browser, origin, writer);
  const watcher = await signIn(t, browser, origin, reader);
  await watcher.getByRole('grid').waitFor();
  await watcher.getByText('live', { exact: true }).waitFor();

  await pick(page, checkout.uuid, prod, '1.2.0');
  await pick(page, billing.uuid, uat, '2.0.0');
  t.match(await cell(page, checkout.uuid, prod).textContent(), /1\.0\.0\s*→\s*1\.2\.0/, 'the staged change shows in its cell');

  await page.getByRole('button', { name: 'Review 2 changes' }).click();
  const review = page.getByRole('dialog', { name: 'Review the changes' });
  const diff = review.locator('.manifest-diff');
  await diff.first().waitFor();
  t.equal(await diff.count(), 2, 'one diff per manifest touched');
  const removed = await review.locator('.diff .del').allTextContents();
  const added = await review.locator('.diff .add').allTextContents();
  t.same(removed.map((s) => s.trim()).sort(), ['-     release: 1.0.0', '-     release: 2.1.0'].sort(), 'the exact lines removed');
  t.same(added.map((s) => s.trim()).sort(), ['+     release: 1.2.0', '+     release: 2.0.0'].sort(), 'the exact lines added');
  t.equal(await ctx.app.services.pullRequests.list({ state: 'open' }).then((l) => l.length), 0, 'a dry run opens nothing');

  await review.getByRole('button', { name: 'Create pull request' }).click();
  const link = page.getByRole('status').getByRole('link', { name: /^#\d+$/ });
  await link.waitFor();
  const number = Number((await link.textContent())!.slice(1));
  t.ok(number > 0, `pull request #${number} linked`);
  await cell(page, checkout.uuid, prod).locator('.badge.pending').waitFor();
  t.match(await cell(page, checkout.uuid, prod).textContent(), new RegExp(`#${number} → 1\\.2\\.0`), 'the cell shows the pending pull request');
  await cell(watcher, checkout.uuid, prod).locator('.badge.pending').waitFor();
  t.pass('the other page saw the pull request open, without a reload');

  await link.click();
  await page.getByRole('heading', { name: new RegExp(`#${number}`) }).waitFor();
  const changes = page.getByRole('table', { name: `Changes to ${prod}` });
  t.match(await changes.textContent(), /1\.0\.0.*1\.2\.0/, 'the pull request shows each manifest’s diff');
  await page.getByRole('button', { name: 'Merge' }).click();
  await page.locator('h2 .badge', { hasText: 'merged' }).waitFor();
  t.equal(await page.getByRole('button', { name: 'Merge' }).count(), 0, 'no merge button once merged');

  await page.getByRole('link', { name: 'Matrix' }).click();
  await cell(page, checkout.uuid, prod).locator('.value', { hasText: '1.2.0' }).waitFor();
  t.equal(await cell(page, billing.uuid, uat).locator('.value').textContent(), '2.0.0', 'both new versions show');
  t.equal(await cell(page, checkout.uuid, prod).locator('.badge.pending').count(), 0, 'nothing pending any more');

  await cell(watcher, checkout.uuid, prod).locator('.value', { hasText: '1.2.0' }).waitFor();
  await cell(watcher, billing.uuid, uat).locator('.value', { hasText: '2.0.0' }).waitFor();
  t.pass('the page open in another browser context updated through the event stream, without a reload');
});

t.test('a read-only token sees no write controls', async (t) => {
  const page = await signIn(t, browser, origin, reader);
  await page.getByRole('grid').waitFor();
  t.match(await page.locator('header .who').textContent(), /read only/);
  t.equal(await page.getByRole('button', { name: /Review/ }).count(), 0, 'no Review');
  await cell(page, checkout.uuid, uat).click();
  t.equal(await page.getByRole('dialog').count(), 0, 'a cell opens no release picker');
  await page.goto(`${origin}/ui/#/elements/${checkout.uuid}`);
  await page.getByRole('heading', { name: checkout.name }).waitFor();
  await page.getByRole('cell', { name: '1.2.0', exact: true }).first().waitFor();
  t.equal(await page.getByRole('button', { name: /Preview|Create release|Open hotfix line|Release patch|Abandon/ }).count(), 0, 'no release or hotfix actions');
  const pulls = await ctx.app.services.pullRequests.list({});
  await page.goto(`${origin}/ui/#/pulls/${pulls[0]!.number}`);
  await page.getByRole('heading', { name: new RegExp(`#${pulls[0]!.number}`) }).waitFor();
  t.equal(await page.getByRole('button', { name: /Merge|Close|Approve|Refresh/ }).count(), 0, 'no pull request actions');
});

t.test('the grid by keyboard: arrows move the focus, Enter opens the picker, Escape closes it', async (t) => {
  const page = await signIn(t, browser, origin, writer);
  await page.getByRole('grid').waitFor();
  await page.getByRole('rowheader').first().focus();
  const focused = (cell: string) => page.locator(`[data-cell="${cell}"]:focus`).waitFor();
  await page.keyboard.press('ArrowRight');
  await focused('0:1');
  t.pass('ArrowRight: the first manifest cell');
  await page.keyboard.press('ArrowDown');
  await focused('1:1');
  t.pass('ArrowDown: the next row');
  await page.keyboard.press('End');
  await focused('1:2');
  t.pass('End: the last column');
  t.equal(await page.locator('[role="grid"] [tabindex="0"]').count(), 1, 'one tab stop in the grid (roving tabindex)');
  await page.keyboard.press('Enter');
  await page.getByRole('dialog').waitFor();
  await page.getByRole('radio').first().waitFor();
  await page.keyboard.press('Escape');
  await page.getByRole('dialog').waitFor({ state: 'detached' });
  t.pass('Escape closed the dialog');
});

t.test("an element's hotfix lines: open one, see the fix committed to its branch, propose its patch; abandon another", async (t) => {
  const page = await signIn(t, browser, origin, writer);
  await page.goto(`${origin}/ui/#/elements/${billing.uuid}`);
  const form = page.getByRole('form', { name: 'Open a hotfix line' });
  await form.getByLabel('From release').selectOption('2.0.0');
  await form.getByRole('button', { name: 'Open hotfix line' }).click();
  await page.getByRole('status').filter({ hasText: 'Opened the hotfix line 2.0' }).waitFor();
  const line = page.locator('tr[data-hotfix="2.0"]');
  await line.getByRole('cell', { name: 'open', exact: true }).waitFor();

  // The fix, committed to the line's branch as any git client would push it.
  const branch = `hotfix/${billing.uuid}/2.0`;
  const parent = (await ctx.git.resolveRef(`refs/heads/${branch}`))!;
  const fix = await ctx.git.commit({
    parent,
    changes: [{ path: `apps/${billing.name}/main.json`, bytes: new TextEncoder().encode('{"fixed": true}\n') }],
    message: 'Fix the rounding of refunds\n',
    author: PEOPLE,
  });
  await ctx.git.pushBranch({ branch, commit: fix, expectedOld: parent });
  await line.getByRole('button', { name: 'Commits' }).click();
  await line.getByText('Fix the rounding of refunds').waitFor();
  t.pass('the commit on the branch is listed');

  await line.getByRole('button', { name: 'Release patch' }).click();
  await page
    .getByRole('status')
    .filter({ hasText: /Proposed the patch release of 2\.0 in pull request #\d+/ })
    .waitFor();
  const hotfixes = await ctx.app.services.hotfixes.list({ element_uuid: billing.uuid, limit: 10 });
  t.match(hotfixes, [{ line: '2.0', pull_request: { number: Number } }], 'its patch release is proposed');

  await form.getByLabel('From release').selectOption('2.1.0');
  await form.getByRole('button', { name: 'Open hotfix line' }).click();
  const other = page.locator('tr[data-hotfix="2.1"]');
  await other.getByRole('cell', { name: 'open', exact: true }).waitFor();
  page.once('dialog', (dialog) => void dialog.accept());
  await other.getByRole('button', { name: 'Abandon' }).click();
  await other.getByRole('cell', { name: 'abandoned', exact: true }).waitFor();
  t.pass('abandoned after the confirmation');
});
