// The README's screenshots of the release dashboard (docs/screenshots/*.png): a seeded repository
// (apps and workflows, dev/uat/prod, instances bound to them, one drifting, one held release, an
// open pull request), the real app on a fresh database, Debian's Chromium. Run it after changing
// the UI:   npx tsx scripts/screenshots.ts
import path from 'node:path';
import type { Test } from 'tap';
import { buildUiOnce, launchChromium, serveDashboard, signIn } from '../test/helpers/dashboard.js';
import { element, manifestYaml, seed } from '../test/helpers/repo-fixture.js';

const OUT = path.resolve(import.meta.dirname, '..', 'docs', 'screenshots');
const teardowns: (() => unknown)[] = [];
// The helpers take a tap Test for their teardowns; here a stand-in runs them at the end.
const t = { teardown: (fn: () => unknown) => void teardowns.push(fn) } as unknown as Test;

try {
  const uiDir = await buildUiOnce(t);
  const browser = await launchChromium(t);
  const { ctx, origin } = await serveDashboard(t, uiDir);
  const names = ['checkout', 'billing', 'inventory', 'onboarding', 'support-desk', 'refunds', 'pricing-admin', 'fleet-map', 'hr-portal', 'sales-dashboard'];
  const apps = names.map((name, i) => ({ ...element('PAGE', ['1.0.0', '1.1.0', `1.${2 + (i % 3)}.0`]), name }));
  const flows = ['nightly-sync', 'invoice-run', 'alerts'].map((name) => ({ ...element('WORKFLOW', ['0.1.0', '0.2.0']), name }));
  const entries = (pick: (i: number) => string) => apps.map((a, i): [string, string] => [a.uuid, pick(i)]);
  await seed(ctx.git, {
    elements: [...apps, ...flows],
    manifests: {
      dev: manifestYaml('dev', { apps: entries(() => 'latest'), workflows: flows.map((f) => [f.uuid, 'latest']) }),
      uat: manifestYaml('uat', { apps: entries((i) => `1.${2 + (i % 3)}.0`), workflows: flows.map((f) => [f.uuid, '0.2.0']) }),
      prod: manifestYaml('prod', { apps: entries((i) => (i % 2 ? '1.1.0' : '1.0.0')), workflows: flows.map((f) => [f.uuid, '0.1.0']) }),
    },
  });
  const api = (method: 'GET' | 'POST' | 'PUT', url: string, payload?: object) =>
    ctx.app.inject({ method, url: `/api/v2/source_control${url}`, headers: ctx.auth(), ...(payload ? { payload } : {}) }).then((r) => r.json());
  for (const [name, manifest] of [
    ['dev', 'dev'],
    ['uat', 'uat'],
    ['prod-eu', 'prod'],
    ['prod-us', 'prod'],
  ])
    await api('POST', '/instances', { name, manifest, description: `${name} Retool` });
  const head = (await api('GET', '/manifests/prod')).data.commit_sha;
  // prod-us reports billing one version behind: drift.
  await api('POST', '/instances/prod-us/deployments', {
    commit_sha: head,
    status: 'SUCCESS',
    elements: apps.map((a, i) => ({ uuid: a.uuid, type: 'PAGE', release: i === 1 ? '1.0.0' : i % 2 ? '1.1.0' : '1.0.0' })),
  });
  await api('POST', '/publish', { changes: [{ manifest: 'uat', element_uuid: apps[3]!.uuid, element_type: 'PAGE', release: '1.1.0' }] });

  const page = await signIn(t, browser, origin, ctx.adminToken, { width: 1440, height: 820 });
  await page.getByRole('grid').waitFor();
  await page.getByText('live', { exact: true }).waitFor();
  await page.screenshot({ path: path.join(OUT, 'matrix.png') });

  for (const [i, manifest, release] of [
    [0, 'prod', '1.2.0'],
    [2, 'prod', '1.4.0'],
  ] as const) {
    await page.locator(`[data-uuid="${apps[i]!.uuid}"] [data-manifest="${manifest}"]`).click();
    await page
      .getByRole('dialog')
      .getByRole('radio', { name: new RegExp(`^${release.replace(/\./g, '\\.')}`) })
      .check();
    await page
      .getByRole('dialog')
      .getByRole('button', { name: /^Stage/ })
      .click();
    await page.getByRole('dialog').waitFor({ state: 'detached' });
  }
  await page.getByRole('button', { name: /^Review/ }).click();
  await page.locator('.manifest-diff').first().waitFor();
  await page.screenshot({ path: path.join(OUT, 'review.png') });
  await page.getByRole('button', { name: 'Create pull request' }).click();
  await page.getByRole('status').getByRole('link').click();
  await page.getByRole('table', { name: 'Changes to prod' }).waitFor();
  await page.screenshot({ path: path.join(OUT, 'pull-request.png'), fullPage: true });
  console.log(`wrote ${OUT}/{matrix,review,pull-request}.png`);
} finally {
  for (const fn of teardowns.reverse()) await fn();
}
