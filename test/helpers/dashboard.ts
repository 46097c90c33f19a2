// The release dashboard in a real browser: the UI built into a temp dir (once per test file), the
// real app serving it on 127.0.0.1, and Debian's Chromium driven by playwright-core (no browser
// download; .ci/run installs `chromium` when it is missing). One browser per file: starting one is
// the expensive part; each test opens its own context (its own sessionStorage).
import { access, mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { Test } from 'tap';
import { buildUi } from '../../scripts/build-ui.mjs';
import { buildTestApp, type TestApp, type TestAppOptions } from './app.js';

export const CHROMIUM = '/usr/bin/chromium';

export async function buildUiOnce(t: Test): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mir-ui-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await buildUi(dir);
  return dir;
}

export async function launchChromium(t: Test): Promise<Browser> {
  await access(CHROMIUM).catch(() => {
    throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does it)`);
  });
  // Shared memory in a temporary file rather than /dev/shm, which the tests fill with data dirs.
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  t.teardown(() => browser.close());
  return browser;
}

/** The app serving the built UI, listening on 127.0.0.1; answers it and its origin. */
export async function serveDashboard(t: Test, uiDir: string, options: TestAppOptions = {}): Promise<{ ctx: TestApp; origin: string }> {
  const ctx = await buildTestApp(t, { ...options, env: { ...options.env, MIR_UI_DIR: uiDir } });
  await ctx.app.listen({ host: '127.0.0.1', port: 0 });
  return { ctx, origin: `http://127.0.0.1:${(ctx.app.server.address() as AddressInfo).port}` };
}

/** A new context and page, signed in with `token`; resolves once the signed-in header shows. */
export async function signIn(t: Test, browser: Browser, origin: string, token: string, viewport = { width: 1440, height: 900 }): Promise<Page> {
  const context = await browser.newContext({ viewport });
  t.teardown(() => context.close());
  const page = await context.newPage();
  await page.goto(`${origin}/ui/`);
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
  return page;
}
